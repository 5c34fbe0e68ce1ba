//! A national-scale directory generator for benchmarks: organisations, activities,
//! venues spread over England, schedules and types, inserted in bulk. Deterministic for a
//! given seed. Generated records are marked (source = "generated") so they are easy to
//! remove, and are never part of the demo.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::db::{Db, new_id, now};

use crate::db::Bind;

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    /// Activities.
    pub activities: usize,
    /// Venue links (each activity gets at least one; the rest are second venues).
    pub locations: usize,
    /// Organisations that own them.
    pub organisations: usize,
    /// Random seed.
    pub seed: u64,
}

const WORDS: &[&str] = &[
    "Singing",
    "Drumming",
    "Ukulele",
    "Songwriting",
    "Choir",
    "Guitar",
    "Listening",
    "Rhythm",
    "Harmony",
    "Folk",
    "Samba",
    "Piano",
    "Percussion",
    "Voices",
    "Strings",
];
const PLACES: &[&str] = &[
    "Community Hall",
    "Library",
    "Arts Centre",
    "Church Hall",
    "Youth Centre",
    "Wellbeing Hub",
];
const DAYS: &[&str] = &["MO", "TU", "WE", "TH", "FR", "SA", "SU"];

async fn flush(
    db: &Db,
    table: &str,
    cols: &[&str],
    rows: &mut Vec<Vec<Bind>>,
) -> Result<(), sqlx::Error> {
    crate::db::insert_rows(db, table, cols, rows, "")
        .await
        .map(|_| ())
}

/// Generate a directory of the given scale; `progress` gets (stage, done).
pub async fn generate(
    db: &Db,
    scale: Scale,
    mut progress: impl FnMut(&str, usize),
) -> Result<(), sqlx::Error> {
    let mut rng = StdRng::seed_from_u64(scale.seed);
    let t = now();
    let term_ids: Vec<(String, String)> = {
        use sqlx::Row;
        sqlx::query("SELECT id, code FROM taxonomy_terms")
            .fetch_all(&db.read)
            .await?
            .iter()
            .filter_map(|r| Some((r.try_get("id").ok()?, r.try_get("code").ok()?)))
            .collect()
    };
    let mut orgs = Vec::with_capacity(scale.organisations);
    let mut rows = Vec::new();
    for i in 0..scale.organisations {
        let id = new_id();
        rows.push(vec![
            Bind::T(id.clone()),
            Bind::T(format!("Generated Community Music {i:06}")),
            Bind::T("community_group".into()),
            Bind::T("Generated for benchmarks.".into()),
            Bind::I(t),
            Bind::I(t),
        ]);
        orgs.push(id);
        if rows.len() == 500 {
            flush(
                db,
                "organisations",
                &[
                    "id",
                    "name",
                    "kind",
                    "description",
                    "created_at",
                    "updated_at",
                ],
                &mut rows,
            )
            .await?;
        }
    }
    flush(
        db,
        "organisations",
        &[
            "id",
            "name",
            "kind",
            "description",
            "created_at",
            "updated_at",
        ],
        &mut rows,
    )
    .await?;
    progress("organisations", scale.organisations);
    let mut activities = Vec::with_capacity(scale.activities);
    let cols = [
        "id",
        "organisation_id",
        "name",
        "description",
        "how_to_join",
        "cost",
        "bursary",
        "access_features",
        "languages",
        "status",
        "source",
        "source_id",
        "created_at",
        "updated_at",
    ];
    for i in 0..scale.activities {
        let id = new_id();
        let name = format!(
            "{} {} {i}",
            WORDS[rng.random_range(0..WORDS.len())],
            WORDS[rng.random_range(0..WORDS.len())]
        );
        let cost = ["free", "free", "pay_what_you_can", "fixed"][rng.random_range(0..4)];
        let access =
            ["step_free", "step_free hearing_loop", "quiet_space", ""][rng.random_range(0..4)];
        rows.push(vec![
            Bind::T(id.clone()),
            Bind::T(orgs[rng.random_range(0..orgs.len())].clone()),
            Bind::T(name),
            Bind::T("A friendly generated group for benchmarks. No experience needed.".into()),
            Bind::T("drop_in".into()),
            Bind::T(cost.into()),
            Bind::I(rng.random_range(0..2)),
            Bind::T(access.into()),
            Bind::T("English".into()),
            Bind::T("active".into()),
            Bind::T("generated".into()),
            Bind::T(format!("gen-{i}")),
            Bind::I(t),
            Bind::I(t),
        ]);
        activities.push(id);
        if rows.len() == 200 {
            flush(db, "activities", &cols, &mut rows).await?;
            progress("activities", i + 1);
        }
    }
    flush(db, "activities", &cols, &mut rows).await?;
    progress("activities", scale.activities);
    // Types and schedules.
    let mut terms = Vec::new();
    let mut scheds = Vec::new();
    for (i, a) in activities.iter().enumerate() {
        let (tid, _) = &term_ids[rng.random_range(0..term_ids.len())];
        terms.push(vec![Bind::T(a.clone()), Bind::T(tid.clone())]);
        let h = rng.random_range(9..20);
        scheds.push(vec![
            Bind::T(new_id()),
            Bind::T(a.clone()),
            Bind::T("WEEKLY".into()),
            Bind::T(DAYS[rng.random_range(0..7)].into()),
            Bind::T(format!("{h:02}:00")),
            Bind::T(format!("{:02}:30", h + 1)),
        ]);
        if terms.len() == 500 {
            flush(
                db,
                "activity_terms",
                &["activity_id", "term_id"],
                &mut terms,
            )
            .await?;
            flush(
                db,
                "schedules",
                &[
                    "id",
                    "activity_id",
                    "freq",
                    "byday",
                    "opens_at",
                    "closes_at",
                ],
                &mut scheds,
            )
            .await?;
            progress("schedules", i + 1);
        }
    }
    flush(
        db,
        "activity_terms",
        &["activity_id", "term_id"],
        &mut terms,
    )
    .await?;
    flush(
        db,
        "schedules",
        &[
            "id",
            "activity_id",
            "freq",
            "byday",
            "opens_at",
            "closes_at",
        ],
        &mut scheds,
    )
    .await?;
    // Venues: spread over England, denser around a few city centres.
    let cities = [
        (53.4084, -2.9916),
        (53.4808, -2.2426),
        (52.4862, -1.8904),
        (51.5072, -0.1276),
        (53.8008, -1.5491),
        (54.9783, -1.6178),
        (51.4545, -2.5879),
    ];
    let mut locs = Vec::new();
    let mut links = Vec::new();
    for i in 0..scale.locations {
        let (lat, lon) = if rng.random_bool(0.6) {
            let (clat, clon) = cities[rng.random_range(0..cities.len())];
            (
                clat + rng.random_range(-0.25..0.25),
                clon + rng.random_range(-0.4..0.4),
            )
        } else {
            (rng.random_range(50.5..55.5), rng.random_range(-4.5..1.5))
        };
        let loc_id = new_id();
        let activity = if i < activities.len() {
            activities[i].clone()
        } else {
            activities[rng.random_range(0..activities.len())].clone()
        };
        locs.push(vec![
            Bind::T(loc_id.clone()),
            Bind::T(PLACES[rng.random_range(0..PLACES.len())].into()),
            Bind::T(format!("{} Generated Street", i % 300 + 1)),
            Bind::T("Generated Town".into()),
            Bind::T("L1 8JQ".into()),
            Bind::F(lat),
            Bind::F(lon),
            Bind::I(t),
            Bind::I(t),
        ]);
        links.push(vec![
            Bind::T(new_id()),
            Bind::T(activity),
            Bind::T(loc_id),
            Bind::F(lat),
            Bind::F(lon),
            Bind::I(1),
        ]);
        if locs.len() == 300 {
            flush(
                db,
                "locations",
                &[
                    "id",
                    "name",
                    "address_1",
                    "city",
                    "postcode",
                    "latitude",
                    "longitude",
                    "created_at",
                    "updated_at",
                ],
                &mut locs,
            )
            .await?;
            flush(
                db,
                "activity_locations",
                &[
                    "id",
                    "activity_id",
                    "location_id",
                    "latitude",
                    "longitude",
                    "listed",
                ],
                &mut links,
            )
            .await?;
            progress("venues", i + 1);
        }
    }
    flush(
        db,
        "locations",
        &[
            "id",
            "name",
            "address_1",
            "city",
            "postcode",
            "latitude",
            "longitude",
            "created_at",
            "updated_at",
        ],
        &mut locs,
    )
    .await?;
    flush(
        db,
        "activity_locations",
        &[
            "id",
            "activity_id",
            "location_id",
            "latitude",
            "longitude",
            "listed",
        ],
        &mut links,
    )
    .await?;
    progress("venues", scale.locations);
    let mut tx = db.begin().await?;
    super::cache::bump(&mut tx).await?;
    tx.commit().await?;
    Ok(())
}

/// One plain active activity for another module's benchmark generator (`ensemble practice
/// generate`), written straight to the table like the rest of this generator: no details,
/// no listing, no audit row. Returns its id.
pub async fn bench_activity(
    db: &Db,
    organisation_id: &str,
    name: &str,
    at: i64,
) -> Result<String, sqlx::Error> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO activities (id, organisation_id, name, description, how_to_join, cost, status, created_at, updated_at) \
         VALUES ($1, $2, $3, 'Generated for benchmarks.', 'Just come along.', 'Free', 'active', $4, $4)",
    )
    .bind(id.clone())
    .bind(organisation_id.to_string())
    .bind(name.to_string())
    .bind(at)
    .execute(&db.write)
    .await?;
    Ok(id)
}
