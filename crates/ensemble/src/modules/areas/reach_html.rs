//! `/areas/reach` (page), `/areas/reach.csv` and `GET /api/v1/areas/reach`: reach and equity
//! by national deprivation decile, for commissioners, programme managers and researchers.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use ensemble_stats::{Published, Representation};
use maud::{Markup, html};
use sqlx::Row;

use super::reach::{self, Breakdown, Reach, ReachQuery};
use super::{CITY_REGION, Edition};
use crate::error::{ApiError, AppError, FieldError};
use crate::rbac::Granted;
use crate::rbac::perm::ViewAreaAggregates;
use crate::state::AppState;
use crate::web::forms::{error_summary, select, table_wrap};
use crate::web::{Page, PageCtx, page};

/// The activity and organisation choices of the form.
pub(super) type Choices = (Vec<(String, String)>, Vec<(String, String)>);

fn count(p: Published) -> String {
    p.to_string()
}

fn ratio(r: Option<Representation>) -> String {
    match r {
        Some(r) => format!("{:.2} ({:.2} to {:.2})", r.ratio, r.ci95_low, r.ci95_high),
        None => "Not shown".into(),
    }
}

pub(super) async fn options(state: &AppState) -> Result<Choices, AppError> {
    let acts = sqlx::query(
        "SELECT id, name FROM directory_activity_names WHERE status = 'active' ORDER BY name, id",
    )
    .fetch_all(&state.db.read)
    .await?;
    let orgs = sqlx::query(
        "SELECT id, name FROM accounts_organisation_profiles WHERE id IN (SELECT organisation_id FROM directory_activity_names) ORDER BY name, id",
    )
    .fetch_all(&state.db.read)
    .await?;
    let pairs = |rows: Vec<sqlx::any::AnyRow>| -> Result<Vec<(String, String)>, sqlx::Error> {
        rows.iter()
            .map(|r| Ok((r.try_get("id")?, r.try_get("name")?)))
            .collect()
    };
    Ok((pairs(acts)?, pairs(orgs)?))
}

fn form(q: &ReachQuery, opts: &Choices, errors: &[FieldError]) -> Markup {
    let v = |o: &Option<String>| o.clone().unwrap_or_default();
    let editions: Vec<(String, String)> = Edition::ALL
        .iter()
        .map(|e| (e.code().to_string(), e.label().to_string()))
        .collect();
    let districts: Vec<(String, String)> = CITY_REGION
        .iter()
        .map(|d| (d.to_string(), d.to_string()))
        .collect();
    let bys: Vec<(String, String)> = Breakdown::ALL
        .iter()
        .map(|b| (b.code().to_string(), b.label().to_string()))
        .collect();
    html! {
        form method="get" action="/areas/reach" novalidate {
            (select("edition", "Edition of the Indices of Deprivation", &editions, &v(&q.edition), errors))
            (select("district", "District (leave unchosen for the whole city region)", &districts, &v(&q.district), errors))
            (select("activity", "Activity", &opts.0, &v(&q.activity), errors))
            (select("organisation", "Organisation", &opts.1, &v(&q.organisation), errors))
            @if let Some(p) = &q.programme { input type="hidden" name="programme" value=(p); }
            (select("by", "Break referrals down by", &bys, &v(&q.by), errors))
            button."nhsuk-button nhsuk-button--secondary" type="submit" { "Show reach" }
        }
    }
}

fn table(r: &Reach) -> Markup {
    let caption = format!(
        "Referrals and participants by national deprivation decile, {} ({})",
        r.area,
        r.filters.edition.label()
    );
    table_wrap(
        &caption,
        html! {
            table."nhsuk-table" {
                caption."nhsuk-table__caption" { (caption) }
                thead."nhsuk-table__head" { tr."nhsuk-table__row" {
                    th."nhsuk-table__header" scope="col" { "IMD decile (1 = most deprived 10% of England)" }
                    th."nhsuk-table__header" scope="col" { "Share of residents" }
                    th."nhsuk-table__header" scope="col" { "Referrals" }
                    th."nhsuk-table__header" scope="col" { "Referral ratio (95% interval)" }
                    th."nhsuk-table__header" scope="col" { "Participants" }
                    th."nhsuk-table__header" scope="col" { "Participant ratio (95% interval)" }
                } }
                tbody."nhsuk-table__body" {
                    @for row in &r.rows {
                        tr."nhsuk-table__row" {
                            th."nhsuk-table__header" scope="row" { (row.decile) }
                            td."nhsuk-table__cell" { (format!("{:.1}%", row.population_share * 100.0)) }
                            td."nhsuk-table__cell" { (count(row.referrals)) }
                            td."nhsuk-table__cell" { (ratio(row.referral_ratio)) }
                            td."nhsuk-table__cell" { (count(row.participants)) }
                            td."nhsuk-table__cell" { (ratio(row.participant_ratio)) }
                        }
                    }
                    tr."nhsuk-table__row" {
                        th."nhsuk-table__header" scope="row" { "All deciles" }
                        td."nhsuk-table__cell" { "100%" }
                        td."nhsuk-table__cell" { (count(r.referrals_total)) }
                        td."nhsuk-table__cell" { "—" }
                        td."nhsuk-table__cell" { (count(r.participants_total)) }
                        td."nhsuk-table__cell" { "—" }
                    }
                }
            }
        },
    )
}

fn breakdown(r: &Reach) -> Markup {
    let Some((labels, t)) = &r.breakdown else {
        return html! {};
    };
    let by = r.filters.by.map_or("", Breakdown::label);
    let caption = format!("Referrals by decile and {by}");
    html! {
        h2."nhsuk-heading-m" { (caption) }
        (table_wrap(&caption, html! {
            table."nhsuk-table" {
                caption."nhsuk-table__caption"."nhsuk-u-visually-hidden" { (caption) }
                thead."nhsuk-table__head" { tr."nhsuk-table__row" {
                    th."nhsuk-table__header" scope="col" { "IMD decile" }
                    @for l in labels { th."nhsuk-table__header" scope="col" { (l) } }
                    th."nhsuk-table__header" scope="col" { "All" }
                } }
                tbody."nhsuk-table__body" {
                    @for (i, row) in t.cells.iter().enumerate() {
                        tr."nhsuk-table__row" {
                            th."nhsuk-table__header" scope="row" { (i + 1) }
                            @for c in row { td."nhsuk-table__cell" { (count(*c)) } }
                            td."nhsuk-table__cell" { (count(t.row_totals[i])) }
                        }
                    }
                    tr."nhsuk-table__row" {
                        th."nhsuk-table__header" scope="row" { "All deciles" }
                        @for c in &t.column_totals { td."nhsuk-table__cell" { (count(*c)) } }
                        td."nhsuk-table__cell" { (count(t.total)) }
                    }
                }
            }
        }))
    }
}

/// `path` with the filters that are set, as a query string (the CSV links of reach and
/// barriers).
pub(super) fn link_with(path: &str, pairs: &[(&str, &Option<String>)]) -> String {
    let set: Vec<(&str, &str)> = pairs
        .iter()
        .filter_map(|(k, v)| {
            v.as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(|v| (*k, v))
        })
        .collect();
    match serde_urlencoded::to_string(&set).unwrap_or_default() {
        qs if qs.is_empty() => path.to_string(),
        qs => format!("{path}?{qs}"),
    }
}

fn csv_link(q: &ReachQuery) -> String {
    link_with(
        "/areas/reach.csv",
        &[
            ("edition", &q.edition),
            ("district", &q.district),
            ("activity", &q.activity),
            ("organisation", &q.organisation),
            ("programme", &q.programme),
        ],
    )
}

fn view(q: &ReachQuery, opts: &Choices, result: Result<&Reach, &[FieldError]>) -> Markup {
    let errors: &[FieldError] = result.err().unwrap_or(&[]);
    html! {
        div."nhsuk-grid-row" { div."nhsuk-grid-column-full" {
            (error_summary(errors))
            h1 { "Reach and equity" }
            p."nhsuk-lede-text" { "Who is referred, and who takes part, by how deprived the small area they live in is, against each decile's share of the residents of the area served." }
            (form(q, opts, errors))
            @if let Ok(r) = result {
                p."nhsuk-body" { (super::aggregates::as_at(r.as_at)) }
                (table(r))
                p."nhsuk-body" { "Referrals of people with no known small area in " (r.area) ": " (count(r.referrals_elsewhere)) "." }
                p."nhsuk-body" { a href=(csv_link(q)) download { "Download this table (CSV)" } }
                p."nhsuk-body" { a href=(format!("/areas/map?of=reach&edition={}", r.filters.edition.code())) { "Map: referral reach ratio by ward" } }
                (breakdown(r))
                h2."nhsuk-heading-s" { "How to read this" }
                ul."nhsuk-list nhsuk-list--bullet nhsuk-body-s" {
                    li { "The ratio is a decile's share of referrals (or participants) divided by its share of residents. 1 means reached in proportion; below 1, under-represented." }
                    li { "The 95% interval is the Wilson score interval of the share of referrals, divided by the population share, which is treated as fixed (census denominators)." }
                    li { "Only people who have agreed to their information being used for evaluation are counted. Counts from 1 to 7 are not shown, others are rounded to the nearest 5, and further cells are hidden where a hidden one could be worked out from the total. Ratios use the rounded counts and are not shown where the count is hidden." }
                    li { "Participants are people who attended at least one session of a referral counted here." }
                    li { "The figures are rebuilt from the referrals every " (super::aggregates::REFRESH_EVERY_MINUTES) " minutes, not at each visit: a new referral or attendance appears, and someone who withdraws their agreement leaves the figures, at the next rebuild." }
                }
            }
        } }
    }
}

/// GET /areas/reach
pub async fn page_get(
    State(state): State<AppState>,
    ctx: PageCtx,
    g: Granted<ViewAreaAggregates>,
    Query(q): Query<ReachQuery>,
) -> Result<Response, AppError> {
    let opts = options(&state).await?;
    let result = match reach::check(&state, &q).await {
        Ok(f) => Ok(reach::reach(&state, &g, f).await?),
        Err(AppError::Invalid(errors)) => Err(errors),
        Err(e) => return Err(e),
    };
    let body = view(&q, &opts, result.as_ref().map_err(Vec::as_slice));
    Ok(page(
        &ctx,
        Page::new("Reach and equity", body).errors(result.is_err()),
    ))
}

/// GET /areas/reach.csv
pub async fn csv_get(
    State(state): State<AppState>,
    g: Granted<ViewAreaAggregates>,
    Query(q): Query<ReachQuery>,
) -> Result<Response, AppError> {
    let f = reach::check(&state, &q).await?;
    let r = reach::reach(&state, &g, f).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"reach.csv\"",
            ),
        ],
        reach::csv(&r),
    )
        .into_response())
}

/// One decile of the API answer.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ReachDecile {
    /// National IMD decile (1 = most deprived 10% of England).
    pub decile: i64,
    /// The decile's share of the residents of the area served (0–1).
    pub population_share: f64,
    /// Referrals, rounded to 5; null when suppressed (fewer than 8, or to protect another cell).
    pub referrals: Option<u64>,
    /// Representation ratio of referrals with its 95% interval [ratio, low, high]; null when the count is suppressed.
    pub referral_ratio: Option<[f64; 3]>,
    /// Participants (attended at least once), rounded to 5; null when suppressed.
    pub participants: Option<u64>,
    /// Representation ratio of participants [ratio, low, high]; null when suppressed.
    pub participant_ratio: Option<[f64; 3]>,
}

/// The API answer.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ReachBody {
    pub edition: i64,
    /// The area served.
    pub area: String,
    pub deciles: Vec<ReachDecile>,
    pub referrals: Option<u64>,
    pub participants: Option<u64>,
    /// When the pre-aggregated figures were rebuilt (RFC 3339, UTC); null if never.
    pub figures_as_at: Option<String>,
    /// How often they are rebuilt, in minutes.
    pub refreshed_every_minutes: i64,
}

fn val(p: Published) -> Option<u64> {
    match p {
        Published::Value(v) => Some(v),
        Published::Suppressed => None,
    }
}

fn trio(r: Option<Representation>) -> Option<[f64; 3]> {
    r.map(|r| [r.ratio, r.ci95_low, r.ci95_high])
}

/// GET /api/v1/areas/reach
#[utoipa::path(get, path = "/api/v1/areas/reach", tag = "areas", params(ReachQuery),
    security(("token" = [])),
    responses((status = 200, description = "Referrals and participants by national IMD decile, disclosure-controlled, with representation ratios", body = ReachBody),
        (status = 401, description = "No valid token", body = crate::error::ErrorEnvelope),
        (status = 403, description = "The token lacks areas:read or the account may not see aggregates", body = crate::error::ErrorEnvelope),
        (status = 422, description = "A filter is wrong (each error names the field and value)", body = crate::error::ErrorEnvelope)))]
pub async fn api_get(
    State(state): State<AppState>,
    g: Granted<ViewAreaAggregates>,
    Query(q): Query<ReachQuery>,
) -> Result<Json<ReachBody>, ApiError> {
    let f = reach::check(&state, &q).await?;
    let r = reach::reach(&state, &g, f).await?;
    Ok(Json(ReachBody {
        edition: r.filters.edition.year(),
        area: r.area.clone(),
        deciles: r
            .rows
            .iter()
            .map(|d| ReachDecile {
                decile: d.decile,
                population_share: d.population_share,
                referrals: val(d.referrals),
                referral_ratio: trio(d.referral_ratio),
                participants: val(d.participants),
                participant_ratio: trio(d.participant_ratio),
            })
            .collect(),
        referrals: val(r.referrals_total),
        participants: val(r.participants_total),
        figures_as_at: r.as_at.and_then(|s| {
            time::OffsetDateTime::from_unix_timestamp(s.refreshed_at)
                .ok()
                .and_then(|t| {
                    t.format(&time::format_description::well_known::Rfc3339)
                        .ok()
                })
        }),
        refreshed_every_minutes: super::aggregates::REFRESH_EVERY_MINUTES,
    }))
}
