//! The directory's maps, drawn on the server as SVG: water, the city-region districts and
//! (when the view is small) their wards from `places::boundaries`, district and ward names,
//! the River Mersey, the search circle, "you are here", and numbered markers in list order.
//! The drawing is 360 units wide, so on a 390 px phone one unit is about one pixel and a
//! marker (26 units across) is a 26 px target for the eye.

use maud::{Markup, html};

use crate::modules::places::Point;
use crate::modules::places::boundaries::{self, MapBase};
use crate::modules::places::geometry::{BBox, Projection};
use crate::state::AppState;

/// Drawing width: about a phone's width in CSS pixels.
pub const WIDTH: f64 = 360.0;

/// The attribution the open-data licences ask for, shown under every map.
pub const ATTRIBUTION: &str = "Contains OS data © Crown copyright and database right. Contains Royal Mail data © Royal Mail copyright and database right. Source: Office for National Statistics licensed under the Open Government Licence v3.0.";

/// Marker radius in drawing units.
const MARKER_R: f64 = 13.0;

/// Wards are outlined when the view is narrower than this, and named when narrower still.
const WARD_LINES_M: f64 = 25_000.0;
const WARD_NAMES_M: f64 = 7_000.0;

/// Where the River Mersey is named: the narrows between Birkenhead and Liverpool, then the
/// upper estuary (the first that is in view is used).
const MERSEY_LABELS: [(f64, f64); 6] = [
    (53.400, -3.004),
    (53.392, -3.012),
    (53.420, -3.024),
    (53.372, -2.992),
    (53.338, -2.905),
    (53.350, -2.820),
];

/// The city region's box, used when there is nothing else to fit.
const REGION_BOX: BBox = BBox {
    min_lat: 53.30,
    min_lon: -3.23,
    max_lat: 53.70,
    max_lon: -2.57,
};

/// What to draw on a map.
#[derive(Debug, Clone, Default)]
pub struct MapSpec {
    /// Numbered markers (the number shown, the position).
    pub markers: Vec<(usize, Point)>,
    /// The searched place and the search radius in metres, if any.
    pub here: Option<(Point, Option<f64>)>,
    /// At least this much around the markers, in metres.
    pub margin_m: f64,
    /// Drawing height in units.
    pub height: f64,
    /// The SVG's title.
    pub title: String,
    /// The SVG's description (what the map shows, in words).
    pub desc: String,
    /// Prefix for the ids of the title and description (several maps on one page).
    pub id: String,
}

/// The box a map should show: the markers and the search circle, with a margin; the
/// region when there is nothing to show.
pub fn view_for(spec: &MapSpec) -> BBox {
    let mut pts: Vec<Point> = spec.markers.iter().map(|m| m.1).collect();
    let mut view = None;
    if let Some((c, r)) = spec.here {
        pts.push(c);
        if let Some(r) = r {
            let (a, b, l, rt) = crate::modules::places::bounding_box(c, r);
            pts.extend([Point { lat: a, lon: l }, Point { lat: b, lon: rt }]);
        }
    }
    if let Some(b) = BBox::around(pts) {
        view = Some(b.grown(spec.margin_m));
    }
    view.unwrap_or(REGION_BOX)
}

/// The boundaries in view (none when they are not imported or cannot be read: the map
/// still shows its markers).
pub async fn base(state: &AppState, view: BBox) -> MapBase {
    boundaries::in_view(&state.db, view.grown(2_000.0))
        .await
        .unwrap_or_default()
}

fn f1(v: f64) -> String {
    format!("{v:.1}")
}

/// A marker as drawn: its number, where it is drawn and where its place is.
type Placed = (usize, (f64, f64), (f64, f64));

/// Spread markers that would overlap so each number can be read: a marker closer than a
/// marker's width to one already placed moves round it, with a line back to its place.
fn placed(pr: &Projection, markers: &[(usize, Point)], pin: Option<(f64, f64)>) -> Vec<Placed> {
    let mut out: Vec<Placed> = Vec::new();
    // The "you are here" pin stands above its point: keep markers off it.
    let pin_at = pin.map(|(x, y)| (x, y - 14.0));
    for (n, p) in markers {
        let at = pr.xy(*p);
        let mut pos = at;
        let mut step = 0;
        while out.iter().any(|(_, q, _)| {
            ((q.0 - pos.0).powi(2) + (q.1 - pos.1).powi(2)).sqrt() < 2.0 * MARKER_R + 4.0
        }) || pin_at.is_some_and(|q| {
            ((q.0 - pos.0).powi(2) + (q.1 - pos.1).powi(2)).sqrt() < MARKER_R + 12.0
        }) {
            if step >= 24 {
                break;
            }
            step += 1;
            let angle = f64::from(step) * 0.9;
            let dist = (2.0 * MARKER_R + 2.0) * (1.0 + f64::from(step / 7));
            pos = (at.0 + dist * angle.cos(), at.1 + dist * angle.sin());
        }
        let clamp = |v: f64, hi: f64| v.clamp(MARKER_R + 1.0, hi - MARKER_R - 1.0);
        out.push((*n, (clamp(pos.0, pr.width), clamp(pos.1, pr.height)), at));
    }
    out
}

/// A box of text on the drawing: centre x, baseline y, half width, font size.
#[derive(Debug, Clone, Copy)]
struct TextBox {
    x: f64,
    y: f64,
    half_w: f64,
    size: f64,
}

impl TextBox {
    fn new(x: f64, y: f64, text: &str, size: f64) -> TextBox {
        TextBox {
            x,
            y,
            half_w: text.chars().count() as f64 * size * 0.3 + 2.0,
            size,
        }
    }

    fn rect(&self) -> (f64, f64, f64, f64) {
        (
            self.x - self.half_w,
            self.y - self.size,
            self.x + self.half_w,
            self.y + 3.0,
        )
    }

    fn hits_circle(&self, c: (f64, f64), r: f64) -> bool {
        let (x0, y0, x1, y1) = self.rect();
        let nx = c.0.clamp(x0, x1);
        let ny = c.1.clamp(y0, y1);
        (nx - c.0).powi(2) + (ny - c.1).powi(2) < r * r
    }

    fn hits(&self, o: &TextBox) -> bool {
        let (a0, b0, a1, b1) = self.rect();
        let (c0, d0, c1, d1) = o.rect();
        a0 < c1 && c0 < a1 && b0 < d1 && d0 < b1
    }
}

/// Place a label near `at`, trying a few nudges so it covers no marker and no label placed
/// before it; `None` when every nudge collides.
fn place_label(
    at: (f64, f64),
    text: &str,
    size: f64,
    markers: &[(f64, f64)],
    taken: &mut Vec<TextBox>,
    sideways: bool,
) -> Option<TextBox> {
    let nudges = [
        (0.0, 0.0),
        (0.0, -size - 10.0),
        (0.0, size + 10.0),
        (-40.0, 0.0),
        (40.0, 0.0),
        (0.0, 2.0 * size + 16.0),
        (0.0, -2.0 * size - 16.0),
    ];
    for (dx, dy) in nudges.into_iter().filter(|(dx, _)| sideways || *dx == 0.0) {
        let b = TextBox::new(at.0 + dx, at.1 + dy, text, size);
        let (x0, y0, x1, y1) = b.rect();
        if x0 < 0.0 || x1 > WIDTH || y0 < 0.0 || y1 > 10_000.0 {
            continue;
        }
        if markers.iter().any(|m| b.hits_circle(*m, MARKER_R + 2.0))
            || taken.iter().any(|t| t.hits(&b))
        {
            continue;
        }
        taken.push(b);
        return Some(b);
    }
    None
}

const DISTRICT_FILLS: [&str; 3] = ["#f4f1e6", "#e9efe0", "#f1e8e6"];

/// Draw the map.
pub fn draw(spec: &MapSpec, base: &MapBase) -> Markup {
    let view = view_for(spec);
    let pr = Projection::fit(view, WIDTH, spec.height);
    let visible = pr.visible();
    let width_m = visible.width_m();
    let tol = 0.6;
    let wards_drawn = width_m < WARD_LINES_M;
    let ward_names = width_m < WARD_NAMES_M;
    let have_land = base.region.is_some() || !base.districts.is_empty();
    let mersey: Vec<Point> = MERSEY_LABELS
        .iter()
        .map(|(lat, lon)| Point {
            lat: *lat,
            lon: *lon,
        })
        .filter(|p| visible.grown(-600.0).contains(*p))
        .collect();
    let title_id = format!("{}-title", spec.id);
    let desc_id = format!("{}-desc", spec.id);
    let markers = placed(&pr, &spec.markers, spec.here.map(|(c, _)| pr.xy(c)));
    let centres: Vec<(f64, f64)> = markers.iter().map(|m| m.1).collect();
    let mut taken: Vec<TextBox> = Vec::new();
    // "You are here" first, to the right of the pin unless that covers a marker.
    let here_label = spec.here.map(|(c, _)| {
        let (x, y) = pr.xy(c);
        let text = "You are here";
        let mut tries = Vec::new();
        for (dx, dy) in [(52.0, -14.0), (-52.0, -14.0), (0.0, -32.0), (0.0, 18.0)] {
            for k in [1.0, 1.6, 2.2] {
                tries.push((x + dx * k, y + (dy + 14.0) * k - 14.0));
            }
        }
        let fits = |b: &TextBox| {
            let (x0, y0, x1, y1) = b.rect();
            x0 >= 0.0 && x1 <= WIDTH && y0 >= 0.0 && y1 <= spec.height
        };
        let covered = |b: &TextBox| {
            centres
                .iter()
                .filter(|m| b.hits_circle(**m, MARKER_R + 2.0))
                .count()
        };
        let b = tries
            .iter()
            .map(|(tx, ty)| TextBox::new(*tx, *ty, text, 13.0))
            .filter(fits)
            .min_by_key(covered)
            .unwrap_or_else(|| TextBox::new(x, y - 32.0, text, 13.0));
        taken.push(b);
        b
    });
    let district_labels: Vec<(TextBox, &str)> = base
        .districts
        .iter()
        .filter(|d| visible.grown(-800.0).contains(d.label))
        .filter_map(|d| {
            place_label(pr.xy(d.label), &d.name, 14.0, &centres, &mut taken, true)
                .map(|b| (b, d.name.as_str()))
        })
        .collect();
    let river_label = if have_land {
        mersey
            .iter()
            .find_map(|m| place_label(pr.xy(*m), "River Mersey", 13.0, &centres, &mut taken, false))
    } else {
        None
    };
    let ward_labels: Vec<(TextBox, &str)> = if ward_names {
        base.wards
            .iter()
            .filter(|w| visible.grown(-300.0).contains(w.label))
            .filter_map(|w| {
                place_label(pr.xy(w.label), &w.name, 10.0, &centres, &mut taken, true)
                    .map(|b| (b, w.name.as_str()))
            })
            .collect()
    } else {
        Vec::new()
    };
    html! {
        svg."ensemble-map" viewBox=(format!("0 0 {} {}", WIDTH, spec.height)) role="img" aria-labelledby=(format!("{title_id} {desc_id}")) {
            title id=(title_id) { (spec.title) }
            desc id=(desc_id) { (spec.desc) }
            rect x="0" y="0" width=(WIDTH) height=(spec.height) fill=(if have_land { "#cfe3ef" } else { "#f0f4f5" }) {}
            g."ensemble-map__districts" {
                @for (i, d) in base.districts.iter().enumerate() {
                    path d=(pr.path(&d.rings, tol)) fill=(DISTRICT_FILLS[i % DISTRICT_FILLS.len()]) fill-rule="evenodd" stroke="#768692" stroke-width="1.2" stroke-linejoin="round" {}
                }
            }
            @if wards_drawn {
                g."ensemble-map__wards" {
                    @for w in &base.wards {
                        path d=(pr.path(&w.rings, tol)) fill="none" stroke="#aeb7bd" stroke-width="0.6" {}
                    }
                }
            }
            @if let Some(r) = &base.region {
                path."ensemble-map__region" d=(pr.path(&r.rings, tol)) fill="none" stroke="#425563" stroke-width="2" stroke-linejoin="round" {}
            }
            // Names sit directly in the drawing (not in a group), so the only grouped text
            // is the markers' numbers.
            @for (b, name) in &ward_labels {
                text."ensemble-map__ward-name" x=(f1(b.x)) y=(f1(b.y)) font-family="Arial, sans-serif" font-size="10" fill="#4c6272" text-anchor="middle" stroke="#ffffff" stroke-width="2.5" paint-order="stroke" { (name) }
            }
            @for (b, name) in &district_labels {
                text."ensemble-map__district-name" x=(f1(b.x)) y=(f1(b.y)) font-family="Arial, sans-serif" font-size="14" font-weight="bold" fill="#212b32" text-anchor="middle" stroke="#ffffff" stroke-width="3" paint-order="stroke" { (name) }
            }
            @if let Some(b) = river_label {
                text."ensemble-map__river" x=(f1(b.x)) y=(f1(b.y)) font-family="Arial, sans-serif" font-size="13" font-style="italic" fill="#004b88" text-anchor="middle" stroke="#ffffff" stroke-width="3" paint-order="stroke" { "River Mersey" }
            }
            @if let Some((c, r)) = spec.here {
                @let (x, y) = pr.xy(c);
                @if let Some(r) = r {
                    circle cx=(f1(x)) cy=(f1(y)) r=(f1(r * pr.units_per_metre())) fill="none" stroke="#005eb8" stroke-width="1.5" stroke-dasharray="6 4" {}
                }
            }
            g."ensemble-map__leaders" {
                @for (_, (x, y), (ax, ay)) in &markers {
                    @if (x - ax).abs() > 0.5 || (y - ay).abs() > 0.5 {
                        line x1=(f1(*ax)) y1=(f1(*ay)) x2=(f1(*x)) y2=(f1(*y)) stroke="#003087" stroke-width="1.5" {}
                        circle cx=(f1(*ax)) cy=(f1(*ay)) r="3" fill="#003087" {}
                    }
                }
            }
            g."ensemble-map__markers" {
                @for (n, (x, y), _) in &markers {
                    g."ensemble-map__marker" data-number=(n) {
                        circle cx=(f1(*x)) cy=(f1(*y)) r=(MARKER_R) fill="#005eb8" stroke="#ffffff" stroke-width="2" {}
                        text x=(f1(*x)) y=(f1(y + 4.5)) text-anchor="middle" font-size="13" font-weight="bold" font-family="Arial, sans-serif" fill="#ffffff" { (n) }
                    }
                }
            }
            @if let Some((c, _)) = spec.here {
                @let (x, y) = pr.xy(c);
                g."ensemble-map__here" {
                    path d=(format!("M{} {} l-8 -16 a9 9 0 1 1 16 0 z", f1(x), f1(y))) fill="#d5281b" stroke="#ffffff" stroke-width="1.5" {}
                    circle cx=(f1(x)) cy=(f1(y - 19.0)) r="3" fill="#ffffff" {}
                }
                @if let Some(b) = here_label {
                    text."ensemble-map__here-label" x=(f1(b.x)) y=(f1(b.y)) text-anchor="middle" font-family="Arial, sans-serif" font-size="13" font-weight="bold" fill="#d5281b" stroke="#ffffff" stroke-width="3" paint-order="stroke" { "You are here" }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_at_one_place_are_spread_so_each_number_shows() {
        let p = Point {
            lat: 53.4,
            lon: -2.98,
        };
        let spec = MapSpec {
            markers: vec![(1, p), (2, p), (3, p)],
            margin_m: 1000.0,
            height: 300.0,
            ..Default::default()
        };
        let pr = Projection::fit(view_for(&spec), WIDTH, spec.height);
        let m = placed(&pr, &spec.markers, None);
        for (i, a) in m.iter().enumerate() {
            for b in &m[i + 1..] {
                let d = ((a.1.0 - b.1.0).powi(2) + (a.1.1 - b.1.1).powi(2)).sqrt();
                assert!(d >= 2.0 * MARKER_R, "{a:?} {b:?}");
            }
        }
        let svg = draw(&spec, &MapBase::default()).into_string();
        assert!(svg.contains(r#"data-number="3""#), "{svg}");
    }
}
