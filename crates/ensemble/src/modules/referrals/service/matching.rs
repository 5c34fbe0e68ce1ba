//! Matching from the case: a directory search pre-filled from the record (the person's
//! postcode, the barriers recorded on the referral, their communication needs and
//! languages), sorted by distance; sending the person two or three options by email or text
//! message (with their consent to contact, by the way they prefer); and recording which
//! one they chose, which connects the referral through `connect_in` (both in `options.rs`).

#[allow(unused_imports)]
use super::*;

use std::sync::Arc;

use serde_json::json;
use sqlx::Row;

use crate::db::Tx;
use crate::error::{AppError, FieldError};
use crate::modules::directory::model::{AccessFeature, Activity, Cost, TimeOfDay};
use crate::modules::directory::search::{self as dir_search, SearchForm};
use crate::modules::people::model::Purpose;
use crate::modules::people::service::{self as people, Identity};
use crate::modules::referrals::model::{ProviderStatus, Status};
use crate::rbac::Actor;
use crate::state::AppState;

/// Results shown (and that options may be chosen from).
pub const MAX_RESULTS: usize = 20;

/// The filters of a match search, as typed: in the query string of the search, and carried
/// as hidden fields by the send and choice forms.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MatchFilters {
    /// The link worker has searched (so empty filters mean "none", not "suggest").
    pub searched: bool,
    /// Postcode to measure distances from.
    pub postcode: String,
    /// Miles.
    pub distance: String,
    /// Cost codes.
    pub cost: Vec<String>,
    /// Access feature codes.
    pub access: Vec<String>,
    /// Time of day code, or empty.
    pub time: String,
    /// Only activities in one of the person's languages.
    pub language: bool,
}

impl MatchFilters {
    /// Read from form or query-string pairs (repeated keys for the checkboxes).
    pub fn from_pairs(pairs: &[(String, String)]) -> Self {
        let one = |k: &str| {
            pairs
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.trim().to_string())
                .unwrap_or_default()
        };
        let many = |k: &str| {
            pairs
                .iter()
                .filter(|(key, v)| key == k && !v.is_empty())
                .map(|(_, v)| v.clone())
                .collect()
        };
        Self {
            searched: one("searched") == "1",
            postcode: one("postcode"),
            distance: one("distance"),
            cost: many("cost"),
            access: many("access"),
            time: one("time"),
            language: one("language") == "yes",
        }
    }

    /// The filters as pairs, for hidden fields and links.
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut out = vec![
            ("searched", "1".to_string()),
            ("postcode", self.postcode.clone()),
            ("distance", self.distance.clone()),
            ("time", self.time.clone()),
        ];
        out.extend(self.cost.iter().map(|c| ("cost", c.clone())));
        out.extend(self.access.iter().map(|a| ("access", a.clone())));
        if self.language {
            out.push(("language", "yes".into()));
        }
        out
    }
}

/// What the record says that matching should respect.
#[derive(Debug, Clone, Default)]
pub struct Needs {
    /// Barrier codes recorded on the referral, with their details.
    pub barriers: Vec<(String, String)>,
    /// Communication needs, as recorded.
    pub communication_needs: String,
    /// Languages, as recorded.
    pub languages: String,
    /// The person's postcode.
    pub postcode: String,
}

/// The filters the record suggests, each with why: cost → free; mobility → step-free
/// access; timing with a part of the day in its detail → that part of the day; a language
/// barrier → activities in their language; British Sign Language or hearing in their
/// communication needs → BSL or a hearing loop.
pub fn suggest(n: &Needs) -> (MatchFilters, Vec<String>) {
    let mut f = MatchFilters {
        postcode: n.postcode.clone(),
        distance: "5".into(),
        ..Default::default()
    };
    let mut why = Vec::new();
    for (b, detail) in &n.barriers {
        match b.as_str() {
            "cost" if !f.cost.contains(&"free".to_string()) => {
                f.cost.push(Cost::Free.code().into());
                why.push("Cost is a barrier: only free activities".to_string());
            }
            "mobility" if !f.access.contains(&"step_free".to_string()) => {
                f.access.push(AccessFeature::StepFree.code().into());
                why.push("Mobility is a barrier: only step-free venues".to_string());
            }
            "timing" => {
                let d = detail.to_lowercase();
                if let Some(t) = TimeOfDay::ALL
                    .iter()
                    .find(|t| d.contains(t.code()))
                    .filter(|_| f.time.is_empty())
                {
                    f.time = t.code().into();
                    why.push(format!("Timing is a barrier: {}", t.label().to_lowercase()));
                }
            }
            "language" if !n.languages.trim().is_empty() && !f.language => {
                f.language = true;
                why.push(format!(
                    "Language is a barrier: activities in {}",
                    n.languages.trim()
                ));
            }
            _ => {}
        }
    }
    let needs = n.communication_needs.to_lowercase();
    if needs.contains("bsl") || needs.contains("sign language") {
        f.access.push(AccessFeature::Bsl.code().into());
        why.push("Communication needs: British Sign Language".into());
    } else if needs.contains("hearing") {
        f.access.push(AccessFeature::HearingLoop.code().into());
        why.push("Communication needs: a hearing loop".into());
    }
    (f, why)
}

/// One activity found.
#[derive(Debug, Clone)]
pub struct MatchResult {
    /// The activity.
    pub activity: Arc<Activity>,
    /// Metres from the postcode to its nearest venue.
    pub distance_m: Option<f64>,
    /// The next date it meets.
    pub next_session: Option<time::Date>,
}

/// An activity sent as an option.
#[derive(Debug, Clone)]
pub struct SentOption {
    /// Activity id.
    pub activity_id: String,
    /// Its name.
    pub name: String,
    /// `email` or `text`.
    pub channel: String,
    /// When.
    pub sent_at: i64,
    /// When the person chose it.
    pub chosen_at: Option<i64>,
}

/// How the person may be contacted.
#[derive(Debug, Clone, Default)]
pub struct Contact {
    /// Consent to contact is given.
    pub consent: bool,
    /// Their email address, if any.
    pub email: String,
    /// Their phone number, if any.
    pub phone: String,
    /// `email`, `text`, `phone`, `letter` or empty.
    pub preferred: String,
}

/// The matching page.
#[derive(Debug, Clone)]
pub struct MatchView {
    /// The person's name to use.
    pub name: String,
    /// The filters searched with.
    pub filters: MatchFilters,
    /// Why filters were suggested (first visit).
    pub suggested: Vec<String>,
    /// Barriers, communication needs and languages as recorded.
    pub needs: Needs,
    /// The first [`MAX_RESULTS`] activities found.
    pub results: Vec<MatchResult>,
    /// How many were found.
    pub total: usize,
    /// Problems with the filters.
    pub errors: Vec<FieldError>,
    /// How they may be contacted.
    pub contact: Contact,
    /// The options sent, newest batch first.
    pub sent: Vec<SentOption>,
    /// The referral may be connected now.
    pub can_connect: bool,
}

pub(super) fn can_connect(r: &Referral) -> bool {
    r.status == Status::PlanAgreed
        || (r.status == Status::Connected
            && matches!(
                r.provider_status,
                Some(ProviderStatus::Declined | ProviderStatus::Returned)
            ))
}

async fn barrier_list(tx: &mut Tx, id: &str) -> Result<Vec<(String, String)>, AppError> {
    Ok(barriers(tx, id)
        .await?
        .into_iter()
        .map(|b| (b.barrier, b.detail))
        .collect())
}

pub(super) async fn sent_options(tx: &mut Tx, id: &str) -> Result<Vec<SentOption>, AppError> {
    let rows = sqlx::query(
        "SELECT o.activity_id, a.name, o.channel, o.sent_at, o.chosen_at FROM referral_options o \
         JOIN directory_activity_names a ON a.id = o.activity_id \
         WHERE o.referral_id = $1 ORDER BY o.sent_at DESC, o.position",
    )
    .bind(id.to_string())
    .fetch_all(&mut **tx)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(SentOption {
                activity_id: r.try_get("activity_id")?,
                name: r.try_get("name")?,
                channel: r.try_get("channel")?,
                sent_at: r.try_get("sent_at")?,
                chosen_at: r.try_get("chosen_at")?,
            })
        })
        .collect()
}

/// The case as matching needs it, read in the caller's transaction (the identity read is
/// audited as `person.read`).
pub(super) struct Case {
    pub(super) referral: Referral,
    pub(super) ident: Identity,
    pub(super) needs: Needs,
    pub(super) contact: Contact,
}

pub(super) async fn load_case(tx: &mut Tx, actor: &Actor, id: &str) -> Result<Case, AppError> {
    let proof = check::<CareTeam>(tx, actor, id).await?;
    let ident = people::identity(tx, actor, &proof).await?;
    let needs = Needs {
        barriers: barrier_list(tx, id).await?,
        communication_needs: ident.details.communication_needs.clone(),
        languages: ident.details.languages.clone(),
        postcode: ident.details.postcode.clone(),
    };
    let contact = Contact {
        consent: people::has_consent(&mut **tx, &proof.person_id, Purpose::Contact).await?,
        email: ident.details.email.clone(),
        phone: ident.details.phone.clone(),
        preferred: ident.details.contact_method.clone(),
    };
    Ok(Case {
        referral: (*proof).clone(),
        ident,
        needs,
        contact,
    })
}

/// Run the search the filters describe: the directory's search (by distance when there is
/// a postcode), then the language filter, the first [`MAX_RESULTS`] with their next date.
pub async fn search(
    state: &AppState,
    f: &MatchFilters,
    languages: &str,
) -> Result<(Vec<MatchResult>, usize, Vec<FieldError>), AppError> {
    let form = SearchForm {
        postcode: f.postcode.clone(),
        distance: f.distance.clone(),
        unit: "miles".into(),
        time: f.time.clone(),
        cost: f.cost.clone(),
        access: f.access.clone(),
        online: "in_person".into(),
        view: "print".into(),
        page: 1,
        ..Default::default()
    };
    let out = dir_search::run(state, &form, true).await?;
    if !out.errors.is_empty() {
        return Ok((vec![], 0, out.errors));
    }
    let wanted: Vec<String> = languages
        .split([',', ';', '/'])
        .flat_map(|s| s.split(" and "))
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty())
        .collect();
    let today = crate::db::uk::today();
    let found: Vec<MatchResult> = out
        .results
        .into_iter()
        .filter(|(a, _)| {
            !f.language
                || a.languages
                    .iter()
                    .any(|l| wanted.contains(&l.trim().to_lowercase()))
        })
        .map(|(a, d)| MatchResult {
            next_session: a.next_session(today),
            activity: a,
            distance_m: d,
        })
        .collect();
    let total = found.len();
    Ok((found.into_iter().take(MAX_RESULTS).collect(), total, vec![]))
}

/// The matching page for the care team: the record's needs, the filters (suggested from
/// the record on the first visit), the results and the options already sent. Audited.
pub async fn match_view(
    state: &AppState,
    actor: &Actor,
    id: &str,
    asked: Option<MatchFilters>,
) -> Result<MatchView, AppError> {
    let mut tx = state.db.begin().await?;
    let case = load_case(&mut tx, actor, id).await?;
    let sent = sent_options(&mut tx, id).await?;
    let (filters, suggested) = match asked {
        Some(f) if f.searched => (f, vec![]),
        _ => suggest(&case.needs),
    };
    audit_ref(
        &mut tx,
        &actor.audit(),
        "referral.match.view",
        id,
        json!({ "cost": filters.cost, "access": filters.access, "time": filters.time, "language": filters.language }),
    )
    .await?;
    tx.commit().await?;
    let (results, total, errors) = search(state, &filters, &case.needs.languages).await?;
    Ok(MatchView {
        name: case.ident.call_name().to_string(),
        filters,
        suggested,
        needs: case.needs,
        results,
        total,
        errors,
        contact: case.contact,
        sent,
        can_connect: can_connect(&case.referral),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_record_suggests_free_step_free_and_the_time_and_language_asked_for() {
        let n = Needs {
            barriers: vec![
                ("cost".into(), String::new()),
                ("mobility".into(), "uses a wheelchair".into()),
                (
                    "timing".into(),
                    "Works evenings, free in the morning".into(),
                ),
                ("language".into(), String::new()),
            ],
            communication_needs: "BSL interpreter".into(),
            languages: "Polish".into(),
            postcode: "L8 0AB".into(),
        };
        let (f, why) = suggest(&n);
        assert_eq!(f.postcode, "L8 0AB");
        assert_eq!(f.cost, vec!["free"]);
        assert_eq!(f.access, vec!["step_free", "bsl"]);
        assert_eq!(f.time, "morning", "the first part of the day named");
        assert!(f.language);
        assert_eq!(why.len(), 5);
        let back = MatchFilters::from_pairs(
            &f.pairs()
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect::<Vec<_>>(),
        );
        assert_eq!(
            back,
            MatchFilters {
                searched: true,
                ..f
            }
        );
    }
}
