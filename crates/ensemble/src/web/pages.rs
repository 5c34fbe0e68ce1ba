//! Shared pages: home, accessibility statement, privacy notice, error pages, and the asset
//! handler.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use maud::{Markup, html};

use crate::error::{AppError, ErrorPage};
use crate::rbac::{Permission, Role};
use crate::state::AppState;

use super::assets::ASSETS;
use super::ctx::{PageCtx, RequestCtx};
use super::layout::{Page, page, shell};
use super::resubmit::Resubmit;
use super::routes::Route;

/// Routes for the shared pages.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/", Permission::Public, home),
        Route::get("/accessibility", Permission::Public, accessibility),
        Route::get("/privacy", Permission::Public, privacy),
        Route::get("/assets/{*path}", Permission::Public, asset),
    ]
}

fn error_body(e: &ErrorPage, status: StatusCode, again: Option<&Resubmit>) -> Markup {
    html! {
        h1 { (e.title) }
        p."nhsuk-body" { (e.detail) }
        @if let Some(form) = again {
            (super::resubmit::markup(form))
        } @else if status == StatusCode::SERVICE_UNAVAILABLE {
            p."nhsuk-body" { "If you were filling in a form, go back to it and send it again in a minute." }
        }
        @if status == StatusCode::UNAUTHORIZED {
            p { a href="/sign-in" { "Sign in" } }
        }
        p { a href="/" { "Go to the Ensemble home page" } }
        p."nhsuk-body-s" { "Error code " (status.as_u16()) }
    }
}

/// Draw error pages in the site's layout, with the visitor's navigation.
pub async fn render_errors(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let ctx = req.extensions().get::<RequestCtx>().cloned();
    let path = req.uri().path().to_string();
    let resp = next.run(req).await;
    draw_error(&state, ctx, path, resp)
}

/// Draw the error a response carries (if any): the JSON envelope for machine clients, or
/// a page in the site's layout (with the visitor's navigation when `ctx` is known).
pub fn draw_error(
    state: &AppState,
    ctx: Option<RequestCtx>,
    path: String,
    resp: Response,
) -> Response {
    let Some(err) = resp.extensions().get::<ErrorPage>().cloned() else {
        return resp;
    };
    let status = resp.status();
    if path.starts_with("/api/") || path.starts_with("/openreferral/") {
        // Machine clients get the JSON envelope, even for a panic or a policy refusal.
        let code = match status.as_u16() {
            401 => "unauthenticated",
            403 => "forbidden",
            404 => "not_found",
            409 => "conflict",
            422 => "invalid",
            429 => "too_many_requests",
            500 => "internal",
            503 => "unavailable",
            _ => "bad_request",
        };
        let body = serde_json::json!({ "errors": [{ "code": code, "detail": err.title }] });
        let (mut parts, _) = resp.into_parts();
        parts.headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        parts.headers.remove(header::CONTENT_LENGTH);
        return Response::from_parts(parts, Body::from(body.to_string()));
    }
    let page_ctx = ctx.map(|req| PageCtx {
        csrf_token: crate::auth::csrf::token_for(&state.secret, &req.csrf_binding),
        req,
        path,
    });
    let again = resp.extensions().get::<Resubmit>();
    let markup = shell(
        page_ctx.as_ref(),
        Page::new(err.title, error_body(&err, status, again)),
    );
    let (mut parts, _) = resp.into_parts();
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(markup.into_string()))
}

/// 404 for anything no route matches.
pub async fn not_found() -> Response {
    AppError::NotFound.into_response()
}

async fn home(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, AppError> {
    let body = match ctx.actor() {
        None => signed_out_home(),
        Some(actor) => {
            // Each module's parts of the page for this account's roles (today's sessions, new
            // referrals, incidents…) lead it, the role's main job first.
            let mut parts = Vec::new();
            if let Some(sections) = state.get::<crate::manifest::HomeSections>() {
                for section in &sections.0 {
                    parts.extend(section(state.clone(), actor.clone()).await?);
                }
            }
            parts.sort_by_key(|p| p.order);
            let lead: Vec<Markup> = parts.into_iter().map(|p| p.markup).collect();
            signed_in_home(&actor, &lead)
        }
    };
    Ok(page(&ctx, Page::new("Home", body)))
}

/// The home page for a visitor.
fn signed_out_home() -> Markup {
    html! {
            h1 { "Ensemble" }
            p."nhsuk-lede-text" { "Music and creative activities for mental health and wellbeing, run together by NHS services, cultural organisations, community groups and the people who take part across the Liverpool City Region." }
            p."nhsuk-body" { "Ensemble joins up referral, taking part, wellbeing check-ins, evaluation and commissioning, so everyone who contributes can see what happens next." }
            div."nhsuk-card"."nhsuk-card--clickable" {
                div."nhsuk-card__content" {
                    h2."nhsuk-card__heading"."nhsuk-heading-m" { a."nhsuk-card__link" href="/sign-in" { "Sign in to Ensemble" } }
                    p."nhsuk-card__description" { "For participants, practitioners, link workers, clinicians, programme teams, researchers and commissioners." }
                }
            }
            div."nhsuk-card"."nhsuk-card--clickable" {
                div."nhsuk-card__content" {
                    h2."nhsuk-card__heading"."nhsuk-heading-m" { a."nhsuk-card__link" href="/refer-yourself" { "Refer yourself to social prescribing" } }
                    p."nhsuk-card__description" { "A link worker will talk with you about what matters to you and help you find music and creative activities. No account needed." }
                }
            }
    }
}

/// The home page for a signed-in account: its roles and what it can do.
fn signed_in_home(actor: &crate::rbac::Actor, lead: &[Markup]) -> Markup {
    let roles = actor.roles();
    html! {
        h1 { "Welcome, " (actor.display_name) }
        @for m in lead { (m) }
        @if actor.memberships.is_empty() {
            div."nhsuk-inset-text" {
                span."nhsuk-u-visually-hidden" { "Information: " }
                p { "Your account is not yet part of an organisation. An administrator can add you." }
            }
        } @else {
            h2."nhsuk-heading-m" { "Your roles" }
            ul."nhsuk-list"."nhsuk-list--bullet" {
                @for (_, org, role) in &actor.memberships {
                    li { (role.label()) " at " (org) }
                }
            }
        }
        h2."nhsuk-heading-m" { "What you can do" }
        ul."nhsuk-grid-row"."nhsuk-card-group" {
            (card("/account", "My account", "Your details, password, two-step sign-in and API tokens."))
            @if roles.contains(&Role::Participant) {
                (card("/my/plan", "My plan", "What matters to you, your goals and next steps, and how your information is used."))
            }
            @if roles.contains(&Role::LinkWorker) {
                (card("/caseload", "Caseload", "Referrals, tasks due, plans and messages from providers."))
            }
            @if roles.iter().any(|r| matches!(r, Role::Clinician | Role::LinkWorker | Role::ProgrammeManager | Role::Practitioner)) {
                (card("/referrals/new", "Make a referral", "Refer someone to social prescribing and follow what happens."))
            }
            @if roles.iter().any(|r| matches!(r, Role::ProgrammeManager | Role::Practitioner)) {
                (card("/provider/referrals", "Referrals to your activities", "Accept or decline referrals, mark attendance and message the link worker."))
            }
            @if roles.contains(&Role::Researcher) {
                (card("/research/datasets", "Evaluation datasets", "Pseudonymised data from people who agreed to evaluation."))
            }
            @if actor.is_staff() {
                (card("/organisations", "Organisations", "Partner organisations across the city region and who to contact."))
            }
            @if roles.contains(&Role::Administrator) {
                (card("/admin", "Administration", "Organisations, accounts, invitations, the audit trail, email outbox and jobs."))
            }
        }
    }
}

fn card(href: &str, heading: &str, text: &str) -> Markup {
    html! {
        li."nhsuk-grid-column-one-third"."nhsuk-card-group__item" {
            div."nhsuk-card"."nhsuk-card--clickable" {
                div."nhsuk-card__content" {
                    h3."nhsuk-card__heading"."nhsuk-heading-s" { a."nhsuk-card__link" href=(href) { (heading) } }
                    p."nhsuk-card__description" { (text) }
                }
            }
        }
    }
}

async fn accessibility(ctx: PageCtx) -> Response {
    let body = html! {
        h1 { "Accessibility statement" }
        p."nhsuk-body" { "Ensemble is built so that as many people as possible can use it. It is designed so that you should be able to:" }
        ul."nhsuk-list"."nhsuk-list--bullet" {
            li { "zoom in up to 400% without the text spilling off the screen" }
            li { "use it on a phone or tablet" }
            li { "navigate it using just a keyboard or speech recognition software" }
            li { "listen to it using a screen reader" }
            li { "sign in as a participant without having to remember a code from another app" }
        }
        h2."nhsuk-heading-m" { "How we test" }
        p."nhsuk-body" { "Each time the software changes, automated tests open the service in a real browser (Chromium) and check it with axe-core against the WCAG 2.0, 2.1 and 2.2 level A and AA rules that axe-core can test automatically, including target size, and against axe-core's best-practice rules (such as every part of a page being inside a landmark, and headings in order). They check the public pages, the pages each kind of account can reach by following links, and the forms and error messages of the main journeys (referring yourself, handling a referral, completing a check-in, running a session and keeping a portfolio), at desktop width (1280 pixels) and, for those journeys, at phone width (390 pixels). Every page the tests reach is also opened 320 pixels wide, to check that it does not scroll sideways. Signing in as a participant without a second factor is tested too." }
        p."nhsuk-body" { "Automated checks find only some accessibility problems. We have not yet tested with a keyboard alone, with screen readers or speech recognition software, without JavaScript, at tablet widths or at 400% zoom, and the service has not had an independent audit. We use the NHS.UK design system, whose components are tested with disabled people." }
        h2."nhsuk-heading-m" { "Compliance status" }
        p."nhsuk-body" { "Ensemble has not been independently audited, so we cannot yet say it fully meets WCAG 2.2 AA. We aim to. The text uses Arial rather than the NHS Frutiger typeface, which is licensed for NHS websites only." }
        h2."nhsuk-heading-m" { "Reporting problems" }
        p."nhsuk-body" { "If you find a problem, tell the organisation that invited you to Ensemble, or the administrator of this installation. We aim to reply within 5 working days." }
    };
    page(&ctx, Page::new("Accessibility statement", body))
}

async fn privacy(ctx: PageCtx) -> Response {
    let body = html! {
        h1 { "Privacy notice" }
        p."nhsuk-lede-text" { "Ensemble holds information about your health and wellbeing. This is special category data, and we protect it." }
        h2."nhsuk-heading-m" { "What we keep" }
        ul."nhsuk-list"."nhsuk-list--bullet" {
            li { "your name, email address and the organisations you work with or take part through" }
            li { "a record of when you sign in, and of every time someone looks at or changes your record" }
            li { "as more of Ensemble is switched on: referrals, the activities you take part in, and check-ins you choose to complete" }
        }
        h2."nhsuk-heading-m" { "Who can see it" }
        p."nhsuk-body" { "Only people whose role needs it: for example, your link worker or the practitioner running your group. Commissioners and the public only see totals, and small numbers are hidden so that nobody can be identified." }
        h2."nhsuk-heading-m" { "Your choices" }
        p."nhsuk-body" { "You decide what your information is used for. You can change your mind at any time, and the change takes effect straight away." }
        h2."nhsuk-heading-m" { "Security" }
        p."nhsuk-body" { "Passwords are stored only in scrambled (hashed) form. Staff must use two-step sign-in. Every access to personal records is written to a tamper-evident audit trail." }
        h2."nhsuk-heading-m" { "Contact" }
        p."nhsuk-body" { "The organisation that runs this installation is the data controller. Ask them for a copy of your information or to correct it." }
    };
    page(&ctx, Page::new("Privacy notice", body))
}

async fn asset(req: Request) -> Response {
    let path = req.uri().path();
    let Some(asset) = ASSETS.get(path) else {
        return (StatusCode::NOT_FOUND, "Not found").into_response();
    };
    let gzip_ok = req
        .headers()
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("gzip"));
    let cache = if asset.immutable {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=300"
    };
    let mut resp = match (&asset.gzip, gzip_ok) {
        (Some(gz), true) => {
            let mut r = Body::from(gz.clone()).into_response();
            r.headers_mut()
                .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            r
        }
        _ => Body::from(asset.bytes.clone()).into_response(),
    };
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    resp
}

/// Render a page of plain content (used by modules for simple confirmations).
pub fn simple(ctx: &PageCtx, title: &str, body: Markup) -> Response {
    page(ctx, Page::new(title, body))
}

/// Render HTML markup as a response without the shell (for fragments).
pub fn fragment(m: Markup) -> Response {
    Html(m.into_string()).into_response()
}
