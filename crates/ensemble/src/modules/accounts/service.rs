//! Account use cases. Each authorises (a [`Granted`] proof or the actor's own record),
//! validates, changes and audits in one transaction.

use serde_json::json;
use sqlx::Row;

use crate::audit::{self, AuditActor, AuditEvent};
use crate::auth::secret::{random_token, token_hash};
use crate::auth::{password, session, totp};
use crate::db::{Tx, is_unique_violation, new_id, now};
use crate::error::{AppError, FieldError};
use crate::rbac::perm::{ManageAccounts, ManageOrganisations, ViewOrganisationMembers};
use crate::rbac::{Actor, Granted, Role};
use crate::state::AppState;

use super::model::{Email, Membership, OrgKind, Organisation, UserSummary, parse_name};
use super::store;

fn ev<'a>(
    action: &'a str,
    entity_type: &'a str,
    entity_id: Option<&'a str>,
    detail: serde_json::Value,
) -> AuditEvent<'a> {
    AuditEvent {
        action,
        entity_type,
        entity_id,
        detail,
    }
}

// ---------------------------------------------------------------- sign-in

/// What has to happen after a correct password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStep {
    /// Signed in.
    Done,
    /// Enter a TOTP or recovery code.
    Verify,
    /// Set up TOTP (staff without a second factor).
    SetUp,
}

/// Why sign-in failed; messages are shown as they are.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// Wrong email or password (deliberately not saying which).
    #[error("Enter a correct email address and password")]
    WrongCredentials,
    /// Locked after too many failures.
    #[error(
        "This account is locked for {0} minutes after too many incorrect passwords. Try again later, or ask an administrator to unlock it."
    )]
    Locked(i64),
    /// Too many attempts from this address.
    #[error("Too many sign-in attempts from your network. Wait {0} minutes and try again.")]
    RateLimited(u64),
    /// Storage failure.
    #[error(transparent)]
    Internal(#[from] sqlx::Error),
}

/// Check email and password and start a session. Returns the cookie token and what the
/// person must do next.
pub async fn sign_in(
    state: &AppState,
    email: &str,
    password_given: &str,
    client_ip: &str,
    request_id: &str,
) -> Result<(String, NextStep), SignInError> {
    if let Err(wait) = state.sign_in_limiter.hit(client_ip) {
        return Err(SignInError::RateLimited(wait.as_secs().div_ceil(60).max(1)));
    }
    let email = email.trim().to_lowercase();
    let row = sqlx::query(
        "SELECT id, password_hash, disabled_at, locked_until, failed_sign_ins, totp_enabled_at FROM users WHERE email = $1",
    )
    .bind(email.clone())
    .fetch_optional(&state.db.read)
    .await?;
    let t = now();
    let Some(row) = row else {
        password::verify(password_given, &password::DUMMY_HASH);
        return Err(SignInError::WrongCredentials);
    };
    let user_id: String = row.try_get("id")?;
    let hash: Option<String> = row.try_get("password_hash")?;
    let disabled: Option<i64> = row.try_get("disabled_at")?;
    let locked_until: Option<i64> = row.try_get("locked_until")?;
    let totp_enabled: Option<i64> = row.try_get("totp_enabled_at")?;
    if let Some(until) = locked_until.filter(|u| *u > t) {
        return Err(SignInError::Locked(((until - t) + 59) / 60));
    }
    let ok = hash
        .as_deref()
        .is_some_and(|h| password::verify(password_given, h))
        && disabled.is_none();
    let actor = AuditActor {
        user_id: Some(user_id.clone()),
        label: "web".into(),
        request_id: Some(request_id.to_string()),
    };
    let mut tx = state.db.begin().await?;
    if !ok {
        let failures: i64 = row.try_get::<i64, _>("failed_sign_ins")? + 1;
        let lock = failures >= state.cfg.lockout_threshold;
        let until = lock.then(|| t + state.cfg.lockout_duration.as_secs() as i64);
        sqlx::query("UPDATE users SET failed_sign_ins = $1, locked_until = $2 WHERE id = $3")
            .bind(if lock { 0 } else { failures })
            .bind(until)
            .bind(user_id.clone())
            .execute(&mut *tx)
            .await?;
        audit::record(
            &mut tx,
            &actor,
            ev(
                "session.sign_in_failed",
                "user",
                Some(&user_id),
                json!({"locked": lock}),
            ),
        )
        .await?;
        tx.commit().await?;
        if lock {
            return Err(SignInError::Locked(
                state.cfg.lockout_duration.as_secs() as i64 / 60,
            ));
        }
        return Err(SignInError::WrongCredentials);
    }
    sqlx::query("UPDATE users SET failed_sign_ins = 0, locked_until = NULL WHERE id = $1")
        .bind(user_id.clone())
        .execute(&mut *tx)
        .await?;
    let roles = session::memberships_of(&state.db, &user_id).await?;
    let staff = roles.iter().any(|m| m.2.is_staff());
    let step = if totp_enabled.is_some() {
        NextStep::Verify
    } else if staff && state.cfg.require_staff_mfa {
        NextStep::SetUp
    } else {
        NextStep::Done
    };
    let token = session::create(&mut tx, &user_id, step == NextStep::Done, &state.cfg).await?;
    audit::record(
        &mut tx,
        &actor,
        ev(
            "session.sign_in",
            "user",
            Some(&user_id),
            json!({"next_step": format!("{step:?}")}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok((token, step))
}

/// End a session server-side.
pub async fn sign_out(
    state: &AppState,
    s: &session::LoadedSession,
    request_id: &str,
) -> Result<(), AppError> {
    let mut tx = state.db.begin().await?;
    session::destroy(&mut tx, &s.id_hash).await?;
    let actor = AuditActor {
        user_id: Some(s.actor.user_id.clone()),
        label: "web".into(),
        request_id: Some(request_id.to_string()),
    };
    audit::record(
        &mut tx,
        &actor,
        ev(
            "session.sign_out",
            "user",
            Some(&s.actor.user_id),
            json!({}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Replace a session with a fresh, verified one (after the second factor).
async fn rotate_verified(
    tx: &mut Tx,
    state: &AppState,
    s: &session::LoadedSession,
) -> Result<String, sqlx::Error> {
    session::destroy(tx, &s.id_hash).await?;
    session::create(tx, &s.actor.user_id, true, &state.cfg).await
}

/// Check a TOTP or recovery code for a session that owes its second factor; returns the new
/// session token.
pub async fn verify_second_factor(
    state: &AppState,
    s: &session::LoadedSession,
    code: &str,
    request_id: &str,
) -> Result<String, AppError> {
    let row = sqlx::query("SELECT totp_secret, totp_last_step FROM users WHERE id = $1 AND totp_enabled_at IS NOT NULL")
        .bind(s.actor.user_id.clone())
        .fetch_optional(&state.db.read)
        .await?
        .ok_or(AppError::Forbidden)?;
    let secret: String = row.try_get("totp_secret")?;
    let last: Option<i64> = row.try_get("totp_last_step")?;
    let actor = AuditActor {
        user_id: Some(s.actor.user_id.clone()),
        label: "web".into(),
        request_id: Some(request_id.to_string()),
    };
    let mut tx = state.db.begin().await?;
    let method = if let Some(step) = totp::check(&secret, code, last) {
        sqlx::query("UPDATE users SET totp_last_step = $1 WHERE id = $2")
            .bind(step)
            .bind(s.actor.user_id.clone())
            .execute(&mut *tx)
            .await?;
        "totp"
    } else {
        let used = sqlx::query("UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL")
            .bind(now())
            .bind(s.actor.user_id.clone())
            .bind(token_hash(&totp::normalise_recovery(code)))
            .execute(&mut *tx)
            .await?;
        if used.rows_affected() == 0 {
            audit::record(
                &mut tx,
                &actor,
                ev(
                    "session.mfa_failed",
                    "user",
                    Some(&s.actor.user_id),
                    json!({}),
                ),
            )
            .await?;
            tx.commit().await?;
            return Err(AppError::Invalid(vec![FieldError::new(
                "code",
                "Enter the 6-digit code from your authenticator app, or one of your recovery codes",
            )]));
        }
        "recovery_code"
    };
    let token = rotate_verified(&mut tx, state, s).await?;
    audit::record(
        &mut tx,
        &actor,
        ev(
            "session.mfa_verified",
            "user",
            Some(&s.actor.user_id),
            json!({"method": method}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(token)
}

/// The pending TOTP secret for set-up (made on first visit, kept until confirmed).
pub async fn pending_totp_secret(
    state: &AppState,
    user_id: &str,
) -> Result<Option<String>, AppError> {
    let row = sqlx::query("SELECT totp_secret, totp_enabled_at FROM users WHERE id = $1")
        .bind(user_id.to_string())
        .fetch_one(&state.db.read)
        .await?;
    if row.try_get::<Option<i64>, _>("totp_enabled_at")?.is_some() {
        return Ok(None);
    }
    if let Some(s) = row.try_get::<Option<String>, _>("totp_secret")? {
        return Ok(Some(s));
    }
    let secret = totp::new_secret();
    sqlx::query("UPDATE users SET totp_secret = $1 WHERE id = $2 AND totp_enabled_at IS NULL")
        .bind(secret.clone())
        .bind(user_id.to_string())
        .execute(&state.db.write)
        .await?;
    Ok(Some(secret))
}

/// Confirm TOTP set-up with a code; returns the new session token and the recovery codes
/// (shown once).
pub async fn confirm_totp(
    state: &AppState,
    s: &session::LoadedSession,
    code: &str,
    request_id: &str,
) -> Result<(String, Vec<String>), AppError> {
    let secret = pending_totp_secret(state, &s.actor.user_id)
        .await?
        .ok_or_else(|| AppError::Conflict("Two-step sign-in is already set up.".into()))?;
    let Some(step) = totp::check(&secret, code, None) else {
        return Err(AppError::Invalid(vec![FieldError::new(
            "code",
            "Enter the 6-digit code shown in your authenticator app now",
        )]));
    };
    let codes = totp::recovery_codes();
    let t = now();
    let mut tx = state.db.begin().await?;
    sqlx::query("UPDATE users SET totp_enabled_at = $1, totp_last_step = $2 WHERE id = $3")
        .bind(t)
        .bind(step)
        .bind(s.actor.user_id.clone())
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
        .bind(s.actor.user_id.clone())
        .execute(&mut *tx)
        .await?;
    for (_, hash) in &codes {
        sqlx::query("INSERT INTO recovery_codes (id, user_id, code_hash, created_at) VALUES ($1, $2, $3, $4)")
            .bind(new_id())
            .bind(s.actor.user_id.clone())
            .bind(hash.clone())
            .bind(t)
            .execute(&mut *tx)
            .await?;
    }
    let token = rotate_verified(&mut tx, state, s).await?;
    let actor = AuditActor {
        user_id: Some(s.actor.user_id.clone()),
        label: "web".into(),
        request_id: Some(request_id.to_string()),
    };
    audit::record(
        &mut tx,
        &actor,
        ev(
            "account.mfa_enabled",
            "user",
            Some(&s.actor.user_id),
            json!({"recovery_codes": codes.len()}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok((token, codes.into_iter().map(|c| c.0).collect()))
}

/// Change one's own password (needs the current one); ends other sessions.
pub async fn change_password(
    state: &AppState,
    actor: &Actor,
    current: &str,
    new: &str,
    confirm: &str,
    session_hash: &str,
) -> Result<(), AppError> {
    let mut errors = Vec::new();
    let row = sqlx::query("SELECT password_hash FROM users WHERE id = $1")
        .bind(actor.user_id.clone())
        .fetch_one(&state.db.read)
        .await?;
    let hash: Option<String> = row.try_get("password_hash")?;
    if !hash
        .as_deref()
        .is_some_and(|h| password::verify(current, h))
    {
        errors.push(FieldError::new(
            "current_password",
            "Your current password is not correct",
        ));
    }
    if let Err(e) = password::check_rules(new, &[&actor.email, &actor.display_name]) {
        errors.push(FieldError::new("new_password", e.to_string()));
    } else if new != confirm {
        errors.push(FieldError::new(
            "confirm_password",
            "The passwords do not match",
        ));
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let new_hash = password::hash(new, state.cfg.hash_cost)?;
    let mut tx = state.db.begin().await?;
    sqlx::query("UPDATE users SET password_hash = $1, password_changed_at = $2, updated_at = $2 WHERE id = $3")
        .bind(new_hash)
        .bind(now())
        .bind(actor.user_id.clone())
        .execute(&mut *tx)
        .await?;
    let ended = session::destroy_others(&mut tx, &actor.user_id, session_hash).await?;
    audit::record(
        &mut tx,
        &actor.audit(),
        ev(
            "account.password_changed",
            "user",
            Some(&actor.user_id),
            json!({"other_sessions_ended": ended}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------- organisations

/// Input for creating or editing an organisation.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct OrganisationInput {
    /// Name.
    pub name: String,
    /// Kind code (see `OrgKind`).
    pub kind: String,
    /// Borough.
    pub borough: String,
    /// NHS ODS code.
    pub ods_code: String,
    /// Website (https://…).
    pub website: String,
    /// What it does.
    pub description: String,
}

struct ValidOrg {
    name: String,
    kind: OrgKind,
    borough: Option<String>,
    ods_code: Option<String>,
    website: Option<String>,
    description: String,
}

fn opt(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

fn validate_org(input: &OrganisationInput) -> Result<ValidOrg, AppError> {
    let mut errors = Vec::new();
    let name = input.name.trim().to_string();
    if name.is_empty() {
        errors.push(FieldError::new("name", "Enter the organisation's name"));
    } else if name.chars().count() > 200 {
        errors.push(FieldError::new(
            "name",
            "Name must be 200 characters or fewer",
        ));
    }
    let kind = OrgKind::from_code(input.kind.trim());
    if kind.is_none() {
        errors.push(FieldError::new(
            "kind",
            "Choose what kind of organisation this is",
        ));
    }
    let ods = opt(&input.ods_code).map(|s| s.to_uppercase());
    if let Some(o) = &ods
        && (o.len() > 10 || !o.chars().all(|c| c.is_ascii_alphanumeric()))
    {
        errors.push(FieldError::new(
            "ods_code",
            "ODS code must be up to 10 letters and numbers, like RW4",
        ));
    }
    let website = opt(&input.website);
    if let Some(w) = &website
        && (!(w.starts_with("https://") || w.starts_with("http://"))
            || w.len() > 300
            || w.contains(char::is_whitespace))
    {
        errors.push(FieldError::new(
            "website",
            "Website must be a full address starting with https://",
        ));
    }
    if input.description.chars().count() > 2000 {
        errors.push(FieldError::new(
            "description",
            "Description must be 2,000 characters or fewer",
        ));
    }
    if input.borough.chars().count() > 100 {
        errors.push(FieldError::new(
            "borough",
            "Borough must be 100 characters or fewer",
        ));
    }
    match (errors.is_empty(), kind) {
        (true, Some(kind)) => Ok(ValidOrg {
            name,
            kind,
            borough: opt(&input.borough),
            ods_code: ods,
            website,
            description: input.description.trim().to_string(),
        }),
        _ => Err(AppError::Invalid(errors)),
    }
}

fn name_taken() -> AppError {
    AppError::Invalid(vec![FieldError::new(
        "name",
        "An organisation with this name already exists",
    )])
}

/// Create an organisation.
pub async fn create_organisation(
    state: &AppState,
    g: &Granted<ManageOrganisations>,
    input: &OrganisationInput,
) -> Result<Organisation, AppError> {
    let v = validate_org(input)?;
    create_organisation_unchecked(state, &g.actor().audit(), v).await
}

async fn create_organisation_unchecked(
    state: &AppState,
    actor: &AuditActor,
    v: ValidOrg,
) -> Result<Organisation, AppError> {
    let id = new_id();
    let t = now();
    let mut tx = state.db.begin().await?;
    let r = sqlx::query(
        "INSERT INTO organisations (id, name, kind, borough, ods_code, website, description, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
    )
    .bind(id.clone())
    .bind(v.name.clone())
    .bind(v.kind.code())
    .bind(v.borough)
    .bind(v.ods_code)
    .bind(v.website)
    .bind(v.description)
    .bind(t)
    .execute(&mut *tx)
    .await;
    match r {
        Err(e) if is_unique_violation(&e) => return Err(name_taken()),
        r => r?,
    };
    audit::record(
        &mut tx,
        actor,
        ev(
            "organisation.create",
            "organisation",
            Some(&id),
            json!({"name": v.name, "kind": v.kind.code()}),
        ),
    )
    .await?;
    let org = store::organisation(&mut *tx, &id)
        .await?
        .ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(org)
}

/// Create an organisation from the command line or the demo loader.
pub async fn create_organisation_as_operator(
    state: &AppState,
    input: &OrganisationInput,
) -> Result<Organisation, AppError> {
    let v = validate_org(input)?;
    create_organisation_unchecked(state, &AuditActor::cli(), v).await
}

/// Edit an organisation.
pub async fn update_organisation(
    state: &AppState,
    g: &Granted<ManageOrganisations>,
    id: &str,
    input: &OrganisationInput,
    archived: bool,
) -> Result<Organisation, AppError> {
    let v = validate_org(input)?;
    let mut tx = state.db.begin().await?;
    let before = store::organisation(&mut *tx, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let t = now();
    let archived_at = match (archived, before.archived_at) {
        (true, Some(a)) => Some(a),
        (true, None) => Some(t),
        (false, _) => None,
    };
    let r = sqlx::query(
        "UPDATE organisations SET name = $1, kind = $2, borough = $3, ods_code = $4, website = $5, \
         description = $6, updated_at = $7, archived_at = $8 WHERE id = $9",
    )
    .bind(v.name.clone())
    .bind(v.kind.code())
    .bind(v.borough)
    .bind(v.ods_code)
    .bind(v.website)
    .bind(v.description)
    .bind(t)
    .bind(archived_at)
    .bind(id.to_string())
    .execute(&mut *tx)
    .await;
    match r {
        Err(e) if is_unique_violation(&e) => return Err(name_taken()),
        r => r?,
    };
    crate::modules::directory::service::refresh_organisation(&mut tx, id).await?;
    audit::record(
        &mut tx,
        &g.actor().audit(),
        ev(
            "organisation.update",
            "organisation",
            Some(id),
            json!({"name": v.name, "archived": archived}),
        ),
    )
    .await?;
    let org = store::organisation(&mut *tx, id)
        .await?
        .ok_or(AppError::NotFound)?;
    tx.commit().await?;
    crate::modules::directory::forget_cached(state);
    Ok(org)
}

/// Organisations visible to staff.
pub async fn list_organisations(
    state: &AppState,
    include_archived: bool,
) -> Result<Vec<Organisation>, AppError> {
    Ok(store::organisations(&state.db.read, include_archived).await?)
}

/// One organisation.
pub async fn get_organisation(state: &AppState, id: &str) -> Result<Organisation, AppError> {
    store::organisation(&state.db.read, id)
        .await?
        .ok_or(AppError::NotFound)
}

/// Members of an organisation: administrators, or programme managers of that organisation
/// (relationship rule). The read is audited.
pub async fn organisation_members(
    state: &AppState,
    g: &Granted<ViewOrganisationMembers>,
    org_id: &str,
) -> Result<Vec<Membership>, AppError> {
    let actor = g.actor();
    if !(actor.has_role(Role::Administrator) || actor.has_role_in(org_id, Role::ProgrammeManager)) {
        return Err(AppError::Forbidden);
    }
    let mut tx = state.db.begin().await?;
    let members = store::memberships(&mut *tx, None, Some(org_id)).await?;
    audit::record(
        &mut tx,
        &actor.audit(),
        ev(
            "membership.read",
            "organisation",
            Some(org_id),
            json!({"rows": members.len()}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(members)
}

// ---------------------------------------------------------------- accounts

/// List accounts matching `q` (audited read of personal data).
pub async fn list_users(
    state: &AppState,
    g: &Granted<ManageAccounts>,
    q: &str,
    page: i64,
) -> Result<(Vec<UserSummary>, bool), AppError> {
    let per = 50;
    let mut tx = state.db.begin().await?;
    let mut users = store::users(&mut *tx, q, per + 1, (page.max(1) - 1) * per).await?;
    let more = users.len() as i64 > per;
    users.truncate(per as usize);
    audit::record(
        &mut tx,
        &g.actor().audit(),
        ev(
            "account.list",
            "user",
            None,
            json!({"query": q, "page": page, "rows": users.len()}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok((users, more))
}

/// One account with its memberships (audited read).
pub async fn get_user(
    state: &AppState,
    g: &Granted<ManageAccounts>,
    id: &str,
) -> Result<(UserSummary, Vec<Membership>), AppError> {
    let mut tx = state.db.begin().await?;
    let user = store::user(&mut *tx, id).await?.ok_or(AppError::NotFound)?;
    let memberships = store::memberships(&mut *tx, Some(id), None).await?;
    audit::record(
        &mut tx,
        &g.actor().audit(),
        ev("account.read", "user", Some(id), json!({})),
    )
    .await?;
    tx.commit().await?;
    Ok((user, memberships))
}

/// Input for editing an account.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct UserInput {
    /// Name.
    pub display_name: String,
    /// Email.
    pub email: String,
}

/// Edit an account's name and email.
pub async fn update_user(
    state: &AppState,
    g: &Granted<ManageAccounts>,
    id: &str,
    input: &UserInput,
) -> Result<(), AppError> {
    let mut errors = Vec::new();
    let name = parse_name(&input.display_name, "display_name", &mut errors);
    let email = Email::parse(&input.email)
        .map_err(|m| errors.push(FieldError::new("email", m)))
        .ok();
    let Some(email) = email.filter(|_| errors.is_empty()) else {
        return Err(AppError::Invalid(errors));
    };
    let mut tx = state.db.begin().await?;
    store::user(&mut *tx, id).await?.ok_or(AppError::NotFound)?;
    let r = sqlx::query(
        "UPDATE users SET display_name = $1, email = $2, updated_at = $3 WHERE id = $4",
    )
    .bind(name)
    .bind(email.as_str().to_string())
    .bind(now())
    .bind(id.to_string())
    .execute(&mut *tx)
    .await;
    match r {
        Err(e) if is_unique_violation(&e) => {
            return Err(AppError::Invalid(vec![FieldError::new(
                "email",
                "Another account already uses this email address",
            )]));
        }
        r => r?,
    };
    audit::record(
        &mut tx,
        &g.actor().audit(),
        ev(
            "account.update",
            "user",
            Some(id),
            json!({"fields": ["display_name", "email"]}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Disable or re-enable an account; disabling ends its sessions and revokes nothing else.
pub async fn set_disabled(
    state: &AppState,
    g: &Granted<ManageAccounts>,
    id: &str,
    disabled: bool,
) -> Result<(), AppError> {
    if disabled && g.actor().user_id == id {
        return Err(AppError::Conflict(
            "You cannot disable your own account.".into(),
        ));
    }
    let mut tx = state.db.begin().await?;
    store::user(&mut *tx, id).await?.ok_or(AppError::NotFound)?;
    sqlx::query("UPDATE users SET disabled_at = $1, updated_at = $2, failed_sign_ins = 0, locked_until = NULL WHERE id = $3")
        .bind(disabled.then(now))
        .bind(now())
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
    let ended = if disabled {
        session::destroy_all_for(&mut tx, id).await?
    } else {
        0
    };
    let action = if disabled {
        "account.disable"
    } else {
        "account.enable"
    };
    audit::record(
        &mut tx,
        &g.actor().audit(),
        ev(action, "user", Some(id), json!({"sessions_ended": ended})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Remove an account's second factor (lost phone); they set it up again at next sign-in.
pub async fn reset_mfa(
    state: &AppState,
    g: &Granted<ManageAccounts>,
    id: &str,
) -> Result<(), AppError> {
    let mut tx = state.db.begin().await?;
    store::user(&mut *tx, id).await?.ok_or(AppError::NotFound)?;
    sqlx::query("UPDATE users SET totp_secret = NULL, totp_enabled_at = NULL, totp_last_step = NULL WHERE id = $1")
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
    let ended = session::destroy_all_for(&mut tx, id).await?;
    audit::record(
        &mut tx,
        &g.actor().audit(),
        ev(
            "account.mfa_reset",
            "user",
            Some(id),
            json!({"sessions_ended": ended}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

fn parse_role_and_org(
    role: &str,
    org: &str,
    errors: &mut Vec<FieldError>,
) -> Option<(Role, String)> {
    let r = Role::from_code(role.trim());
    if r.is_none() {
        errors.push(FieldError::new("role", "Choose a role"));
    }
    let o = org.trim().to_string();
    if o.is_empty() {
        errors.push(FieldError::new("organisation_id", "Choose an organisation"));
    }
    r.filter(|_| !o.is_empty()).map(|r| (r, o))
}

async fn insert_membership(
    tx: &mut Tx,
    actor: &AuditActor,
    user_id: &str,
    org_id: &str,
    role: Role,
) -> Result<(), AppError> {
    if store::organisation(&mut **tx, org_id).await?.is_none() {
        return Err(AppError::Invalid(vec![FieldError::new(
            "organisation_id",
            "Choose an organisation from the list",
        )]));
    }
    let id = new_id();
    let r = sqlx::query("INSERT INTO memberships (id, user_id, organisation_id, role, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(id.clone())
        .bind(user_id.to_string())
        .bind(org_id.to_string())
        .bind(role.code())
        .bind(now())
        .execute(&mut **tx)
        .await;
    match r {
        Err(e) if is_unique_violation(&e) => {
            return Err(AppError::Invalid(vec![FieldError::new(
                "role",
                "The account already has this role in this organisation",
            )]));
        }
        r => r?,
    };
    audit::record(
        tx,
        actor,
        ev(
            "membership.create",
            "user",
            Some(user_id),
            json!({"organisation_id": org_id, "role": role.code(), "membership_id": id}),
        ),
    )
    .await?;
    Ok(())
}

/// Give an account a role in an organisation.
pub async fn add_membership(
    state: &AppState,
    g: &Granted<ManageAccounts>,
    user_id: &str,
    org_id: &str,
    role: &str,
) -> Result<(), AppError> {
    let mut errors = Vec::new();
    let Some((role, org)) = parse_role_and_org(role, org_id, &mut errors) else {
        return Err(AppError::Invalid(errors));
    };
    let mut tx = state.db.begin().await?;
    store::user(&mut *tx, user_id)
        .await?
        .ok_or(AppError::NotFound)?;
    insert_membership(&mut tx, &g.actor().audit(), user_id, &org, role).await?;
    tx.commit().await?;
    Ok(())
}

/// Remove a membership.
pub async fn remove_membership(
    state: &AppState,
    g: &Granted<ManageAccounts>,
    user_id: &str,
    membership_id: &str,
) -> Result<(), AppError> {
    let mut tx = state.db.begin().await?;
    let r = sqlx::query("DELETE FROM memberships WHERE id = $1 AND user_id = $2")
        .bind(membership_id.to_string())
        .bind(user_id.to_string())
        .execute(&mut *tx)
        .await?;
    if r.rows_affected() == 0 {
        return Err(AppError::NotFound);
    }
    if g.actor().user_id == user_id {
        let admin_left = sqlx::query(
            "SELECT COUNT(*) AS n FROM memberships WHERE user_id = $1 AND role = 'administrator'",
        )
        .bind(user_id.to_string())
        .fetch_one(&mut *tx)
        .await?
        .try_get::<i64, _>("n")?;
        if admin_left == 0 {
            return Err(AppError::Conflict(
                "You cannot remove your own last administrator role.".into(),
            ));
        }
    }
    audit::record(
        &mut tx,
        &g.actor().audit(),
        ev(
            "membership.delete",
            "user",
            Some(user_id),
            json!({"membership_id": membership_id}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Input for inviting someone.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct InviteInput {
    /// Their name.
    pub display_name: String,
    /// Their email.
    pub email: String,
    /// Organisation id.
    pub organisation_id: String,
    /// Role code.
    pub role: String,
}

/// Invite a new person: an invitation link goes to them by email (through the outbox).
pub async fn invite(
    state: &AppState,
    g: &Granted<ManageAccounts>,
    input: &InviteInput,
) -> Result<String, AppError> {
    let mut errors = Vec::new();
    let name = parse_name(&input.display_name, "display_name", &mut errors);
    let email = Email::parse(&input.email)
        .map_err(|m| errors.push(FieldError::new("email", m)))
        .ok();
    let ro = parse_role_and_org(&input.role, &input.organisation_id, &mut errors);
    let (Some(email), Some((role, org_id)), true) = (email, ro, errors.is_empty()) else {
        return Err(AppError::Invalid(errors));
    };
    let mut tx = state.db.begin().await?;
    if store::user_by_email(&mut *tx, email.as_str())
        .await?
        .is_some()
    {
        return Err(AppError::Invalid(vec![FieldError::new(
            "email",
            "An account with this email address already exists. Add a role to that account instead.",
        )]));
    }
    let org = store::organisation(&mut *tx, &org_id)
        .await?
        .ok_or_else(|| {
            AppError::Invalid(vec![FieldError::new(
                "organisation_id",
                "Choose an organisation from the list",
            )])
        })?;
    let token = random_token(32);
    let id = new_id();
    let t = now();
    sqlx::query(
        "INSERT INTO invitations (id, token_hash, email, display_name, organisation_id, role, invited_by, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(id.clone())
    .bind(token_hash(&token))
    .bind(email.as_str().to_string())
    .bind(name.clone())
    .bind(org_id.clone())
    .bind(role.code())
    .bind(g.actor().user_id.clone())
    .bind(t)
    .bind(t + state.cfg.invitation_ttl.as_secs() as i64)
    .execute(&mut *tx)
    .await?;
    let link = format!(
        "{}/invitations/{token}",
        state.cfg.base_url.trim_end_matches('/')
    );
    let days = state.cfg.invitation_ttl.as_secs() / 86_400;
    let body = format!(
        "Hello {name},\n\n{inviter} has invited you to join Ensemble as {role} at {org}.\n\n\
         Open this link to choose your password and finish setting up your account:\n{link}\n\n\
         The link works once and for {days} days. If you were not expecting this, you can ignore this email.\n",
        inviter = g.actor().display_name,
        role = role.label().to_lowercase(),
        org = org.name,
    );
    crate::notify::queue_email(
        &mut tx,
        email.as_str(),
        "You have been invited to Ensemble",
        &body,
    )
    .await?;
    audit::record(
        &mut tx,
        &g.actor().audit(),
        ev(
            "invitation.create",
            "invitation",
            Some(&id),
            json!({"organisation_id": org_id, "role": role.code()}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// A valid, unused invitation.
#[derive(Debug, Clone)]
pub struct Invitation {
    /// Id.
    pub id: String,
    /// Email invited.
    pub email: String,
    /// Name given.
    pub display_name: String,
    /// Organisation name.
    pub organisation_name: String,
    /// Role.
    pub role: Role,
}

/// Look up an invitation by its link token.
pub async fn find_invitation(state: &AppState, token: &str) -> Result<Invitation, AppError> {
    let row = sqlx::query(
        "SELECT i.id, i.email, i.display_name, i.role, o.name FROM invitations i JOIN organisations o ON o.id = i.organisation_id \
         WHERE i.token_hash = $1 AND i.accepted_at IS NULL AND i.revoked_at IS NULL AND i.expires_at > $2",
    )
    .bind(token_hash(token))
    .bind(now())
    .fetch_optional(&state.db.read)
    .await?
    .ok_or(AppError::NotFound)?;
    let role: String = row.try_get("role")?;
    Ok(Invitation {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        display_name: row.try_get("display_name")?,
        organisation_name: row.try_get("name")?,
        role: Role::from_code(&role).ok_or(AppError::NotFound)?,
    })
}

/// Accept an invitation: create the account with the chosen password and its membership.
pub async fn accept_invitation(
    state: &AppState,
    token: &str,
    new_password: &str,
    confirm: &str,
) -> Result<(), AppError> {
    let inv = find_invitation(state, token).await?;
    if let Err(e) = password::check_rules(new_password, &[&inv.email, &inv.display_name]) {
        return Err(AppError::Invalid(vec![FieldError::new(
            "new_password",
            e.to_string(),
        )]));
    }
    if new_password != confirm {
        return Err(AppError::Invalid(vec![FieldError::new(
            "confirm_password",
            "The passwords do not match",
        )]));
    }
    let hash = password::hash(new_password, state.cfg.hash_cost)?;
    let mut tx = state.db.begin().await?;
    let row = sqlx::query(
        "SELECT organisation_id, role FROM invitations WHERE id = $1 AND accepted_at IS NULL",
    )
    .bind(inv.id.clone())
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(AppError::NotFound)?;
    let org_id: String = row.try_get("organisation_id")?;
    let user_id = new_id();
    let t = now();
    let r = sqlx::query(
        "INSERT INTO users (id, email, display_name, password_hash, password_changed_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $5, $5)",
    )
    .bind(user_id.clone())
    .bind(inv.email.clone())
    .bind(inv.display_name.clone())
    .bind(hash)
    .bind(t)
    .execute(&mut *tx)
    .await;
    match r {
        Err(e) if is_unique_violation(&e) => {
            return Err(AppError::Conflict(
                "An account with this email address already exists. Sign in instead.".into(),
            ));
        }
        r => r?,
    };
    sqlx::query("UPDATE invitations SET accepted_at = $1 WHERE id = $2")
        .bind(t)
        .bind(inv.id.clone())
        .execute(&mut *tx)
        .await?;
    let actor = AuditActor {
        user_id: Some(user_id.clone()),
        label: "web".into(),
        request_id: None,
    };
    audit::record(
        &mut tx,
        &actor,
        ev(
            "account.create",
            "user",
            Some(&user_id),
            json!({"via": "invitation", "invitation_id": inv.id}),
        ),
    )
    .await?;
    insert_membership(&mut tx, &actor, &user_id, &org_id, inv.role).await?;
    tx.commit().await?;
    Ok(())
}

/// Pending invitations (administrators).
pub async fn pending_invitations(
    state: &AppState,
    _g: &Granted<ManageAccounts>,
) -> Result<Vec<(String, String, String, Role, i64)>, AppError> {
    let rows = sqlx::query(
        "SELECT i.id, i.email, o.name, i.role, i.expires_at FROM invitations i JOIN organisations o ON o.id = i.organisation_id \
         WHERE i.accepted_at IS NULL AND i.revoked_at IS NULL AND i.expires_at > $1 ORDER BY i.created_at DESC",
    )
    .bind(now())
    .fetch_all(&state.db.read)
    .await?;
    let mut out = Vec::new();
    for r in rows {
        let role: String = r.try_get("role")?;
        if let Some(role) = Role::from_code(&role) {
            out.push((
                r.try_get("id")?,
                r.try_get("email")?,
                r.try_get("name")?,
                role,
                r.try_get("expires_at")?,
            ));
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------- operator (CLI, demo)

/// Create an account directly (command line, demo), optionally with a membership.
pub async fn create_user_as_operator(
    state: &AppState,
    email: &str,
    name: &str,
    password_plain: &str,
    membership: Option<(&str, Role)>,
) -> Result<String, AppError> {
    let mut errors = Vec::new();
    let name = parse_name(name, "name", &mut errors);
    let email = Email::parse(email)
        .map_err(|m| errors.push(FieldError::new("email", m)))
        .ok();
    if let Err(e) = password::check_rules(
        password_plain,
        &[email.as_ref().map(Email::as_str).unwrap_or(""), &name],
    ) {
        errors.push(FieldError::new("password", e.to_string()));
    }
    let Some(email) = email.filter(|_| errors.is_empty()) else {
        return Err(AppError::Invalid(errors));
    };
    let hash = password::hash(password_plain, state.cfg.hash_cost)?;
    let id = new_id();
    let t = now();
    let mut tx = state.db.begin().await?;
    let r = sqlx::query(
        "INSERT INTO users (id, email, display_name, password_hash, password_changed_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5, $5)",
    )
    .bind(id.clone())
    .bind(email.as_str().to_string())
    .bind(name)
    .bind(hash)
    .bind(t)
    .execute(&mut *tx)
    .await;
    match r {
        Err(e) if is_unique_violation(&e) => {
            return Err(AppError::Invalid(vec![FieldError::new(
                "email",
                "An account with this email address already exists",
            )]));
        }
        r => r?,
    };
    let actor = AuditActor::cli();
    audit::record(
        &mut tx,
        &actor,
        ev(
            "account.create",
            "user",
            Some(&id),
            json!({"via": "operator"}),
        ),
    )
    .await?;
    if let Some((org, role)) = membership {
        insert_membership(&mut tx, &actor, &id, org, role).await?;
    }
    tx.commit().await?;
    Ok(id)
}

/// Find an organisation by exact name (case-insensitive) or id.
pub async fn find_organisation(
    state: &AppState,
    name_or_id: &str,
) -> Result<Option<Organisation>, AppError> {
    let all = store::organisations(&state.db.read, true).await?;
    Ok(all
        .into_iter()
        .find(|o| o.id == name_or_id || o.name.eq_ignore_ascii_case(name_or_id.trim())))
}

/// Every account, for the command line (audited as an operator read).
pub async fn list_users_as_operator(
    state: &AppState,
) -> Result<Vec<(UserSummary, Vec<Membership>)>, AppError> {
    let mut tx = state.db.begin().await?;
    let users = store::users(&mut *tx, "", i64::MAX / 4, 0).await?;
    let memberships = store::memberships(&mut *tx, None, None).await?;
    audit::record(
        &mut tx,
        &AuditActor::cli(),
        ev("account.list", "user", None, json!({"rows": users.len()})),
    )
    .await?;
    tx.commit().await?;
    Ok(users
        .into_iter()
        .map(|u| {
            let m = memberships
                .iter()
                .filter(|m| m.user_id == u.id)
                .cloned()
                .collect();
            (u, m)
        })
        .collect())
}

/// Disable or enable an account by email (command line).
pub async fn set_disabled_as_operator(
    state: &AppState,
    email: &str,
    disabled: bool,
) -> Result<(), AppError> {
    let mut tx = state.db.begin().await?;
    let user = store::user_by_email(&mut *tx, &email.trim().to_lowercase())
        .await?
        .ok_or(AppError::NotFound)?;
    sqlx::query("UPDATE users SET disabled_at = $1, updated_at = $2 WHERE id = $3")
        .bind(disabled.then(now))
        .bind(now())
        .bind(user.id.clone())
        .execute(&mut *tx)
        .await?;
    let ended = if disabled {
        session::destroy_all_for(&mut tx, &user.id).await?
    } else {
        0
    };
    let action = if disabled {
        "account.disable"
    } else {
        "account.enable"
    };
    audit::record(
        &mut tx,
        &AuditActor::cli(),
        ev(
            action,
            "user",
            Some(&user.id),
            json!({"sessions_ended": ended}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Set a new password by email (command line); unlocks the account and ends its sessions.
pub async fn reset_password_as_operator(
    state: &AppState,
    email: &str,
    new_password: &str,
) -> Result<(), AppError> {
    let email = email.trim().to_lowercase();
    let user = store::user_by_email(&state.db.read, &email)
        .await?
        .ok_or(AppError::NotFound)?;
    if let Err(e) = password::check_rules(new_password, &[&user.email, &user.display_name]) {
        return Err(AppError::Invalid(vec![FieldError::new(
            "password",
            e.to_string(),
        )]));
    }
    let hash = password::hash(new_password, state.cfg.hash_cost)?;
    let mut tx = state.db.begin().await?;
    sqlx::query("UPDATE users SET password_hash = $1, password_changed_at = $2, updated_at = $2, failed_sign_ins = 0, locked_until = NULL WHERE id = $3")
        .bind(hash)
        .bind(now())
        .bind(user.id.clone())
        .execute(&mut *tx)
        .await?;
    let ended = session::destroy_all_for(&mut tx, &user.id).await?;
    audit::record(
        &mut tx,
        &AuditActor::cli(),
        ev(
            "account.password_reset",
            "user",
            Some(&user.id),
            json!({"sessions_ended": ended}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------- API tokens

/// Scopes a personal access token can carry, with what each allows.
pub const SCOPES: &[(&str, &str)] = &[
    ("account:read", "Read your own account and roles"),
    (
        "organisations:read",
        "Read the list of organisations (staff)",
    ),
    (
        "organisations:write",
        "Create organisations (administrators)",
    ),
    ("users:read", "Read accounts (administrators)"),
    (
        "referrals:write",
        "Send referrals as FHIR (clinicians, link workers, programme teams)",
    ),
    (
        "referrals:read",
        "Read referrals you made or work on, and their message back",
    ),
    (
        "evaluation:read",
        "Download pseudonymised evaluation datasets (researchers)",
    ),
    (
        "measures:read",
        "List instruments, and read the scores of people you may see",
    ),
    (
        "measures:write",
        "Submit completed wellbeing measures (link workers, practitioners, programme teams)",
    ),
    (
        "practice:read",
        "Export your own CPD portfolio (practitioners, programme teams)",
    ),
];

/// Create a token; returns the secret, shown once.
pub async fn create_token(
    state: &AppState,
    actor: &Actor,
    name: &str,
    scopes: &[String],
    days: &str,
) -> Result<String, AppError> {
    let mut errors = Vec::new();
    let name = name.trim();
    if name.is_empty() {
        errors.push(FieldError::new(
            "name",
            "Enter a name so you can recognise this token later",
        ));
    } else if name.chars().count() > 100 {
        errors.push(FieldError::new(
            "name",
            "Name must be 100 characters or fewer",
        ));
    }
    if scopes.is_empty() {
        errors.push(FieldError::new(
            "scopes",
            "Choose at least one thing the token may do",
        ));
    }
    if let Some(bad) = scopes.iter().find(|s| !SCOPES.iter().any(|(k, _)| k == s)) {
        errors.push(FieldError::new(
            "scopes",
            format!("Unknown scope \"{bad}\""),
        ));
    }
    let days: Option<i64> = match days.trim() {
        "" | "never" => None,
        d => match d.parse::<i64>() {
            Ok(n) if (1..=366).contains(&n) => Some(n),
            _ => {
                errors.push(FieldError::new(
                    "expires_in_days",
                    "Expiry must be a whole number of days from 1 to 366, or never",
                ));
                None
            }
        },
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let secret = random_token(30);
    let token = format!("ens_{secret}");
    let id = new_id();
    let t = now();
    let mut tx = state.db.begin().await?;
    crate::api::tokens::insert(
        &mut tx,
        &crate::api::tokens::NewToken {
            id: &id,
            user_id: &actor.user_id,
            name,
            token_prefix: &token[..10],
            token_hash: &token_hash(&token),
            scopes: &scopes.join(" "),
            created_at: t,
            expires_at: days.map(|d| t + d * 86_400),
        },
    )
    .await?;
    audit::record(
        &mut tx,
        &actor.audit(),
        ev(
            "api_token.create",
            "api_token",
            Some(&id),
            json!({"scopes": scopes, "expires_in_days": days}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(token)
}

/// Revoke one of one's own tokens.
pub async fn revoke_token(state: &AppState, actor: &Actor, id: &str) -> Result<(), AppError> {
    let mut tx = state.db.begin().await?;
    if !crate::api::tokens::revoke(&mut tx, id, &actor.user_id, now()).await? {
        return Err(AppError::NotFound);
    }
    audit::record(
        &mut tx,
        &actor.audit(),
        ev("api_token.revoke", "api_token", Some(id), json!({})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Give an account (by email) a role in an organisation (command line, demo).
pub async fn add_membership_as_operator(
    state: &AppState,
    email: &str,
    org_id: &str,
    role: Role,
) -> Result<(), AppError> {
    let mut tx = state.db.begin().await?;
    let user = store::user_by_email(&mut *tx, &email.trim().to_lowercase())
        .await?
        .ok_or(AppError::NotFound)?;
    insert_membership(&mut tx, &AuditActor::cli(), &user.id, org_id, role).await?;
    tx.commit().await?;
    Ok(())
}
