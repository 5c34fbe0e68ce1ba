//! Plane geometry for drawing maps: the projection shared by every map (so markers and
//! boundaries line up), Douglas–Peucker simplification, and dissolving polygons that share
//! edges into their outline (wards into districts, districts into the city region).

use std::collections::HashMap;

use super::Point;

/// Metres per degree of latitude on the mean sphere.
const M_PER_DEG: f64 = 111_195.0;

/// A latitude/longitude box.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BBox {
    /// South edge.
    pub min_lat: f64,
    /// West edge.
    pub min_lon: f64,
    /// North edge.
    pub max_lat: f64,
    /// East edge.
    pub max_lon: f64,
}

impl BBox {
    /// The box around some points (`None` when there are none).
    pub fn around(points: impl IntoIterator<Item = Point>) -> Option<BBox> {
        let mut b: Option<BBox> = None;
        for p in points {
            let n = b.get_or_insert(BBox {
                min_lat: p.lat,
                min_lon: p.lon,
                max_lat: p.lat,
                max_lon: p.lon,
            });
            n.min_lat = n.min_lat.min(p.lat);
            n.max_lat = n.max_lat.max(p.lat);
            n.min_lon = n.min_lon.min(p.lon);
            n.max_lon = n.max_lon.max(p.lon);
        }
        b
    }

    /// Do the boxes overlap?
    pub fn intersects(&self, o: &BBox) -> bool {
        self.min_lat <= o.max_lat
            && o.min_lat <= self.max_lat
            && self.min_lon <= o.max_lon
            && o.min_lon <= self.max_lon
    }

    /// Is the point inside?
    pub fn contains(&self, p: Point) -> bool {
        (self.min_lat..=self.max_lat).contains(&p.lat)
            && (self.min_lon..=self.max_lon).contains(&p.lon)
    }

    /// Width in metres (at the middle latitude).
    pub fn width_m(&self) -> f64 {
        let k = ((self.min_lat + self.max_lat) / 2.0).to_radians().cos();
        (self.max_lon - self.min_lon) * k * M_PER_DEG
    }

    /// Grown by `m` metres on every side.
    pub fn grown(&self, m: f64) -> BBox {
        let dlat = m / M_PER_DEG;
        let k = ((self.min_lat + self.max_lat) / 2.0)
            .to_radians()
            .cos()
            .max(0.01);
        let dlon = m / (M_PER_DEG * k);
        BBox {
            min_lat: self.min_lat - dlat,
            min_lon: self.min_lon - dlon,
            max_lat: self.max_lat + dlat,
            max_lon: self.max_lon + dlon,
        }
    }
}

/// The map projection: longitude scaled by the cosine of the view's middle latitude
/// (equirectangular), fitted to a drawing of `width` × `height` units with `pad` around it,
/// north up. Every map draws markers and boundaries through one of these.
#[derive(Debug, Clone, Copy)]
pub struct Projection {
    lon0: f64,
    lat1: f64,
    k: f64,
    scale: f64,
    off_x: f64,
    off_y: f64,
    /// Drawing width (the SVG viewBox width).
    pub width: f64,
    /// Drawing height.
    pub height: f64,
}

impl Projection {
    /// Fit `view` into `width` × `height`, keeping its shape and centring it.
    pub fn fit(view: BBox, width: f64, height: f64) -> Projection {
        let k = ((view.min_lat + view.max_lat) / 2.0).to_radians().cos();
        let w = ((view.max_lon - view.min_lon) * k).max(1e-9);
        let h = (view.max_lat - view.min_lat).max(1e-9);
        let scale = (width / w).min(height / h);
        Projection {
            lon0: view.min_lon,
            lat1: view.max_lat,
            k,
            scale,
            off_x: (width - w * scale) / 2.0,
            off_y: (height - h * scale) / 2.0,
            width,
            height,
        }
    }

    /// Drawing coordinates of a point.
    pub fn xy(&self, p: Point) -> (f64, f64) {
        (
            self.off_x + (p.lon - self.lon0) * self.k * self.scale,
            self.off_y + (self.lat1 - p.lat) * self.scale,
        )
    }

    /// Drawing units per metre.
    pub fn units_per_metre(&self) -> f64 {
        self.scale / M_PER_DEG
    }

    /// What the drawing shows, as a box (a little more than the fitted view when its shape
    /// differs from the drawing's).
    pub fn visible(&self) -> BBox {
        let lon = |x: f64| self.lon0 + (x - self.off_x) / (self.k * self.scale);
        let lat = |y: f64| self.lat1 - (y - self.off_y) / self.scale;
        BBox {
            min_lat: lat(self.height),
            max_lat: lat(0.0),
            min_lon: lon(0.0),
            max_lon: lon(self.width),
        }
    }

    /// An SVG path (`M… L… Z` per ring) of some rings, simplified to `tolerance` drawing
    /// units; rings that shrink below a unit are left out.
    pub fn path(&self, rings: &[Vec<Point>], tolerance: f64) -> String {
        let mut d = String::new();
        for ring in rings {
            let pts: Vec<(f64, f64)> = ring.iter().map(|p| self.xy(*p)).collect();
            let kept = simplify(&pts, tolerance);
            if kept.len() < 3 {
                continue;
            }
            let b = kept.iter().fold((f64::MAX, f64::MIN), |(lo, hi), p| {
                (lo.min(p.0), hi.max(p.0))
            });
            if b.1 - b.0 < 1.0 {
                continue;
            }
            for (i, (x, y)) in kept.iter().enumerate() {
                d.push_str(&format!(
                    "{}{:.1} {:.1}",
                    if i == 0 { "M" } else { "L" },
                    x,
                    y
                ));
            }
            d.push('Z');
        }
        d
    }
}

/// Douglas–Peucker: the points of a line kept when every dropped point lies within
/// `tolerance` of the simplified line. The first and last points are always kept.
pub fn simplify(pts: &[(f64, f64)], tolerance: f64) -> Vec<(f64, f64)> {
    if pts.len() < 3 {
        return pts.to_vec();
    }
    let mut keep = vec![false; pts.len()];
    keep[0] = true;
    keep[pts.len() - 1] = true;
    let mut stack = vec![(0usize, pts.len() - 1)];
    while let Some((a, b)) = stack.pop() {
        if b <= a + 1 {
            continue;
        }
        let (mut far, mut idx) = (0.0, a);
        for (i, p) in pts.iter().enumerate().take(b).skip(a + 1) {
            let d = segment_distance(*p, pts[a], pts[b]);
            if d > far {
                far = d;
                idx = i;
            }
        }
        if far > tolerance {
            keep[idx] = true;
            stack.push((a, idx));
            stack.push((idx, b));
        }
    }
    pts.iter()
        .zip(keep)
        .filter(|(_, k)| *k)
        .map(|(p, _)| *p)
        .collect()
}

fn segment_distance(p: (f64, f64), a: (f64, f64), b: (f64, f64)) -> f64 {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let len2 = dx * dx + dy * dy;
    let t = if len2 == 0.0 {
        0.0
    } else {
        (((p.0 - a.0) * dx + (p.1 - a.1) * dy) / len2).clamp(0.0, 1.0)
    };
    let (cx, cy) = (a.0 + t * dx, a.1 + t * dy);
    ((p.0 - cx).powi(2) + (p.1 - cy).powi(2)).sqrt()
}

/// Simplify a ring of longitude/latitude points to `metres` on the ground.
pub fn simplify_ring(ring: &[Point], metres: f64) -> Vec<Point> {
    let Some(first) = ring.first() else {
        return Vec::new();
    };
    let k = first.lat.to_radians().cos();
    let pts: Vec<(f64, f64)> = ring
        .iter()
        .map(|p| (p.lon * k * M_PER_DEG, p.lat * M_PER_DEG))
        .collect();
    simplify(&pts, metres)
        .into_iter()
        .map(|(x, y)| Point {
            lat: y / M_PER_DEG,
            lon: x / (k * M_PER_DEG),
        })
        .collect()
}

/// A vertex, in units of 1e-7 degrees.
type Vertex = (i64, i64);

fn key(p: Point) -> Vertex {
    // 1e-7 degrees is about a centimetre: shared vertices of neighbouring areas agree.
    ((p.lon * 1e7).round() as i64, (p.lat * 1e7).round() as i64)
}

/// The outline of polygons that share edges: every edge used by exactly one ring is kept
/// and the kept edges are chained into closed rings (holes stay holes).
pub fn dissolve(rings: &[Vec<Point>]) -> Vec<Vec<Point>> {
    let mut count: HashMap<(Vertex, Vertex), u32> = HashMap::new();
    let mut at: HashMap<(i64, i64), Point> = HashMap::new();
    let undirected = |a: (i64, i64), b: (i64, i64)| if a <= b { (a, b) } else { (b, a) };
    for ring in rings {
        for w in ring.windows(2) {
            let (a, b) = (key(w[0]), key(w[1]));
            if a == b {
                continue;
            }
            at.insert(a, w[0]);
            at.insert(b, w[1]);
            *count.entry(undirected(a, b)).or_default() += 1;
        }
    }
    // The outer edges, directed as their ring drew them.
    let mut next: HashMap<(i64, i64), Vec<(i64, i64)>> = HashMap::new();
    let mut edges = 0usize;
    for ring in rings {
        for w in ring.windows(2) {
            let (a, b) = (key(w[0]), key(w[1]));
            if a != b && count.get(&undirected(a, b)) == Some(&1) {
                next.entry(a).or_default().push(b);
                edges += 1;
            }
        }
    }
    let mut starts: Vec<(i64, i64)> = next.keys().copied().collect();
    starts.sort_unstable();
    let mut out = Vec::new();
    let mut used = 0usize;
    for s in starts {
        while next.get(&s).is_some_and(|v| !v.is_empty()) {
            let mut ring = vec![at[&s]];
            let mut cur = s;
            while let Some(n) = next.get_mut(&cur).and_then(Vec::pop) {
                used += 1;
                ring.push(at[&n]);
                cur = n;
                if cur == s || used > edges {
                    break;
                }
            }
            if ring.len() >= 4 {
                out.push(ring);
            }
        }
    }
    out
}

/// Signed area (in square degrees, longitude scaled) and centroid of a ring.
pub fn ring_area_centroid(ring: &[Point]) -> (f64, Point) {
    let (mut a, mut cx, mut cy) = (0.0, 0.0, 0.0);
    for w in ring.windows(2) {
        let cross = w[0].lon * w[1].lat - w[1].lon * w[0].lat;
        a += cross;
        cx += (w[0].lon + w[1].lon) * cross;
        cy += (w[0].lat + w[1].lat) * cross;
    }
    if a.abs() < 1e-15 {
        let p = ring
            .first()
            .copied()
            .unwrap_or(Point { lat: 0.0, lon: 0.0 });
        return (0.0, p);
    }
    (
        a / 2.0,
        Point {
            lon: cx / (3.0 * a),
            lat: cy / (3.0 * a),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(lon: f64, lat: f64) -> Point {
        Point { lat, lon }
    }

    #[test]
    fn douglas_peucker_drops_points_near_the_line_and_keeps_corners() {
        let line = [(0.0, 0.0), (1.0, 0.1), (2.0, -0.1), (3.0, 5.0), (4.0, 6.0)];
        let kept = simplify(&line, 0.5);
        assert_eq!(kept.first(), Some(&(0.0, 0.0)));
        assert_eq!(kept.last(), Some(&(4.0, 6.0)));
        assert!(kept.contains(&(2.0, -0.1)), "{kept:?}");
        assert!(!kept.contains(&(1.0, 0.1)), "{kept:?}");
        assert_eq!(simplify(&line, 0.0).len(), 5);
    }

    #[test]
    fn two_squares_sharing_an_edge_dissolve_into_one_outline() {
        let a = vec![p(0., 0.), p(1., 0.), p(1., 1.), p(0., 1.), p(0., 0.)];
        let b = vec![p(1., 0.), p(2., 0.), p(2., 1.), p(1., 1.), p(1., 0.)];
        let out = dissolve(&[a, b]);
        assert_eq!(out.len(), 1, "{out:?}");
        let ring = &out[0];
        assert_eq!(ring.first(), ring.last());
        // Six corners (the middle edge is gone), closed.
        assert_eq!(ring.len(), 7, "{ring:?}");
        let (area, c) = ring_area_centroid(ring);
        assert!((area.abs() - 2.0).abs() < 1e-9);
        assert!((c.lon - 1.0).abs() < 1e-9 && (c.lat - 0.5).abs() < 1e-9);
    }

    #[test]
    fn the_projection_keeps_north_up_and_fits_the_drawing() {
        let view = BBox {
            min_lat: 53.3,
            min_lon: -3.1,
            max_lat: 53.5,
            max_lon: -2.8,
        };
        let pr = Projection::fit(view, 360.0, 400.0);
        let (x0, y0) = pr.xy(p(-3.1, 53.5));
        let (x1, y1) = pr.xy(p(-2.8, 53.3));
        assert!(x0 >= -0.01 && y0 >= -0.01 && x1 <= 360.01 && y1 <= 400.01);
        assert!(x1 > x0 && y1 > y0, "east is right, south is down");
        let v = pr.visible();
        assert!(v.contains(p(-3.0, 53.4)));
        assert!(pr.units_per_metre() > 0.0);
    }
}
