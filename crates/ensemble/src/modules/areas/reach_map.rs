//! `/areas/map?of=reach` (issue 16 item 6, reach ratio): each ward of the city region
//! shaded by its referral representation ratio (its share of referrals ÷ its share of
//! residents) in three labelled classes, from the pre-aggregated counts per small area, for
//! roles allowed aggregates only. Disclosure control first: each ward's referrals are
//! protected as one column with its total (primary suppression of 1–7, rounding to 5,
//! secondary suppression), and the ratio uses the published counts; a suppressed ward shows
//! as "suppressed / too few", never as a ratio. The same figures are in a table beside it.

use std::collections::{BTreeMap, HashMap};

use axum::response::IntoResponse;
use ensemble_stats::{DisclosurePolicy, Published, protect_table};
use maud::{Markup, html};

use sqlx::Row;

use super::provision_html::edition_links;
use super::{CITY_REGION, Edition};
use crate::db::{Bind, bind_all};
use crate::error::AppError;
use crate::modules::places::boundaries::{self, Boundary};
use crate::modules::places::geometry::Projection;
use crate::rbac::Granted;
use crate::rbac::perm::ViewAreaAggregates;
use crate::state::AppState;
use crate::web::forms::table_wrap;
use crate::web::{Page, PageCtx, page};

/// The classes: (fill, text fill, label).
const CLASSES: [(&str, &str, &str); 3] = [
    ("#440154", "#ffffff", "under-reached: ratio below 0.8"),
    ("#21918c", "#ffffff", "about in proportion: 0.8 to 1.25"),
    ("#fde725", "#212b32", "over-reached: above 1.25"),
];

/// The class (1-based) of a ratio.
pub fn class_of(ratio: f64) -> usize {
    if ratio < 0.8 {
        1
    } else if ratio <= 1.25 {
        2
    } else {
        3
    }
}

/// One ward's row: name, district, residents, published referrals and the ratio.
#[derive(Debug, Clone)]
pub struct WardReach {
    pub code: String,
    pub name: String,
    pub district: String,
    pub residents: i64,
    pub referrals: Published,
    pub ratio: Option<f64>,
}

/// The wards of the city region with their published referrals and ratios, and the
/// published total; only with the aggregates proof.
pub async fn ward_reach(
    state: &AppState,
    _g: &Granted<ViewAreaAggregates>,
    e: Edition,
) -> Result<(Vec<WardReach>, Published), AppError> {
    let refs = super::aggregates::lsoa_referrals(state, e).await?;
    let marks: Vec<String> = (0..CITY_REGION.len())
        .map(|i| format!("${}", i + 2))
        .collect();
    let sql = format!(
        "SELECT l.code, w.ward_code, w.ward_name, w.district_name, l.population, l.income_numerator, l.income_score \
         FROM area_lsoas l JOIN area_lsoa_wards w ON w.edition = l.edition AND w.lsoa_code = l.code \
         WHERE l.edition = $1 AND w.district_code IN ({})",
        marks.join(", ")
    );
    let mut binds = vec![Bind::I(e.year())];
    binds.extend(CITY_REGION.iter().map(|d| Bind::T(d.to_string())));
    let lsoas = bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), &binds)
        .fetch_all(&state.db.read)
        .await?;
    // ward code → (name, district, residents, referrals)
    let mut wards: BTreeMap<String, (String, String, i64, u64)> = BTreeMap::new();
    for l in &lsoas {
        let code: String = l.try_get("code")?;
        let pop: Option<i64> = l.try_get("population")?;
        let num: Option<f64> = l.try_get("income_numerator")?;
        let rate: Option<f64> = l.try_get("income_score")?;
        // As the reach table: the official population, or income-deprived people ÷ rate.
        let pop = match (pop, num, rate) {
            (Some(p), _, _) => p,
            (None, Some(n), Some(r)) if r > 0.0 => (n / r).round() as i64,
            _ => 0,
        };
        let w = wards.entry(l.try_get("ward_code")?).or_insert((
            l.try_get("ward_name")?,
            l.try_get("district_name")?,
            0,
            0,
        ));
        w.2 += pop.max(0);
        w.3 += refs.get(&code).copied().unwrap_or(0);
    }
    let counts: Vec<Vec<u64>> = wards.values().map(|w| vec![w.3]).collect();
    let t = protect_table(&counts, DisclosurePolicy::default());
    let residents: i64 = wards.values().map(|w| w.2).sum();
    let rows = wards
        .into_iter()
        .zip(t.cells)
        .map(|((code, (name, district, pop, _)), cell)| {
            let ratio = match (cell[0], t.total) {
                (Published::Value(c), Published::Value(n)) if n > 0 && pop > 0 && residents > 0 => {
                    Some((c as f64 / n as f64) / (pop as f64 / residents as f64))
                }
                _ => None,
            };
            WardReach {
                code,
                name,
                district,
                residents: pop,
                referrals: cell[0],
                ratio,
            }
        })
        .collect();
    Ok((rows, t.total))
}

/// The page (called by `maps::map_page` for `of=reach`): sign-in first, then the permission.
pub async fn page_for(
    state: &AppState,
    ctx: &PageCtx,
    e: Edition,
) -> Result<axum::response::Response, AppError> {
    let Some(actor) = ctx.actor() else {
        // As the policy layer does for pages that need a role: to sign-in, then back.
        let next = format!("/areas/map?of=reach&edition={}", e.code());
        let qs = serde_urlencoded::to_string([("next", next.as_str())]).unwrap_or_default();
        return Ok(axum::response::Redirect::to(&format!("/sign-in?{qs}")).into_response());
    };
    let g = Granted::<ViewAreaAggregates>::check(&actor).map_err(|_| AppError::Forbidden)?;
    let (rows, total) = ward_reach(state, &g, e).await?;
    let as_at = super::aggregates::status(state).await?;
    let (region, outlines) = match boundaries::region_outline(&state.db).await? {
        Some(r) => {
            let w = boundaries::wards_in_view(&state.db, r.bbox).await?;
            (Some(r), w)
        }
        None => (None, Vec::new()),
    };
    let title = format!("Map: referral reach ratio by ward ({})", e.label());
    let body = view(e, &title, region.as_ref(), &outlines, &rows, total, as_at);
    Ok(page(ctx, Page::new(&title, body)))
}

fn figure(w: Option<&WardReach>) -> (Option<usize>, String) {
    match w {
        None => (None, "no data".into()),
        Some(w) => match (w.referrals, w.ratio) {
            (Published::Suppressed, _) => (None, "suppressed / too few".into()),
            (_, Some(r)) => (Some(class_of(r)), format!("ratio {r:.2}")),
            (_, None) => (None, "no residents figure".into()),
        },
    }
}

fn view(
    e: Edition,
    title: &str,
    region: Option<&Boundary>,
    outlines: &[Boundary],
    rows: &[WardReach],
    total: Published,
    as_at: Option<super::aggregates::Refreshed>,
) -> Markup {
    let by_code: HashMap<&str, &WardReach> = rows.iter().map(|w| (w.code.as_str(), w)).collect();
    html! {
        div."nhsuk-grid-row" { div."nhsuk-grid-column-full" {
            h1 { (title) }
            p."nhsuk-lede-text" { "Each ward of the Liverpool City Region shaded by its share of referrals divided by its share of residents: below 1, fewer referrals than its population would suggest." }
            (edition_links("/areas/map", e, "&of=reach"))
            p."nhsuk-body" {
                a href=(format!("/areas/map?of=deprivation&edition={}", e.code())) { "Show deprivation decile instead" }
                " · "
                a href=(format!("/areas/map?of=provision&edition={}", e.code())) { "Show activities per 10,000 residents instead" }
                " · "
                a href=(format!("/areas/reach?edition={}", e.code())) { "Reach by deprivation decile" }
            }
            p."nhsuk-body" { (super::aggregates::as_at(as_at)) " Referrals counted in all: " (total) "." }
            @match region {
                None => div."nhsuk-inset-text" { p { "Ward boundaries have not been imported yet, so the map cannot be drawn. The table below has the same figures." } },
                Some(r) => (svg(title, r, outlines, &by_code)),
            }
            h2."nhsuk-heading-s" { "Legend" }
            p."nhsuk-body-s" { "Each ward shows its class number as well as its colour. Hatched wards are suppressed (too few referrals to show) or have no data." }
            ul."nhsuk-list nhsuk-body-s" {
                @for (i, (fill, text, label)) in CLASSES.iter().enumerate() {
                    li {
                        svg width="28" height="20" viewBox="0 0 28 20" aria-hidden="true" focusable="false" {
                            rect x="0" y="0" width="28" height="20" fill=(fill) stroke="#425563" {}
                            text x="14" y="15" font-size="13" font-family="Arial, sans-serif" text-anchor="middle" fill=(text) { (i + 1) }
                        }
                        " Class " (i + 1) ": " (label)
                    }
                }
            }
            (table(rows))
            h2."nhsuk-heading-s" { "How to read this" }
            ul."nhsuk-list nhsuk-list--bullet nhsuk-body-s" {
                li { "Referrals are those of people who have agreed to their information being used for evaluation, counted by the ward they live in. Counts from 1 to 7 are not shown, others are rounded to the nearest 5, and further wards are hidden where a hidden one could be worked out from the total. Ratios use the rounded counts." }
                li { "Residents are the small areas' population figures of the edition, summed by ward. The figures are rebuilt every " (super::aggregates::REFRESH_EVERY_MINUTES) " minutes; someone who withdraws their agreement leaves them at the next rebuild." }
            }
            (super::html::sources())
        } }
    }
}

fn svg(
    title: &str,
    region: &Boundary,
    outlines: &[Boundary],
    by_code: &HashMap<&str, &WardReach>,
) -> Markup {
    let pr = Projection::fit(region.bbox, 800.0, 640.0);
    let tol = 0.6;
    let desc = format!(
        "Choropleth map of {} wards: referral reach ratio in three classes, suppressed wards hatched. The same figures are in the table below the map; each ward links to its row.",
        outlines.len()
    );
    html! {
        svg."ensemble-map" viewBox="0 0 800 640" role="group" aria-labelledby="reach-map-title" aria-describedby="reach-map-desc" {
            title id="reach-map-title" { (title) }
            desc id="reach-map-desc" { (desc) }
            defs {
                pattern id="reach-none" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)" {
                    rect width="8" height="8" fill="#f0f4f5" {}
                    line x1="0" y1="0" x2="0" y2="8" stroke="#768692" stroke-width="2" {}
                }
            }
            rect x="0" y="0" width="800" height="640" fill="#ffffff" {}
            @for b in outlines {
                @let w = by_code.get(b.code.as_str()).copied();
                @let (class, value) = figure(w);
                @let fill = class.map_or("url(#reach-none)", |c| CLASSES[c - 1].0);
                a href=(format!("#reach-ward-{}", b.code)) aria-label=(format!("{}: {value}", b.name)) {
                    title { (b.name) ": " (value) }
                    path d=(pr.path(&b.rings, tol)) fill=(fill) fill-rule="evenodd" stroke="#ffffff" stroke-width="0.8" {}
                }
            }
            path d=(pr.path(&region.rings, tol)) fill="none" stroke="#212b32" stroke-width="1.5" {}
            g aria-hidden="true" {
                @for b in outlines {
                    @if let (Some(c), _) = figure(by_code.get(b.code.as_str()).copied()) {
                        @let (x, y) = pr.xy(b.label);
                        text x=(format!("{x:.1}")) y=(format!("{:.1}", y + 3.0)) font-size="9" font-family="Arial, sans-serif" text-anchor="middle" fill=(CLASSES[c - 1].1) { (c) }
                    }
                }
            }
        }
    }
}

fn table(rows: &[WardReach]) -> Markup {
    let caption = "Referral reach ratio by ward (the figures on the map)";
    let mut sorted: Vec<&WardReach> = rows.iter().collect();
    sorted.sort_by(|a, b| (&a.district, &a.name).cmp(&(&b.district, &b.name)));
    table_wrap(
        caption,
        html! {
            table."nhsuk-table" {
                caption."nhsuk-table__caption" { (caption) }
                thead."nhsuk-table__head" { tr."nhsuk-table__row" {
                    th."nhsuk-table__header" scope="col" { "Ward" }
                    th."nhsuk-table__header" scope="col" { "District" }
                    th."nhsuk-table__header" scope="col" { "Residents" }
                    th."nhsuk-table__header" scope="col" { "Referrals" }
                    th."nhsuk-table__header" scope="col" { "Reach ratio" }
                    th."nhsuk-table__header" scope="col" { "Class on the map" }
                } }
                tbody."nhsuk-table__body" {
                    @for w in sorted {
                        @let (class, value) = figure(Some(w));
                        tr."nhsuk-table__row" id=(format!("reach-ward-{}", w.code)) {
                            th."nhsuk-table__header" scope="row" { (w.name) }
                            td."nhsuk-table__cell" { (w.district) }
                            td."nhsuk-table__cell" { (w.residents) }
                            td."nhsuk-table__cell" { (w.referrals) }
                            td."nhsuk-table__cell" { @match w.ratio { Some(r) if matches!(w.referrals, Published::Value(_)) => (format!("{r:.2}")), _ => "Not shown" } }
                            td."nhsuk-table__cell" { @match class { Some(c) => (format!("{c}: {}", CLASSES[c - 1].2)), None => (value) } }
                        }
                    }
                }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::class_of;

    #[test]
    fn reach_classes_have_their_stated_bounds() {
        assert_eq!(class_of(0.79), 1);
        assert_eq!(class_of(0.8), 2);
        assert_eq!(class_of(1.25), 2);
        assert_eq!(class_of(1.2501), 3);
    }
}
