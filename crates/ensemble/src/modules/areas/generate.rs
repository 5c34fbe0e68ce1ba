//! A generated city region of referrals for the area benchmark (`ensemble area generate`):
//! a directory of activities and organisations (`directory::generate`), programmes holding
//! some of them (`programmes::generate`), people living in the Liverpool City Region's small
//! areas of IoD2025 — spread by population, more of them from more deprived areas — with
//! recorded sex, ethnic group and birth year and mostly consent to evaluation
//! (`people::generate`), and their referrals to the activities with attendance
//! (`referrals::generate`). Then a commissioner's account and an `areas:read` token. The
//! deprivation data must be imported first. Marked as generated; never run on a live
//! database.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::Row;

use super::CITY_REGION;
use crate::db::now;
use crate::error::AppError;
use crate::modules::accounts::service as accounts;
use crate::rbac::Role;
use crate::state::AppState;

/// How much to make.
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    pub referrals: usize,
    pub activities: usize,
    pub organisations: usize,
    pub programmes: usize,
    pub seed: u64,
    /// Also write completed SWEMWBS, ONS4 and service-use responses (baseline and some
    /// follow-ups) for people who attended (`measures::generate`).
    pub with_measures: bool,
}

/// What was made, for the benchmark script.
#[derive(Debug, Clone)]
pub struct Generated {
    pub people: usize,
    pub referrals: usize,
    pub marks: usize,
    /// Completed measure responses written (with `with_measures`).
    pub responses: usize,
    /// People with a SWEMWBS baseline and follow-up.
    pub pairs: usize,
    pub commissioner_email: String,
    pub password: String,
    pub token: String,
    /// A ward of Liverpool with generated residents, for the profile benchmark.
    pub ward: String,
}

const TEAM: &str = "Reach Benchmark Team (generated)";
const ETHNIC: [(&str, f64); 6] = [
    ("White", 0.85),
    ("Asian or Asian British", 0.04),
    ("Black, Black British, Caribbean or African", 0.03),
    ("Mixed or multiple ethnic groups", 0.03),
    ("Other ethnic group", 0.02),
    ("", 0.03),
];

fn pick<'a>(rng: &mut StdRng, table: &[(&'a str, f64)]) -> &'a str {
    let mut x = rng.random::<f64>();
    for (v, p) in table {
        if x < *p {
            return v;
        }
        x -= p;
    }
    table[table.len() - 1].0
}

/// Which activities each programme holds. Up to ten programmes, each takes about a tenth of
/// the activities (so they overlap, as partnerships do). With more (a national scale, such
/// as 200 programmes), each activity belongs to one programme at most: every programme gets
/// one activity first, then the rest are shared out unevenly (earlier programmes larger)
/// with about one in ten left outside any programme, so every programme has referrals and
/// the referrals are not counted many times over.
fn programme_plans(
    rng: &mut StdRng,
    activities: &[String],
    programmes: usize,
) -> Result<Vec<(String, Vec<String>)>, AppError> {
    let name = |i: usize| format!("Generated area programme {i:03}");
    if programmes <= 10 {
        return Ok((0..programmes)
            .map(|i| {
                let chosen = activities
                    .iter()
                    .filter(|_| rng.random_bool(0.1))
                    .cloned()
                    .collect();
                (name(i), chosen)
            })
            .collect());
    }
    if activities.len() < programmes {
        return Err(AppError::BadRequest(format!(
            "--activities ({}) must be at least --programmes ({programmes}) so that every programme has an activity",
            activities.len()
        )));
    }
    let mut plans: Vec<(String, Vec<String>)> =
        (0..programmes).map(|i| (name(i), vec![])).collect();
    for (i, a) in activities.iter().enumerate() {
        if i < programmes {
            plans[i].1.push(a.clone());
        } else if rng.random_bool(0.9) {
            let u: f64 = rng.random();
            let p = ((u * u * programmes as f64) as usize).min(programmes - 1);
            plans[p].1.push(a.clone());
        }
    }
    Ok(plans)
}

/// Generate; refuses to run twice on one database, or before the deprivation data.
pub async fn generate(
    state: &AppState,
    scale: Scale,
    mut progress: impl FnMut(usize),
) -> Result<Generated, AppError> {
    if scale.referrals == 0 || scale.activities == 0 || scale.organisations == 0 {
        return Err(AppError::BadRequest(
            "--referrals, --activities and --organisations must be at least 1".into(),
        ));
    }
    if accounts::find_organisation(state, TEAM).await?.is_some() {
        return Err(AppError::Conflict(
            "This database already holds generated referrals for the area benchmark; use a new database".into(),
        ));
    }
    // The city region's small areas of IoD2025 with a weight: residents, and more referrals
    // from more deprived areas (decile 1 twice as many per resident as decile 10).
    let marks: Vec<String> = (1..=CITY_REGION.len())
        .map(|i| format!("'{}'", CITY_REGION[i - 1]))
        .collect();
    let sql = format!(
        "SELECT code, imd_decile, population FROM area_lsoas WHERE edition = 2025 AND imd_decile IS NOT NULL AND district_code IN ({}) ORDER BY code",
        marks.join(", ")
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(&state.db.read)
        .await?;
    if rows.is_empty() {
        return Err(AppError::BadRequest(
            "No IoD2025 small areas of the Liverpool City Region: import the deprivation data first (ensemble opendata import --shared-dir DIR)".into(),
        ));
    }
    let mut lsoas: Vec<String> = Vec::with_capacity(rows.len());
    let mut cumulative: Vec<f64> = Vec::with_capacity(rows.len());
    let mut acc = 0.0;
    for r in &rows {
        let d: i64 = r.try_get("imd_decile")?;
        let pop: Option<i64> = r.try_get("population")?;
        acc += pop.unwrap_or(1500).max(1) as f64 * (1.0 + (10 - d.clamp(1, 10)) as f64 / 9.0);
        cumulative.push(acc);
        lsoas.push(r.try_get("code")?);
    }
    let mut rng = StdRng::seed_from_u64(scale.seed);
    let team = accounts::create_organisation_as_operator(
        state,
        &accounts::OrganisationInput {
            name: TEAM.into(),
            kind: "gp_practice_or_pcn".into(),
            borough: "Liverpool".into(),
            description: "Generated for benchmarks.".into(),
            ..Default::default()
        },
    )
    .await?
    .id;
    let password = "bench-areas-password-42".to_string();
    let commissioner_email = "area-commissioner@bench.example".to_string();
    let commissioner = accounts::create_user_as_operator(
        state,
        &commissioner_email,
        "Bench Commissioner",
        &password,
        Some((&team, Role::Commissioner)),
    )
    .await?;
    let token = accounts::create_token_as_operator(
        state,
        &commissioner_email,
        "area benchmark",
        &["areas:read".to_string()],
        "",
    )
    .await?;
    // The directory, then programmes of about a tenth of the activities each.
    crate::modules::directory::generate::generate(
        &state.db,
        crate::modules::directory::generate::Scale {
            activities: scale.activities,
            locations: scale.activities,
            organisations: scale.organisations,
            seed: scale.seed,
        },
        |_, _| {},
    )
    .await?;
    let activities: Vec<String> =
        sqlx::query("SELECT id FROM directory_activity_names ORDER BY id")
            .fetch_all(&state.db.read)
            .await?
            .iter()
            .map(|r| r.try_get("id"))
            .collect::<Result<_, _>>()?;
    let plans = programme_plans(&mut rng, &activities, scale.programmes)?;
    crate::modules::programmes::generate::programmes_with_activities(
        state,
        &team,
        &commissioner,
        &plans,
    )
    .await?;
    let statement: String = crate::modules::people::service::current_statements(state)
        .await?
        .into_iter()
        .find(|s| s.purpose == crate::modules::people::model::Purpose::Evaluation)
        .map(|s| s.id)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("no evaluation consent statement")))?;
    let mut people = crate::modules::people::generate::Batch::default();
    let mut refs = crate::modules::referrals::generate::ActivityReferrals::default();
    let t0 = now();
    let mut measures = if scale.with_measures {
        Some(crate::modules::measures::generate::Responses::new(
            scale.seed ^ 0x6d65_6173_7572_6573,
            crate::modules::measures::generate::Shares::default(),
            t0,
        )?)
    } else {
        None
    };
    let (mut made, mut n_people, mut n_marks, mut pending) = (0_usize, 0_usize, 0_usize, 0_usize);
    while made < scale.referrals {
        let person = uuid::Uuid::now_v7().to_string();
        let x = rng.random::<f64>() * acc;
        let i = cumulative.partition_point(|c| *c < x).min(lsoas.len() - 1);
        let created = t0 - rng.random_range(30 * 86_400..730 * 86_400);
        let evaluation = match rng.random::<f64>() {
            x if x < 0.90 => "given",
            x if x < 0.95 => "withdrawn",
            _ => "refused",
        };
        let gender = match rng.random::<f64>() {
            x if x < 0.60 => Some("Female".to_string()),
            x if x < 0.98 => Some("Male".to_string()),
            _ => None,
        };
        let ethnicity = Some(pick(&mut rng, &ETHNIC).to_string()).filter(|s| !s.is_empty());
        let born = rng.random_range(1935..2009);
        people.push_recorded(
            crate::modules::people::generate::Synthetic {
                id: &person,
                team_organisation_id: &team,
                given_name: "Generated",
                family_name: "Resident",
                email: format!("resident.{n_people}@example.org"),
                evaluation_statement: &statement,
                created_at: created,
                updated_at: created,
            },
            crate::modules::people::generate::Recorded {
                postcode: String::new(),
                lsoa_code: Some(lsoas[i].clone()),
                gender,
                ethnicity,
                date_of_birth: Some(format!("{born}-06-15")),
                evaluation,
            },
        );
        n_people += 1;
        // One referral, or two (half the people), to random activities.
        let n = if rng.random_bool(0.5) { 1 } else { 2 };
        let mut measured = false;
        for k in 0..n.min(scale.referrals - made) {
            let activity = &activities[rng.random_range(0..activities.len())];
            let (present, absent) = if rng.random_bool(0.6) {
                (rng.random_range(1..=4), rng.random_range(0..=1))
            } else {
                (0, rng.random_range(0..=1))
            };
            n_marks += present + absent;
            let referral = refs.push(
                &person,
                &team,
                activity,
                created + k as i64 * 86_400,
                present,
                absent,
            );
            // Measures for the first referral the person attended, from its first session.
            if let Some(m) = measures.as_mut()
                && present > 0
                && !measured
            {
                m.push(crate::modules::measures::generate::Participant {
                    person_id: &person,
                    referral_id: Some(&referral),
                    start: created + k as i64 * 86_400 + 7 * 86_400,
                })?;
                measured = true;
            }
            made += 1;
            pending += 1;
        }
        if pending >= 2500 {
            people.flush(&state.db).await?;
            refs.flush(state).await?;
            if let Some(m) = measures.as_mut() {
                m.flush(&state.db).await?;
            }
            pending = 0;
            progress(made);
        }
    }
    people.flush(&state.db).await?;
    refs.flush(state).await?;
    if let Some(m) = measures.as_mut() {
        m.flush(&state.db).await?;
    }
    progress(made);
    let written = measures.map(|m| m.written()).unwrap_or_default();
    // Fresh planner statistics after a bulk load (PostgreSQL would otherwise guess).
    sqlx::query("ANALYZE").execute(&state.db.write).await?;
    let ward: String = sqlx::query(
        "SELECT w.ward_code FROM area_lsoa_wards w WHERE w.edition = 2025 AND w.district_code = 'E08000012' ORDER BY w.ward_code LIMIT 1",
    )
    .fetch_optional(&state.db.read)
    .await?
    .map(|r| r.try_get("ward_code"))
    .transpose()?
    .unwrap_or_default();
    Ok(Generated {
        people: n_people,
        referrals: made,
        marks: n_marks,
        responses: written.responses,
        pairs: written.pairs,
        commissioner_email,
        password,
        token,
        ward,
    })
}
