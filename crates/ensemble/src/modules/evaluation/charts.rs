//! SVG charts of the report (issue 17 item 6). Each is a `<figure>` whose `<svg>` has a
//! title and a description, prints its numbers beside its marks (nothing is told by colour
//! alone), uses the Okabe–Ito palette (safe for colour-blind readers), and is always
//! followed on the page by a table of the same numbers.

use maud::{Markup, PreEscaped, html};

/// Okabe–Ito blue, bluish green, vermillion and grey.
pub const BLUE: &str = "#0072B2";
pub const GREEN: &str = "#009E73";
pub const VERMILLION: &str = "#D55E00";
pub const GREY: &str = "#6b6b6b";

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// Horizontal bars, one per category, with the value written at the end of each bar
/// ("suppressed" where the value is hidden).
pub fn bars(id: &str, title: &str, desc: &str, rows: &[(String, Option<f64>)]) -> Markup {
    let w = 640.0;
    let label_w = 230.0;
    let bar_h = 22.0;
    let gap = 8.0;
    let h = 16.0 + rows.len() as f64 * (bar_h + gap);
    let max = rows
        .iter()
        .filter_map(|r| r.1)
        .fold(0.0_f64, f64::max)
        .max(1e-9);
    let span = w - label_w - 90.0;
    let mut svg = String::new();
    for (i, (label, v)) in rows.iter().enumerate() {
        let y = 8.0 + i as f64 * (bar_h + gap);
        svg.push_str(&format!(
            r##"<text x="{:.1}" y="{:.1}" text-anchor="end" font-size="13" fill="#212b32">{}</text>"##,
            label_w - 8.0,
            y + bar_h * 0.7,
            esc(label)
        ));
        match v {
            Some(v) => {
                let bw = (v.max(0.0) / max * span).max(if *v > 0.0 { 1.0 } else { 0.0 });
                svg.push_str(&format!(
                    r##"<rect x="{label_w:.1}" y="{y:.1}" width="{bw:.1}" height="{bar_h:.1}" fill="{BLUE}"/><text x="{:.1}" y="{:.1}" font-size="13" fill="#212b32">{}</text>"##,
                    label_w + bw + 6.0,
                    y + bar_h * 0.7,
                    num(*v)
                ));
            }
            None => svg.push_str(&format!(
                r##"<text x="{:.1}" y="{:.1}" font-size="13" font-style="italic" fill="#212b32">suppressed</text>"##,
                label_w + 4.0,
                y + bar_h * 0.7
            )),
        }
    }
    figure(id, title, desc, w, h, &svg)
}

fn figure(id: &str, title: &str, desc: &str, w: f64, h: f64, inner: &str) -> Markup {
    let svg = format!(
        r##"<svg class="ensemble-report-chart" viewBox="0 0 {w:.0} {h:.0}" role="img" aria-labelledby="{id}-t {id}-d" xmlns="http://www.w3.org/2000/svg"><title id="{id}-t">{}</title><desc id="{id}-d">{}</desc>{inner}</svg>"##,
        esc(title),
        esc(desc)
    );
    html! {
        figure."ensemble-report-figure" {
            (PreEscaped(svg))
            figcaption."nhsuk-body-s" { (title) ". The same figures are in the table below." }
        }
    }
}

/// One stacked bar per score: shares improved / unchanged / worse, each segment labelled
/// with its word and percentage (a legend in words follows), in green, grey and
/// vermillion with a hatch on "worse".
pub fn shares(id: &str, title: &str, desc: &str, rows: &[(String, [Option<f64>; 3])]) -> Markup {
    let w = 640.0;
    let label_w = 200.0;
    let bar_h = 28.0;
    let gap = 26.0;
    let h = 20.0 + rows.len() as f64 * (bar_h + gap);
    let span = w - label_w - 10.0;
    let mut svg = format!(
        r##"<defs><pattern id="{id}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="{VERMILLION}"/><line x1="0" y1="0" x2="0" y2="6" stroke="#ffffff" stroke-width="2"/></pattern></defs>"##
    );
    let names = ["improved", "unchanged", "worse"];
    for (i, (label, parts)) in rows.iter().enumerate() {
        let y = 8.0 + i as f64 * (bar_h + gap);
        svg.push_str(&format!(
            r##"<text x="{:.1}" y="{:.1}" text-anchor="end" font-size="13" fill="#212b32">{}</text>"##,
            label_w - 8.0,
            y + bar_h * 0.65,
            esc(label)
        ));
        let mut x = label_w;
        let mut words = Vec::new();
        for (k, p) in parts.iter().enumerate() {
            let Some(p) = p else {
                words.push(format!("{} suppressed", names[k]));
                continue;
            };
            let bw = p * span;
            let fill = match k {
                0 => GREEN.to_string(),
                1 => GREY.to_string(),
                _ => format!("url(#{id}-hatch)"),
            };
            svg.push_str(&format!(
                r##"<rect x="{x:.1}" y="{y:.1}" width="{bw:.1}" height="{bar_h:.1}" fill="{fill}" stroke="#ffffff" stroke-width="1"/>"##
            ));
            words.push(format!("{} {:.0}%", names[k], p * 100.0));
            x += bw;
        }
        svg.push_str(&format!(
            r##"<text x="{label_w:.1}" y="{:.1}" font-size="12" fill="#212b32">{}</text>"##,
            y + bar_h + 15.0,
            esc(&words.join(" · "))
        ));
    }
    html! {
        (figure(id, title, desc, w, h, &svg))
        p."nhsuk-body-s" { "Key: solid green, improved; solid grey, unchanged; hatched vermillion, worse. Each bar is labelled underneath in words." }
    }
}

/// Other programmes' values as open circles on a line, this programme's as a filled
/// diamond labelled "this programme".
pub fn strip(id: &str, title: &str, desc: &str, others: &[f64], this: f64) -> Markup {
    let w = 640.0;
    let h = 110.0;
    let (mut lo, mut hi) = others
        .iter()
        .chain(std::iter::once(&this))
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(*v), b.max(*v))
        });
    if (hi - lo).abs() < 1e-9 {
        lo -= 1.0;
        hi += 1.0;
    }
    let pad = (hi - lo) * 0.08;
    let (lo, hi) = (lo - pad, hi + pad);
    let x = |v: f64| 40.0 + (v - lo) / (hi - lo) * (w - 80.0);
    let mut svg = format!(
        r##"<line x1="40" y1="50" x2="{:.1}" y2="50" stroke="#4c6272"/>"##,
        w - 40.0
    );
    for v in others {
        svg.push_str(&format!(
            r##"<circle cx="{:.1}" cy="50" r="6" fill="none" stroke="{GREY}" stroke-width="2"/>"##,
            x(*v)
        ));
    }
    let tx = x(this);
    svg.push_str(&format!(
        r##"<path d="M {tx:.1} 38 L {:.1} 50 L {tx:.1} 62 L {:.1} 50 Z" fill="{BLUE}"/><text x="{tx:.1}" y="30" text-anchor="middle" font-size="13" fill="#212b32">this programme: {}</text>"##,
        tx + 9.0,
        tx - 9.0,
        num(this)
    ));
    for (v, anchor) in [(lo + pad, "start"), (hi - pad, "end")] {
        svg.push_str(&format!(
            r##"<text x="{:.1}" y="85" text-anchor="{anchor}" font-size="12" fill="#212b32">{}</text>"##,
            x(v),
            num(v)
        ));
    }
    figure(id, title, desc, w, h, &svg)
}
