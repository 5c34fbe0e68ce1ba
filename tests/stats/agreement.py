#!/usr/bin/env python3
"""Agreement of `ensemble analyse paired` with scipy on generated datasets.

    agreement.py --ensemble PATH_TO_BINARY [--datasets N] [--seed S] [--keep DIR]
    agreement.py --self-test [--datasets N] [--seed S]

Generates N (default 240) CSV files deterministically from the seed into a temporary
directory, runs `BINARY analyse paired FILE --before COL --after COL --format json` on
each, computes the same result with pandas + scipy (paired_reference.py on the same
file), and compares every key with the tolerances of compare.py (relative 1e-9 for
estimates, 1e-6 for p-values, floored for values that are ~0; see there). It also checks
that `wilcoxon_method` is the computation scipy chooses (see WILCOXON_NOTES.md).

Then it runs the degenerate inputs of DEGENERATE_CASES and requires, for each: exit
status 1 or 2 (not 0, not a panic's 101), a first stderr line starting with "error:"
that names the problem (a case-insensitive regex per case; cell and column errors must
name the column), and no "nan" (any case) on stdout.

Datasets (see plan()): n = 2..13 with distinct |changes| (exact test), with ties and with
zero changes (scipy's permutation test); n = 14..47; n = 48..53 around the exact/approx
threshold of 50; SWEMWBS raw totals (7-35) and metric scores, ONS4 scores (0-10),
continuous values written as repr (17 digits), fixed decimals or scientific notation;
mean changes negative, positive, exactly zero and near zero; strong effects (tiny
p-values); n up to 10,000. Decorations: empty before/after cells (rows to drop), extra
columns (free text with quoted commas and quotes, 'n/a' and 'NaN' text that must be
ignored), other column names (including a space), swapped column order, CRLF line ends
and fully quoted files.

--self-test needs no binary: it checks compare.py's rules, that the generators give the
required coverage (>= 200 datasets, ties, zeros, n = 2, n = 10,000, the threshold, all
three scipy paths, the normal approximation with ties, with zeros and without either, ...;
the `required` table, each a minimum number of datasets), that pandas reads every generated cell as the same double as
Python's float(), that wilcoxon_spec.py (the executable form of WILCOXON_NOTES.md)
reproduces scipy on every dataset, and that paired_reference.py refuses every degenerate
input with a message the regexes accept.

Exit status: 0 when everything agrees, 1 on any disagreement (the first failures are
listed with their dataset file and key, and the datasets are kept), 2 on usage errors.
Run it with the venv of requirements.txt: target/stats-venv/bin/python.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

import numpy as np
import scipy
from scipy import stats

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare  # noqa: E402
import paired_reference  # noqa: E402
import wilcoxon_spec  # noqa: E402

DEFAULT_DATASETS = 240
DEFAULT_SEED = 20240611
MAX_FAILURES_LISTED = 20
BINARY_TIMEOUT_S = 120

# SWEMWBS raw total (7..35) -> metric score, the published conversion table.
SWEMWBS_METRIC = {
    7: 7.00, 8: 9.51, 9: 11.25, 10: 12.40, 11: 13.33, 12: 14.08, 13: 14.75, 14: 15.32,
    15: 15.84, 16: 16.36, 17: 16.88, 18: 17.43, 19: 17.98, 20: 18.59, 21: 19.25,
    22: 19.98, 23: 20.73, 24: 21.54, 25: 22.35, 26: 23.21, 27: 24.11, 28: 25.03,
    29: 26.02, 30: 27.03, 31: 28.13, 32: 29.31, 33: 30.70, 34: 32.55, 35: 35.00,
}


# ---------------------------------------------------------------- datasets


@dataclass
class Dataset:
    name: str  # file name without .csv
    kind: str
    header: list[str]
    rows: list[list[str]]
    before_col: str
    after_col: str
    n: int  # complete pairs
    dropped: int  # rows with an empty before or after cell
    tags: set[str] = field(default_factory=set)  # decorations, for the coverage check
    line_end: str = "\n"
    quote_all: bool = False

    @property
    def filename(self) -> str:
        return self.name + ".csv"

    def csv_text(self) -> str:
        out = io.StringIO()
        quoting = csv.QUOTE_ALL if self.quote_all else csv.QUOTE_MINIMAL
        w = csv.writer(out, lineterminator=self.line_end, quoting=quoting)
        w.writerow(self.header)
        w.writerows(self.rows)
        return out.getvalue()


def _fmt_int(x: float) -> str:
    return str(int(x))


def _fmt_repr(x: float) -> str:
    return repr(float(x))


def _fmt_fixed(decimals: int):
    return lambda x: f"{x:.{decimals}f}"


def _fmt_sci(x: float) -> str:
    return f"{x:.6e}"


def _has_ties(d: np.ndarray) -> bool:
    a = np.abs(d[d != 0])
    return np.unique(a).size < a.size


def _swemwbs_raw(rng, n, shift, spread):
    before = np.clip(np.rint(rng.normal(21.5, 4.5, n)), 7, 35)
    after = np.clip(before + np.rint(rng.normal(shift, spread, n)), 7, 35)
    return before, after


def _values(rng: np.random.Generator, kind: str, n: int):
    """(before strings, after strings) for one dataset of `kind` with n complete pairs."""
    shift = float(rng.choice([-1, 1])) * float(rng.uniform(0.0, 3.0))
    if kind == "swemwbs":
        b, a = _swemwbs_raw(rng, n, shift, rng.uniform(1.0, 5.0))
        fmt = _fmt_int
    elif kind == "swemwbs_metric":
        b, a = _swemwbs_raw(rng, n, shift, rng.uniform(1.0, 5.0))
        b = np.array([SWEMWBS_METRIC[int(v)] for v in b])
        a = np.array([SWEMWBS_METRIC[int(v)] for v in a])
        fmt = _fmt_fixed(2)
    elif kind == "ons":  # ONS4 personal wellbeing item, 0..10
        b = np.clip(np.rint(rng.normal(6.3, 2.0, n)), 0, 10)
        a = np.clip(b + np.rint(rng.normal(shift / 2, 1.5, n)), 0, 10)
        fmt = _fmt_int
    elif kind in ("continuous", "distinct"):
        mu, sigma = rng.uniform(-50, 100), rng.uniform(0.5, 20)
        b = rng.normal(mu, sigma, n)
        a = b + rng.normal(shift * sigma / 4, sigma * rng.uniform(0.2, 1.5), n)
        fmt = [_fmt_repr, _fmt_fixed(2), _fmt_fixed(4), _fmt_sci][int(rng.integers(0, 4))]
    elif kind == "tied":  # small integer changes: ties in |d| (zeros possible)
        b = rng.integers(10, 30, n).astype(float)
        a = b + rng.integers(-3, 6, n)
        fmt = _fmt_int
    elif kind == "zeros":  # integer changes with some exactly zero
        b = rng.integers(7, 36, n).astype(float)
        change = rng.integers(-4, 7, n).astype(float)
        change[rng.random(n) < 0.3] = 0.0
        change[int(rng.integers(0, n))] = 0.0
        a = b + change
        fmt = _fmt_int
    elif kind == "near_zero":  # changes come in +c/-c pairs: mean change 0 or ~1e-16
        half = rng.normal(0, rng.uniform(0.5, 5), (n + 1) // 2)
        if rng.random() < 0.5:
            half = np.rint(half)
        change = np.concatenate([half, -half])[:n]
        if n % 2:
            change[-1] = 0.0 if rng.random() < 0.5 else float(rng.normal(0, 1e-3))
        change = rng.permutation(change)
        b = np.rint(rng.normal(24, 4, n) * 4) / 4
        a = b + change
        fmt = _fmt_repr
    elif kind == "shifted":  # strong effect: p-values far out in the tails
        b = rng.normal(20, 3, n)
        a = b + rng.normal(float(rng.choice([-1, 1])) * rng.uniform(2, 6), 1.0, n)
        fmt = _fmt_fixed(3)
    else:
        raise ValueError(kind)
    return [fmt(v) for v in b], [fmt(v) for v in a]


def _acceptable(kind: str, bs: list[str], as_: list[str]) -> bool:
    """Whether the values (as parsed back) suit `kind` and are not degenerate."""
    b = np.array([float(s) for s in bs])
    a = np.array([float(s) for s in as_])
    d = a - b
    if d.size < 2 or np.all(d == d[0]):  # zero variance / all zero: not an agreement case
        return False
    if kind == "distinct":
        return not _has_ties(d) and not np.any(d == 0)
    if kind == "tied":
        return _has_ties(d)
    if kind == "zeros":
        return bool(np.any(d == 0))
    return True


NOTES = ["lost to follow-up", 'said "much better", then moved', "group A, week 3", "", "ok"]
SITES = ["Liverpool North", "Sefton", "Knowsley", "Wirral, West"]


def make_dataset(rng: np.random.Generator, index: int, kind: str, n: int) -> Dataset:
    for _ in range(1000):
        bs, as_ = _values(rng, kind, n)
        if _acceptable(kind, bs, as_):
            break
    else:
        raise RuntimeError(f"could not generate a {kind} dataset with n={n}")

    tags: set[str] = set()
    names = [("before", "after"), ("before", "after"), ("before", "after"),
             ("swemwbs_t0", "swemwbs_t1"), ("pre score", "post score")]
    before_col, after_col = names[int(rng.integers(0, len(names)))]
    if before_col != "before":
        tags.add("renamed")
    cols = [before_col, after_col]
    if rng.random() < 0.2:
        cols.reverse()
        tags.add("swapped")
    extras = []
    if rng.random() < 0.4:
        extras = [c for c in ("site", "notes", "age", "flag") if rng.random() < 0.6] or ["notes"]
        tags.add("extra_cols")
    header = ["id"] + cols
    for extra in extras:  # extra columns before, between or after the analysed ones
        header.insert(int(rng.integers(1, len(header) + 1)), extra)

    def extra_cell(col: str) -> str:
        if col == "site":
            return SITES[int(rng.integers(0, len(SITES)))]
        if col == "notes":
            return NOTES[int(rng.integers(0, len(NOTES)))]
        if col == "age":
            return ["", "n/a", str(int(rng.integers(18, 90)))][int(rng.integers(0, 3))]
        return ["NaN", "yes", "", "inf"][int(rng.integers(0, 4))]  # flag

    cells = [dict(zip((before_col, after_col), pair)) for pair in zip(bs, as_)]
    dropped = 0
    if rng.random() < 0.4 or n <= 3 and rng.random() < 0.6:
        dropped = int(rng.integers(1, max(2, n // 25) + 2))
        tags.add("blanks")
        for _ in range(dropped):
            src = rng.integers(0, len(bs))
            which = int(rng.integers(0, 3))
            row = {before_col: "" if which != 1 else bs[src],
                   after_col: "" if which != 0 else as_[src]}
            cells.insert(int(rng.integers(0, len(cells) + 1)), row)

    rows = []
    for i, c in enumerate(cells, start=1):
        rows.append([str(i) if h == "id" else c[h] if h in c else extra_cell(h) for h in header])

    ds = Dataset(
        name=f"d{index:03d}_{kind}_n{n}", kind=kind, header=header, rows=rows,
        before_col=before_col, after_col=after_col, n=n, dropped=dropped, tags=tags,
    )
    if rng.random() < 0.1:
        ds.line_end = "\r\n"
        tags.add("crlf")
    if rng.random() < 0.1:
        ds.quote_all = True
        tags.add("quote_all")
    if "notes" in extras or "site" in extras:
        tags.add("quoted")
    return ds


def plan(rng: np.random.Generator, count: int) -> list[tuple[str, int]]:
    """(kind, n) of every dataset: the required coverage first, then random ones."""
    p: list[tuple[str, int]] = []
    for n in range(2, 14):  # exact (distinct) and permutation (ties / zeros) paths
        p += [("distinct", n), ("tied", n), ("zeros", n)]
    for n in (14, 15, 17, 20, 24, 30, 36, 42, 47):  # exact vs approx with ties
        p += [("distinct", n), ("tied", n)]
    for n in range(48, 54):  # the n > 50 threshold, with and without ties/zeros
        p += [("distinct", n), ("swemwbs", n), ("zeros", n)]
    for n in (20, 60, 150, 400, 1000):
        p += [("swemwbs", n), ("swemwbs_metric", n), ("ons", n)]
    p += [("near_zero", n) for n in (2, 10, 31, 51, 200, 3000)]
    p += [("shifted", n) for n in (8, 40, 500, 2000)]
    p += [("swemwbs", 10000), ("continuous", 10000), ("ons", 5000), ("continuous", 2500)]
    kinds = ["swemwbs", "swemwbs_metric", "ons", "continuous", "continuous", "tied",
             "zeros", "near_zero", "shifted"]
    while len(p) < count:
        kind = kinds[int(rng.integers(0, len(kinds)))]
        if rng.random() < 0.25:
            n = int(rng.integers(2, 14))
        else:
            n = int(round(math.exp(rng.uniform(math.log(4), math.log(2000)))))
        p.append((kind, n))
    return p[:count]


def generate(count: int, seed: int) -> list[Dataset]:
    rng = np.random.default_rng(seed)
    return [make_dataset(rng, i, kind, n) for i, (kind, n) in enumerate(plan(rng, count))]


# ---------------------------------------------------------------- degenerate inputs


@dataclass
class Degenerate:
    name: str
    text: str  # file content
    pattern: str  # regex the error line must match (case-insensitive)
    before: str = "before"
    after: str = "after"


def _csv(*rows: str) -> str:
    return "".join(r + "\n" for r in ("id,before,after",) + rows)


_FEW = r"pair|row|at least|enough|no data|empty"
DEGENERATE_CASES = [
    Degenerate("n0", _csv("1,20,", "2,,25", "3,,"), _FEW),
    Degenerate("n1", _csv("1,20,23", "2,21,"), _FEW),
    Degenerate("all_changes_zero", _csv("1,20,20", "2,25,25", "3,18,18", "4,30,30"),
               r"zero|no change|identical|constant|variance"),
    Degenerate("zero_variance", _csv("1,20,22", "2,25,27", "3,18,20", "4,30,32"),
               r"variance|standard deviation|\bsd\b|spread|constant|identical|same"),
    Degenerate("non_numeric", _csv("1,20,23", "2,twelve,25", "3,18,20"),
               r"(?=.*before)(?=.*(numer|number|parse|invalid))"),
    Degenerate("nan_cell", _csv("1,20,23", "2,21,NaN", "3,18,20"),
               r"(?=.*after)(?=.*(nan|not a number|finite))"),
    Degenerate("inf_cell", _csv("1,20,23", "2,inf,25", "3,18,20"),
               r"(?=.*before)(?=.*(inf|finite))"),
    Degenerate("missing_column", _csv("1,20,23", "2,21,25"), r"(?=.*column)(?=.*followup)",
               after="followup"),
    Degenerate("empty_file", "", r"empty|header|no data|no columns|column"),
    Degenerate("header_only", _csv(), _FEW),
]


# ---------------------------------------------------------------- running


def run_binary(binary: str, path: str, before: str, after: str) -> subprocess.CompletedProcess:
    cmd = [binary, "analyse", "paired", path, "--before", before, "--after", after,
           "--format", "json"]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=BINARY_TIMEOUT_S,
                          stdin=subprocess.DEVNULL)


def check_degenerate_output(case: Degenerate, rc: int, stdout: str, stderr: str) -> list[str]:
    problems = []
    first = stderr.strip().splitlines()[0] if stderr.strip() else ""
    if rc not in (1, 2):
        problems.append(f"exit status {rc}, want 1 or 2")
    if not first.startswith("error:"):
        problems.append(f"stderr does not start with 'error:': {stderr.strip()[:200]!r}")
    elif not re.search(case.pattern, first, re.IGNORECASE):
        problems.append(f"error line {first!r} does not match /{case.pattern}/i")
    if "nan" in stdout.lower():
        problems.append(f"stdout contains NaN: {stdout.strip()[:200]!r}")
    return problems


def write_datasets(datasets: list[Dataset], directory: str) -> None:
    for ds in datasets:
        with open(os.path.join(directory, ds.filename), "w", newline="", encoding="utf-8") as f:
            f.write(ds.csv_text())


def write_degenerate(directory: str) -> None:
    for case in DEGENERATE_CASES:
        with open(os.path.join(directory, f"degenerate_{case.name}.csv"), "w",
                  newline="", encoding="utf-8") as f:
            f.write(case.text)


def reference(directory: str, ds: Dataset) -> dict:
    return paired_reference.analyse_file(os.path.join(directory, ds.filename),
                                         ds.before_col, ds.after_col)


def agreement(binary: str, datasets: list[Dataset], directory: str) -> int:
    failures: list[str] = []
    max_est = max_p = 0.0
    started = time.monotonic()
    for i, ds in enumerate(datasets, start=1):
        want = reference(directory, ds)
        proc = run_binary(binary, os.path.join(directory, ds.filename), ds.before_col,
                          ds.after_col)
        if proc.returncode != 0:
            failures.append(f"{ds.filename}: exit status {proc.returncode}: "
                            f"{proc.stderr.strip()[:300]}")
            continue
        try:
            got = compare.parse_output(proc.stdout)
        except ValueError as e:
            failures.append(f"{ds.filename}: stdout is not one JSON object ({e}): "
                            f"{proc.stdout.strip()[:300]!r}")
            continue
        cmp = compare.compare_results(got, want)
        max_est = max(max_est, cmp.max_estimate_diff)
        max_p = max(max_p, cmp.max_p_diff)
        failures += [f"{ds.filename}: {m}" for m in cmp.mismatches]
        if i % 40 == 0:
            print(f"agreement: {i}/{len(datasets)} datasets compared "
                  f"({time.monotonic() - started:.0f} s)", file=sys.stderr)

    refused = 0
    for case in DEGENERATE_CASES:
        path = os.path.join(directory, f"degenerate_{case.name}.csv")
        proc = run_binary(binary, path, case.before, case.after)
        problems = check_degenerate_output(case, proc.returncode, proc.stdout, proc.stderr)
        failures += [f"degenerate_{case.name}.csv: {p}" for p in problems]
        refused += not problems

    if failures:
        print(f"agreement: FAILED: {len(failures)} problems; first {MAX_FAILURES_LISTED}:",
              file=sys.stderr)
        for f in failures[:MAX_FAILURES_LISTED]:
            print(f"  {f}", file=sys.stderr)
        return 1
    print(f"agreement: {len(datasets)} datasets agree with scipy {scipy.__version__} "
          f"(max rel diff estimates {max_est:.2g}, p-values {max_p:.2g}); "
          f"{refused} degenerate inputs refused cleanly")
    return 0


# ---------------------------------------------------------------- self-test


def _scipy_p_with(kind: str, after: np.ndarray, before: np.ndarray) -> float | None:
    """scipy's p-value when the method we claim it uses is requested explicitly."""
    if kind == "exact":
        return float(stats.wilcoxon(after, before, method="exact").pvalue)
    if kind == "approx":
        return float(stats.wilcoxon(after, before, method="asymptotic").pvalue)
    return None  # permutation: checked against wilcoxon_spec's exhaustive count instead


def self_test(count: int, seed: int, directory: str) -> int:
    import warnings

    warnings.simplefilter("ignore", RuntimeWarning)
    compare._self_test()
    datasets = generate(count, seed)
    again = generate(count, seed)
    assert [d.csv_text() for d in datasets] == [d.csv_text() for d in again], \
        "generation is not deterministic"
    write_datasets(datasets, directory)

    cov: dict[str, int] = {}

    def tag(name: str) -> None:
        cov[name] = cov.get(name, 0) + 1

    problems: list[str] = []
    for ds in datasets:
        path = os.path.join(directory, ds.filename)
        # pandas (the reference reader) reads every cell as the same double as float()
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        before = [float(r[ds.before_col]) for r in rows if r[ds.before_col] and r[ds.after_col]]
        after = [float(r[ds.after_col]) for r in rows if r[ds.before_col] and r[ds.after_col]]
        b_pd, a_pd, dropped = paired_reference.read_pairs(path, ds.before_col, ds.after_col)
        if not (np.array_equal(b_pd, before) and np.array_equal(a_pd, after)):
            problems.append(f"{ds.filename}: pandas and float() read different values")
        try:
            res = paired_reference.analyse(b_pd, a_pd, dropped)
        except paired_reference.AnalysisError as e:
            problems.append(f"{ds.filename}: reference refused it: {e}")
            continue
        if (res["n"], res["dropped"]) != (ds.n, ds.dropped):
            problems.append(f"{ds.filename}: n/dropped {res['n']}/{res['dropped']}, "
                            f"planned {ds.n}/{ds.dropped}")
        # wilcoxon_spec (= WILCOXON_NOTES.md) reproduces scipy, including its path choice
        d = a_pd - b_pd
        spec = wilcoxon_spec.wilcoxon_two_sided(d.tolist())
        if spec.kind != paired_reference.wilcoxon_kind(d):
            problems.append(f"{ds.filename}: spec path {spec.kind} != wilcoxon_kind")
        if spec.w != res["wilcoxon_w"]:
            problems.append(f"{ds.filename}: spec W {spec.w} != scipy {res['wilcoxon_w']}")
        p_diff = compare.floored_rel_diff(spec.p, res["wilcoxon_p"], 1e-12)
        if p_diff > 1e-12:
            problems.append(f"{ds.filename}: spec p {spec.p!r} != scipy {res['wilcoxon_p']!r}")
        explicit = _scipy_p_with(spec.kind, a_pd, b_pd)
        if explicit is not None and explicit != res["wilcoxon_p"]:
            problems.append(f"{ds.filename}: scipy method={spec.kind} gives {explicit!r}, "
                            f"auto gives {res['wilcoxon_p']!r}")

        n = res["n"]
        facts = {
            f"path_{spec.kind}": True,
            "ties": _has_ties(d),
            "zeros": res["wilcoxon_zeros"] > 0,
            # the normal approximation's tie correction and its handling of zero changes
            "approx_with_ties": spec.kind == "approx" and _has_ties(d),
            "approx_with_zeros": spec.kind == "approx" and res["wilcoxon_zeros"] > 0,
            "approx_distinct": spec.kind == "approx" and not _has_ties(d) and res["wilcoxon_zeros"] == 0,
            "n=2": n == 2,
            "n=10000": n == 10000,
            "n_49_52": 49 <= n <= 52,
            "small_n_le_13": n <= 13,
            "large_n_ge_1000": n >= 1000,
            "mean_change_neg": res["mean_change"] < 0,
            "mean_change_pos": res["mean_change"] > 0,
            "mean_change_near_zero": abs(res["cohen_dz"]) < 0.02,
            "mean_change_exactly_zero": res["mean_change"] == 0,
            "p_below_1e-12": min(res["p_value"], res["wilcoxon_p"]) < 1e-12,
            "integer_scores": ds.kind in ("swemwbs", "ons", "tied", "zeros"),
            "swemwbs_range": ds.kind.startswith("swemwbs"),
            "ons_range": ds.kind == "ons",
            "continuous": ds.kind in ("continuous", "distinct", "shifted"),
            "dropped_rows": res["dropped"] > 0,
        }
        for name, present in facts.items():
            if present:
                tag(name)
        for t in ds.tags:
            tag(t)

    required = {
        "path_exact": 20, "path_permutation": 20, "path_approx": 50, "ties": 30, "zeros": 30,
        "approx_with_ties": 20, "approx_with_zeros": 20, "approx_distinct": 10,
        "n=2": 3, "n=10000": 2, "n_49_52": 8, "small_n_le_13": 36, "large_n_ge_1000": 6,
        "mean_change_neg": 30, "mean_change_pos": 30, "mean_change_near_zero": 4,
        "mean_change_exactly_zero": 2, "p_below_1e-12": 2, "integer_scores": 40,
        "swemwbs_range": 20, "ons_range": 8, "continuous": 40, "dropped_rows": 40,
        "extra_cols": 30, "quoted": 10, "renamed": 20, "swapped": 20, "crlf": 5,
        "quote_all": 5,
    }
    if len(datasets) < 200:
        problems.append(f"only {len(datasets)} datasets; the coverage needs >= 200")
    for name, minimum in required.items():
        if cov.get(name, 0) < minimum:
            problems.append(f"coverage: {name} in {cov.get(name, 0)} datasets, want >= {minimum}")

    # The reference refuses every degenerate input with a message the regexes accept.
    write_degenerate(directory)
    for case in DEGENERATE_CASES:
        err = io.StringIO()
        out = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            rc = paired_reference.main([os.path.join(directory, f"degenerate_{case.name}.csv"),
                                        "--before", case.before, "--after", case.after])
        problems += [f"degenerate_{case.name}.csv (reference): {p}"
                     for p in check_degenerate_output(case, rc, out.getvalue(), err.getvalue())]

    if problems:
        print(f"agreement --self-test: FAILED ({len(problems)} problems):", file=sys.stderr)
        for p in problems[:MAX_FAILURES_LISTED]:
            print(f"  {p}", file=sys.stderr)
        return 1
    summary = ", ".join(f"{k} {cov.get(k, 0)}" for k in required)
    print(f"agreement --self-test: ok: {len(datasets)} datasets (seed {seed}), scipy "
          f"{scipy.__version__}, wilcoxon_spec matches scipy on all; coverage: {summary}; "
          f"{len(DEGENERATE_CASES)} degenerate inputs refused by the reference")
    return 0


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Compare `ensemble analyse paired` with scipy on generated datasets.")
    parser.add_argument("--ensemble", metavar="PATH", help="the ensemble binary")
    parser.add_argument("--datasets", type=int, default=DEFAULT_DATASETS, metavar="N")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, metavar="S")
    parser.add_argument("--keep", metavar="DIR",
                        help="write the datasets to DIR and keep them (default: a temp dir, "
                             "kept only on failure)")
    parser.add_argument("--self-test", action="store_true",
                        help="check the generators, reference and spec; needs no binary")
    args = parser.parse_args(argv)
    if args.datasets < 1:
        parser.error("--datasets must be >= 1")
    if not args.self_test:
        if not args.ensemble:
            parser.error("--ensemble is required (or use --self-test)")
        if not (os.path.isfile(args.ensemble) and os.access(args.ensemble, os.X_OK)):
            parser.error(f"{args.ensemble} is not an executable file")

    if args.keep:
        os.makedirs(args.keep, exist_ok=True)
        directory = args.keep
    else:
        directory = tempfile.mkdtemp(prefix="ensemble-agreement.")
    rc = 1
    try:
        if args.self_test:
            rc = self_test(args.datasets, args.seed, directory)
        else:
            datasets = generate(args.datasets, args.seed)
            write_datasets(datasets, directory)
            write_degenerate(directory)
            rc = agreement(os.path.abspath(args.ensemble), datasets, directory)
    finally:
        if not args.keep:
            if rc == 0:
                shutil.rmtree(directory, ignore_errors=True)
            else:
                print(f"agreement: datasets kept in {directory}", file=sys.stderr)
    return rc


if __name__ == "__main__":
    sys.exit(main())
