//! The three-part session log, with its observation scales and moments linked to a
//! participant.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use crate::error::{AppError, FieldError};
use crate::modules::practice::model::{ACTIVITIES, label_of};
use crate::modules::practice::service::{self, Log, LogSaved, Session, SessionAccess};
use crate::state::AppState;
use crate::web::ctx::CurrentUser;
use crate::web::forms::{PageForm, button, csrf, error_summary, select, textarea};
use crate::web::layout::datetime;
use crate::web::{Page, PageCtx, page};

use super::*;

/// Observations and scales shown on the log page.
pub struct ObservationPart {
    pub recorded: Vec<service::Observation>,
    pub scales: Vec<crate::modules::measures::definition::Definition>,
    pub attendees: Vec<crate::modules::practice::moments::Attendee>,
    pub moments: Vec<crate::modules::practice::moments::Moment>,
}

async fn observation_part(
    state: &AppState,
    s: &SessionAccess,
) -> Result<ObservationPart, AppError> {
    Ok(ObservationPart {
        recorded: service::observations(state, s).await?,
        scales: service::observation_scales(state, &s.organisation_id).await?,
        attendees: crate::modules::practice::moments::attendees(state, s).await?,
        moments: crate::modules::practice::moments::for_session(state, s).await?,
    })
}

fn observation_section(
    ctx: &PageCtx,
    s: &Session,
    part: &ObservationPart,
    errors: &[FieldError],
) -> Markup {
    let values: std::collections::BTreeMap<String, crate::modules::measures::definition::Answer> =
        std::collections::BTreeMap::new();
    html! {
        h2."nhsuk-heading-m" id="observation" { "Observation scale" }
        @for o in &part.recorded {
            p."nhsuk-body" {
                strong { (o.instrument) } @if let Some(a) = &o.about { " about " (a) } ", " (datetime(o.recorded_at)) ": "
                (o.scores.iter().map(|sc| format!("{} {}", sc.label, crate::modules::measures::definition::num(sc.value))).collect::<Vec<_>>().join("; "))
            }
        }
        @for (k, d) in part.scales.iter().enumerate() {
            details."nhsuk-details" open[k == 0 && part.recorded.is_empty()] {
                summary."nhsuk-details__summary" { span."nhsuk-details__summary-text" { "Record " (d.name) } }
                div."nhsuk-details__text" {
                    form method="post" action=(format!("/sessions/{}/observation", s.id)) novalidate {
                        (csrf(ctx))
                        input type="hidden" name="instrument" value=(d.id);
                        @if !part.attendees.is_empty() {
                            @let about_id = format!("about-{k}");
                            div class=(if errors.iter().any(|e| e.field == "about") { "nhsuk-form-group nhsuk-form-group--error" } else { "nhsuk-form-group" }) {
                                label."nhsuk-label" for=(about_id) { "Who is this about?" }
                                @if let Some(e) = errors.iter().find(|e| e.field == "about") { span."nhsuk-error-message" { span."nhsuk-u-visually-hidden" { "Error: " } (e.message) } }
                                select."nhsuk-select" id=(about_id) name="about" {
                                    option value="" { "The whole group" }
                                    @for a in &part.attendees { option value=(a.person_id) { (a.name) } }
                                }
                            }
                        }
                        @if let Some(i) = &d.instructions { p."nhsuk-body" { (i) } }
                        @for (i, item) in d.items.iter().enumerate() {
                            (crate::modules::measures::html::question(d, i, item, values.get(&item.id), false, true, errors))
                        }
                        (button("Save observation"))
                    }
                }
            }
        }
        h2."nhsuk-heading-m" id="moments" { "Moments linked to a participant" }
        @for m in &part.moments {
            p."nhsuk-body" { strong { (m.name) } ": " (m.moment) br; span."nhsuk-body-s" { (m.recorded_by) ", " (datetime(m.recorded_at)) } }
        }
        @let sharing: Vec<&crate::modules::practice::moments::Attendee> = part.attendees.iter().filter(|a| a.shares_stories).collect();
        @if sharing.is_empty() {
            p."nhsuk-body" { "A moment can be linked to someone marked as attending who has agreed to share stories. No one at this session has, so write moments in the log without names." }
        } @else {
            details."nhsuk-details" open[errors.iter().any(|e| e.field == "person" || e.field == "moment")] {
                summary."nhsuk-details__summary" { span."nhsuk-details__summary-text" { "Link a moment to a participant" } }
                div."nhsuk-details__text" {
                    p."nhsuk-body-s" { "Only people who have agreed to share stories are listed. They will see the moment on their own page." }
                    form method="post" action=(format!("/sessions/{}/moments", s.id)) novalidate {
                        (csrf(ctx))
                        (select("person", "Who", &std::iter::once((String::new(), "Choose a person".to_string())).chain(sharing.iter().map(|a| (a.person_id.clone(), a.name.clone()))).collect::<Vec<_>>(), "", errors))
                        (textarea("moment", "The moment", "What happened, in a sentence or two", "", errors))
                        (button("Save moment"))
                    }
                }
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn log_page(
    ctx: &PageCtx,
    s: &Session,
    log: &Log,
    version: i64,
    errors: &[FieldError],
    conflict: Option<(&Log, &str)>,
    part: &ObservationPart,
    notice: &Notice,
) -> Response {
    let body = html! {
        div."nhsuk-grid-row" { div."nhsuk-grid-column-two-thirds" {
            (error_summary(errors))
            (notice.banner())
            @if let Some((theirs, by)) = conflict {
                div."nhsuk-warning-callout" {
                    h3."nhsuk-warning-callout__label" { span role="text" { span."nhsuk-u-visually-hidden" { "Important: " } "Someone else saved this log" } }
                    p { (by) " saved the log while you were writing. Nothing was lost: your text is in the form, theirs is here. Combine them and save again." }
                    dl."nhsuk-summary-list" {
                        @for (k, v) in [("What happened", &theirs.what_happened), ("Engagement observed", &theirs.engagement), ("Moments that mattered", &theirs.moments), ("Debrief", &theirs.debrief), ("Next time", &theirs.next_time)] {
                            @if !v.is_empty() { div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { (k) } dd."nhsuk-summary-list__value" { (v) } } }
                        }
                    }
                }
            }
            span."nhsuk-caption-l" { (s.activity_name) }
            h1 { "Session log" }
            p."nhsuk-body" { (when(s)) }
            h2."nhsuk-heading-m" { "1. The plan" }
            dl."nhsuk-summary-list" {
                div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "Aims" } dd."nhsuk-summary-list__value" { (if s.plan.aims.is_empty() { "No plan written" } else { &s.plan.aims }) } }
                div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "Activities" } dd."nhsuk-summary-list__value" { (s.plan.musical_activities.iter().map(|c| label_of(ACTIVITIES, c)).collect::<Vec<_>>().join(", ")) } }
            }
            form method="post" action=(format!("/sessions/{}/log", s.id)) novalidate {
                (csrf(ctx))
                input type="hidden" name="version" value=(version);
                h2."nhsuk-heading-m" { "2. The session" }
                (textarea("what_happened", "What happened", "", &log.what_happened, errors))
                (textarea("engagement", "Engagement observed", "How people took part", &log.engagement, errors))
                (textarea("moments", "Moments that mattered", "Do not name anyone here unless they agreed", &log.moments, errors))
                h2."nhsuk-heading-m" { "3. Reflective debrief" }
                (textarea("debrief", "Debrief", "What went well, what was hard", &log.debrief, errors))
                (textarea("next_time", "What to change next time", "", &log.next_time, errors))
                (button("Save log"))
            }
            (observation_section(ctx, s, part, errors))
        } }
    };
    let has_errors = !errors.is_empty();
    let mut r = page(
        ctx,
        Page::new(
            &format!("Session log: {}, {}", s.activity_name, when(s)),
            body,
        )
        .errors(has_errors)
        .back(&format!("/sessions/{}", s.id), "Back to the session"),
    );
    if conflict.is_some() && !has_errors {
        *r.status_mut() = axum::http::StatusCode::CONFLICT;
    }
    r
}

/// GET /sessions/{id}/log
pub async fn log(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    Query(notice): Query<Notice>,
) -> Result<Response, AppError> {
    let s = service::get(&state, &actor, &id).await?;
    let part = observation_part(&state, &s).await?;
    Ok(log_page(
        &ctx,
        &s,
        &s.log,
        s.log_version,
        &[],
        None,
        &part,
        &notice,
    ))
}

/// Log form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LogForm {
    version: String,
    what_happened: String,
    engagement: String,
    moments: String,
    debrief: String,
    next_time: String,
}

/// POST /sessions/{id}/log
pub async fn save_log(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    PageForm(f): PageForm<LogForm>,
) -> Result<Response, AppError> {
    let (log, version) = f.into_log();
    // Refused: shown again with what was typed, and the errors or the other person's log.
    let (version, errors, theirs) =
        match service::save_log(&state, &actor, &id, &log, version).await {
            Ok(LogSaved::Saved) => {
                return Ok(Redirect::to(&format!("/sessions/{id}/log?saved=log")).into_response());
            }
            Ok(LogSaved::Conflict {
                version,
                theirs,
                by,
            }) => (version, Vec::new(), Some((theirs, by))),
            Err(AppError::Invalid(e)) => (version, e, None),
            Err(e) => return Err(e),
        };
    redraw_log(&state, &ctx, &actor, &id, (&log, version), &errors, theirs).await
}

/// The log page again after a refused save, holding what was typed.
async fn redraw_log(
    state: &AppState,
    ctx: &PageCtx,
    actor: &crate::rbac::Actor,
    id: &str,
    (log, version): (&Log, i64),
    errors: &[FieldError],
    theirs: Option<(Log, String)>,
) -> Result<Response, AppError> {
    let s = service::get(state, actor, id).await?;
    let part = observation_part(state, &s).await?;
    Ok(log_page(
        ctx,
        &s,
        log,
        version,
        errors,
        theirs.as_ref().map(|(t, b)| (t, b.as_str())),
        &part,
        &Notice::default(),
    ))
}

impl LogForm {
    /// The log as typed, and the version it was based on (-1 when missing).
    fn into_log(self) -> (Log, i64) {
        let f = self;
        let log = Log {
            what_happened: f.what_happened,
            engagement: f.engagement,
            moments: f.moments,
            debrief: f.debrief,
            next_time: f.next_time,
        };
        let version: i64 = f.version.parse().unwrap_or(-1);
        (log, version)
    }
}

/// POST /sessions/{id}/observation
pub async fn observe(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    PageForm(form): PageForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let (instrument, answers, about) = observation_form(&form);
    match service::observe(&state, &actor, &id, &instrument, about.as_deref(), answers).await {
        Ok(()) => {
            Ok(Redirect::to(&format!("/sessions/{id}/log?saved=observation")).into_response())
        }
        Err(AppError::Invalid(e)) => {
            let s = service::get(&state, &actor, &id).await?;
            let part = observation_part(&state, &s).await?;
            Ok(log_page(
                &ctx,
                &s,
                &s.log,
                s.log_version,
                &e,
                None,
                &part,
                &Notice::default(),
            ))
        }
        Err(e) => Err(e),
    }
}

/// An observation form: the instrument, the answers given (numbers where they parse) and
/// the participant it is about, if any.
fn observation_form(
    form: &[(String, String)],
) -> (
    String,
    std::collections::BTreeMap<String, crate::modules::measures::definition::Answer>,
    Option<String>,
) {
    use crate::modules::measures::definition::Answer;
    let instrument = form
        .iter()
        .find(|(k, _)| k == "instrument")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let answers: std::collections::BTreeMap<String, Answer> = form
        .iter()
        .filter_map(|(k, v)| {
            let item = k.strip_prefix("q_")?;
            let v = v.trim();
            (!v.is_empty()).then(|| {
                (
                    item.to_string(),
                    v.parse::<f64>()
                        .ok()
                        .filter(|x| x.is_finite())
                        .map_or_else(|| Answer::Text(v.to_string()), Answer::Number),
                )
            })
        })
        .collect();
    let about = form
        .iter()
        .find(|(k, _)| k == "about")
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty());
    (instrument, answers, about)
}

/// Moment form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MomentForm {
    person: String,
    moment: String,
}

/// POST /sessions/{id}/moments
pub async fn add_moment(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    PageForm(f): PageForm<MomentForm>,
) -> Result<Response, AppError> {
    match crate::modules::practice::moments::add(&state, &actor, &id, &f.person, &f.moment).await {
        Ok(()) => Ok(Redirect::to(&format!("/sessions/{id}/log?saved=moment")).into_response()),
        Err(AppError::Invalid(e)) => {
            let s = service::get(&state, &actor, &id).await?;
            let part = observation_part(&state, &s).await?;
            Ok(log_page(
                &ctx,
                &s,
                &s.log,
                s.log_version,
                &e,
                None,
                &part,
                &Notice::default(),
            ))
        }
        Err(e) => Err(e),
    }
}
