//! Directory use cases: programme managers of the owning organisation (and administrators)
//! create, edit, review and archive activities; everyone can search and read active ones.
//! Every change is audited in the same transaction.

use serde_json::json;

use crate::audit::{self, AuditActor, AuditEvent};
use crate::db::{Bind, Tx, bind_all, bind_opt_f64, new_id, now};
use crate::error::{AppError, FieldError};
use crate::modules::places::{self, Point};
use crate::rbac::perm::ManageActivities;
use crate::rbac::{Actor, Granted, Role};
use crate::state::AppState;

use super::model::{Activity, ActivityInput, Schedule, ValidActivity};
use super::store;

/// May this actor manage this organisation's activities?
pub fn can_manage(actor: &Actor, organisation_id: &str) -> bool {
    actor.has_role(Role::Administrator)
        || actor.has_role_in(organisation_id, Role::ProgrammeManager)
}

/// The organisation running an activity, and the activity's name (404 when there is none):
/// for other modules that authorise against the activity's owner.
pub async fn owner(state: &AppState, activity_id: &str) -> Result<(String, String), AppError> {
    let r = sqlx::query("SELECT organisation_id, name FROM activities WHERE id = $1")
        .bind(activity_id.to_string())
        .fetch_optional(&state.db.read)
        .await?
        .ok_or(AppError::NotFound)?;
    use sqlx::Row;
    Ok((r.try_get("organisation_id")?, r.try_get("name")?))
}

async fn type_codes(state: &AppState) -> Result<Vec<String>, AppError> {
    Ok(store::activity_types(&state.db.read)
        .await?
        .into_iter()
        .map(|t| t.code)
        .collect())
}

/// Validate input, looking up the venue's position from its postcode when not given.
pub async fn validate(state: &AppState, input: &ActivityInput) -> Result<ValidActivity, AppError> {
    let mut v = input
        .validate(&type_codes(state).await?)
        .map_err(AppError::Invalid)?;
    if let Some(loc) = v.location.as_mut() {
        super::venue_areas::place(state, loc).await?;
    }
    Ok(v)
}

async fn write_details(
    tx: &mut Tx,
    id: &str,
    v: &ValidActivity,
    replace: bool,
) -> Result<(), AppError> {
    if replace {
        sqlx::query("DELETE FROM activity_terms WHERE activity_id = $1")
            .bind(id.to_string())
            .execute(&mut **tx)
            .await?;
    }
    for code in &v.types {
        sqlx::query("INSERT INTO activity_terms (activity_id, term_id) SELECT $1, id FROM taxonomy_terms WHERE code = $2")
            .bind(id.to_string())
            .bind(code.clone())
            .execute(&mut **tx)
            .await?;
    }
    if replace && let Some(loc_id) = &v.location_id {
        // Edit the venue in place (keeps its id and, if the postcode is unchanged and no new
        // position is known, its coordinates); an emptied venue is unlinked.
        match &v.location {
            Some(loc) => {
                let q = sqlx::query(
                    "UPDATE locations SET name = $1, address_1 = $2, city = $3, \
                     latitude = COALESCE($4, CASE WHEN postcode = $5 THEN latitude END), \
                     longitude = COALESCE($6, CASE WHEN postcode = $5 THEN longitude END), \
                     lsoa_code = COALESCE($10, CASE WHEN postcode = $5 THEN lsoa_code END), \
                     lsoa11_code = COALESCE($11, CASE WHEN postcode = $5 THEN lsoa11_code END), postcode = $5, updated_at = $7 \
                     WHERE id = $8 AND id IN (SELECT location_id FROM activity_locations WHERE activity_id = $9)",
                )
                .bind(loc.name.clone())
                .bind(loc.address_1.clone())
                .bind(loc.city.clone());
                let q = bind_opt_f64(q, loc.point.map(|p| p.lat))
                    .bind(loc.postcode.as_str().to_string());
                bind_opt_f64(q, loc.point.map(|p| p.lon))
                    .bind(crate::db::now())
                    .bind(loc_id.clone())
                    .bind(id.to_string())
                    .bind(loc.lsoas.0.clone())
                    .bind(loc.lsoas.1.clone())
                    .execute(&mut **tx)
                    .await?;
            }
            None => {
                sqlx::query(
                    "DELETE FROM activity_locations WHERE activity_id = $1 AND location_id = $2",
                )
                .bind(id.to_string())
                .bind(loc_id.clone())
                .execute(&mut **tx)
                .await?;
            }
        }
    } else if let Some(loc) = &v.location {
        if replace {
            sqlx::query("DELETE FROM activity_locations WHERE activity_id = $1")
                .bind(id.to_string())
                .execute(&mut **tx)
                .await?;
        }
        write_location(tx, id, loc).await?;
    }
    if replace && let Some(sched_id) = &v.schedule_id {
        match &v.schedule {
            Some(sc) => {
                sqlx::query(
                    "UPDATE schedules SET freq = $1, byday = $2, dtstart = $3, valid_from = $4, valid_to = $5, \
                     opens_at = $6, closes_at = $7, description = $8 WHERE id = $9 AND activity_id = $10",
                )
                .bind(sc.freq.code())
                .bind(sc.byday.clone())
                .bind(sc.dtstart.clone())
                .bind(sc.valid_from.clone())
                .bind(sc.valid_to.clone())
                .bind(sc.opens_at.clone())
                .bind(sc.closes_at.clone())
                .bind(sc.description.clone())
                .bind(sched_id.clone())
                .bind(id.to_string())
                .execute(&mut **tx)
                .await?;
            }
            None => {
                sqlx::query("DELETE FROM schedules WHERE id = $1 AND activity_id = $2")
                    .bind(sched_id.clone())
                    .bind(id.to_string())
                    .execute(&mut **tx)
                    .await?;
            }
        }
    } else if let Some(sc) = &v.schedule {
        if replace {
            sqlx::query("DELETE FROM schedules WHERE activity_id = $1")
                .bind(id.to_string())
                .execute(&mut **tx)
                .await?;
        }
        write_schedule(tx, id, sc).await?;
    }
    refresh_listing(tx, id).await?;
    Ok(())
}

async fn write_location(
    tx: &mut Tx,
    id: &str,
    loc: &super::model::ValidLocation,
) -> Result<(), AppError> {
    let loc_id = new_id();
    insert_location(tx, &loc_id, loc).await?;
    link_location(tx, &new_id(), id, &loc_id).await
}

/// `w` when no row of `table` has that id yet, else a new id.
async fn new_id_or(tx: &mut Tx, table: &str, w: &str) -> Result<String, AppError> {
    let taken = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT 1 FROM {table} WHERE id = $1"
    )))
    .bind(w.to_string())
    .fetch_optional(&mut **tx)
    .await?
    .is_some();
    Ok(if taken { new_id() } else { w.to_string() })
}

async fn link_location(
    tx: &mut Tx,
    link_id: &str,
    activity_id: &str,
    location_id: &str,
) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO activity_locations (id, activity_id, location_id) VALUES ($1, $2, $3)",
    )
    .bind(link_id.to_string())
    .bind(activity_id.to_string())
    .bind(location_id.to_string())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Link a venue to an activity keeping the ids a feed gave (the importer): the venue row
/// with `location_id` is updated from `loc` when it exists (a venue shared by several
/// services of a feed, or met again), else created with that id; the link keeps `link_id`
/// unless another link already has it.
pub async fn add_location_as(
    tx: &mut Tx,
    activity_id: &str,
    link_id: &str,
    location_id: &str,
    loc: &super::model::ValidLocation,
) -> Result<(), AppError> {
    let q = sqlx::query(
        "UPDATE locations SET name = $1, address_1 = $2, city = $3, postcode = $4, latitude = $5, \
         longitude = $6, updated_at = $7, lsoa_code = $9, lsoa11_code = $10 WHERE id = $8",
    )
    .bind(loc.name.clone())
    .bind(loc.address_1.clone())
    .bind(loc.city.clone())
    .bind(loc.postcode.as_str().to_string());
    let q = bind_opt_f64(q, loc.point.map(|p| p.lat));
    let updated = bind_opt_f64(q, loc.point.map(|p| p.lon))
        .bind(now())
        .bind(location_id.to_string())
        .bind(loc.lsoas.0.clone())
        .bind(loc.lsoas.1.clone())
        .execute(&mut **tx)
        .await?
        .rows_affected();
    if updated == 0 {
        insert_location(tx, location_id, loc).await?;
    }
    let link = new_id_or(tx, "activity_locations", link_id).await?;
    link_location(tx, &link, activity_id, location_id).await?;
    refresh_listing(tx, activity_id).await?;
    Ok(())
}

/// Add a schedule keeping the id a feed gave, unless another schedule already has it.
pub async fn add_schedule_as(
    tx: &mut Tx,
    activity_id: &str,
    schedule_id: &str,
    s: &super::model::ValidSchedule,
) -> Result<(), AppError> {
    let id = new_id_or(tx, "schedules", schedule_id).await?;
    insert_schedule(tx, &id, activity_id, s).await
}

async fn insert_location(
    tx: &mut Tx,
    loc_id: &str,
    loc: &super::model::ValidLocation,
) -> Result<(), AppError> {
    let t = now();
    let q = sqlx::query(
        "INSERT INTO locations (id, name, address_1, city, postcode, latitude, longitude, created_at, updated_at, lsoa_code, lsoa11_code) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10)",
    )
    .bind(loc_id.to_string())
    .bind(loc.name.clone())
    .bind(loc.address_1.clone())
    .bind(loc.city.clone())
    .bind(loc.postcode.as_str().to_string());
    let q = bind_opt_f64(q, loc.point.map(|p| p.lat));
    bind_opt_f64(q, loc.point.map(|p| p.lon))
        .bind(t)
        .bind(loc.lsoas.0.clone())
        .bind(loc.lsoas.1.clone())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn write_schedule(
    tx: &mut Tx,
    id: &str,
    s: &super::model::ValidSchedule,
) -> Result<(), AppError> {
    insert_schedule(tx, &new_id(), id, s).await
}

async fn insert_schedule(
    tx: &mut Tx,
    schedule_id: &str,
    id: &str,
    s: &super::model::ValidSchedule,
) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO schedules (id, activity_id, freq, byday, dtstart, valid_from, valid_to, opens_at, closes_at, description) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(schedule_id.to_string())
    .bind(id.to_string())
    .bind(s.freq.code())
    .bind(s.byday.clone())
    .bind(s.dtstart.clone())
    .bind(s.valid_from.clone())
    .bind(s.valid_to.clone())
    .bind(s.opens_at.clone())
    .bind(s.closes_at.clone())
    .bind(s.description.clone())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Bring the search copy on an activity's venue links (position, listed) up to date.
pub async fn refresh_listing(tx: &mut Tx, activity_id: &str) -> Result<(), sqlx::Error> {
    refresh_where(tx, "activity_id = $1", activity_id).await
}

/// The same for every activity of an organisation (after it is archived or restored).
pub async fn refresh_organisation(tx: &mut Tx, organisation_id: &str) -> Result<(), sqlx::Error> {
    refresh_where(
        tx,
        "activity_id IN (SELECT id FROM activities WHERE organisation_id = $1)",
        organisation_id,
    )
    .await
}

async fn refresh_where(tx: &mut Tx, clause: &str, value: &str) -> Result<(), sqlx::Error> {
    let sql = format!(
        "UPDATE activity_locations SET \
         listed = COALESCE((SELECT CASE WHEN a.status = 'active' AND a.audience = 'public' AND o.archived_at IS NULL THEN 1 ELSE 0 END \
                   FROM activities a JOIN accounts_organisation_profiles o ON o.id = a.organisation_id WHERE a.id = activity_locations.activity_id), 0), \
         latitude = (SELECT l.latitude FROM locations l WHERE l.id = activity_locations.location_id), \
         longitude = (SELECT l.longitude FROM locations l WHERE l.id = activity_locations.location_id) \
         WHERE {clause}"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(value.to_string())
        .execute(&mut **tx)
        .await?;
    super::cache::bump(tx).await
}

/// Add the venue of `v` to an existing activity (further venues from the demo or importer).
pub async fn add_location(tx: &mut Tx, id: &str, v: &ValidActivity) -> Result<(), AppError> {
    if let Some(loc) = &v.location {
        write_location(tx, id, loc).await?;
    }
    refresh_listing(tx, id).await?;
    Ok(())
}

/// Add the schedule of `v` to an existing activity.
pub async fn add_schedule(tx: &mut Tx, id: &str, v: &ValidActivity) -> Result<(), AppError> {
    if let Some(s) = &v.schedule {
        write_schedule(tx, id, s).await?;
    }
    refresh_listing(tx, id).await?;
    Ok(())
}

/// The activity columns that the editor and importer set, in order.
const EDITABLE: [&str; 21] = [
    "name",
    "description",
    "first_visit",
    "eligibility",
    "minimum_age",
    "maximum_age",
    "how_to_join",
    "audience",
    "capacity",
    "waiting_list",
    "cost",
    "cost_amount",
    "bursary",
    "access_features",
    "languages",
    "online",
    "online_url",
    "url",
    "contact_name",
    "contact_email",
    "contact_phone",
];

/// Values for [`EDITABLE`], in the same order.
fn editable_values(v: &ValidActivity) -> Vec<Bind> {
    vec![
        Bind::T(v.name.clone()),
        Bind::T(v.description.clone()),
        Bind::T(v.first_visit.clone()),
        Bind::T(v.eligibility.clone()),
        Bind::OptI(v.minimum_age),
        Bind::OptI(v.maximum_age),
        Bind::T(v.how_to_join.code().into()),
        Bind::T(v.audience.code().into()),
        Bind::OptI(v.capacity),
        Bind::I(i64::from(v.waiting_list)),
        Bind::T(v.cost.code().into()),
        Bind::OptF(v.cost_amount),
        Bind::I(i64::from(v.bursary)),
        Bind::T(
            v.access_features
                .iter()
                .map(|a| a.code())
                .collect::<Vec<_>>()
                .join(" "),
        ),
        Bind::T(v.languages.join("|")),
        Bind::I(i64::from(v.online)),
        Bind::OptT(v.online_url.clone()),
        Bind::OptT(v.url.clone()),
        Bind::OptT(v.contact_name.clone()),
        Bind::OptT(v.contact_email.clone()),
        Bind::OptT(v.contact_phone.clone()),
    ]
}

fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Insert a validated activity (used by the service, the demo loader and the importer).
pub async fn insert(
    tx: &mut Tx,
    actor: &AuditActor,
    v: &ValidActivity,
    source: Option<(&str, &str)>,
    reviewer: Option<&str>,
) -> Result<String, AppError> {
    insert_as(tx, actor, &new_id(), v, source, reviewer).await
}

/// [`insert`] with the id to give it (the importer keeps a feed's id when it is free).
pub async fn insert_as(
    tx: &mut Tx,
    actor: &AuditActor,
    id: &str,
    v: &ValidActivity,
    source: Option<(&str, &str)>,
    reviewer: Option<&str>,
) -> Result<String, AppError> {
    let id = new_id_or(tx, "activities", id).await?;
    let t = now();
    let mut values = vec![Bind::T(id.clone()), Bind::T(v.organisation_id.clone())];
    values.extend(editable_values(v));
    values.extend([
        Bind::T("active".into()),
        Bind::OptI(reviewer.map(|_| t)),
        Bind::OptT(reviewer.map(str::to_string)),
        Bind::OptT(source.map(|s| s.0.to_string())),
        Bind::OptT(source.map(|s| s.1.to_string())),
        Bind::I(t),
        Bind::I(t),
    ]);
    let sql = format!(
        "INSERT INTO activities (id, organisation_id, {}, status, last_reviewed_at, reviewed_by, source, source_id, \
         created_at, updated_at) VALUES ({})",
        EDITABLE.join(", "),
        placeholders(1, values.len())
    );
    bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), &values)
        .execute(&mut **tx)
        .await?;
    write_details(tx, &id, v, false).await?;
    audit::record(
        tx,
        actor,
        AuditEvent {
            action: "activity.create",
            entity_type: "activity",
            entity_id: Some(&id),
            detail: json!({"organisation_id": v.organisation_id, "name": v.name}),
        },
    )
    .await?;
    Ok(id)
}

/// Replace a stored activity's fields with validated ones (keeps its id).
pub async fn overwrite(
    tx: &mut Tx,
    actor: &AuditActor,
    id: &str,
    v: &ValidActivity,
) -> Result<(), AppError> {
    let mut values = editable_values(v);
    values.extend([Bind::I(now()), Bind::T(id.to_string())]);
    let set: Vec<String> = EDITABLE
        .iter()
        .enumerate()
        .map(|(n, c)| format!("{c} = ${}", n + 1))
        .collect();
    let sql = format!(
        "UPDATE activities SET {}, updated_at = ${} WHERE id = ${}",
        set.join(", "),
        EDITABLE.len() + 1,
        EDITABLE.len() + 2
    );
    bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), &values)
        .execute(&mut **tx)
        .await?;
    write_details(tx, id, v, true).await?;
    audit::record(
        tx,
        actor,
        AuditEvent {
            action: "activity.update",
            entity_type: "activity",
            entity_id: Some(id),
            detail: json!({"name": v.name}),
        },
    )
    .await?;
    Ok(())
}

/// Create an activity for an organisation the actor manages.
pub async fn create(
    state: &AppState,
    g: &Granted<ManageActivities>,
    input: &ActivityInput,
) -> Result<String, AppError> {
    if !can_manage(g.actor(), input.organisation_id.trim())
        && !input.organisation_id.trim().is_empty()
    {
        return Err(AppError::Invalid(vec![FieldError::new(
            "organisation_id",
            "Choose an organisation you manage",
        )]));
    }
    let v = validate(state, input).await?;
    let mut tx = state.db.begin().await?;
    let id = insert(
        &mut tx,
        &g.actor().audit(),
        &v,
        None,
        Some(&g.actor().user_id),
    )
    .await?;
    super::practitioners::set_leads(
        &mut tx,
        state,
        &id,
        &v.organisation_id,
        &input.practitioners,
    )
    .await?;
    tx.commit().await?;
    super::cache::of(state).invalidate();
    Ok(id)
}

/// Load one activity the actor may manage.
pub async fn get_managed(
    state: &AppState,
    g: &Granted<ManageActivities>,
    id: &str,
) -> Result<Activity, AppError> {
    let a = store::load(&state.db.read, &[id.to_string()])
        .await?
        .pop()
        .ok_or(AppError::NotFound)?;
    if !can_manage(g.actor(), &a.organisation_id) {
        return Err(AppError::Forbidden);
    }
    Ok(a)
}

/// Edit an activity.
pub async fn update(
    state: &AppState,
    g: &Granted<ManageActivities>,
    id: &str,
    input: &ActivityInput,
) -> Result<(), AppError> {
    let a = get_managed(state, g, id).await?;
    let mut input = input.clone();
    input.organisation_id = a.organisation_id.clone();
    let v = validate(state, &input).await?;
    let mut tx = state.db.begin().await?;
    overwrite(&mut tx, &g.actor().audit(), id, &v).await?;
    super::practitioners::set_leads(&mut tx, state, id, &a.organisation_id, &input.practitioners)
        .await?;
    tx.commit().await?;
    super::cache::of(state).invalidate();
    Ok(())
}

/// Record that the listing was checked and is still right.
pub async fn mark_reviewed(
    state: &AppState,
    g: &Granted<ManageActivities>,
    id: &str,
) -> Result<(), AppError> {
    get_managed(state, g, id).await?;
    let mut tx = state.db.begin().await?;
    sqlx::query("UPDATE activities SET last_reviewed_at = $1, reviewed_by = $2 WHERE id = $3")
        .bind(now())
        .bind(g.actor().user_id.clone())
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
    refresh_listing(&mut tx, id).await?;
    audit::by(
        &mut tx,
        g.actor(),
        "activity.review",
        "activity",
        Some(id),
        json!({}),
    )
    .await?;
    tx.commit().await?;
    super::cache::of(state).invalidate();
    Ok(())
}

/// Archive (hide) or restore an activity.
pub async fn set_archived(
    state: &AppState,
    g: &Granted<ManageActivities>,
    id: &str,
    archived: bool,
) -> Result<(), AppError> {
    get_managed(state, g, id).await?;
    let mut tx = state.db.begin().await?;
    sqlx::query("UPDATE activities SET status = $1, updated_at = $2 WHERE id = $3")
        .bind(if archived { "archived" } else { "active" })
        .bind(now())
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
    refresh_listing(&mut tx, id).await?;
    let action = if archived {
        "activity.archive"
    } else {
        "activity.restore"
    };
    audit::record(
        &mut tx,
        &g.actor().audit(),
        AuditEvent {
            action,
            entity_type: "activity",
            entity_id: Some(id),
            detail: json!({}),
        },
    )
    .await?;
    tx.commit().await?;
    super::cache::of(state).invalidate();
    Ok(())
}

/// Activities of the organisations the actor manages (all statuses), by name.
pub async fn managed_list(
    state: &AppState,
    g: &Granted<ManageActivities>,
) -> Result<Vec<Activity>, AppError> {
    use sqlx::Row;
    let rows = sqlx::query("SELECT id, organisation_id FROM activities ORDER BY lower(name), id")
        .fetch_all(&state.db.read)
        .await?;
    let mut ids = Vec::new();
    for r in rows {
        let org: String = r.try_get("organisation_id")?;
        if can_manage(g.actor(), &org) {
            ids.push(r.try_get::<String, _>("id")?);
        }
    }
    ids.truncate(500);
    Ok(store::load(&state.db.read, &ids).await?)
}

/// One active activity for its page: a ward-only or closed group is shown only to signed-in
/// staff (anyone else gets the same 404 as for an unknown id, so its existence is not
/// revealed).
pub async fn get_for_page(
    state: &AppState,
    id: &str,
    actor: Option<&crate::rbac::Actor>,
) -> Result<Activity, AppError> {
    let a = get_public(state, id).await?;
    if !a.is_public() && !actor.is_some_and(crate::rbac::Actor::is_staff) {
        return Err(AppError::NotFound);
    }
    Ok(a)
}

/// The id and name of an activity someone may ask to join or be referred to (a named read
/// for the referral forms): active, and open to the public unless the actor is staff.
/// `None` for an unknown, archived or (for anyone else) non-public activity.
pub async fn referable(
    state: &AppState,
    id: &str,
    actor: Option<&crate::rbac::Actor>,
) -> Result<Option<(String, String)>, AppError> {
    match get_for_page(state, id.trim(), actor).await {
        Ok(a) => Ok(Some((a.id, a.name))),
        Err(AppError::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}

/// One active activity (whoever it is open to).
async fn get_public(state: &AppState, id: &str) -> Result<Activity, AppError> {
    if uuid::Uuid::parse_str(id).is_err() {
        return Err(AppError::NotFound);
    }
    let a = store::load(&state.db.read, &[id.to_string()])
        .await?
        .pop()
        .ok_or(AppError::NotFound)?;
    if a.status != "active" || a.organisation_archived {
        return Err(AppError::NotFound);
    }
    Ok(a)
}

/// The schedules of an active activity (a named read for the practice module, which plans
/// sessions from them). An unknown or archived activity has none.
pub async fn schedules(state: &AppState, activity_id: &str) -> Result<Vec<Schedule>, AppError> {
    if uuid::Uuid::parse_str(activity_id).is_err() {
        return Ok(Vec::new());
    }
    let a = store::load(&state.db.read, &[activity_id.to_string()]).await?;
    Ok(a.into_iter()
        .filter(|a| a.status == "active")
        .flat_map(|a| a.schedules)
        .collect())
}

/// Every listed activity (active, open to the public, its organisation not archived) with
/// its venues and schedules: a named read for the areas module's provision and cold spots.
pub async fn listed(state: &AppState) -> Result<Vec<Activity>, AppError> {
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT a.id FROM activities a JOIN accounts_organisation_profiles o ON o.id = a.organisation_id \
         WHERE a.status = 'active' AND a.audience = 'public' AND o.archived_at IS NULL ORDER BY a.id",
    )
    .fetch_all(&state.db.read)
    .await?;
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(200) {
        out.extend(store::load(&state.db.read, chunk).await?);
    }
    Ok(out)
}

/// Distance from a point to an activity's nearest venue.
pub fn nearest(a: &Activity, from: Point) -> Option<f64> {
    a.locations
        .iter()
        .filter_map(|l| l.point)
        .map(|p| places::distance_m(from, p))
        .min_by(|x, y| x.partial_cmp(y).unwrap_or(std::cmp::Ordering::Equal))
}

/// Activity-venue links matching `f` within its distance, nearest first. A search by
/// distance alone is answered from the in-process snapshot; with other filters, from SQL.
pub async fn pairs_near(
    state: &AppState,
    f: &super::store::Filters,
) -> Result<Vec<super::store::Hit>, sqlx::Error> {
    match f.near {
        Some((centre, radius))
            if *f
                == (super::store::Filters {
                    near: f.near,
                    ..Default::default()
                }) =>
        {
            super::cache::of(state)
                .pairs_near(&state.db, centre, radius)
                .await
        }
        _ => super::store::pairs_near(&state.db.read, f).await,
    }
}

/// Activities matching `f` within its distance (one hit per activity, its nearest venue).
pub async fn activities_near(
    state: &AppState,
    f: &super::store::Filters,
) -> Result<Vec<super::store::Hit>, sqlx::Error> {
    Ok(super::store::nearest_per_activity(
        pairs_near(state, f).await?,
    ))
}
