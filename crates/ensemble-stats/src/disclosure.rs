//! Disclosure control: every count shown to someone who may not see the people behind it
//! passes through here.
//!
//! - [`disclose`] applies the single-cell rule: counts 1 to `suppress_up_to` are suppressed,
//!   the rest rounded to the nearest `round_to` (default: 1–7 suppressed, others to the
//!   nearest 5). Zero is published as zero.
//! - [`protect_table`] applies the rule to a two-way table with its row, column and grand
//!   totals, then adds *secondary suppression* until no suppressed cell can be worked out
//!   from the others and the totals (treating every published number as if it were exact,
//!   which is stricter than the rounded figures really allow).

/// How small counts are protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DisclosurePolicy {
    /// Counts from 1 up to and including this are suppressed.
    pub suppress_up_to: u64,
    /// Other counts are rounded to the nearest multiple of this (1 = no rounding).
    pub round_to: u64,
}

impl Default for DisclosurePolicy {
    /// Counts 1–7 suppressed, the rest rounded to the nearest 5.
    fn default() -> Self {
        Self {
            suppress_up_to: 7,
            round_to: 5,
        }
    }
}

/// A count as it may be published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Published {
    /// Shown as this (possibly rounded) number.
    Value(u64),
    /// Hidden because it is small.
    Suppressed,
}

impl std::fmt::Display for Published {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Published::Value(v) => write!(f, "{v}"),
            Published::Suppressed => f.write_str("fewer than 8"),
        }
    }
}

/// Apply the policy to one count. Zero is published as zero (a true zero reveals nobody);
/// rounding half-way values goes up; a rounded count never falls into the suppressed range.
pub fn disclose(count: u64, policy: DisclosurePolicy) -> Published {
    if count == 0 {
        return Published::Value(0);
    }
    if count <= policy.suppress_up_to {
        return Published::Suppressed;
    }
    let step = policy.round_to.max(1);
    let rounded = count.saturating_add(step / 2) / step * step;
    let floor = policy.suppress_up_to + 1;
    Published::Value(if rounded < floor {
        floor.div_ceil(step) * step
    } else {
        rounded
    })
}

/// A two-way table as it may be published: every cell and total passed through the policy
/// with secondary suppression applied. Totals are the true totals, suppressed or rounded
/// independently (so published cells need not add up to published totals).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtectedTable {
    pub cells: Vec<Vec<Published>>,
    pub row_totals: Vec<Published>,
    pub column_totals: Vec<Published>,
    pub total: Published,
}

/// Protect a table of counts (rows of equal length; shorter rows are padded with zeros).
pub fn protect_table(cells: &[Vec<u64>], policy: DisclosurePolicy) -> ProtectedTable {
    let rows = cells.len();
    let columns = cells.iter().map(Vec::len).max().unwrap_or(0);
    // The augmented grid: cells, then each row's total in the last column, each column's
    // total in the last row, and the grand total in the corner.
    let mut grid = vec![vec![0_u64; columns + 1]; rows + 1];
    for (i, row) in cells.iter().enumerate() {
        for (j, &c) in row.iter().enumerate() {
            grid[i][j] = c;
            grid[i][columns] += c;
            grid[rows][j] += c;
            grid[rows][columns] += c;
        }
    }
    let mut suppressed: Vec<Vec<bool>> = grid
        .iter()
        .map(|row| {
            row.iter()
                .map(|&c| matches!(disclose(c, policy), Published::Suppressed))
                .collect()
        })
        .collect();
    let grid_ref = &grid;
    loop {
        complete_lines(grid_ref, &mut suppressed);
        match determined(&suppressed, grid_ref).first() {
            None => break,
            Some(&(i, j)) => {
                // Hide one more entry in the row of the exposed cell (or its column when the
                // row has nothing left to hide).
                let line = line_positions(rows, columns, Line::Row(i));
                let extra = pick_secondary(grid_ref, &suppressed, &line).or_else(|| {
                    pick_secondary(
                        grid_ref,
                        &suppressed,
                        &line_positions(rows, columns, Line::Column(j)),
                    )
                });
                match extra {
                    Some((a, b)) => suppressed[a][b] = true,
                    None => break, // cannot happen: an all-suppressed line exposes nothing
                }
            }
        }
    }
    let publish = |i: usize, j: usize| {
        if suppressed[i][j] {
            Published::Suppressed
        } else {
            disclose(grid[i][j], policy)
        }
    };
    ProtectedTable {
        cells: (0..rows)
            .map(|i| (0..columns).map(|j| publish(i, j)).collect())
            .collect(),
        row_totals: (0..rows).map(|i| publish(i, columns)).collect(),
        column_totals: (0..columns).map(|j| publish(rows, j)).collect(),
        total: publish(rows, columns),
    }
}

#[derive(Debug, Clone, Copy)]
enum Line {
    Row(usize),
    Column(usize),
}

/// Positions in a line of the augmented grid; the last is the line's total.
fn line_positions(rows: usize, columns: usize, line: Line) -> Vec<(usize, usize)> {
    match line {
        Line::Row(i) => (0..=columns).map(|j| (i, j)).collect(),
        Line::Column(j) => (0..=rows).map(|i| (i, j)).collect(),
    }
}

fn all_lines(rows: usize, columns: usize) -> Vec<Vec<(usize, usize)>> {
    (0..=rows)
        .map(Line::Row)
        .chain((0..=columns).map(Line::Column))
        .map(|l| line_positions(rows, columns, l))
        .collect()
}

/// The entry to hide next in a line: the smallest non-zero published inner entry, else a
/// published zero, else the line's total.
fn pick_secondary(
    grid: &[Vec<u64>],
    suppressed: &[Vec<bool>],
    line: &[(usize, usize)],
) -> Option<(usize, usize)> {
    let (inner, total) = line.split_at(line.len() - 1);
    let open = |p: &&(usize, usize)| !suppressed[p.0][p.1];
    inner
        .iter()
        .filter(open)
        .filter(|p| grid[p.0][p.1] > 0)
        .min_by_key(|p| grid[p.0][p.1])
        .or_else(|| inner.iter().find(open))
        .or_else(|| total.iter().find(open))
        .copied()
}

/// Until stable: a line (cells plus total) with exactly one hidden entry gives it away by
/// subtraction, so hide a second one.
fn complete_lines(grid: &[Vec<u64>], suppressed: &mut [Vec<bool>]) {
    let rows = grid.len() - 1;
    let columns = grid[0].len() - 1;
    let lines = all_lines(rows, columns);
    loop {
        let mut changed = false;
        for line in &lines {
            let hidden = line.iter().filter(|p| suppressed[p.0][p.1]).count();
            if hidden == 1
                && let Some((a, b)) = pick_secondary(grid, suppressed, line)
            {
                suppressed[a][b] = true;
                changed = true;
            }
        }
        if !changed {
            return;
        }
    }
}

/// Suppressed positions whose value is fixed by the published entries and the additivity of
/// the table (the unit vector of the position lies in the row space of the line equations
/// restricted to hidden entries).
fn determined(suppressed: &[Vec<bool>], grid: &[Vec<u64>]) -> Vec<(usize, usize)> {
    let rows = grid.len() - 1;
    let columns = grid[0].len() - 1;
    let unknowns: Vec<(usize, usize)> = (0..=rows)
        .flat_map(|i| (0..=columns).map(move |j| (i, j)))
        .filter(|&(i, j)| suppressed[i][j])
        .collect();
    if unknowns.is_empty() {
        return Vec::new();
    }
    let index = |p: (usize, usize)| unknowns.iter().position(|&u| u == p);
    let mut equations: Vec<Vec<f64>> = Vec::new();
    for line in all_lines(rows, columns) {
        let mut eq = vec![0.0; unknowns.len()];
        let last = line.len() - 1;
        for (k, &p) in line.iter().enumerate() {
            if let Some(u) = index(p) {
                eq[u] = if k == last { -1.0 } else { 1.0 };
            }
        }
        if eq.iter().any(|&c| c != 0.0) {
            equations.push(eq);
        }
    }
    let basis = reduced_row_echelon(equations);
    unknowns
        .iter()
        .enumerate()
        .filter(|&(u, _)| in_row_space(&basis, u))
        .map(|(_, &p)| p)
        .collect()
}

const TOLERANCE: f64 = 1e-9;

/// Reduced row echelon form (rows of zeros dropped).
fn reduced_row_echelon(mut m: Vec<Vec<f64>>) -> Vec<Vec<f64>> {
    let width = m.first().map_or(0, Vec::len);
    let mut rank = 0;
    for column in 0..width {
        let Some(pivot) =
            (rank..m.len()).max_by(|&a, &b| m[a][column].abs().total_cmp(&m[b][column].abs()))
        else {
            break;
        };
        if m[pivot][column].abs() < TOLERANCE {
            continue;
        }
        m.swap(rank, pivot);
        let p = m[rank][column];
        for v in &mut m[rank] {
            *v /= p;
        }
        for r in 0..m.len() {
            if r != rank && m[r][column].abs() >= TOLERANCE {
                let factor = m[r][column];
                let pivot_row = m[rank].clone();
                for (v, p) in m[r].iter_mut().zip(&pivot_row) {
                    *v -= factor * p;
                }
            }
        }
        rank += 1;
    }
    m.truncate(rank);
    m
}

/// Whether the unit vector `e_u` is a combination of the (reduced) rows: it is exactly when
/// some row is `e_u` itself, since the rows are in reduced echelon form.
fn in_row_space(basis: &[Vec<f64>], u: usize) -> bool {
    basis.iter().any(|row| {
        row.iter().enumerate().all(|(c, &v)| {
            if c == u {
                (v - 1.0).abs() < TOLERANCE
            } else {
                v.abs() < TOLERANCE
            }
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn small_counts_are_suppressed_and_the_rest_rounded() {
        let p = DisclosurePolicy::default();
        assert_eq!(disclose(0, p), Published::Value(0));
        for c in 1..=7 {
            assert_eq!(disclose(c, p), Published::Suppressed, "{c}");
        }
        assert_eq!(disclose(8, p), Published::Value(10));
        assert_eq!(disclose(12, p), Published::Value(10));
        assert_eq!(disclose(13, p), Published::Value(15));
        assert_eq!(disclose(1234, p), Published::Value(1235));
        assert_eq!(disclose(8, p).to_string(), "10");
        assert_eq!(disclose(3, p).to_string(), "fewer than 8");
    }

    #[test]
    fn no_published_value_ever_lies_in_the_suppressed_range() {
        for suppress in [0_u64, 3, 7, 10] {
            for round in [1_u64, 2, 5, 10] {
                let p = DisclosurePolicy {
                    suppress_up_to: suppress,
                    round_to: round,
                };
                for c in 0..5_000 {
                    if let Published::Value(v) = disclose(c, p) {
                        assert!(
                            v == 0 || v > suppress,
                            "count {c} published as {v} under {p:?}"
                        );
                        assert!(v % round == 0 || v == 0);
                    }
                }
            }
        }
    }

    #[test]
    fn a_lone_small_cell_takes_a_partner_in_its_row_and_column() {
        let t = protect_table(
            &[vec![3, 20, 30], vec![12, 40, 50]],
            DisclosurePolicy::default(),
        );
        assert_eq!(t.cells[0][0], Published::Suppressed);
        let hidden_in_row0 = t.cells[0]
            .iter()
            .filter(|c| **c == Published::Suppressed)
            .count()
            + usize::from(t.row_totals[0] == Published::Suppressed);
        assert!(hidden_in_row0 >= 2, "{t:?}");
        // 3 + 20 + 30: the partner is the smallest other cell, 20.
        assert_eq!(t.cells[0][1], Published::Suppressed);
        // And column 0 needs a second hidden entry too: 12.
        assert_eq!(t.cells[1][0], Published::Suppressed);
        assert_eq!(t.total, Published::Value(155));
    }

    #[test]
    fn a_table_without_small_cells_is_only_rounded() {
        let t = protect_table(&[vec![10, 22], vec![31, 48]], DisclosurePolicy::default());
        assert_eq!(
            t.cells,
            vec![
                vec![Published::Value(10), Published::Value(20)],
                vec![Published::Value(30), Published::Value(50)]
            ]
        );
        assert_eq!(
            t.row_totals,
            vec![Published::Value(30), Published::Value(80)]
        );
        assert_eq!(t.total, Published::Value(110));
    }

    /// Independent check for the property test: exact integer (Bareiss) elimination deciding
    /// whether a hidden entry is fixed by the published entries.
    fn exposed_exactly(t: &ProtectedTable, rows: usize, columns: usize) -> Vec<(usize, usize)> {
        let hidden = |i: usize, j: usize| {
            let p = if i < rows && j < columns {
                t.cells[i][j]
            } else if i < rows {
                t.row_totals[i]
            } else if j < columns {
                t.column_totals[j]
            } else {
                t.total
            };
            p == Published::Suppressed
        };
        let unknowns: Vec<(usize, usize)> = (0..=rows)
            .flat_map(|i| (0..=columns).map(move |j| (i, j)))
            .filter(|&(i, j)| hidden(i, j))
            .collect();
        let mut m: Vec<Vec<i128>> = Vec::new();
        for i in 0..=rows {
            let mut eq = vec![0_i128; unknowns.len()];
            for (u, &(a, b)) in unknowns.iter().enumerate() {
                if a == i {
                    eq[u] = if b == columns { -1 } else { 1 };
                }
            }
            m.push(eq);
        }
        for j in 0..=columns {
            let mut eq = vec![0_i128; unknowns.len()];
            for (u, &(a, b)) in unknowns.iter().enumerate() {
                if b == j {
                    eq[u] = if a == rows { -1 } else { 1 };
                }
            }
            m.push(eq);
        }
        let rank = |mut m: Vec<Vec<i128>>| -> usize {
            let width = m.first().map_or(0, Vec::len);
            let mut r = 0;
            for c in 0..width {
                let Some(p) = (r..m.len()).find(|&k| m[k][c] != 0) else {
                    continue;
                };
                m.swap(r, p);
                for k in 0..m.len() {
                    if k != r && m[k][c] != 0 {
                        let (a, b) = (m[r][c], m[k][c]);
                        let pivot_row = m[r].clone();
                        for (v, p) in m[k].iter_mut().zip(&pivot_row) {
                            *v = *v * a - p * b;
                        }
                        let g = m[k].iter().fold(0_i128, |g, &v| gcd(g, v.abs()));
                        if g > 1 {
                            for v in &mut m[k] {
                                *v /= g;
                            }
                        }
                    }
                }
                r += 1;
            }
            r
        };
        let base = rank(m.clone());
        unknowns
            .iter()
            .enumerate()
            .filter(|&(u, _)| {
                let mut with = m.clone();
                let mut e = vec![0; unknowns.len()];
                e[u] = 1;
                with.push(e);
                rank(with) == base
            })
            .map(|(_, &p)| p)
            .collect()
    }

    fn gcd(a: i128, b: i128) -> i128 {
        if b == 0 { a } else { gcd(b, a % b) }
    }

    fn table() -> impl Strategy<Value = Vec<Vec<u64>>> {
        (1_usize..6, 1_usize..6).prop_flat_map(|(r, c)| {
            proptest::collection::vec(
                proptest::collection::vec(
                    prop_oneof![3 => 0_u64..10, 2 => 0_u64..60, 1 => 0_u64..500],
                    c,
                ),
                r,
            )
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(600))]

        #[test]
        fn no_published_entry_is_small_and_no_hidden_entry_can_be_recovered(cells in table()) {
            let policy = DisclosurePolicy::default();
            let t = protect_table(&cells, policy);
            let rows = cells.len();
            let columns = cells[0].len();
            let all = t.cells.iter().flatten()
                .chain(&t.row_totals).chain(&t.column_totals).chain(std::iter::once(&t.total));
            for p in all {
                if let Published::Value(v) = p {
                    prop_assert!(*v == 0 || *v > 7, "published {} in 1–7: {:?}", v, t);
                    prop_assert_eq!(*v % 5, 0);
                }
            }
            for (i, row) in cells.iter().enumerate() {
                for (j, &c) in row.iter().enumerate() {
                    if (1..=7).contains(&c) {
                        prop_assert_eq!(t.cells[i][j], Published::Suppressed);
                    }
                }
            }
            let exposed = exposed_exactly(&t, rows, columns);
            prop_assert!(exposed.is_empty(), "recoverable {:?} in {:?} from {:?}", exposed, t, cells);
        }
    }
}
