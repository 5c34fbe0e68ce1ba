//! Middleware that runs on every request: security headers, session loading, CSRF checks
//! and metrics. Request ids and tracing come from tower-http in `app.rs`.

use std::net::SocketAddr;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::auth::{csrf, session};
use crate::error::AppError;
use crate::state::AppState;

use super::ctx::RequestCtx;

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; \
                   form-action 'self'; frame-ancestors 'none'";

/// Largest form body accepted (bytes).
pub const MAX_FORM_BYTES: usize = 1024 * 1024;

/// Security headers on every response.
pub async fn security_headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert("content-security-policy", HeaderValue::from_static(CSP));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(), interest-cohort=()"),
    );
    if state.cfg.cookie_secure || state.cfg.is_https() {
        h.insert(
            "strict-transport-security",
            HeaderValue::from_static("max-age=63072000; includeSubDomains"),
        );
    }
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

/// Read a cookie by name from the request headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value with the platform's attributes.
pub fn set_cookie(state: &AppState, name: &str, value: &str, max_age: Option<i64>) -> HeaderValue {
    let secure = if state.cfg.cookie_secure {
        "; Secure"
    } else {
        ""
    };
    let age = max_age
        .map(|a| format!("; Max-Age={a}"))
        .unwrap_or_default();
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Lax{secure}{age}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("invalid=1"))
}

/// Load the session (if any) and make the CSRF binding; set the pre-session cookie for new
/// anonymous visitors.
pub async fn session_layer(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let forwarded = state
        .cfg
        .trust_proxy
        .then(|| {
            req.headers()
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
        })
        .flatten()
        .and_then(|v| v.rsplit(',').next())
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty());
    let client_ip = forwarded.unwrap_or_else(|| {
        req.extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip().to_string())
            .unwrap_or_else(|| "local".into())
    });
    let is_asset = req.uri().path().starts_with("/assets/");
    let token = cookie(req.headers(), session::COOKIE).map(str::to_string);
    let mut loaded = None;
    if let (Some(token), false) = (token.as_deref(), is_asset) {
        match session::load(&state.db, token, &state.cfg).await {
            Ok(s) => loaded = s,
            Err(e) => return session_unavailable(&state, req, e).await,
        }
    }
    if let Some(s) = &loaded
        && let Err(e) = session::touch(&state.db, s).await
    {
        tracing::warn!(error = %e, "could not record session activity");
    }
    let pre = cookie(req.headers(), csrf::PRE_SESSION_COOKIE)
        .filter(|v| v.len() == 43)
        .map(str::to_string);
    let new_pre = if loaded.is_none() && pre.is_none() && !is_asset {
        Some(crate::auth::secret::random_token(32))
    } else {
        None
    };
    let binding = loaded
        .as_ref()
        .map(|s| s.token.clone())
        .or(pre)
        .or_else(|| new_pre.clone())
        .unwrap_or_default();
    let had_cookie_but_expired = token.is_some() && loaded.is_none() && !is_asset;
    req.extensions_mut().insert(RequestCtx {
        session: loaded,
        csrf_binding: binding,
        request_id,
        client_ip,
    });
    let mut resp = next.run(req).await;
    if let Some(pre) = new_pre {
        resp.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(&state, csrf::PRE_SESSION_COOKIE, &pre, None),
        );
    }
    if had_cookie_but_expired && !resp.headers().contains_key(header::SET_COOKIE) {
        resp.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(&state, session::COOKIE, "", Some(0)),
        );
    }
    resp
}

/// Refuse state-changing page requests sent from another site (by `Origin`, or `Referer`
/// when there is no `Origin`) or without a valid CSRF token (403 page). API routes use
/// bearer tokens, not cookies, so they are exempt; so is the Open Referral UK API, which is
/// public, read-only and reads no session (its routes answer other methods with 405).
pub async fn csrf_layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let path = req.uri().path();
    if !unsafe_method || path.starts_with("/api/") || path.starts_with("/openreferral/") {
        return next.run(req).await;
    }
    if !same_site(&state.cfg.base_url, req.headers()) {
        tracing::info!("refused a form sent from another site");
        return crate::error::csrf_failure_response();
    }
    let binding = req
        .extensions()
        .get::<RequestCtx>()
        .map(|c| c.csrf_binding.clone())
        .unwrap_or_default();
    let (mut parts, body) = req.into_parts();
    let multipart = crate::web::upload::boundary(
        parts
            .headers
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
    );
    // Only the forms that take a file accept a large body; every other form, multipart or
    // not, is held to the usual limit before anything is parsed.
    let upload = multipart.is_some() && crate::web::upload::takes_file(parts.uri.path());
    let limit = if upload {
        crate::web::upload::MAX_UPLOAD_BYTES
    } else {
        MAX_FORM_BYTES
    };
    let bytes = match axum::body::to_bytes(body, limit).await {
        Ok(b) => b,
        Err(_) if upload => return crate::web::upload::too_large().into_response(),
        Err(_) => {
            return AppError::BadRequest("The form was too large to accept.".into())
                .into_response();
        }
    };
    let header_token = parts
        .headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let form_token = match &multipart {
        // Split once: the handler's `MultipartForm` takes these parts from the request.
        Some(b) => match crate::web::upload::parts(bytes.clone(), b).await {
            Ok(ps) => {
                let form = crate::web::upload::MultipartForm { parts: ps };
                let token = form.text(csrf::FIELD);
                parts.extensions.insert(form);
                (!token.is_empty()).then_some(token)
            }
            Err(e) => return e.into_response(),
        },
        None => serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
            .ok()
            .and_then(|pairs| {
                pairs
                    .into_iter()
                    .find(|(k, _)| k == csrf::FIELD)
                    .map(|(_, v)| v)
            }),
    };
    let submitted = form_token.or(header_token).unwrap_or_default();
    if !csrf::verify(&state.secret, &binding, &submitted) {
        tracing::info!("refused a form without a valid CSRF token");
        return crate::error::csrf_failure_response();
    }
    let again = multipart
        .is_none()
        .then(|| crate::web::resubmit::from_form(parts.uri.path(), &parts.headers, &bytes))
        .flatten();
    let mut resp = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    crate::web::resubmit::attach(&mut resp, again);
    resp
}

/// The session could not be loaded (the database is down, most likely): draw the error
/// here, as the page renderer runs inside this layer, keeping a posted form to send again.
async fn session_unavailable(state: &AppState, req: Request, e: sqlx::Error) -> Response {
    let path = req.uri().path().to_string();
    let (parts, body) = req.into_parts();
    let mut resp = AppError::from(e).into_response();
    if !matches!(parts.method, Method::GET | Method::HEAD)
        && let Ok(bytes) = axum::body::to_bytes(body, MAX_FORM_BYTES).await
    {
        let form = crate::web::resubmit::from_form(&path, &parts.headers, &bytes);
        crate::web::resubmit::attach(&mut resp, form);
    }
    crate::web::pages::draw_error(state, None, path, resp)
}

/// The `scheme://host[:port]` of a URL, lower-cased, with the default port left out; `None`
/// when it is not an absolute http(s) URL.
fn origin_of(url: &str) -> Option<String> {
    let uri: axum::http::Uri = url.trim().parse().ok()?;
    let scheme = uri.scheme_str()?.to_ascii_lowercase();
    let auth = uri.authority()?;
    if !matches!(scheme.as_str(), "http" | "https") || auth.as_str().contains('@') {
        return None;
    }
    let default = if scheme == "https" { 443 } else { 80 };
    let host = auth.host().to_ascii_lowercase();
    Some(match auth.port_u16().filter(|p| *p != default) {
        Some(p) => format!("{scheme}://{host}:{p}"),
        None => format!("{scheme}://{host}"),
    })
}

/// Whether a state-changing request may have come from this site: its `Origin` (or, when
/// absent, its `Referer`) must name the configured base URL or the host the request was
/// sent to. `Origin: null` (sandboxed frames, some redirects) and anything unparsable are
/// refused; a request with neither header passes (the CSRF token is still required).
pub fn same_site(base_url: &str, headers: &HeaderMap) -> bool {
    let value = |name| headers.get(name).map(|v| v.to_str().unwrap_or("\u{0}"));
    let claimed = match (value(header::ORIGIN), value(header::REFERER)) {
        (Some(origin), _) => origin,
        (None, Some(referer)) => referer,
        (None, None) => return true,
    };
    let Some(claimed) = origin_of(claimed) else {
        return false;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_ascii_lowercase);
    let ours = origin_of(base_url);
    ours.as_deref() == Some(claimed.as_str())
        || host.is_some_and(|h| {
            claimed.split_once("://").is_some_and(|(_, rest)| {
                rest == h.as_str() || rest == h.trim_end_matches(":80").trim_end_matches(":443")
            })
        })
}

/// Count requests and time them, labelled by route pattern (never the raw path) and by
/// method from a fixed list (any other method a client makes up counts as `other`), so
/// clients cannot create new label sets.
pub async fn metrics_layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().clone();
    let resp = next.run(req).await;
    state.metrics.observe(
        &method,
        &route,
        resp.status().as_u16(),
        start.elapsed().as_secs_f64(),
    );
    resp
}
