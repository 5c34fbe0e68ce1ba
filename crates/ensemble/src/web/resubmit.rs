//! "Nothing you typed was saved": when a form could not be saved because the database was
//! unavailable (503), the error page carries what was typed back as a "Send it again" form,
//! so a person does not lose a long note. Forms with a password or a one-time code are not
//! carried back (the person is asked to go back instead), and files never are.

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use maud::{Markup, html};

/// A form to offer again: where it was sent and the fields as typed (CSRF token included,
/// which stays valid for the same visitor).
#[derive(Debug, Clone)]
pub struct Resubmit {
    action: String,
    fields: Vec<(String, String)>,
}

/// Field names never written back into a page.
const SECRET_FIELDS: [&str; 5] = ["password", "code", "secret", "recovery", "token_value"];

/// The form in an URL-encoded body posted to `path`, if it may be offered again.
pub fn from_form(path: &str, headers: &HeaderMap, body: &Bytes) -> Option<Resubmit> {
    let urlencoded = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !urlencoded || !path.starts_with('/') || path.starts_with("//") {
        return None;
    }
    let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(body).ok()?;
    let secret = fields.iter().any(|(k, _)| {
        let k = k.to_ascii_lowercase();
        SECRET_FIELDS.iter().any(|s| k.contains(s))
    });
    (!secret).then(|| Resubmit {
        action: path.to_string(),
        fields,
    })
}

/// Keep the form on a 503 answer for the error page to draw.
pub fn attach(resp: &mut Response, form: Option<Resubmit>) {
    if let Some(form) = form
        && resp.status() == StatusCode::SERVICE_UNAVAILABLE
    {
        resp.extensions_mut().insert(form);
    }
}

/// The "Send it again" form (hidden fields with what was typed).
pub fn markup(form: &Resubmit) -> Markup {
    html! {
        form method="post" action=(form.action) novalidate {
            @for (name, value) in &form.fields {
                input type="hidden" name=(name) value=(value);
            }
            p."nhsuk-body" { "What you typed is kept in this page. When Ensemble is working again, send it again:" }
            button."nhsuk-button" type="submit" data-module="nhsuk-button" { "Send it again" }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form_headers() -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONTENT_TYPE,
            "application/x-www-form-urlencoded".parse().unwrap(),
        );
        h
    }

    #[test]
    fn a_note_is_kept_but_a_password_form_is_not() {
        let note = from_form(
            "/caseload/1/note",
            &form_headers(),
            &Bytes::from("csrf_token=t&note=Long+note"),
        );
        let note = note.expect("kept");
        assert_eq!(note.fields[1], ("note".into(), "Long note".into()));
        let html = markup(&note).into_string();
        assert!(
            html.contains("value=\"Long note\"") && html.contains("action=\"/caseload/1/note\"")
        );
        assert!(
            from_form(
                "/sign-in",
                &form_headers(),
                &Bytes::from("email=a&password=b")
            )
            .is_none()
        );
        assert!(
            from_form(
                "/sign-in/code",
                &form_headers(),
                &Bytes::from("code=123456")
            )
            .is_none()
        );
        assert!(
            from_form("/x", &HeaderMap::new(), &Bytes::from("a=b")).is_none(),
            "only URL-encoded forms"
        );
    }

    #[test]
    fn the_form_is_kept_only_on_a_503() {
        let form = from_form("/x", &form_headers(), &Bytes::from("a=b"));
        let mut ok = Response::new(axum::body::Body::empty());
        attach(&mut ok, form.clone());
        assert!(ok.extensions().get::<Resubmit>().is_none());
        let mut down = Response::new(axum::body::Body::empty());
        *down.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
        attach(&mut down, form);
        assert!(down.extensions().get::<Resubmit>().is_some());
    }
}
