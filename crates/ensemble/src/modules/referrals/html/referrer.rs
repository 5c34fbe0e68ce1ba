//! The staff referral form and the list of referrals a referrer made.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;

use super::rows_table;
use crate::error::{AppError, FieldError};
use crate::modules::people::html::person_fields;
use crate::modules::people::model::{Decision, Purpose};
use crate::modules::people::service::PersonInput;
use crate::modules::referrals::model::{ReasonProblem, ReferralReason};
use crate::modules::referrals::service::{self, NewReferral};
use crate::rbac::{Actor, Role};
use crate::state::AppState;
use crate::web::ctx::CurrentUser;
use crate::web::forms::{
    Input, PageForm, button, checkboxes, csrf, error_summary, radios, select, textarea,
    with_repeated,
};
use crate::web::{Page, PageCtx, page};

/// The staff referral form.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct StaffReferralForm {
    #[serde(flatten)]
    person: PersonInput,
    team: String,
    reason: String,
    consents: Vec<String>,
    consent_method: String,
    witness: String,
    /// The activity asked for, from its page's "Refer someone".
    activity: String,
}

/// `?activity=` on the form's address.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ReferTo {
    activity: String,
}

/// The activity the form names, if the actor may refer to it.
async fn referred_to(
    state: &AppState,
    actor: Option<&Actor>,
    f: &StaffReferralForm,
) -> Result<Option<(String, String)>, AppError> {
    if f.activity.trim().is_empty() {
        return Ok(None);
    }
    crate::modules::directory::service::referable(state, &f.activity, actor).await
}

fn source_for(actor: &Actor) -> &'static str {
    if actor.has_role(Role::Clinician) {
        "clinician"
    } else if actor.has_role(Role::LinkWorker) {
        "link_worker"
    } else {
        "community"
    }
}

async fn new_form_page(
    state: &AppState,
    ctx: &PageCtx,
    f: &StaffReferralForm,
    errors: &[FieldError],
) -> Result<Response, AppError> {
    let teams = service::teams(state).await?;
    let activity = referred_to(state, ctx.actor().as_ref(), f).await?;
    let consent_opts: Vec<(&str, &str, &str)> = Purpose::ALL
        .iter()
        .map(|p| (p.code(), p.label(), ""))
        .collect();
    let body = html! {
        div."nhsuk-grid-row" { div."nhsuk-grid-column-two-thirds" {
            (error_summary(errors))
            h1 { "Make a social prescribing referral" }
            p."nhsuk-body" { "The link worker team will contact the person, talk about what matters to them, and connect them with creative activities. You will be able to follow the referral and receive a message back." }
            form method="post" action="/referrals/new" novalidate {
                (csrf(ctx))
                @if let Some((id, name)) = &activity {
                    input type="hidden" name="activity" value=(id);
                    div."nhsuk-inset-text" {
                        span."nhsuk-u-visually-hidden" { "Information: " }
                        p { "Referring to " strong { (name) } ". The link worker will see that this activity was asked for." }
                    }
                } @else if !f.activity.trim().is_empty() {
                    div."nhsuk-inset-text" {
                        span."nhsuk-u-visually-hidden" { "Information: " }
                        p { "The activity in the link is no longer listed, so this referral will not name one." }
                    }
                }
                (select("team", "Link worker team", &teams, &f.team, errors))
                h2."nhsuk-heading-m" { "The person" }
                (person_fields(&f.person, errors, true))
                h2."nhsuk-heading-m" { "Why you are referring" }
                (textarea("reason", "Reason for referral and what the person hopes for", "Include anything the link worker should know before making contact", &f.reason, errors))
                h2."nhsuk-heading-m" { "Consent" }
                p."nhsuk-body" { "Tick only what the person has agreed to. The link worker will ask about anything else." }
                (checkboxes("consents", "The person agreed to", &consent_opts, &f.consents, errors))
                (radios("consent_method", "How they agreed", &[("verbal", "Verbally, with a witness"), ("paper", "On a signed paper form")], &f.consent_method, errors))
                (Input::new("witness", "Witness (for verbal consent)", &f.witness).render(errors))
                (button("Send referral"))
            }
        } }
    };
    Ok(page(
        ctx,
        Page::new("Make a referral", body).errors(!errors.is_empty()),
    ))
}

/// GET /referrals/new
pub async fn new_form(
    State(state): State<AppState>,
    ctx: PageCtx,
    q: Result<Query<ReferTo>, QueryRejection>,
) -> Result<Response, AppError> {
    let teams = service::teams(&state).await?;
    let f = StaffReferralForm {
        team: teams.first().map(|t| t.0.clone()).unwrap_or_default(),
        activity: q.map(|Query(q)| q.activity).unwrap_or_default(),
        ..Default::default()
    };
    new_form_page(&state, &ctx, &f, &[]).await
}

/// POST /referrals/new
pub async fn create(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let (mut f, consents): (StaffReferralForm, _) = with_repeated(pairs, "consents")?;
    f.consents = consents;
    let teams = service::teams(&state).await?;
    let mut new = match new_referral(&f, &teams, &actor) {
        Ok(new) => new,
        Err(errors) => return new_form_page(&state, &ctx, &f, &errors).await,
    };
    new.activity_id = referred_to(&state, Some(&actor), &f).await?.map(|a| a.0);
    let created = service::create(&state, &actor.audit(), &new).await?;
    if actor.has_role_in(&f.team, Role::LinkWorker) {
        return Ok(Redirect::to(&format!("/caseload/{}", created.id)).into_response());
    }
    Ok(Redirect::to("/referrals/sent?sent=1").into_response())
}

/// The referral the staff form describes, or the problems with it, each named.
fn new_referral(
    f: &StaffReferralForm,
    teams: &[(String, String)],
    actor: &Actor,
) -> Result<NewReferral, Vec<FieldError>> {
    let mut errors = Vec::new();
    if !teams.iter().any(|(id, _)| *id == f.team) {
        errors.push(FieldError::new("team", "Choose the link worker team"));
    }
    let valid = f.person.validate().map_err(|e| errors.extend(e)).ok();
    let reason = ReferralReason::parse(&f.reason)
        .map_err(|p| errors.push(reason_error(p)))
        .ok();
    let (consents, method) = consents_given(f, &mut errors);
    let (Some(valid), Some(reason), true) = (valid, reason, errors.is_empty()) else {
        return Err(errors);
    };
    Ok(NewReferral {
        team_organisation_id: f.team.clone(),
        source: source_for(actor),
        referrer_user_id: Some(actor.user_id.clone()),
        referrer_organisation_id: referrer_organisation(actor),
        referrer_name: actor.display_name.clone(),
        referrer_email: actor.email.clone(),
        source_system: None,
        source_identifier: None,
        reason,
        person: valid,
        consents,
        consent_method: if method.is_empty() { "paper" } else { method },
        consent_witness: f.witness.trim().to_string(),
        activity_id: None,
        extra_tasks: vec![],
    })
}

/// The problem with the reason, in the staff form's words.
fn reason_error(p: ReasonProblem) -> FieldError {
    FieldError::new(
        "reason",
        match p {
            ReasonProblem::Empty => "Give the reason for the referral".to_string(),
            ReasonProblem::TooLong(n) => format!(
                "The reason must be {} characters or fewer (this has {n})",
                ReferralReason::MAX_CHARS
            ),
        },
    )
}

/// The consents ticked and how they were taken (`verbal`, `paper` or empty), naming a
/// missing method or witness.
fn consents_given(
    f: &StaffReferralForm,
    errors: &mut Vec<FieldError>,
) -> (Vec<(Purpose, Decision)>, &'static str) {
    let mut consents = Vec::new();
    for c in &f.consents {
        match Purpose::from_code(c) {
            Some(p) => consents.push((p, Decision::Given)),
            None => errors.push(FieldError::new("consents", "Choose consents from the list")),
        }
    }
    let method: &'static str = match f.consent_method.as_str() {
        "verbal" => "verbal",
        "paper" => "paper",
        _ => "",
    };
    if !consents.is_empty() {
        if method.is_empty() {
            errors.push(FieldError::new(
                "consent_method",
                "Say how the person agreed",
            ));
        } else if method == "verbal" && f.witness.trim().is_empty() {
            errors.push(FieldError::new(
                "witness",
                "Enter the name of the witness to verbal consent",
            ));
        }
    }
    (consents, method)
}

/// The organisation the referrer refers from: their first membership with a referring role.
fn referrer_organisation(actor: &Actor) -> Option<String> {
    actor
        .memberships
        .iter()
        .find(|m| {
            matches!(
                m.2,
                Role::Clinician | Role::LinkWorker | Role::ProgrammeManager | Role::Practitioner
            )
        })
        .map(|m| m.0.clone())
}

/// Query for "sent".
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SentQuery {
    sent: String,
}

/// GET /referrals/sent
pub async fn sent(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Query(q): Query<SentQuery>,
) -> Result<Response, AppError> {
    let rows = service::sent(&state, &actor).await?;
    let body = html! {
        @if q.sent == "1" { div."nhsuk-inset-text" { span."nhsuk-u-visually-hidden" { "Information: " } p { "Your referral has been sent to the link worker team." } } }
        h1 { "Referrals you made" }
        p { a."nhsuk-button" href="/referrals/new" { "Make a referral" } }
        @if rows.is_empty() { p."nhsuk-body" { "You have not made any referrals yet." } }
        @else { (rows_table(&rows, |r| format!("/referrals/{}/message-back", r.id), "Your referrals, newest first", false)) }
    };
    Ok(page(&ctx, Page::new("Referrals you made", body)))
}
