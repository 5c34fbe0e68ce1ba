//! Voices: a participant's story, feedback or moment that mattered, shared with the
//! programme team only, every member, or the public once a moderator has checked it. The
//! author edits or withdraws it at any time; withdrawal deletes the voice and every row that
//! names it (links to actions, replies, notifications) in one transaction, so it is gone from
//! every page, list, export and count at once.

use serde::Deserialize;
use serde_json::json;

use super::access::{
    Author, Member, Moderator, Programme, ProgrammeAccess, Reader, Standing, VOICE, Voice,
    VoiceAccess, may_read, voice_from,
};
use super::model::{MAX_TEXT, Moderation, Visibility, VoiceKind, choice, text};
use crate::audit;
use crate::db::{Tx, new_id, now};
use crate::error::AppError;
use crate::rbac::Actor;
use crate::state::AppState;

/// The tables that name a voice (besides `programme_voices` itself): withdrawal deletes
/// their rows first. The withdrawal test finds these by reading the schema, so a new one
/// cannot be missed.
pub const NAMED_IN: &[&str] = &[
    "programme_voice_themes",
    "programme_voice_codings",
    "programme_voice_photos",
    "programme_voice_audio",
    "programme_notifications",
    "programme_action_replies",
    "programme_action_voices",
    "programme_decision_voices",
];

/// What someone types to share or edit a voice.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct VoiceInput {
    pub kind: String,
    pub body: String,
    pub visibility: String,
}

pub(super) struct Checked {
    kind: VoiceKind,
    body: String,
    pub(super) visibility: Visibility,
}

pub(super) fn validate(input: &VoiceInput) -> Result<Checked, AppError> {
    let mut e = Vec::new();
    let kind = choice(
        &input.kind,
        VoiceKind::from_code,
        "kind",
        "Choose what you are sharing: feedback, a story or a moment that mattered",
        &mut e,
    );
    let body = text(
        &input.body,
        "body",
        "what you want to say",
        MAX_TEXT,
        &mut e,
    );
    let visibility = choice(
        &input.visibility,
        Visibility::from_code,
        "visibility",
        "Choose who may see it",
        &mut e,
    );
    match (kind, visibility) {
        (Some(kind), Some(visibility)) if e.is_empty() => Ok(Checked {
            kind,
            body,
            visibility,
        }),
        _ => Err(AppError::Invalid(e)),
    }
}

fn moderation_for(v: Visibility) -> Moderation {
    if v == Visibility::Public {
        Moderation::Waiting
    } else {
        Moderation::NotNeeded
    }
}

/// Share a voice as a member of the programme.
pub async fn share(
    state: &AppState,
    actor: &Actor,
    programme: &str,
    input: &VoiceInput,
) -> Result<String, AppError> {
    let mut tx = state.db.begin().await?;
    let p = ProgrammeAccess::<Member>::check(&mut tx, Some(actor), programme).await?;
    let c = validate(input)?;
    let id = insert(&mut tx, &p.id, Some(&actor.user_id), &c).await?;
    audit::by(
        &mut tx,
        actor,
        "voice.share",
        "programme_voice",
        Some(&id),
        json!({ "programme": p.id, "visibility": c.visibility.code() }),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

pub(super) async fn insert(
    tx: &mut Tx,
    programme: &str,
    author: Option<&str>,
    c: &Checked,
) -> Result<String, AppError> {
    let id = new_id();
    let t = now();
    sqlx::query("INSERT INTO programme_voices (id, programme_id, author_id, kind, body, visibility, moderation, created_at, updated_at) \
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)")
        .bind(id.clone())
        .bind(programme.to_string())
        .bind(author.map(str::to_string))
        .bind(c.kind.code())
        .bind(c.body.clone())
        .bind(c.visibility.code())
        .bind(moderation_for(c.visibility).code())
        .bind(t)
        .execute(&mut **tx)
        .await?;
    Ok(id)
}

/// Share a voice anonymously through a programme's signed link (no account; the caller
/// checked the link's signature and expiry). The link's generation is checked again in the
/// same transaction, so a link the team ends meanwhile shares nothing.
pub async fn share_anonymously(
    state: &AppState,
    claim: &super::link::Claim,
    input: &VoiceInput,
) -> Result<Result<String, super::link::LinkError>, AppError> {
    let mut tx = state.db.begin().await?;
    let p =
        ProgrammeAccess::<super::access::Public>::check(&mut tx, None, &claim.programme).await?;
    if super::link::generation(&mut *tx, &p.id).await? != Some(claim.generation) {
        return Ok(Err(super::link::LinkError::Ended));
    }
    let c = validate(input)?;
    let id = insert(&mut tx, &p.id, None, &c).await?;
    audit::record(
        &mut tx,
        &audit::AuditActor::system(),
        audit::AuditEvent {
            action: "voice.share_anonymous",
            entity_type: "programme_voice",
            entity_id: Some(&id),
            detail: json!({ "programme": p.id, "visibility": c.visibility.code() }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(id))
}

/// A voice, for someone allowed to read it. A reader other than its author is recorded.
pub async fn read(
    state: &AppState,
    actor: Option<&Actor>,
    id: &str,
) -> Result<VoiceAccess<Reader>, AppError> {
    let mut tx = state.db.begin().await?;
    let v = VoiceAccess::<Reader>::check(&mut tx, actor, id).await?;
    if let (Some(actor), false) = (actor, v.is_author()) {
        audit::by(
            &mut tx,
            actor,
            "voice.read",
            "programme_voice",
            Some(&v.id),
            json!({}),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(v)
}

/// Change a voice (its author). A public voice goes back to the moderator.
pub async fn edit(
    state: &AppState,
    actor: &Actor,
    id: &str,
    input: &VoiceInput,
) -> Result<(), AppError> {
    let mut tx = state.db.begin().await?;
    let v = VoiceAccess::<Author>::check(&mut tx, Some(actor), id).await?;
    let c = validate(input)?;
    sqlx::query("UPDATE programme_voices SET kind = $1, body = $2, visibility = $3, moderation = $4, moderated_by = NULL, moderated_at = NULL, updated_at = $5 WHERE id = $6")
        .bind(c.kind.code())
        .bind(c.body)
        .bind(c.visibility.code())
        .bind(moderation_for(c.visibility).code())
        .bind(now())
        .bind(v.id.clone())
        .execute(&mut *tx)
        .await?;
    audit::by(
        &mut tx,
        actor,
        "voice.edit",
        "programme_voice",
        Some(&v.id),
        json!({ "visibility": c.visibility.code() }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Withdraw a voice (its author): delete it and every row that names it, at once.
pub async fn withdraw(state: &AppState, actor: &Actor, id: &str) -> Result<String, AppError> {
    let mut tx = state.db.begin().await?;
    let v = VoiceAccess::<Author>::check(&mut tx, Some(actor), id).await?;
    delete(&mut tx, &v.id).await?;
    audit::by(
        &mut tx,
        actor,
        "voice.withdraw",
        "programme_voice",
        Some(&v.id),
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(v.programme_id.clone())
}

pub(super) async fn delete(tx: &mut Tx, id: &str) -> Result<(), AppError> {
    for table in NAMED_IN {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM {table} WHERE voice_id = $1"
        )))
        .bind(id.to_string())
        .execute(&mut **tx)
        .await?;
    }
    sqlx::query("DELETE FROM programme_voices WHERE id = $1")
        .bind(id.to_string())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Withdraw a voice shared without an account (whoever holds its signed withdrawal key;
/// the caller checked the key). Returns false when it was already withdrawn.
pub async fn withdraw_anonymous(state: &AppState, id: &str) -> Result<bool, AppError> {
    let mut tx = state.db.begin().await?;
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM programme_voices WHERE id = $1 AND author_id IS NULL",
    )
    .bind(id.to_string())
    .fetch_one(&mut *tx)
    .await?;
    if n == 0 {
        return Ok(false);
    }
    delete(&mut tx, id).await?;
    audit::record(
        &mut tx,
        &audit::AuditActor::system(),
        audit::AuditEvent {
            action: "voice.withdraw_anonymous",
            entity_type: "programme_voice",
            entity_id: Some(id),
            detail: json!({}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Approve a public voice, or decline to make it public (the programme team).
pub async fn moderate(
    state: &AppState,
    actor: &Actor,
    id: &str,
    approve: bool,
) -> Result<(), AppError> {
    let mut tx = state.db.begin().await?;
    let v = VoiceAccess::<Moderator>::check(&mut tx, Some(actor), id).await?;
    if v.visibility != Visibility::Public || v.moderation != Moderation::Waiting {
        return Err(AppError::Conflict(
            "This voice is not waiting for a moderator".into(),
        ));
    }
    let outcome = if approve {
        Moderation::Approved
    } else {
        Moderation::Declined
    };
    sqlx::query("UPDATE programme_voices SET moderation = $1, moderated_by = $2, moderated_at = $3 WHERE id = $4")
        .bind(outcome.code())
        .bind(actor.user_id.clone())
        .bind(now())
        .bind(v.id.clone())
        .execute(&mut *tx)
        .await?;
    audit::by(
        &mut tx,
        actor,
        "voice.moderate",
        "programme_voice",
        Some(&v.id),
        json!({ "outcome": outcome.code() }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The voices of a programme this member may read, among its newest `limit`, newest
/// first, with whether each is theirs.
pub async fn visible(
    conn: &mut sqlx::AnyConnection,
    actor: &Actor,
    programme: &ProgrammeAccess<Member>,
    limit: i64,
) -> Result<Vec<(Voice, bool)>, AppError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{VOICE} WHERE programme_id = $1 ORDER BY created_at DESC, id DESC LIMIT {limit}"
    )))
    .bind(programme.id.clone())
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::new();
    for r in &rows {
        let v = voice_from(r)?;
        let mine = v.author_id.as_deref() == Some(actor.user_id.as_str());
        if may_read(&v, programme.standing(), mine) {
            out.push((v, mine));
        }
    }
    Ok(out)
}

/// Public voices a moderator approved, newest first (no names: anyone may read them).
pub async fn public(
    conn: &mut sqlx::AnyConnection,
    programme: &Programme,
) -> Result<Vec<Voice>, AppError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{VOICE} WHERE programme_id = $1 AND visibility = 'public' AND moderation = 'approved' \
         ORDER BY created_at DESC, id DESC LIMIT 50"
    )))
    .bind(programme.id.clone())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(voice_from)
        .collect::<Result<_, _>>()
        .map_err(AppError::from)
}

/// The members' space counts voices up to this many; beyond it, it says "more than".
pub const COUNT_CAP: i64 = 1000;

/// How many voices a programme holds (withdrawn voices are gone, and a voice recorded for
/// someone whose consent has gone is not counted), up to [`COUNT_CAP`] + 1: counting every
/// voice of a large programme on each visit to its space cost more than the rest of the page.
pub async fn counts(
    conn: &mut sqlx::AnyConnection,
    programme: &ProgrammeAccess<Member>,
) -> Result<i64, AppError> {
    Ok(sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM ({VOICE} WHERE programme_id = $1 LIMIT {}) capped",
        COUNT_CAP + 1
    )))
    .bind(programme.id.clone())
    .fetch_one(&mut *conn)
    .await?)
}

/// Whether an actor of this standing sees the moderation controls.
pub fn moderates(standing: Standing) -> bool {
    standing >= Standing::Team
}

/// The author's name for the team (their own voices read "You"; anonymous ones
/// "Anonymous"); members and the public never see names.
pub async fn author_names(
    conn: &mut sqlx::AnyConnection,
    voices: &[&Voice],
) -> Result<std::collections::HashMap<String, String>, AppError> {
    let ids: Vec<String> = voices.iter().filter_map(|v| v.author_id.clone()).collect();
    let mut out = std::collections::HashMap::new();
    for id in ids {
        if out.contains_key(&id) {
            continue;
        }
        let name: Option<String> =
            sqlx::query_scalar("SELECT display_name FROM accounts_user_names WHERE id = $1")
                .bind(id.clone())
                .fetch_optional(&mut *conn)
                .await?;
        if let Some(n) = name {
            out.insert(id, n);
        }
    }
    Ok(out)
}
