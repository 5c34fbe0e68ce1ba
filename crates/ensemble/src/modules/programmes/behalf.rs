//! A voice recorded on a participant's behalf: a member of the programme team writes down
//! what someone taking part in one of the programme's activities wants to say, in their
//! words, and chooses with them who may see it — only for people who have agreed to share
//! their stories (`share_stories`, the consent the practice log's "moments that mattered"
//! use). Where the person has an account, the voice is theirs (they edit and withdraw it);
//! otherwise the practitioner who recorded it does so when asked.
//!
//! The consent is checked when the voice is recorded and again on every read (`access::VOICE`
//! leaves out a voice whose person's consent is no longer given), so withdrawing it hides
//! the voice at once; the hourly sweep ([`ConsentSweep`]) then deletes it and everything
//! naming it, exactly as withdrawal does.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;
use serde_json::json;
use sqlx::Row;

use super::access::{ProgrammeAccess, Team};
use super::html::voice_fields;
use super::voices::{self, VoiceInput};
use crate::audit;
use crate::error::{AppError, FieldError};
use crate::rbac::{Actor, Role};
use crate::state::AppState;
use crate::web::ctx::CurrentUser;
use crate::web::forms::{PageForm, button, csrf, error_summary, radios};
use crate::web::{Page, PageCtx, page};

/// Someone a voice can be recorded for.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub person_id: String,
    /// Preferred first name.
    pub name: String,
    /// Has agreed to share their stories.
    pub shares: bool,
}

/// People referred to (and accepted by) one of the programme's activities run by an
/// organisation where the actor is a practitioner or programme manager, with whether each
/// has agreed to share their stories; by name.
pub async fn candidates(
    conn: &mut sqlx::AnyConnection,
    actor: &Actor,
    programme: &str,
) -> Result<Vec<Candidate>, AppError> {
    let rows = sqlx::query(
        "SELECT DISTINCT r.person_id, a.organisation_id, \
           (SELECT COUNT(*) FROM people_current_consents c WHERE c.person_id = r.person_id AND c.purpose = 'share_stories' AND c.decision = 'given') AS shares \
         FROM referrals_case_summaries r \
         JOIN programme_activities pa ON pa.activity_id = r.activity_id AND pa.programme_id = $1 \
         JOIN directory_activity_names a ON a.id = r.activity_id \
         WHERE r.provider_status = 'accepted'",
    )
    .bind(programme.to_string())
    .fetch_all(&mut *conn)
    .await?;
    let mut found: std::collections::BTreeMap<String, bool> = Default::default();
    for r in &rows {
        let org: String = r.try_get("organisation_id")?;
        if actor.has_role_in(&org, Role::Practitioner)
            || actor.has_role_in(&org, Role::ProgrammeManager)
        {
            found.insert(r.try_get("person_id")?, r.try_get::<i64, _>("shares")? > 0);
        }
    }
    let ids: Vec<String> = found.keys().cloned().collect();
    let names = crate::modules::people::service::display_names(&mut *conn, &ids).await?;
    let mut out: Vec<Candidate> = found
        .into_iter()
        .map(|(person_id, shares)| Candidate {
            name: names
                .get(&person_id)
                .map(|n| n.short.clone())
                .unwrap_or_else(|| "(no name)".into()),
            person_id,
            shares,
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name).then(a.person_id.cmp(&b.person_id)));
    Ok(out)
}

/// What the practitioner types.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct BehalfInput {
    pub person_id: String,
    pub kind: String,
    pub body: String,
    pub visibility: String,
}

impl BehalfInput {
    fn voice(&self) -> VoiceInput {
        VoiceInput {
            kind: self.kind.clone(),
            body: self.body.clone(),
            visibility: self.visibility.clone(),
        }
    }
}

/// Record a voice for someone (the programme team). Refused, naming the field, unless the
/// person is one the actor works with in this programme and has agreed to share stories.
pub async fn record(
    state: &AppState,
    actor: &Actor,
    programme: &str,
    input: &BehalfInput,
) -> Result<String, AppError> {
    let mut tx = state.db.begin().await?;
    let p = ProgrammeAccess::<Team>::check(&mut tx, Some(actor), programme).await?;
    let people = candidates(&mut tx, actor, &p.id).await?;
    let person = people
        .iter()
        .find(|c| c.person_id == input.person_id && c.shares);
    let checked = voices::validate(&input.voice());
    let (person, checked) = match (person, checked) {
        (Some(person), Ok(c)) => (person, c),
        (person, checked) => {
            let mut e = Vec::new();
            if person.is_none() {
                e.push(FieldError::new(
                    "person_id",
                    "Choose someone who takes part in this programme and has agreed to share their stories",
                ));
            }
            if let Err(AppError::Invalid(more)) = checked {
                e.extend(more);
            }
            return Err(AppError::Invalid(e));
        }
    };
    let account: Option<String> = sqlx::query_scalar(
        "SELECT user_id FROM people_person_accounts WHERE id = $1 AND user_id IS NOT NULL",
    )
    .bind(person.person_id.clone())
    .fetch_optional(&mut *tx)
    .await?;
    let id = voices::insert(&mut tx, &p.id, account.as_deref(), &checked).await?;
    sqlx::query("UPDATE programme_voices SET person_id = $1, recorded_by = $2 WHERE id = $3")
        .bind(person.person_id.clone())
        .bind(actor.user_id.clone())
        .bind(id.clone())
        .execute(&mut *tx)
        .await?;
    audit::by(
        &mut tx,
        actor,
        "voice.record_for",
        "programme_voice",
        Some(&id),
        json!({ "programme": p.id, "person": person.person_id, "visibility": checked.visibility.code() }),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Delete every voice recorded for someone whose consent to share stories is no longer
/// given (or whose person record is gone), with everything naming it. Returns how many.
pub async fn sweep(state: &AppState) -> Result<usize, AppError> {
    let mut tx = state.db.begin().await?;
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM programme_voices pv WHERE pv.person_id IS NOT NULL AND NOT EXISTS \
         (SELECT 1 FROM people_current_consents c WHERE c.person_id = pv.person_id \
          AND c.purpose = 'share_stories' AND c.decision = 'given')",
    )
    .fetch_all(&mut *tx)
    .await?;
    for id in &ids {
        voices::delete(&mut tx, id).await?;
        audit::record(
            &mut tx,
            &audit::AuditActor::system(),
            audit::AuditEvent {
                action: "voice.consent_withdrawn",
                entity_type: "programme_voice",
                entity_id: Some(id),
                detail: json!({}),
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(ids.len())
}

/// The hourly sweep of voices whose person's consent to share stories has gone.
pub struct ConsentSweep;

impl crate::jobs::JobKind for ConsentSweep {
    const KIND: &'static str = "programmes_voice_consent_sweep";
    type Payload = ();

    async fn run(state: &AppState, (): ()) -> anyhow::Result<()> {
        let n = sweep(state).await?;
        tracing::info!(
            voices = n,
            "deleted voices whose consent to share was withdrawn"
        );
        Ok(())
    }
}

async fn form_page(
    state: &AppState,
    ctx: &PageCtx,
    actor: &Actor,
    id: &str,
    f: &BehalfInput,
    errors: &[FieldError],
) -> Result<Response, AppError> {
    let mut conn = state.db.read.acquire().await?;
    let p = ProgrammeAccess::<Team>::check(&mut conn, Some(actor), id).await?;
    let people = candidates(&mut conn, actor, &p.id).await?;
    drop(conn);
    let choices: Vec<(String, String)> = people
        .iter()
        .filter(|c| c.shares)
        .map(|c| (c.person_id.clone(), c.name.clone()))
        .collect();
    let choices: Vec<(&str, &str)> = choices
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let not_agreed = people.iter().filter(|c| !c.shares).count();
    let body = html! {
        div."nhsuk-grid-row" { div."nhsuk-grid-column-two-thirds" {
            (error_summary(errors))
            span."nhsuk-caption-l" { (p.name) }
            h1 { "Record a voice for someone" }
            p."nhsuk-body" { "Write down what they want to say, in their words, and read it back to them. Choose together who may see it. They can ask you to change or withdraw it at any time; if they have an account, it is theirs to change." }
            @if choices.is_empty() {
                p."nhsuk-body" { "Nobody you work with in this programme's activities has agreed to share their stories yet. Record their agreement on their person page first." }
            } @else {
                form method="post" action=(format!("/programmes/{}/voices/for", p.id)) novalidate {
                    (csrf(ctx))
                    (radios("person_id", "Who is it for?", &choices, &f.person_id, errors))
                    (voice_fields(&f.voice(), errors))
                    (button("Record their voice"))
                }
            }
            @if not_agreed > 0 {
                p."nhsuk-body" { (not_agreed) @if not_agreed == 1 { " person you work with here has" } @else { " people you work with here have" } " not agreed to share their stories, so they are not listed." }
            }
        } }
    };
    Ok(page(
        ctx,
        Page::new("Record a voice for someone", body)
            .back(&format!("/programmes/{}", p.id), "Programme")
            .errors(!errors.is_empty()),
    ))
}

/// GET /programmes/{id}/voices/for
pub async fn form(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    form_page(&state, &ctx, &actor, &id, &BehalfInput::default(), &[]).await
}

/// POST /programmes/{id}/voices/for
pub async fn submit(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    PageForm(f): PageForm<BehalfInput>,
) -> Result<Response, AppError> {
    match record(&state, &actor, &id, &f).await {
        Ok(v) => Ok(Redirect::to(&format!("/voices/{v}?saved=shared")).into_response()),
        Err(AppError::Invalid(e)) => form_page(&state, &ctx, &actor, &id, &f, &e).await,
        Err(e) => Err(e),
    }
}
