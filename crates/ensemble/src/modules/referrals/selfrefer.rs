//! The public self-referral form: plain English, no account needed, a confirmation page
//! and email, and spam protection without a CAPTCHA (a hidden honeypot field, a signed
//! form-start time that must be at least a few seconds old, and a per-address limit).

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use maud::html;
use serde::Deserialize;
use sha2::Sha256;

use super::model::{ReasonProblem, ReferralReason, human_reference, is_human_reference};
use super::service::{self, NewReferral};
use crate::audit::AuditActor;
use crate::db::now;
use crate::error::{AppError, FieldError};
use crate::modules::people::model::{Decision, Purpose};
use crate::modules::people::service::{PersonInput, ValidPerson, current_statements};
use crate::state::AppState;
use crate::web::forms::{Input, PageForm, button, csrf, error_summary, radios, textarea};
use crate::web::{Page, PageCtx, page};

/// Seconds a person must spend on the form (bots submit at once).
const MIN_SECONDS: i64 = 3;

/// The signed form-start token for a form opened at `ts` (unix seconds).
pub fn sign(secret: &[u8], ts: i64) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return String::new();
    };
    mac.update(format!("self-referral|{ts}").as_bytes());
    format!(
        "{ts}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}

fn started_at(secret: &[u8], token: &str) -> Option<i64> {
    let (ts, _) = token.split_once('.')?;
    let ts: i64 = ts.parse().ok()?;
    crate::auth::secret::constant_time_eq(&sign(secret, ts), token).then_some(ts)
}

/// The form.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SelfReferralForm {
    given_name: String,
    family_name: String,
    preferred_name: String,
    pronouns: String,
    date_of_birth: String,
    email: String,
    phone: String,
    postcode: String,
    communication_needs: String,
    reason: String,
    consent_contact: String,
    consent_evaluation: String,
    consent_research_contact: String,
    consent_share_gp: String,
    /// Honeypot: people never see or fill it.
    website: String,
    started: String,
    /// The activity the person asked to join from its page ("Ask to join"), if any.
    activity: String,
}

/// `?activity=` on the form's address: the activity page's "Ask to join".
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AskToJoin {
    activity: String,
}

/// The activity named by the form, if it is one a visitor may ask to join.
async fn asked_for(
    state: &AppState,
    f: &SelfReferralForm,
) -> Result<Option<(String, String)>, AppError> {
    if f.activity.trim().is_empty() {
        return Ok(None);
    }
    crate::modules::directory::service::referable(state, &f.activity, None).await
}

async fn render(
    state: &AppState,
    ctx: &PageCtx,
    f: &SelfReferralForm,
    errors: &[FieldError],
) -> Result<Response, AppError> {
    let statements = current_statements(state).await?;
    let wording = |p: Purpose| {
        statements
            .iter()
            .find(|s| s.purpose == p)
            .map(|s| s.wording.clone())
            .unwrap_or_default()
    };
    let yes_no = [("yes", "Yes"), ("no", "No")];
    let activity = asked_for(state, f).await?;
    let body = html! {
        div."nhsuk-grid-row" { div."nhsuk-grid-column-two-thirds" {
            (error_summary(errors))
            h1 { "Refer yourself to social prescribing" }
            p."nhsuk-lede-text" { "A link worker will get in touch to talk about what matters to you, and help you find music and creative activities near you." }
            p."nhsuk-body" { "It takes about 5 minutes. You do not need an account. If you are in crisis, call 999 or NHS 111 (option 2 for mental health) now – this form is not checked out of hours." }
            form method="post" action="/refer-yourself" novalidate {
                (csrf(ctx))
                input type="hidden" name="started" value=(sign(&state.secret, now()));
                @if let Some((id, name)) = &activity {
                    input type="hidden" name="activity" value=(id);
                    div."nhsuk-inset-text" {
                        span."nhsuk-u-visually-hidden" { "Information: " }
                        p { "You are asking to join " strong { (name) } ". A link worker will talk to you about it and help you get started." }
                    }
                } @else if !f.activity.trim().is_empty() {
                    div."nhsuk-inset-text" {
                        span."nhsuk-u-visually-hidden" { "Information: " }
                        p { "The activity in the link you followed is no longer listed, so this referral will not name one. A link worker can help you find another." }
                    }
                }
                div."ensemble-hp" aria-hidden="true" {
                    label for="website" { "Leave this empty" }
                    input id="website" name="website" type="text" tabindex="-1" autocomplete="off" value="";
                }
                h2."nhsuk-heading-m" { "About you" }
                (Input::new("given_name", "First name", &f.given_name).autocomplete("given-name").render(errors))
                (Input::new("family_name", "Last name", &f.family_name).autocomplete("family-name").render(errors))
                (Input::new("preferred_name", "What would you like us to call you? (optional)", &f.preferred_name).render(errors))
                (Input::new("pronouns", "Pronouns (optional)", &f.pronouns).hint("For example she/her, he/him, they/them").width("nhsuk-input--width-10").render(errors))
                (Input::new("date_of_birth", "Date of birth (optional)", &f.date_of_birth).hint("Year-month-day, like 1984-03-27").autocomplete("bday").width("nhsuk-input--width-10").render(errors))
                h2."nhsuk-heading-m" { "How can we reach you?" }
                p."nhsuk-body" { "Give us a phone number or an email address, or both." }
                (Input::new("phone", "Phone number", &f.phone).kind("tel").autocomplete("tel").width("nhsuk-input--width-20").render(errors))
                (Input::new("email", "Email address", &f.email).kind("email").autocomplete("email").render(errors))
                (Input::new("postcode", "Postcode (optional)", &f.postcode).hint("So we can suggest things near you").autocomplete("postal-code").width("nhsuk-input--width-10").render(errors))
                (Input::new("communication_needs", "Is there anything that would make talking to us easier? (optional)", &f.communication_needs).hint("For example an interpreter, British Sign Language, large print, or a call at a certain time").render(errors))
                h2."nhsuk-heading-m" { "What would you like help with?" }
                (textarea("reason", "Tell us a little about what is going on and what you would like", "In your own words. For example: I feel lonely since I retired and used to love singing.", &f.reason, errors))
                h2."nhsuk-heading-m" { "Your choices" }
                p."nhsuk-body" { "You can change your mind at any time." }
                (radios("consent_contact", &wording(Purpose::Contact), &yes_no, &f.consent_contact, errors))
                (radios("consent_evaluation", &wording(Purpose::Evaluation), &yes_no, &f.consent_evaluation, errors))
                (radios("consent_research_contact", &wording(Purpose::ResearchContact), &yes_no, &f.consent_research_contact, errors))
                (radios("consent_share_gp", &wording(Purpose::ShareGp), &yes_no, &f.consent_share_gp, errors))
                (button("Send my referral"))
            }
        } }
    };
    let r = page(
        ctx,
        Page::new("Refer yourself", body).errors(!errors.is_empty()),
    );
    Ok(r)
}

/// GET /refer-yourself
pub async fn form(
    State(state): State<AppState>,
    ctx: PageCtx,
    q: Result<Query<AskToJoin>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, AppError> {
    let f = SelfReferralForm {
        activity: q.map(|Query(q)| q.activity).unwrap_or_default(),
        ..Default::default()
    };
    render(&state, &ctx, &f, &[]).await
}

/// POST /refer-yourself
pub async fn submit(
    State(state): State<AppState>,
    ctx: PageCtx,
    PageForm(f): PageForm<SelfReferralForm>,
) -> Result<Response, AppError> {
    if !f.website.is_empty() {
        // A bot filled the hidden field: say thanks (with a reference like any other), keep
        // nothing.
        let fake = human_reference(&crate::db::new_id());
        return Ok(Redirect::to(&format!("/refer-yourself/done?reference={fake}")).into_response());
    }
    let c = check(&state.secret, &f);
    let team = service::team_for_postcode(&state, &f.postcode).await?;
    if team.is_none() && c.errors.is_empty() {
        return Err(AppError::Conflict("Self-referral is not open yet: no social prescribing team has been set up. Please ask your GP practice.".into()));
    }
    let (Some(valid), Some(team), Some(reason), true) =
        (c.person, team, c.reason, c.errors.is_empty())
    else {
        return render(&state, &ctx, &f, &c.errors).await;
    };
    // Only referrals that pass the checks count towards the per-connection limit, so a
    // person correcting mistakes is never locked out.
    if let Err(wait) = state.self_referral_limiter.hit(&ctx.req.client_ip) {
        return Err(AppError::TooManyRequests(format!(
            "Too many referrals have been sent from this connection. Please try again in {} minutes, or phone your GP practice.",
            wait.as_secs().div_ceil(60).max(1)
        )));
    }
    let mut new = self_referral(team, valid, reason, c.consents);
    new.activity_id = asked_for(&state, &f).await?.map(|a| a.0);
    let reference = create_and_confirm(&state, &ctx, &new).await?;
    Ok(Redirect::to(&format!("/refer-yourself/done?reference={reference}")).into_response())
}

/// The form's answers once checked, with every problem named.
struct Checked {
    person: Option<ValidPerson>,
    reason: Option<ReferralReason>,
    consents: Vec<(Purpose, Decision)>,
    errors: Vec<FieldError>,
}

/// Check the answers. The timing check names a problem only when the answers are otherwise
/// complete, so a person who sends an empty form sees what to fill in rather than "too
/// quick".
fn check(secret: &[u8], f: &SelfReferralForm) -> Checked {
    let mut errors = Vec::new();
    let timing = timing_problem(secret, &f.started);
    let person = person_input(f)
        .validate()
        .map_err(|e| errors.extend(e))
        .ok();
    if f.email.trim().is_empty() && f.phone.trim().is_empty() {
        errors.push(FieldError::new(
            "phone",
            "Enter a phone number or an email address so a link worker can reach you",
        ));
    }
    let reason = ReferralReason::parse(&f.reason)
        .map_err(|p| errors.push(reason_error(p)))
        .ok();
    let consents = consents_chosen(f, &mut errors);
    if let Some(message) = timing
        && errors.is_empty()
    {
        errors.push(FieldError::new("given_name", message));
    }
    Checked {
        person,
        reason,
        consents,
        errors,
    }
}

/// What is wrong with when the form was opened: too quick, over a day ago, or not ours.
fn timing_problem(secret: &[u8], started: &str) -> Option<&'static str> {
    match started_at(secret, started) {
        Some(t) if now() - t < MIN_SECONDS => {
            Some("That was very quick. Please check your answers and send the form again.")
        }
        Some(t) if now() - t > 24 * 3600 => Some(
            "This form was opened more than a day ago. Please check your answers and send it again.",
        ),
        Some(_) => None,
        None => Some("The form could not be checked. Please send it again."),
    }
}

/// The person's details from the form.
fn person_input(f: &SelfReferralForm) -> PersonInput {
    PersonInput {
        given_name: f.given_name.clone(),
        family_name: f.family_name.clone(),
        preferred_name: f.preferred_name.clone(),
        pronouns: f.pronouns.clone(),
        date_of_birth: f.date_of_birth.clone(),
        email: f.email.clone(),
        phone: f.phone.clone(),
        postcode: f.postcode.clone(),
        communication_needs: f.communication_needs.clone(),
        ..Default::default()
    }
}

/// The problem with the reason, in the person's words.
fn reason_error(p: ReasonProblem) -> FieldError {
    FieldError::new(
        "reason",
        match p {
            ReasonProblem::Empty => {
                "Tell us a little about what you would like help with".to_string()
            }
            ReasonProblem::TooLong(n) => format!(
                "Please keep this to {} characters or fewer (this has {n})",
                ReferralReason::MAX_CHARS
            ),
        },
    )
}

/// The four consent answers: contact must be yes, the others yes or no.
fn consents_chosen(f: &SelfReferralForm, errors: &mut Vec<FieldError>) -> Vec<(Purpose, Decision)> {
    let mut consents = Vec::new();
    for (field, purpose, message) in [
        (
            "consent_contact",
            Purpose::Contact,
            "Choose yes if we may contact you – we cannot help without being able to reach you",
        ),
        (
            "consent_evaluation",
            Purpose::Evaluation,
            "Choose yes or no for using your information to evaluate the programme",
        ),
        (
            "consent_research_contact",
            Purpose::ResearchContact,
            "Choose yes or no for being asked about research",
        ),
        (
            "consent_share_gp",
            Purpose::ShareGp,
            "Choose yes or no for sharing a summary with your GP",
        ),
    ] {
        let v = match field {
            "consent_contact" => &f.consent_contact,
            "consent_evaluation" => &f.consent_evaluation,
            "consent_research_contact" => &f.consent_research_contact,
            _ => &f.consent_share_gp,
        };
        match v.as_str() {
            "yes" => consents.push((purpose, Decision::Given)),
            "no" if purpose != Purpose::Contact => consents.push((purpose, Decision::Refused)),
            _ => errors.push(FieldError::new(field, message)),
        }
    }
    consents
}

/// A self-referral to the intake team.
fn self_referral(
    team: String,
    person: ValidPerson,
    reason: ReferralReason,
    consents: Vec<(Purpose, Decision)>,
) -> NewReferral {
    NewReferral {
        team_organisation_id: team,
        source: "self",
        referrer_user_id: None,
        referrer_organisation_id: None,
        referrer_name: "Self-referral".into(),
        referrer_email: String::new(),
        source_system: None,
        source_identifier: None,
        reason,
        person,
        consents,
        consent_method: "online",
        consent_witness: String::new(),
        activity_id: None,
        extra_tasks: vec![],
    }
}

/// Create the referral (audited as anonymous, with the request id), then email the person a
/// confirmation when they gave an address. Returns the referral's short reference.
async fn create_and_confirm(
    state: &AppState,
    ctx: &PageCtx,
    new: &NewReferral,
) -> Result<String, AppError> {
    let email = new.person.email().to_string();
    let name = new.person.given_name().to_string();
    let who = AuditActor {
        user_id: None,
        label: "anonymous".into(),
        request_id: Some(ctx.req.request_id.clone()),
    };
    let created = service::create(state, &who, new).await?;
    let reference = human_reference(&created.id);
    if !email.is_empty() {
        let mut tx = state.db.begin().await?;
        crate::notify::queue_email(&mut tx, &email, "We have your referral", &format!(
            "Hello {name},\n\nThank you. We have your referral to social prescribing. A link worker will contact you within {} working days to talk about what matters to you.\n\nIf you are in crisis, call 999 or NHS 111 (option 2 for mental health).\n\nYour reference: {}\n",
            state.cfg.first_contact_working_days, reference)).await?;
        tx.commit().await?;
    }
    Ok(reference)
}

/// The reference the confirmation shows (`?reference=ENS-…`; anything else is not shown).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DoneQuery {
    reference: String,
}

/// GET /refer-yourself/done
pub async fn done(
    State(state): State<AppState>,
    ctx: PageCtx,
    q: Result<Query<DoneQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let reference = q
        .map(|Query(q)| q.reference)
        .ok()
        .filter(|r| is_human_reference(r));
    let body = html! {
        div."nhsuk-grid-row" { div."nhsuk-grid-column-two-thirds" {
            div."ensemble-confirmation" {
                h1 { "Referral sent" }
                p { "Thank you. We have your referral." }
                @if let Some(r) = &reference {
                    p { "Your reference is" br; strong."ensemble-reference" { (r) } }
                }
            }
            @if reference.is_some() {
                p."nhsuk-body" { "Keep this reference. If you contact us about your referral, give it so we can find it quickly." }
            }
            h2."nhsuk-heading-m" { "What happens next" }
            p."nhsuk-body" { "A link worker will contact you within " (state.cfg.first_contact_working_days) " working days. If you gave an email address, we have sent you a confirmation." }
            p."nhsuk-body" { "They will talk with you about what matters to you and help you find activities you might enjoy. You do not have to decide anything now." }
            p."nhsuk-body" { "If you are in crisis, call 999 or NHS 111 (option 2 for mental health)." }
            p { a href="/activities" { "Browse activities while you wait" } }
        } }
    };
    page(&ctx, Page::new("Referral sent", body))
}
