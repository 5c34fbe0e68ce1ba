//! The page shell: head, skip link, header with role-aware navigation, main, footer.
//! Every page is rendered through [`page`], so every page has a `<title>` and the same
//! landmarks.

use axum::response::{Html, IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};

use crate::rbac::{Actor, Role};

use super::assets::ASSETS;
use super::ctx::PageCtx;

/// A page to render.
pub struct Page<'a> {
    /// `<title>` prefix and usually the `<h1>`.
    pub title: &'a str,
    /// Main content (must contain the `<h1>`).
    pub body: Markup,
    /// A back link shown above the content.
    pub back: Option<(&'a str, &'a str)>,
    /// Prefix the title with "Error: " (pages re-shown with validation errors).
    pub has_errors: bool,
    /// An Atom feed of this page's news, linked from `<head>` as (href, title).
    pub feed: Option<(&'a str, &'a str)>,
}

impl<'a> Page<'a> {
    /// A page with a title and content.
    pub fn new(title: &'a str, body: Markup) -> Self {
        Self {
            title,
            body,
            back: None,
            has_errors: false,
            feed: None,
        }
    }

    /// Add a back link.
    pub fn back(mut self, href: &'a str, text: &'a str) -> Self {
        self.back = Some((href, text));
        self
    }

    /// Link an Atom feed from `<head>` (`rel="alternate"`), so feed readers find it.
    pub fn feed(mut self, href: &'a str, title: &'a str) -> Self {
        self.feed = Some((href, title));
        self
    }

    /// Mark as showing validation errors.
    pub fn errors(mut self, has: bool) -> Self {
        self.has_errors = has;
        self
    }
}

/// One navigation entry.
struct NavItem {
    href: &'static str,
    text: &'static str,
}

fn navigation(actor: Option<&Actor>) -> Vec<NavItem> {
    let mut items = vec![
        NavItem {
            href: "/",
            text: "Home",
        },
        NavItem {
            href: "/activities",
            text: "Find activities",
        },
    ];
    let Some(actor) = actor else {
        items.push(NavItem {
            href: "/refer-yourself",
            text: "Refer yourself",
        });
        return items;
    };
    if actor.has_role(Role::Participant) {
        items.push(NavItem {
            href: "/my/plan",
            text: "My plan",
        });
        items.push(NavItem {
            href: "/check-ins",
            text: "Check-ins",
        });
    }
    if actor.has_role(Role::LinkWorker) {
        items.push(NavItem {
            href: "/caseload",
            text: "Caseload",
        });
    } else if actor.has_role(Role::Clinician) {
        items.push(NavItem {
            href: "/referrals/sent",
            text: "Referrals",
        });
    }
    if actor.has_role(Role::ProgrammeManager) || actor.has_role(Role::Practitioner) {
        items.push(NavItem {
            href: "/provider/referrals",
            text: "Referrals to you",
        });
    }
    if actor.has_role(Role::Practitioner) || actor.has_role(Role::ProgrammeManager) {
        items.push(NavItem {
            href: "/sessions",
            text: "Sessions",
        });
    }
    if actor.has_role(Role::LinkWorker)
        || actor.has_role(Role::Practitioner)
        || actor.has_role(Role::ProgrammeManager)
    {
        items.push(NavItem {
            href: "/measures",
            text: "Measures",
        });
    }
    if actor.has_role(Role::ProgrammeManager) || actor.has_role(Role::CoResearcher) {
        items.push(NavItem {
            href: "/measures/design",
            text: "Co-design",
        });
    }
    items.push(NavItem {
        href: "/programmes",
        text: "Programmes",
    });
    if actor.has_role(Role::Commissioner)
        || actor.has_role(Role::Researcher)
        || actor.has_role(Role::ProgrammeManager)
    {
        items.push(NavItem {
            href: "/evaluation",
            text: "Evaluation",
        });
    }
    if actor.has_role(Role::Researcher) {
        items.push(NavItem {
            href: "/research/datasets",
            text: "Datasets",
        });
    }
    if actor.has_role(Role::ProgrammeManager) || actor.has_role(Role::Administrator) {
        items.push(NavItem {
            href: "/manage/activities",
            text: "Your activities",
        });
    }
    if actor.is_staff() {
        items.push(NavItem {
            href: "/organisations",
            text: "Organisations",
        });
    }
    items.push(NavItem {
        href: "/account",
        text: "My account",
    });
    if actor.has_role(Role::Administrator) {
        items.push(NavItem {
            href: "/admin",
            text: "Administration",
        });
    }
    items
}

fn is_current(path: &str, href: &str) -> bool {
    if href == "/" {
        path == "/"
    } else {
        path == href || path.starts_with(&format!("{href}/"))
    }
}

/// Render the shell around content.
pub fn shell(ctx: Option<&PageCtx>, page: Page<'_>) -> Markup {
    let actor = ctx.and_then(PageCtx::actor);
    let path = ctx.map(|c| c.path.as_str()).unwrap_or("");
    let has_session = ctx.is_some_and(PageCtx::has_session);
    let title = if page.has_errors {
        format!("Error: {} – Ensemble", page.title)
    } else {
        format!("{} – Ensemble", page.title)
    };
    html! {
        (DOCTYPE)
        html lang="en-GB" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                link rel="stylesheet" href=(ASSETS.url("/assets/vendor/nhsuk-frontend/nhsuk-frontend.min.css"));
                link rel="stylesheet" href=(ASSETS.url("/assets/css/ensemble.css"));
                @if let Some((href, title)) = page.feed {
                    link rel="alternate" type="application/atom+xml" href=(href) title=(title);
                }
                link rel="icon" href=(ASSETS.url("/assets/vendor/nhsuk-frontend/images/favicon.svg")) type="image/svg+xml";
                script type="module" src=(ASSETS.url("/assets/js/init.js")) {}
            }
            body {
                a.nhsuk-skip-link href="#maincontent" { "Skip to main content" }
                header.nhsuk-header data-module="nhsuk-header" role="banner" {
                    div."nhsuk-header__container"."nhsuk-width-container" {
                        div."nhsuk-header__service" {
                            a."nhsuk-header__service-name" href="/" { "Ensemble" }
                        }
                        nav."nhsuk-header__account" aria-label="Account" {
                            ul."nhsuk-header__account-list" {
                                @if let Some(a) = &actor {
                                    li."nhsuk-header__account-item" {
                                        span."nhsuk-header__account-text" { (a.display_name) }
                                    }
                                }
                                @if has_session {
                                    li."nhsuk-header__account-item" {
                                        form."nhsuk-header__account-form" action="/sign-out" method="post" {
                                            input type="hidden" name="csrf_token" value=(ctx.map(|c| c.csrf_token.as_str()).unwrap_or(""));
                                            button."nhsuk-header__account-button" type="submit" { "Sign out" }
                                        }
                                    }
                                } @else {
                                    li."nhsuk-header__account-item" {
                                        a."nhsuk-header__account-link" href="/sign-in" { "Sign in" }
                                    }
                                }
                            }
                        }
                    }
                    nav."nhsuk-header__navigation" aria-label="Menu" {
                        div."nhsuk-header__navigation-container"."nhsuk-width-container" {
                            ul."nhsuk-header__navigation-list" {
                                @let items = navigation(actor.as_ref());
                                // The most specific matching item is the current one.
                                @let current = items.iter().filter(|i| is_current(path, i.href)).map(|i| i.href).max_by_key(|h| h.len());
                                @for item in items.iter() {
                                    @if current == Some(item.href) {
                                        li."nhsuk-header__navigation-item"."nhsuk-header__navigation-item--current" {
                                            a."nhsuk-header__navigation-link" href=(item.href) aria-current="page" {
                                                strong."nhsuk-header__navigation-item-current-fallback" { (item.text) }
                                            }
                                        }
                                    } @else {
                                        li."nhsuk-header__navigation-item" {
                                            a."nhsuk-header__navigation-link" href=(item.href) { (item.text) }
                                        }
                                    }
                                }
                                li."nhsuk-header__menu" hidden {
                                    button."nhsuk-header__menu-toggle"."nhsuk-header__navigation-link" id="toggle-menu" aria-expanded="false" type="button" {
                                        span."nhsuk-u-visually-hidden" { "Browse " }
                                        "More"
                                    }
                                }
                            }
                        }
                    }
                }
                div."nhsuk-width-container" {
                    @if let Some((href, text)) = page.back {
                        // In a landmark of its own, so that all content is in a region.
                        nav."nhsuk-back-link" aria-label="Back" {
                            a."nhsuk-back-link__link" href=(href) { (text) }
                        }
                    }
                    main."nhsuk-main-wrapper" id="maincontent" {
                        (page.body)
                    }
                }
                footer.nhsuk-footer role="contentinfo" {
                    div."nhsuk-width-container" {
                        h2."nhsuk-u-visually-hidden" { "Support links" }
                        div."nhsuk-footer__meta" {
                            ul."nhsuk-footer__list" {
                                li."nhsuk-footer__list-item" { a."nhsuk-footer__list-item-link" href="/accessibility" { "Accessibility statement" } }
                                li."nhsuk-footer__list-item" { a."nhsuk-footer__list-item-link" href="/privacy" { "Privacy notice" } }
                            }
                            p."nhsuk-body-s" { "Ensemble is open-source software for co-produced community creative health." }
                        }
                    }
                }
            }
        }
    }
}

/// Render a full page as a response. A page that shows input errors (`Page::errors`)
/// answers 422, so every re-rendered form says the same thing to browsers and tests.
pub fn page(ctx: &PageCtx, page: Page<'_>) -> Response {
    let status = if page.has_errors {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        axum::http::StatusCode::OK
    };
    (status, Html(shell(Some(ctx), page).into_string())).into_response()
}

/// Format Unix seconds as a UK date and wall-clock time, marked GMT or BST (as people in
/// the UK read clocks), e.g. `6 Jul 2026, 14:05 BST`.
pub fn datetime(ts: i64) -> String {
    let fmt = time::macros::format_description!(
        "[day padding:none] [month repr:short] [year], [hour]:[minute]"
    );
    let local = crate::db::uk::local(ts);
    let zone = if local.offset().is_utc() {
        "GMT"
    } else {
        "BST"
    };
    local
        .format(fmt)
        .map(|t| format!("{t} {zone}"))
        .unwrap_or_else(|_| ts.to_string())
}

/// Format Unix seconds as a UK date in words, e.g. `6 July 2026` (for participants' pages).
pub fn long_date(ts: i64) -> String {
    let fmt = time::macros::format_description!("[day padding:none] [month repr:long] [year]");
    crate::db::uk::local(ts)
        .format(fmt)
        .unwrap_or_else(|_| ts.to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_long_date_is_in_words() {
        assert_eq!(super::long_date(1_783_340_700), "6 July 2026");
    }

    #[test]
    fn times_are_shown_in_uk_time_marked_gmt_or_bst() {
        // 2026-07-06 13:05 UTC is 14:05 in British Summer Time; 2026-12-06 13:05 UTC is GMT.
        assert_eq!(super::datetime(1_783_343_100), "6 Jul 2026, 14:05 BST");
        assert_eq!(super::datetime(1_796_562_300), "6 Dec 2026, 13:05 GMT");
    }
}
