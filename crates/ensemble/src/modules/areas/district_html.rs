//! The district page's view: both editions side by side with the change, and the share of
//! neighbourhoods (LSOAs) beside the share of residents in the most deprived 10% and 20%.

use maud::{Markup, html};

use super::Edition;
use super::html::{lsoa_share, ordinal, percent, rank_note_2025, sources};
use super::summary::DistrictSummary;
use crate::web::forms::table_wrap;

/// Liverpool's district code: the policy paper's "63% of residents" claim is examined there.
const LIVERPOOL: &str = "E08000012";

fn cell(s: Option<&DistrictSummary>, f: impl Fn(&DistrictSummary) -> String) -> Markup {
    html! { td."nhsuk-table__cell" { @match s { Some(s) => (f(s)), None => "Not imported" } } }
}

fn change(
    a: Option<&DistrictSummary>,
    b: Option<&DistrictSummary>,
    f: impl Fn(&DistrictSummary) -> f64,
    dp: usize,
    unit: &str,
) -> Markup {
    html! { td."nhsuk-table__cell" {
        @if let (Some(a), Some(b)) = (a, b) {
            @let d = f(b) - f(a);
            (format!("{}{:.dp$}{unit}", if d >= 0.0 { "+" } else { "−" }, d.abs()))
        } @else { "—" }
    } }
}

fn pp(x: f64) -> f64 {
    x * 100.0
}

fn figures(s19: Option<&DistrictSummary>, s25: Option<&DistrictSummary>) -> Markup {
    let l20 = |s: &DistrictSummary| lsoa_share(s.lsoas_most_deprived_20, s.lsoas);
    let l10 = |s: &DistrictSummary| lsoa_share(s.lsoas_most_deprived_10, s.lsoas);
    let caption = "District summary, IoD2019 and IoD2025";
    table_wrap(
        caption,
        html! {
            table."nhsuk-table" {
                caption."nhsuk-table__caption" { (caption) }
                thead."nhsuk-table__head" { tr."nhsuk-table__row" {
                    th."nhsuk-table__header" scope="col" { "Measure" }
                    th."nhsuk-table__header" scope="col" { "IoD2019 (LSOA 2011)" }
                    th."nhsuk-table__header" scope="col" { "IoD2025 (LSOA 2021)" }
                    th."nhsuk-table__header" scope="col" { "Change 2019 to 2025" }
                } }
                tbody."nhsuk-table__body" {
                    tr."nhsuk-table__row" {
                        th."nhsuk-table__header" scope="row" { "Rank of average score (1 = most deprived)" }
                        (cell(s19, |s| format!("{} of {}", ordinal(s.rank_of_average_score), s.districts)))
                        (cell(s25, |s| format!("{} of {}", ordinal(s.rank_of_average_score), s.districts)))
                        td."nhsuk-table__cell" { @if let (Some(a), Some(b)) = (s19, s25) {
                            @let d = b.rank_of_average_score - a.rank_of_average_score;
                            @if d > 0 { (d) " places less deprived (of fewer districts)" } @else if d < 0 { (-d) " places more deprived" } @else { "Same rank" }
                        } @else { "—" } }
                    }
                    tr."nhsuk-table__row" {
                        th."nhsuk-table__header" scope="row" { "Average score (population-weighted)" }
                        (cell(s19, |s| format!("{:.3}", s.average_score)))
                        (cell(s25, |s| format!("{:.3}", s.average_score)))
                        (change(s19, s25, |s| s.average_score, 3, ""))
                    }
                    tr."nhsuk-table__row" {
                        th."nhsuk-table__header" scope="row" { "LSOAs" }
                        (cell(s19, |s| s.lsoas.to_string()))
                        (cell(s25, |s| s.lsoas.to_string()))
                        (change(s19, s25, |s| s.lsoas as f64, 0, ""))
                    }
                    tr."nhsuk-table__row" {
                        th."nhsuk-table__header" scope="row" { "LSOAs in the most deprived 10% in England" }
                        (cell(s19, |s| format!("{} ({})", s.lsoas_most_deprived_10, percent(l10(s)))))
                        (cell(s25, |s| format!("{} ({})", s.lsoas_most_deprived_10, percent(l10(s)))))
                        (change(s19, s25, |s| pp(l10(s)), 1, " percentage points"))
                    }
                    tr."nhsuk-table__row" {
                        th."nhsuk-table__header" scope="row" { "LSOAs in the most deprived 20% in England" }
                        (cell(s19, |s| format!("{} ({})", s.lsoas_most_deprived_20, percent(l20(s)))))
                        (cell(s25, |s| format!("{} ({})", s.lsoas_most_deprived_20, percent(l20(s)))))
                        (change(s19, s25, |s| pp(l20(s)), 1, " percentage points"))
                    }
                }
            }
        },
    )
}

fn shares(s19: Option<&DistrictSummary>, s25: Option<&DistrictSummary>) -> Markup {
    let caption = "Share of neighbourhoods (LSOAs) and share of residents in the most deprived areas of England";
    table_wrap(
        caption,
        html! {
            table."nhsuk-table" {
                caption."nhsuk-table__caption" { (caption) }
                thead."nhsuk-table__head" { tr."nhsuk-table__row" {
                    th."nhsuk-table__header" scope="col" { "Edition and band" }
                    th."nhsuk-table__header" scope="col" { "Share of LSOAs" }
                    th."nhsuk-table__header" scope="col" { "Share of residents" }
                } }
                tbody."nhsuk-table__body" {
                    @for s in [s19, s25].into_iter().flatten() {
                        @let label = Edition::from_year(s.edition).map_or("", Edition::label);
                        tr."nhsuk-table__row" {
                            th."nhsuk-table__header" scope="row" { (label) ", most deprived 10%" }
                            td."nhsuk-table__cell" { (format!("{:.2}%", lsoa_share(s.lsoas_most_deprived_10, s.lsoas) * 100.0)) " (" (s.lsoas_most_deprived_10) " of " (s.lsoas) ")" }
                            td."nhsuk-table__cell" { (format!("{:.2}%", s.share_residents_most_deprived_10 * 100.0)) @if s.population_basis != "official" { " (estimated)" } }
                        }
                        tr."nhsuk-table__row" {
                            th."nhsuk-table__header" scope="row" { (label) ", most deprived 20%" }
                            td."nhsuk-table__cell" { (format!("{:.2}%", lsoa_share(s.lsoas_most_deprived_20, s.lsoas) * 100.0)) " (" (s.lsoas_most_deprived_20) " of " (s.lsoas) ")" }
                            td."nhsuk-table__cell" { (format!("{:.2}%", s.share_residents_most_deprived_20 * 100.0)) @if s.population_basis != "official" { " (estimated)" } }
                        }
                    }
                }
            }
        },
    )
}

fn claim(name: &str, code: &str, s19: Option<&DistrictSummary>) -> Markup {
    let Some(s) = s19 else { return html! {} };
    let l20 = lsoa_share(s.lsoas_most_deprived_20, s.lsoas) * 100.0;
    let r20 = s.share_residents_most_deprived_20 * 100.0;
    html! {
        @if code == LIVERPOOL {
            div."nhsuk-inset-text" {
                p { "The policy paper says Liverpool is the third most deprived local authority, \"with 63% of residents living in the most deprived areas in England\"." }
                p { "On IoD2019 Liverpool was " (ordinal(s.rank_of_average_score)) " of " (s.districts)
                    " districts by rank of average score, so \"third\" is right on that measure. But "
                    (format!("{l20:.2}%")) " is the share of Liverpool's LSOAs (" (s.lsoas_most_deprived_20) " of " (s.lsoas)
                    ") in the most deprived 20% in England, not the share of residents. The share of residents living in those LSOAs was "
                    (format!("{r20:.1}%")) " (mid-2015 populations). Say \"63% of Liverpool's neighbourhoods\", or \"about "
                    (format!("{r20:.0}%")) " of residents\", and name the edition." }
            }
        } @else {
            p."nhsuk-body" { "On IoD2019, " (format!("{l20:.1}%")) " of " (name) "'s LSOAs were in the most deprived 20% in England, and "
                (format!("{r20:.1}%")) " of its residents lived in them. A share of neighbourhoods is not a share of people: LSOAs differ in population." }
        }
    }
}

/// The whole district page body.
pub fn view(
    name: &str,
    s19: Option<&DistrictSummary>,
    s25: Option<&DistrictSummary>,
    order: [Edition; 2],
    wards: (Edition, &[(String, String)]),
) -> Markup {
    let code = s19.or(s25).map_or("", |s| s.district_code.as_str());
    let sources_of = |e: Edition| if e == Edition::Iod2019 { s19 } else { s25 };
    html! {
        div."nhsuk-grid-row" { div."nhsuk-grid-column-full" {
            span."nhsuk-caption-l" { "Deprivation: district " (code) }
            h1 { (name) }
            div."nhsuk-inset-text" {
                p { "LSOA boundaries changed in 2021. IoD2019 ranks the 32,844 LSOAs of 2011 among 317 districts; IoD2025 ranks the 33,755 LSOAs of 2021 among 296 districts. The indices are relative, so a change in rank is not by itself a change in deprivation." }
            }
            (figures(s19, s25))
            h2."nhsuk-heading-m" { "Neighbourhoods and residents" }
            (claim(name, code, s19))
            (shares(s19, s25))
            h2."nhsuk-heading-s" { "How these figures are made" }
            ul."nhsuk-list nhsuk-list--bullet nhsuk-body-s" {
                @for e in order {
                    @if let Some(s) = sources_of(e) {
                        li { (e.label()) ": " (s.population_source) }
                    }
                }
                li { "The average score is the population-weighted mean of the district's LSOA scores; the IoD2019 LSOA score is derived from File 9's transformed domain scores with the published weights. Shares use the official national IMD deciles." }
            }
            @if s25.is_some() { (rank_note_2025()) }
            @if !wards.1.is_empty() {
                h2."nhsuk-heading-m" { "Wards (" (wards.0.label()) ")" }
                ul."nhsuk-list" {
                    @for (code, ward) in wards.1 {
                        li { a href=(format!("/areas/wards/{code}?edition={}", wards.0.code())) { (ward) } }
                    }
                }
            }
            @if super::CITY_REGION.contains(&code) {
                h2."nhsuk-heading-m" { "Maps by small area" }
                ul."nhsuk-list" {
                    @for e in order {
                        li { a href=(format!("/areas/map?of=deprivation&level=lsoa&district={code}&edition={}", e.code())) { "Deprivation decile of every small area of " (name) ", " (e.label()) " (" (e.geography()) ")" } }
                    }
                }
            }
            p."nhsuk-body" { a href="/areas" { "All Liverpool City Region districts" } }
            (sources())
        } }
    }
}
