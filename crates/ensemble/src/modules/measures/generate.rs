//! Generated completed measures for benchmarks and the demo's evaluation cohort: for each
//! participant a baseline near the start and, for some, a follow-up ten to fourteen weeks
//! later, of SWEMWBS, ONS4 and the service-use counts (each version 1), keyed from paper.
//! Answers are integers in each item's range; every score and band comes from the
//! instrument definition's own scoring ([`Definition::score`]), so the SWEMWBS metric
//! conversion and the bands are exactly what completing the form would store. Change is
//! small and mixed: on average SWEMWBS metric about +1.5, life satisfaction about +0.6,
//! anxiety about −0.5 and slightly fewer health-service contacts, with some people worse.
//! Bulk-written here because only `measures` writes its tables. Never run on real data.

use std::collections::BTreeMap;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::definition::{Answer, Definition, builtin};
use crate::db::{Bind, Db, insert_rows};
use crate::error::AppError;

/// The instruments written, each at version 1.
pub const INSTRUMENTS: [&str; 3] = ["swemwbs", "ons4", "service_use"];

/// Who completes what: shares of participants.
#[derive(Debug, Clone, Copy)]
pub struct Shares {
    /// Share of participants with a SWEMWBS baseline.
    pub baseline: f64,
    /// Share of those with a baseline who also have a follow-up (when it is not in the
    /// future).
    pub follow_up: f64,
    /// Share of the SWEMWBS respondents who also complete ONS4 at the same time.
    pub ons4: f64,
    /// Share of the SWEMWBS respondents who also complete the service-use counts.
    pub service_use: f64,
}

impl Default for Shares {
    fn default() -> Self {
        Self {
            baseline: 0.7,
            follow_up: 0.6,
            ons4: 0.9,
            service_use: 0.8,
        }
    }
}

/// One participant: who, on which referral, and when they started (Unix seconds).
#[derive(Debug, Clone, Copy)]
pub struct Participant<'a> {
    pub person_id: &'a str,
    pub referral_id: Option<&'a str>,
    pub start: i64,
}

/// Counts written so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Written {
    /// Completed responses.
    pub responses: usize,
    /// People with at least one.
    pub people: usize,
    /// People with a baseline and a follow-up of SWEMWBS.
    pub pairs: usize,
}

/// Generated responses waiting to be written.
#[derive(Debug)]
pub struct Responses {
    rng: StdRng,
    shares: Shares,
    /// Nothing is dated after this (Unix seconds).
    until: i64,
    defs: [&'static Definition; 3],
    responses: Vec<Vec<Bind>>,
    answers: Vec<Vec<Bind>>,
    scores: Vec<Vec<Bind>>,
    written: Written,
}

const WEEK: i64 = 7 * 86_400;

/// A normal deviate (Box–Muller).
fn normal(rng: &mut StdRng, mean: f64, sd: f64) -> f64 {
    let u1: f64 = rng.random::<f64>().max(f64::MIN_POSITIVE);
    let u2: f64 = rng.random::<f64>();
    mean + sd * (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// A Poisson count (Knuth's method; the rates here are small).
fn poisson(rng: &mut StdRng, rate: f64) -> f64 {
    if rate <= 0.0 {
        return 0.0;
    }
    let limit = (-rate.min(30.0)).exp();
    let (mut k, mut p) = (0.0, 1.0);
    loop {
        p *= rng.random::<f64>();
        if p <= limit {
            return k;
        }
        k += 1.0;
    }
}

fn clamp_round(v: f64, lo: f64, hi: f64) -> f64 {
    v.round().clamp(lo, hi)
}

/// One person's answers at baseline and at follow-up.
struct Person {
    swemwbs: [BTreeMap<String, Answer>; 2],
    ons4: [BTreeMap<String, Answer>; 2],
    service_use: [BTreeMap<String, Answer>; 2],
}

impl Responses {
    /// Start generating with a seed, shares and the latest instant anything may be dated.
    pub fn new(seed: u64, shares: Shares, until: i64) -> Result<Self, AppError> {
        let def = |id: &str| {
            builtin(id).filter(|d| d.version == 1).ok_or_else(|| {
                AppError::Internal(anyhow::anyhow!(
                    "built-in instrument {id} version 1 missing"
                ))
            })
        };
        Ok(Self {
            rng: StdRng::seed_from_u64(seed),
            shares,
            until,
            defs: [
                def(INSTRUMENTS[0])?,
                def(INSTRUMENTS[1])?,
                def(INSTRUMENTS[2])?,
            ],
            responses: Vec::new(),
            answers: Vec::new(),
            scores: Vec::new(),
            written: Written::default(),
        })
    }

    /// What has been generated so far (written or waiting).
    pub fn written(&self) -> Written {
        self.written
    }

    /// Responses waiting to be written.
    pub fn len(&self) -> usize {
        self.responses.len()
    }

    /// Nothing waits to be written.
    pub fn is_empty(&self) -> bool {
        self.responses.is_empty()
    }

    fn answers_for(&mut self) -> Person {
        let rng = &mut self.rng;
        // SWEMWBS: a person's level on the 1–5 items, a change in it, item noise.
        let level = normal(rng, 2.85, 0.55);
        let change = normal(rng, 0.24, 0.5);
        let swemwbs = [0.0, change].map(|shift| {
            self.defs[0]
                .items
                .iter()
                .map(|i| {
                    let v = clamp_round(normal(rng, level + shift, 0.55), 1.0, 5.0);
                    (i.id.clone(), Answer::Number(v))
                })
                .collect()
        });
        // ONS4: three positive items sharing a level, anxiety on its own.
        let good = normal(rng, 5.0, 1.8);
        let good_change = normal(rng, 0.65, 1.5);
        let anxious = normal(rng, 5.6, 2.2);
        let anxious_change = normal(rng, -0.55, 1.8);
        let ons4 = [(0.0, 0.0), (good_change, anxious_change)].map(|(g, a)| {
            let mut m = BTreeMap::new();
            for item in ["life_satisfaction", "worthwhile", "happiness"] {
                let bump = if item == "worthwhile" { 0.6 } else { 0.0 };
                let v = clamp_round(normal(rng, good + g + bump, 0.9), 0.0, 10.0);
                m.insert(item.to_string(), Answer::Number(v));
            }
            let v = clamp_round(normal(rng, anxious + a, 0.9), 0.0, 10.0);
            m.insert("anxiety".to_string(), Answer::Number(v));
            m
        });
        // Service use: counts at a person's own rates; at follow-up about three in four of
        // the earlier kind of contact recur (each kept or not) and a few new ones come
        // (which makes some people worse), so totals fall a little and steadily. Now and
        // then a question is left blank (they are optional).
        let frailty = normal(rng, 1.0, 0.35).max(0.2);
        let keep = normal(rng, 0.72, 0.15).clamp(0.3, 1.0);
        let admitted = rng.random_bool(0.06);
        let mut first = BTreeMap::new();
        let mut latest = BTreeMap::new();
        for (item, rate, max) in [
            ("gp_appointments", 2.4, 50.0),
            ("ae_attendances", 0.35, 50.0),
            ("crisis_contacts", 0.25, 50.0),
            ("hospital_nights", 4.0, 92.0),
        ] {
            let rate = if item == "hospital_nights" {
                if admitted { rate } else { 0.0 }
            } else {
                rate * frailty
            };
            let before = poisson(rng, rate);
            let kept = (0..before as usize)
                .filter(|_| rng.random_bool(keep))
                .count() as f64;
            let after = kept + poisson(rng, rate * 0.12);
            for (m, v) in [(&mut first, before), (&mut latest, after)] {
                if !rng.random_bool(0.03) {
                    m.insert(item.to_string(), Answer::Number(v.min(max)));
                }
            }
        }
        let service_use = [first, latest];
        Person {
            swemwbs,
            ons4,
            service_use,
        }
    }

    fn add(
        &mut self,
        p: &Participant<'_>,
        which: usize,
        answers: &BTreeMap<String, Answer>,
        at: i64,
    ) -> Result<(), AppError> {
        let def = self.defs[which];
        let scores = def.score(answers).map_err(|e| {
            AppError::Internal(anyhow::anyhow!("generated {} answers refused: {e}", def.id))
        })?;
        let id = uuid::Uuid::now_v7().to_string();
        self.responses.push(vec![
            Bind::T(id.clone()),
            Bind::T(p.person_id.into()),
            Bind::OptT(p.referral_id.map(str::to_string)),
            Bind::T(def.id.clone()),
            Bind::I(i64::from(def.version)),
            Bind::T(super::service::Mode::Paper.code().into()),
            Bind::T("complete".into()),
            Bind::I(at),
            Bind::I(at),
            Bind::OptI(Some(at)),
        ]);
        for (item, a) in answers {
            let (value, text) = match a {
                Answer::Number(v) => (Some(*v), None),
                Answer::Text(t) => (None, Some(t.clone())),
            };
            self.answers.push(vec![
                Bind::T(id.clone()),
                Bind::T(item.clone()),
                Bind::I(1),
                Bind::OptF(value),
                Bind::OptT(text),
            ]);
        }
        for s in scores {
            self.scores.push(vec![
                Bind::T(id.clone()),
                Bind::T(s.id),
                Bind::F(s.value),
                Bind::OptT(s.band),
            ]);
        }
        self.written.responses += 1;
        Ok(())
    }

    /// Generate a participant's responses (maybe none), to be written by [`Self::flush`].
    /// Returns how many responses were made.
    pub fn push(&mut self, p: Participant<'_>) -> Result<usize, AppError> {
        let before = self.written.responses;
        let baseline_at = p.start + self.rng.random_range(0..7 * 86_400);
        if !self.rng.random_bool(self.shares.baseline.clamp(0.0, 1.0)) || baseline_at > self.until {
            return Ok(0);
        }
        let follow_up_at = baseline_at + self.rng.random_range(10 * WEEK..=14 * WEEK);
        let follow_up = self.rng.random_bool(self.shares.follow_up.clamp(0.0, 1.0))
            && follow_up_at <= self.until;
        let ons4 = self.rng.random_bool(self.shares.ons4.clamp(0.0, 1.0));
        let service_use = self
            .rng
            .random_bool(self.shares.service_use.clamp(0.0, 1.0));
        let person = self.answers_for();
        let times = [baseline_at, follow_up_at];
        for (k, at) in times.iter().enumerate().take(if follow_up { 2 } else { 1 }) {
            self.add(&p, 0, &person.swemwbs[k], *at)?;
            if ons4 {
                self.add(&p, 1, &person.ons4[k], *at + 60)?;
            }
            if service_use {
                self.add(&p, 2, &person.service_use[k], *at + 120)?;
            }
        }
        self.written.people += 1;
        self.written.pairs += usize::from(follow_up);
        Ok(self.written.responses - before)
    }

    /// Write what has been generated (the people and referrals must be written already),
    /// and empty the buffers.
    pub async fn flush(&mut self, db: &Db) -> Result<(), AppError> {
        insert_rows(
            db,
            "measure_responses",
            &[
                "id",
                "person_id",
                "referral_id",
                "instrument_id",
                "instrument_version",
                "mode",
                "status",
                "started_at",
                "updated_at",
                "completed_at",
            ],
            &mut self.responses,
            "",
        )
        .await?;
        insert_rows(
            db,
            "measure_answers",
            &["response_id", "item_id", "entry", "value", "text_value"],
            &mut self.answers,
            "",
        )
        .await?;
        insert_rows(
            db,
            "measure_scores",
            &["response_id", "score_id", "value", "band"],
            &mut self.scores,
            "",
        )
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generate(seed: u64, n: usize) -> Responses {
        let mut r = Responses::new(seed, Shares::default(), 200 * WEEK).unwrap();
        let ids: Vec<String> = (0..n).map(|i| format!("p{i}")).collect();
        for (i, id) in ids.iter().enumerate() {
            r.push(Participant {
                person_id: id,
                referral_id: None,
                start: (i % 50) as i64 * WEEK,
            })
            .unwrap();
        }
        r
    }

    fn text(b: &Bind) -> String {
        match b {
            Bind::T(s) | Bind::OptT(Some(s)) => s.clone(),
            other => panic!("not text: {other:?}"),
        }
    }

    fn int(b: &Bind) -> i64 {
        match b {
            Bind::I(v) | Bind::OptI(Some(v)) => *v,
            other => panic!("not an integer: {other:?}"),
        }
    }

    #[test]
    fn generated_answers_are_in_range_and_scored_by_the_definition() {
        let r = generate(7, 400);
        assert!(r.written().pairs > 100, "{:?}", r.written());
        let mut answers: BTreeMap<String, BTreeMap<String, Answer>> = BTreeMap::new();
        for a in &r.answers {
            let Bind::OptF(Some(v)) = a[3] else {
                panic!("no value")
            };
            assert_eq!(v, v.round(), "integer answers");
            answers
                .entry(text(&a[0]))
                .or_default()
                .insert(text(&a[1]), Answer::Number(v));
        }
        let mut stored: BTreeMap<String, Vec<(String, f64, Option<String>)>> = BTreeMap::new();
        for s in &r.scores {
            let Bind::F(v) = s[2] else { panic!("no score") };
            let band = match &s[3] {
                Bind::OptT(b) => b.clone(),
                _ => panic!("band"),
            };
            stored
                .entry(text(&s[0]))
                .or_default()
                .push((text(&s[1]), v, band));
        }
        for row in &r.responses {
            let id = text(&row[0]);
            let def = builtin(&text(&row[3])).unwrap();
            assert_eq!(int(&row[4]), 1);
            assert_eq!(text(&row[5]), "paper");
            assert_eq!(text(&row[6]), "complete");
            let given = answers.get(&id).cloned().unwrap_or_default();
            for (item, a) in &given {
                let (_, it) = def.item(item).expect("a question of the instrument");
                let Answer::Number(v) = a else { panic!() };
                assert!(def.scale_of(it).unwrap().allows(*v), "{item} = {v}");
            }
            let expected: Vec<(String, f64, Option<String>)> = def
                .score(&given)
                .unwrap()
                .into_iter()
                .map(|s| (s.id, s.value, s.band))
                .collect();
            assert_eq!(stored.get(&id).cloned().unwrap_or_default(), expected);
        }
    }

    #[test]
    fn follow_ups_come_ten_to_fourteen_weeks_after_baselines_with_modest_change() {
        let r = generate(11, 3000);
        // person -> instrument -> [(at, response id)]
        let mut by: BTreeMap<(String, String), Vec<(i64, String)>> = BTreeMap::new();
        for row in &r.responses {
            by.entry((text(&row[1]), text(&row[3])))
                .or_default()
                .push((int(&row[9]), text(&row[0])));
        }
        let values: BTreeMap<(String, String), f64> = r
            .scores
            .iter()
            .map(|s| match s[2] {
                Bind::F(v) => ((text(&s[0]), text(&s[1])), v),
                _ => panic!(),
            })
            .collect();
        let score =
            |id: &str, score: &str| values.get(&(id.to_string(), score.to_string())).copied();
        let (mut metric, mut life, mut anxiety, mut worse) = (vec![], vec![], vec![], 0);
        let (mut gp, mut gp_worse) = (vec![], 0);
        for ((_, instrument), list) in &by {
            assert!(list.len() <= 2);
            if list.len() < 2 {
                continue;
            }
            let gap = list[1].0 - list[0].0;
            assert!((10 * WEEK..=14 * WEEK + 120).contains(&gap), "gap {gap}");
            match instrument.as_str() {
                "swemwbs" => {
                    let d =
                        score(&list[1].1, "metric").unwrap() - score(&list[0].1, "metric").unwrap();
                    worse += usize::from(d < 0.0);
                    metric.push(d);
                }
                "ons4" => {
                    life.push(
                        score(&list[1].1, "life_satisfaction").unwrap()
                            - score(&list[0].1, "life_satisfaction").unwrap(),
                    );
                    anxiety.push(
                        score(&list[1].1, "anxiety").unwrap()
                            - score(&list[0].1, "anxiety").unwrap(),
                    );
                }
                _ => {
                    if let (Some(a), Some(b)) = (
                        score(&list[0].1, "gp_appointments"),
                        score(&list[1].1, "gp_appointments"),
                    ) {
                        gp_worse += usize::from(b > a);
                        gp.push(b - a);
                    }
                }
            }
        }
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        assert!((-0.8..-0.2).contains(&mean(&gp)), "GP change {}", mean(&gp));
        assert!(gp_worse > gp.len() / 10, "some see their GP more");
        assert!((1.0..2.0).contains(&mean(&metric)), "{}", mean(&metric));
        assert!((0.35..0.85).contains(&mean(&life)), "{}", mean(&life));
        assert!(
            (-0.8..-0.25).contains(&mean(&anxiety)),
            "{}",
            mean(&anxiety)
        );
        assert!(worse > metric.len() / 6, "some people are worse");
    }

    #[test]
    fn the_same_seed_gives_the_same_answers() {
        let values = |r: &Responses| -> Vec<String> {
            r.scores
                .iter()
                .map(|s| format!("{:?} {:?}", s[2], s[3]))
                .collect()
        };
        let (a, b, c) = (generate(3, 200), generate(3, 200), generate(4, 200));
        assert_eq!(values(&a), values(&b));
        assert_ne!(values(&a), values(&c));
    }
}
