//! Form helpers following the NHS.UK patterns: the error summary at the top, an error
//! message above each field in error, labels and hints linked by `aria-describedby`.

use maud::{Markup, html};

use crate::error::FieldError;

use super::ctx::PageCtx;

/// The hidden CSRF field every form carries.
pub fn csrf(ctx: &PageCtx) -> Markup {
    html! { input type="hidden" name="csrf_token" value=(ctx.csrf_token); }
}

/// The error summary (nothing when there are no errors). Each entry links to its field.
pub fn error_summary(errors: &[FieldError]) -> Markup {
    if errors.is_empty() {
        return html! {};
    }
    html! {
        div."nhsuk-error-summary" data-module="nhsuk-error-summary" aria-labelledby="error-summary-title" role="alert" tabindex="-1" {
            h2."nhsuk-error-summary__title" id="error-summary-title" { "There is a problem" }
            div."nhsuk-error-summary__body" {
                ul."nhsuk-list"."nhsuk-error-summary__list" {
                    @for e in errors {
                        li { a href=(format!("#{}", e.field)) { (e.message) } }
                    }
                }
            }
        }
    }
}

fn error_for<'a>(errors: &'a [FieldError], field: &str) -> Option<&'a FieldError> {
    errors.iter().find(|e| e.field == field)
}

/// A text input field.
pub struct Input<'a> {
    /// Field name and id.
    pub name: &'a str,
    /// Visible label.
    pub label: &'a str,
    /// Current value.
    pub value: &'a str,
    /// Hint under the label.
    pub hint: Option<&'a str>,
    /// `type` attribute.
    pub kind: &'a str,
    /// `autocomplete` attribute.
    pub autocomplete: Option<&'a str>,
    /// Extra CSS width class.
    pub width: Option<&'a str>,
}

impl<'a> Input<'a> {
    /// A text input.
    pub fn new(name: &'a str, label: &'a str, value: &'a str) -> Self {
        Self {
            name,
            label,
            value,
            hint: None,
            kind: "text",
            autocomplete: None,
            width: None,
        }
    }
    /// With a hint.
    pub fn hint(mut self, hint: &'a str) -> Self {
        self.hint = Some(hint);
        self
    }
    /// With a type.
    pub fn kind(mut self, kind: &'a str) -> Self {
        self.kind = kind;
        self
    }
    /// With autocomplete.
    pub fn autocomplete(mut self, a: &'a str) -> Self {
        self.autocomplete = Some(a);
        self
    }
    /// With a width class such as `nhsuk-input--width-10`.
    pub fn width(mut self, w: &'a str) -> Self {
        self.width = Some(w);
        self
    }

    /// Render it, showing its error if any.
    pub fn render(&self, errors: &[FieldError]) -> Markup {
        let err = error_for(errors, self.name);
        let hint_id = format!("{}-hint", self.name);
        let err_id = format!("{}-error", self.name);
        let mut described = Vec::new();
        if self.hint.is_some() {
            described.push(hint_id.clone());
        }
        if err.is_some() {
            described.push(err_id.clone());
        }
        let described = described.join(" ");
        let class = match (err.is_some(), self.width) {
            (true, Some(w)) => format!("nhsuk-input nhsuk-input--error {w}"),
            (true, None) => "nhsuk-input nhsuk-input--error".to_string(),
            (false, Some(w)) => format!("nhsuk-input {w}"),
            (false, None) => "nhsuk-input".to_string(),
        };
        let value = if self.kind == "password" {
            ""
        } else {
            self.value
        };
        html! {
            div class=(if err.is_some() { "nhsuk-form-group nhsuk-form-group--error" } else { "nhsuk-form-group" }) {
                label."nhsuk-label" for=(self.name) { (self.label) }
                @if let Some(h) = self.hint { div."nhsuk-hint" id=(hint_id) { (h) } }
                @if let Some(e) = err {
                    span."nhsuk-error-message" id=(err_id) {
                        span."nhsuk-u-visually-hidden" { "Error: " } (e.message)
                    }
                }
                input class=(class) id=(self.name) name=(self.name) type=(self.kind) value=(value)
                    autocomplete=[self.autocomplete]
                    aria-describedby=[(!described.is_empty()).then_some(described.as_str())]
                    spellcheck=[(self.kind == "email" || self.kind == "password").then_some("false")];
            }
        }
    }
}

/// A select box of (value, label) options.
pub fn select(
    name: &str,
    label: &str,
    options: &[(String, String)],
    selected: &str,
    errors: &[FieldError],
) -> Markup {
    let err = error_for(errors, name);
    let err_id = format!("{name}-error");
    html! {
        div class=(if err.is_some() { "nhsuk-form-group nhsuk-form-group--error" } else { "nhsuk-form-group" }) {
            label."nhsuk-label" for=(name) { (label) }
            @if let Some(e) = err {
                span."nhsuk-error-message" id=(err_id) { span."nhsuk-u-visually-hidden" { "Error: " } (e.message) }
            }
            select class=(if err.is_some() { "nhsuk-select nhsuk-select--error" } else { "nhsuk-select" }) id=(name) name=(name)
                aria-describedby=[err.map(|_| err_id.as_str())] {
                option value="" selected[selected.is_empty()] { "Choose…" }
                @for (v, l) in options {
                    option value=(v) selected[v == selected] { (l) }
                }
            }
        }
    }
}

/// A group of checkboxes of (value, label, hint) options.
pub fn checkboxes(
    name: &str,
    legend: &str,
    options: &[(&str, &str, &str)],
    checked: &[String],
    errors: &[FieldError],
) -> Markup {
    let err = error_for(errors, name);
    html! {
        div class=(if err.is_some() { "nhsuk-form-group nhsuk-form-group--error" } else { "nhsuk-form-group" }) {
            fieldset."nhsuk-fieldset" {
                legend."nhsuk-fieldset__legend"."nhsuk-fieldset__legend--s" { (legend) }
                @if let Some(e) = err {
                    span."nhsuk-error-message" id=(format!("{name}-error")) { span."nhsuk-u-visually-hidden" { "Error: " } (e.message) }
                }
                div."nhsuk-checkboxes" data-module="nhsuk-checkboxes" {
                    @for (i, (value, label, hint)) in options.iter().enumerate() {
                        @let id = if i == 0 { name.to_string() } else { format!("{name}-{i}") };
                        div."nhsuk-checkboxes__item" {
                            input."nhsuk-checkboxes__input" id=(id) name=(name) type="checkbox" value=(value)
                                checked[checked.iter().any(|c| c == value)]
                                aria-describedby=[(!hint.is_empty()).then(|| format!("{id}-hint"))];
                            label."nhsuk-label"."nhsuk-checkboxes__label" for=(id) { (label) }
                            @if !hint.is_empty() {
                                div."nhsuk-hint"."nhsuk-checkboxes__hint" id=(format!("{id}-hint")) { (hint) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The primary submit button.
pub fn button(text: &str) -> Markup {
    html! { button."nhsuk-button" type="submit" data-module="nhsuk-button" { (text) } }
}

/// A trimmed, non-empty required value, or an error for the field.
pub fn required(value: &str, field: &str, message: &str, errors: &mut Vec<FieldError>) -> String {
    let v = value.trim().to_string();
    if v.is_empty() {
        errors.push(FieldError::new(field, message));
    }
    v
}

/// Split a form's pairs into the values of one repeated field (a checkbox group) and a
/// struct read from the rest: `serde_urlencoded` cannot put a repeated key into a `Vec`.
pub fn with_repeated<T: serde::de::DeserializeOwned>(
    pairs: Vec<(String, String)>,
    key: &str,
) -> Result<(T, Vec<String>), crate::error::AppError> {
    let (repeated, rest): (Vec<_>, Vec<_>) = pairs.into_iter().partition(|(k, _)| k == key);
    let encoded = serde_urlencoded::to_string(&rest).unwrap_or_default();
    let t = serde_urlencoded::from_str(&encoded).map_err(|e| {
        crate::error::AppError::BadRequest(format!("The form could not be read: {e}"))
    })?;
    Ok((t, repeated.into_iter().map(|(_, v)| v).collect()))
}

/// A URL-encoded form body; a body that cannot be read gets the styled 400 page.
pub struct PageForm<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> axum::extract::FromRequest<S> for PageForm<T> {
    type Rejection = crate::error::AppError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        axum::Form::<T>::from_request(req, state)
            .await
            .map(|axum::Form(t)| PageForm(t))
            .map_err(|e| {
                crate::error::AppError::BadRequest(format!(
                    "The form could not be read: {}",
                    e.body_text()
                ))
            })
    }
}

/// A textarea with label, hint and error.
pub fn textarea(name: &str, label: &str, hint: &str, value: &str, errors: &[FieldError]) -> Markup {
    let err = error_for(errors, name);
    let mut described = Vec::new();
    if !hint.is_empty() {
        described.push(format!("{name}-hint"));
    }
    if err.is_some() {
        described.push(format!("{name}-error"));
    }
    let described = described.join(" ");
    html! {
        div class=(if err.is_some() { "nhsuk-form-group nhsuk-form-group--error" } else { "nhsuk-form-group" }) {
            label."nhsuk-label" for=(name) { (label) }
            @if !hint.is_empty() { div."nhsuk-hint" id=(format!("{name}-hint")) { (hint) } }
            @if let Some(e) = err { span."nhsuk-error-message" id=(format!("{name}-error")) { span."nhsuk-u-visually-hidden" { "Error: " } (e.message) } }
            textarea class=(if err.is_some() { "nhsuk-textarea nhsuk-textarea--error" } else { "nhsuk-textarea" }) id=(name) name=(name) rows="4"
                aria-describedby=[(!described.is_empty()).then_some(described.as_str())] { (value) }
        }
    }
}

/// A group of radio buttons of (value, label) options.
pub fn radios(
    name: &str,
    legend: &str,
    options: &[(&str, &str)],
    selected: &str,
    errors: &[FieldError],
) -> Markup {
    let err = error_for(errors, name);
    html! {
        div class=(if err.is_some() { "nhsuk-form-group nhsuk-form-group--error" } else { "nhsuk-form-group" }) {
            fieldset."nhsuk-fieldset" aria-describedby=[err.map(|_| format!("{name}-error"))] {
                legend."nhsuk-fieldset__legend"."nhsuk-fieldset__legend--s" { (legend) }
                @if let Some(e) = err {
                    span."nhsuk-error-message" id=(format!("{name}-error")) { span."nhsuk-u-visually-hidden" { "Error: " } (e.message) }
                }
                div."nhsuk-radios" {
                    @for (i, (value, label)) in options.iter().enumerate() {
                        @let id = if i == 0 { name.to_string() } else { format!("{name}-{i}") };
                        div."nhsuk-radios__item" {
                            input."nhsuk-radios__input" id=(id) name=(name) type="radio" value=(value) checked[*value == selected];
                            label."nhsuk-label"."nhsuk-radios__label" for=(id) { (label) }
                        }
                    }
                }
            }
        }
    }
}

/// One row of an NHS.UK summary list (nothing when the value is empty).
pub fn summary_row(key: &str, value: &str) -> Markup {
    html! {
        @if !value.is_empty() {
            div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { (key) } dd."nhsuk-summary-list__value" { (value) } }
        }
    }
}

/// The NHS.UK date input: a fieldset with day, month and year fields named
/// `{name}-day`, `{name}-month` and `{name}-year` (their ids too, so the error summary's
/// link reaches the part in error). An error on any of the three marks the group and the
/// parts named in errors.
pub fn date_input(
    name: &str,
    legend: &str,
    hint: &str,
    value: (&str, &str, &str),
    errors: &[FieldError],
) -> Markup {
    let parts = [
        ("day", "Day", value.0, "nhsuk-input--width-2"),
        ("month", "Month", value.1, "nhsuk-input--width-2"),
        ("year", "Year", value.2, "nhsuk-input--width-4"),
    ];
    let errs: Vec<&FieldError> = parts
        .iter()
        .filter_map(|(p, ..)| error_for(errors, &format!("{name}-{p}")))
        .collect();
    let hint_id = format!("{name}-hint");
    let err_id = format!("{name}-error");
    let described = if errs.is_empty() {
        hint_id.clone()
    } else {
        format!("{hint_id} {err_id}")
    };
    html! {
        div class=(if errs.is_empty() { "nhsuk-form-group" } else { "nhsuk-form-group nhsuk-form-group--error" }) {
            fieldset."nhsuk-fieldset" role="group" aria-describedby=(described) {
                legend."nhsuk-fieldset__legend nhsuk-fieldset__legend--s" { (legend) }
                div."nhsuk-hint" id=(hint_id) { (hint) }
                @if let Some(e) = errs.first() {
                    span."nhsuk-error-message" id=(err_id) {
                        span."nhsuk-u-visually-hidden" { "Error: " } (e.message)
                    }
                }
                div."nhsuk-date-input" id=(name) {
                    @for (part, label, v, width) in parts {
                        @let id = format!("{name}-{part}");
                        @let bad = errs.iter().any(|e| e.field == id);
                        div."nhsuk-date-input__item" {
                            div."nhsuk-form-group" {
                                label."nhsuk-label nhsuk-date-input__label" for=(id) { (label) }
                                input class=(if bad { format!("nhsuk-input nhsuk-date-input__input nhsuk-input--error {width}") } else { format!("nhsuk-input nhsuk-date-input__input {width}") })
                                    id=(id) name=(id) type="text" inputmode="numeric" value=(v);
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A table in the scrollable region that keeps wide tables from pushing the page sideways on
/// a phone: the region scrolls on its own, takes the keyboard focus so that it can be
/// scrolled without a mouse, and is named after the table (`label`), so that several on one
/// page are told apart (axe `landmark-unique`).
pub fn table_wrap(label: &str, table: Markup) -> Markup {
    html! {
        div."ensemble-table-wrap" tabindex="0" role="region" aria-label=(format!("{label} (table, scrolls sideways on small screens)")) { (table) }
    }
}
