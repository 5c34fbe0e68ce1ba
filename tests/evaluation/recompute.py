#!/usr/bin/env python3
"""Recompute a programme evaluation package independently, with pandas and scipy.

    recompute.py PACKAGE_DIR [--min-outcome-rows N]
    recompute.py --self-test

PACKAGE_DIR is what `ensemble evaluate programme --programme NAME|ID --out DIR` writes
(issue 17): `datapackage.json`, `report.json` and one CSV per table. The script

1. validates the package with the `frictionless` package (v5) and fails on any error; checks
   that every CSV in the directory is a resource of the descriptor and that every tabular
   resource has a schema whose every field has a `description`;
2. recomputes every figure of `report.json`'s `outcomes` from `outcome_pairs.csv`: per
   (instrument, instrument_version, score) n, means, mean change, SD of the change (ddof 1),
   `scipy.stats.ttest_rel(latest, first)` (t, df, p), the 95% CI of the mean change
   (mean +- t.ppf(0.975, n-1) * sd / sqrt(n)), Cohen's d_z, `scipy.stats.wilcoxon(latest,
   first)` with its defaults (W, p and the computation scipy's method='auto' chose, see
   tests/stats/WILCOXON_NOTES.md), shares improved / unchanged / worse by the row's
   threshold and direction with Wilson 95% intervals (written out below, z =
   norm.ppf(0.975)), and the reliable change index (SD of the first values, ddof 1, and the
   row's reliability; reliable when |RCI| > 1.96 in that direction). Estimates agree to 1e-9
   (relative or absolute), p-values to 1e-6. Where n < disclosure.min_pairs or every change
   is the same, the statistics must be null and `message` must say why;
3. checks `outcomes.csv` equals `report.json`'s outcomes cell for cell; recounts
   `band_shifts.csv` from the pairs; recomputes `service_use.csv` (n, totals, mean change,
   Wilcoxon) from the `service_use` rows of the pairs; recomputes the WELLBY figures of
   `report.json`'s `value` from the ONS4 life-satisfaction pairs (people x mean change x
   duration_years, valued at 10,000 / 13,000 / 16,000 GBP per WELLBY, 2019 prices);
4. checks the pairs themselves: the contract's columns and nothing else (no names or
   contact details), 20-hex pseudonyms, one row per person per measure, YYYY-MM months.

It prints one summary line of what was checked and exits 1 listing every mismatch (also when
no outcome row had n >= min_pairs, so an empty check cannot pass). `--self-test` builds a
package by hand from worked examples with known scipy results (WILCOXON_NOTES.md E3 and E7),
checks it passes, then breaks one figure at a time and checks each is caught.

Run it with the venv of tests/evaluation/requirements.txt.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import csv
import io
import json
import math
import re
import shutil
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

REL_TOL = 1e-9
P_TOL = 1e-6
WELLBY_PRICES = (10_000.0, 13_000.0, 16_000.0)  # HM Treasury Green Book supplementary guidance
WELLBY_PRICE_YEAR = 2019
RCI_CRITICAL = 1.96
Z = float(stats.norm.ppf(0.975))

PAIR_COLUMNS = [
    "pseudonym", "instrument", "instrument_version", "score", "first_value", "latest_value",
    "first_month", "latest_month", "first_band", "latest_band",
]
KEY = ["instrument", "instrument_version", "score"]
OUTCOME_COLUMNS = [
    "instrument", "instrument_version", "score", "label", "direction", "n", "mean_first",
    "mean_latest", "mean_change", "sd_change", "ci_low", "ci_high", "t", "df", "p_value",
    "cohen_dz", "wilcoxon_n", "wilcoxon_zeros", "wilcoxon_w", "wilcoxon_p", "wilcoxon_method",
    "threshold", "improved", "unchanged", "worse", "improved_share", "improved_ci_low",
    "improved_ci_high", "unchanged_share", "unchanged_ci_low", "unchanged_ci_high",
    "worse_share", "worse_ci_low", "worse_ci_high", "reliability", "reliable_improved",
    "reliable_worse", "message",
]
OUTCOME_TEXT = {"instrument", "score", "label", "direction", "wilcoxon_method", "message"}
# Blank whenever n < min_pairs or the change has no variation.
SHARE_KEYS = {f"{a}{b}" for a in ("improved", "unchanged", "worse") for b in ("", "_share", "_ci_low", "_ci_high")}
INFERENTIAL = [
    "sd_change", "ci_low", "ci_high", "t", "df", "p_value", "cohen_dz", "wilcoxon_n",
    "wilcoxon_zeros", "wilcoxon_w", "wilcoxon_p", "wilcoxon_method",
]
P_KEYS = {"p_value", "wilcoxon_p"}
BAND_COLUMNS = ["instrument", "instrument_version", "score", "first_band", "latest_band", "people"]
SERVICE_COLUMNS = [
    "item", "label", "n", "first_total", "latest_total", "mean_change", "wilcoxon_w",
    "wilcoxon_p", "wilcoxon_method", "unit_cost", "cost_source", "cost_year", "cost_change",
]
SERVICE_TEXT = {"item", "label", "wilcoxon_method", "cost_source"}
VALUE_KEYS = [
    "wellbys", "wellbys_ci_low", "wellbys_ci_high", "price_low", "price_central", "price_high",
    "value_low", "value_central", "value_high", "price_year", "duration_years", "people",
    "mean_change", "working",
]


# ---------------------------------------------------------------- small helpers

def close(a: float, b: float, tol: float) -> bool:
    """Equal within `tol`, absolute or relative (either suffices)."""
    if a == b:
        return True
    if not (math.isfinite(a) and math.isfinite(b)):
        return False
    diff = abs(a - b)
    return diff <= tol or diff <= tol * max(abs(a), abs(b))


def is_null(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or v == ""


def num(v):
    """A JSON or CSV cell as a float, None when blank; raises on text that is not a number."""
    if is_null(v):
        return None
    if isinstance(v, bool):
        raise ValueError(f"boolean {v!r} where a number was expected")
    return float(v)


def read_csv(path: Path) -> pd.DataFrame:
    """Every cell as text; only an empty cell is missing (a band called 'NA' stays 'NA')."""
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False, encoding="utf-8")


def wilson(count: int, n: int) -> tuple[float, float, float]:
    """Share and Wilson score 95% interval, clipped to [0, 1]."""
    p = count / n
    z2 = Z * Z
    denominator = 1.0 + z2 / n
    centre = (p + z2 / (2.0 * n)) / denominator
    half = Z / denominator * math.sqrt(p * (1.0 - p) / n + z2 / (4.0 * n * n))
    return p, max(0.0, centre - half), min(1.0, centre + half)


def scipy_wilcoxon_path(d: np.ndarray) -> str:
    """The computation scipy 1.17's wilcoxon(method='auto') uses (WILCOXON_NOTES.md s.3)."""
    n = len(d)
    nonzero = d[d != 0]
    zeros = n - len(nonzero)
    ties = len(np.unique(np.abs(nonzero))) < len(nonzero)
    if n > 50:
        return "approx"
    if not ties and zeros == 0:
        return "exact"
    if n <= 13:
        return "permutation"
    return "approx"


def paired(first: np.ndarray, latest: np.ndarray) -> dict:
    """Every paired statistic of the contract, from scipy (no blanking)."""
    n = len(first)
    d = latest - first
    out: dict = {"n": n, "mean_first": float(np.mean(first)), "mean_latest": float(np.mean(latest)),
                 "mean_change": float(np.mean(d))}
    if n >= 2:
        sd = float(np.std(d, ddof=1))
        out["sd_change"] = sd
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tt = stats.ttest_rel(latest, first)
        out["t"] = float(tt.statistic)
        out["df"] = float(tt.df)
        out["p_value"] = float(tt.pvalue)
        q = float(stats.t.ppf(0.975, n - 1))
        out["ci_low"] = out["mean_change"] - q * sd / math.sqrt(n)
        out["ci_high"] = out["mean_change"] + q * sd / math.sqrt(n)
        out["cohen_dz"] = out["mean_change"] / sd if sd > 0 else math.nan
    zeros = int(np.sum(d == 0))
    out["wilcoxon_zeros"] = zeros
    out["wilcoxon_nonzero"] = n - zeros
    if n - zeros >= 1:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            w = stats.wilcoxon(latest, first)
        out["wilcoxon_w"] = float(w.statistic)
        out["wilcoxon_p"] = float(w.pvalue)
        out["wilcoxon_path"] = scipy_wilcoxon_path(d)
    return out


def no_variation(d: np.ndarray) -> bool:
    """Every change the same double (WILCOXON_NOTES.md s.8: not a computed sd of 0)."""
    return len(d) == 0 or bool(np.all(d == d[0]))


class Checker:
    def __init__(self, root: Path):
        self.root = root
        self.problems: list[str] = []
        self.notes: list[str] = []
        self.counts: dict[str, int] = {}

    def fail(self, msg: str) -> None:
        self.problems.append(msg)

    def count(self, key: str, by: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + by

    def compare(self, where: str, key: str, reported, expected, tol: float | None = None) -> None:
        """A reported number against the recomputed one; None = must be null."""
        self.count("figures compared")
        try:
            got = num(reported)
        except (TypeError, ValueError) as e:
            self.fail(f"{where}: {key} = {reported!r} is not a number ({e})")
            return
        if expected is None or (isinstance(expected, float) and math.isnan(expected)):
            if got is not None:
                self.fail(f"{where}: {key} = {reported!r} but recomputation gives nothing (should be blank)")
            return
        if got is None:
            self.fail(f"{where}: {key} is blank but recomputes to {expected!r}")
            return
        if tol is None:
            tol = P_TOL if key in P_KEYS or key.endswith("_p") else REL_TOL
        if not close(got, float(expected), tol):
            self.fail(f"{where}: {key} = {got!r}, recomputed {float(expected)!r} (tolerance {tol:g})")


# ---------------------------------------------------------------- the package as files

def check_descriptor(c: Checker) -> dict:
    """frictionless validation and the descriptor's coverage of the CSV files."""
    import frictionless  # imported here so --help works without it

    dp = c.root / "datapackage.json"
    if not dp.is_file():
        c.fail("datapackage.json is missing")
        return {}
    try:
        descriptor = json.loads(dp.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        c.fail(f"datapackage.json is not JSON: {e}")
        return {}
    report = frictionless.validate(str(dp))
    for err in getattr(report, "errors", []):
        c.fail(f"frictionless: package: {err.message}")
    for task in report.tasks:
        for err in task.errors:
            c.fail(f"frictionless: {task.name} ({task.place}): {err.message}")
    if not report.valid and not c.problems:
        c.fail("frictionless: the package is not valid (no error detail given)")
    c.count("frictionless resources validated", len(report.tasks))

    package = frictionless.Package(str(dp))
    csv_paths = set()
    for res in package.resources:
        path = res.path if isinstance(res.path, str) else None
        if not path:
            c.fail(f"datapackage.json: resource {res.name!r} has no single path")
            continue
        tabular = path.lower().endswith(".csv") or (res.format or "").lower() == "csv"
        if not tabular:
            c.notes.append(f"resource {res.name} ({path}) is not a CSV table: schema not required")
            continue
        csv_paths.add(str(Path(path)))
        schema = res.schema
        if schema is None or not schema.fields:
            c.fail(f"datapackage.json: resource {res.name!r} ({path}) has no table schema with fields")
            continue
        for field in schema.fields:
            if not (field.description or "").strip():
                c.fail(f"datapackage.json: resource {res.name!r} field {field.name!r} has no description")
        header = read_csv(c.root / path).columns.tolist() if (c.root / path).is_file() else None
        if header is not None and header != [f.name for f in schema.fields]:
            c.fail(f"{path}: header {header} differs from its schema's fields {[f.name for f in schema.fields]}")
    for f in sorted(c.root.rglob("*.csv")):
        rel = str(f.relative_to(c.root))
        if rel not in csv_paths:
            c.fail(f"{rel} is in the package directory but not a resource of datapackage.json")
    c.count("CSV resources", len(csv_paths))
    return descriptor


def load_pairs(c: Checker) -> pd.DataFrame | None:
    path = c.root / "outcome_pairs.csv"
    if not path.is_file():
        c.fail("outcome_pairs.csv is missing")
        return None
    raw = read_csv(path)
    if raw.columns.tolist() != PAIR_COLUMNS:
        c.fail(f"outcome_pairs.csv: columns {raw.columns.tolist()}, the contract says {PAIR_COLUMNS}")
        if not set(PAIR_COLUMNS) <= set(raw.columns):
            return None
    df = raw[PAIR_COLUMNS].copy()
    bad_pseudo = df[~df["pseudonym"].str.fullmatch(r"[0-9a-f]{20}")]
    if len(bad_pseudo):
        c.fail(f"outcome_pairs.csv: {len(bad_pseudo)} pseudonym(s) not 20 lower-case hex digits, "
               f"first {bad_pseudo['pseudonym'].iloc[0]!r}")
    for col in ("first_month", "latest_month"):
        bad = df[~df[col].str.fullmatch(r"\d{4}-(0[1-9]|1[0-2])")]
        if len(bad):
            c.fail(f"outcome_pairs.csv: {len(bad)} {col} value(s) not YYYY-MM, first {bad[col].iloc[0]!r}")
    later = df[df["first_month"] > df["latest_month"]]
    if len(later):
        c.fail(f"outcome_pairs.csv: {len(later)} row(s) with first_month after latest_month")
    try:
        df["instrument_version"] = np.array([int(v) for v in df["instrument_version"]], dtype=np.int64)
        df["first_value"] = np.array([float(v) for v in df["first_value"]], dtype=np.float64)
        df["latest_value"] = np.array([float(v) for v in df["latest_value"]], dtype=np.float64)
    except ValueError as e:
        c.fail(f"outcome_pairs.csv: a version or value is not a number: {e}")
        return None
    if not (np.isfinite(df["first_value"]).all() and np.isfinite(df["latest_value"]).all()):
        c.fail("outcome_pairs.csv: a first_value or latest_value is not finite")
    dup = df.duplicated(subset=["pseudonym", *KEY])
    if dup.any():
        c.fail(f"outcome_pairs.csv: {int(dup.sum())} duplicate row(s) for the same person and measure")
    c.count("pairs", len(df))
    c.count("people", df["pseudonym"].nunique())
    return df


# ---------------------------------------------------------------- outcomes

def expected_outcome(g: pd.DataFrame, row: dict, min_pairs: int) -> tuple[dict, bool]:
    """The recomputed row (None = must be blank) and whether its statistics are blank."""
    first = g["first_value"].to_numpy(dtype=float)
    latest = g["latest_value"].to_numpy(dtype=float)
    d = latest - first
    n = len(d)
    s = paired(first, latest)
    blank = n < min_pairs or no_variation(d)
    exp: dict = {k: None for k in OUTCOME_COLUMNS if k not in OUTCOME_TEXT}
    exp.update(n=n, mean_first=s["mean_first"], mean_latest=s["mean_latest"], mean_change=s["mean_change"])
    if not blank:
        for k in ("sd_change", "ci_low", "ci_high", "t", "df", "p_value", "cohen_dz", "wilcoxon_zeros",
                  "wilcoxon_w", "wilcoxon_p"):
            exp[k] = s.get(k)
        exp["wilcoxon_method"] = s.get("wilcoxon_path")
    direction = row.get("direction")
    sign = 1.0 if direction == "higher_is_better" else -1.0
    better = sign * d
    threshold = num(row.get("threshold"))
    exp["threshold"] = threshold
    if n > 0:
        if threshold is not None and threshold > 0:
            improved = int(np.sum(better >= threshold))
            worse = int(np.sum(better <= -threshold))
            exp["_borderline"] = int(np.sum(np.abs(np.abs(better) - threshold) < 1e-9 * max(1.0, threshold)))
        else:  # no threshold: any difference counts
            improved = int(np.sum(better > 0))
            worse = int(np.sum(better < 0))
        unchanged = n - improved - worse
        exp.update(improved=improved, unchanged=unchanged, worse=worse)
        for name, k in (("improved", improved), ("unchanged", unchanged), ("worse", worse)):
            share, lo, hi = wilson(k, n)
            exp[f"{name}_share"], exp[f"{name}_ci_low"], exp[f"{name}_ci_high"] = share, lo, hi
    reliability = num(row.get("reliability"))
    exp["reliability"] = reliability
    if reliability is not None and n >= 2 and 0 <= reliability < 1:
        sd1 = float(np.std(first, ddof=1))
        if sd1 > 0:
            rci = better / (sd1 * math.sqrt(2.0) * math.sqrt(1.0 - reliability))
            exp["reliable_improved"] = int(np.sum(rci > RCI_CRITICAL))
            exp["reliable_worse"] = int(np.sum(rci < -RCI_CRITICAL))
    exp["_wilcoxon_nonzero"] = s["wilcoxon_nonzero"]
    return exp, blank


def check_outcome_row(c: Checker, where: str, row: dict, exp: dict, blank: bool) -> None:
    if row.get("direction") not in ("higher_is_better", "lower_is_better"):
        c.fail(f"{where}: direction {row.get('direction')!r} is neither higher_is_better nor lower_is_better")
    if blank:
        c.count("outcome rows blank (n < min_pairs or no variation)")
        if not str(row.get("message") or "").strip():
            c.fail(f"{where}: statistics are blank (n = {exp['n']}) but message does not say why")
        for k in INFERENTIAL:
            if not is_null(row.get(k)):
                c.fail(f"{where}: {k} = {row.get(k)!r} is shown although n = {exp['n']} "
                       f"(< min_pairs) or the change has no variation; it must be blank")
    else:
        c.count("outcome rows with statistics")
    for k in OUTCOME_COLUMNS:
        if k in OUTCOME_TEXT or k in ("instrument_version", "threshold", "reliability"):
            continue
        if k == "wilcoxon_n":
            if blank:
                continue
            c.compare(where, k, row.get(k), exp["_wilcoxon_nonzero"])  # the non-zero changes ranked
            continue
        if blank and k not in ("n", "mean_first", "mean_latest", "mean_change") and is_null(row.get(k)):
            continue  # the descriptive figures may be blank with the statistics
        if k in SHARE_KEYS and is_null(row.get("threshold")) and is_null(row.get(k)):
            continue  # no published threshold: no shares (if given, "any difference" is checked)
        if k in INFERENTIAL and blank:
            continue  # reported above
        if k == "n" and is_null(row.get(k)):
            c.fail(f"{where}: n is blank (the package is the evaluators' exact view)")
            continue
        if blank and k in ("mean_first", "mean_latest", "mean_change") and is_null(row.get(k)):
            continue
        c.compare(where, k, row.get(k), exp.get(k))
    if not blank:
        got = row.get("wilcoxon_method")
        path = exp["wilcoxon_method"]
        if got != path:
            c.fail(f"{where}: wilcoxon_method = {got!r}, scipy's method='auto' used {path!r}")
    if exp.get("_borderline"):
        c.notes.append(f"{where}: {exp['_borderline']} change(s) within 1e-9 of the threshold")


def check_outcomes(c: Checker, report: dict, pairs: pd.DataFrame, min_pairs: int) -> None:
    rows = report.get("outcomes")
    if not isinstance(rows, list):
        c.fail("report.json: outcomes is not a list")
        return
    seen = set()
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            c.fail(f"report.json outcomes[{i}] is not an object")
            continue
        keys = list(row.keys())
        if set(keys) != set(OUTCOME_COLUMNS):
            missing = [k for k in OUTCOME_COLUMNS if k not in row]
            extra = [k for k in keys if k not in OUTCOME_COLUMNS]
            c.fail(f"report.json outcomes[{i}]: keys differ from outcomes.csv's columns (missing {missing}, extra {extra})")
        try:
            key = (str(row.get("instrument")), int(num(row.get("instrument_version"))), str(row.get("score")))
        except (TypeError, ValueError):
            c.fail(f"report.json outcomes[{i}]: instrument_version {row.get('instrument_version')!r} is not a whole number")
            continue
        where = f"outcomes {key[0]} v{key[1]} {key[2]}"
        if key in seen:
            c.fail(f"{where}: more than one row")
        seen.add(key)
        g = pairs[(pairs["instrument"] == key[0]) & (pairs["instrument_version"] == key[1]) & (pairs["score"] == key[2])]
        if len(g) == 0:
            c.count("outcome rows without pairs")
            if num(row.get("n")) not in (None, 0.0):
                c.fail(f"{where}: n = {row.get('n')!r} but outcome_pairs.csv has no pairs for it")
            elif not str(row.get("message") or "").strip():
                c.fail(f"{where}: no pairs and no message")
            continue
        exp, blank = expected_outcome(g, row, min_pairs)
        check_outcome_row(c, where, row, exp, blank)
    groups = pairs[pairs["instrument"] != "service_use"].groupby(KEY).size()
    for key, n in groups.items():
        if (key[0], int(key[1]), key[2]) not in seen:
            c.fail(f"outcome_pairs.csv has {n} pair(s) of {key[0]} v{key[1]} {key[2]} but report.json has no outcome row for it")
    c.count("outcome rows", len(rows))


def cell_equal(csv_cell: str, json_value, text: bool) -> bool:
    if is_null(csv_cell):
        return is_null(json_value)
    if text:
        return str(json_value) == csv_cell if json_value is not None else False
    try:
        return json_value is not None and not isinstance(json_value, bool) and float(csv_cell) == float(json_value)
    except (TypeError, ValueError):
        return False


def check_table_equals_json(c: Checker, name: str, columns: list[str], text: set[str], rows, key: list[str]) -> None:
    """`name`.csv has `columns` and the same rows (matched by `key`) as the JSON list `rows`."""
    path = c.root / name
    if not path.is_file():
        c.fail(f"{name} is missing")
        return
    df = read_csv(path)
    if df.columns.tolist() != columns:
        c.fail(f"{name}: columns {df.columns.tolist()}, the contract says {columns}")
        return
    if not isinstance(rows, list):
        c.fail(f"report.json: the list for {name} is missing or not a list")
        return
    if len(df) != len(rows):
        c.fail(f"{name} has {len(df)} row(s), report.json {len(rows)}")
    by_key = {}
    for r in rows:
        if isinstance(r, dict):
            by_key[tuple(str(r.get(k)) if r.get(k) is not None else "" for k in key)] = r
    for i, rec in enumerate(df.to_dict("records")):
        k = tuple(rec[x] for x in key)
        r = by_key.get(k)
        if r is None:
            c.fail(f"{name} row {i + 2} {k}: no matching row in report.json")
            continue
        for col in columns:
            c.count("CSV cells compared with report.json")
            if col not in r:
                c.fail(f"{name} row {i + 2} {k}: report.json's row has no {col!r}")
            elif not cell_equal(rec[col], r[col], col in text):
                c.fail(f"{name} row {i + 2} {k}: {col} is {rec[col]!r} in the CSV, {r[col]!r} in report.json")


# ---------------------------------------------------------------- band shifts, service use, value

def check_band_shifts(c: Checker, report: dict, pairs: pd.DataFrame, min_pairs: int) -> None:
    path = c.root / "band_shifts.csv"
    if not path.is_file():
        c.fail("band_shifts.csv is missing")
        return
    df = read_csv(path)
    if df.columns.tolist() != BAND_COLUMNS:
        c.fail(f"band_shifts.csv: columns {df.columns.tolist()}, the contract says {BAND_COLUMNS}")
        return
    counts = pairs.groupby([*KEY, "first_band", "latest_band"]).size()
    expected = {(a, int(b), s, fb, lb): int(n) for (a, b, s, fb, lb), n in counts.items()}
    listed = set()
    for i, rec in enumerate(df.to_dict("records")):
        try:
            k = (rec["instrument"], int(rec["instrument_version"]), rec["score"], rec["first_band"], rec["latest_band"])
            people = int(rec["people"])
        except ValueError:
            c.fail(f"band_shifts.csv row {i + 2}: version or people is not a whole number: {rec}")
            continue
        if k in listed:
            c.fail(f"band_shifts.csv row {i + 2}: {k} listed twice")
        listed.add(k)
        c.count("band shift rows")
        if people != expected.get(k, 0):
            c.fail(f"band_shifts.csv row {i + 2} {k}: people = {people}, the pairs give {expected.get(k, 0)}")
    sizes = {(a, int(b), sc): int(m) for (a, b, sc), m in pairs.groupby(KEY).size().items()}
    for k, n in expected.items():
        if k[3] and k[4] and k not in listed and sizes[k[:3]] >= min_pairs:
            c.fail(f"band_shifts.csv: no row for {k} although {n} pair(s) move between those bands")
    rows = report.get("band_shifts")
    if isinstance(rows, list) and all(isinstance(r, dict) for r in rows) and (not rows or "people" in rows[0]):
        check_table_equals_json(c, "band_shifts.csv", BAND_COLUMNS, {"instrument", "score", "first_band", "latest_band"},
                                rows, ["instrument", "instrument_version", "score", "first_band", "latest_band"])
    else:
        c.notes.append("report.json band_shifts is not a list of band_shifts.csv rows: not compared")


def check_service_use(c: Checker, report: dict, pairs: pd.DataFrame, min_pairs: int) -> None:
    path = c.root / "service_use.csv"
    if not path.is_file():
        c.fail("service_use.csv is missing")
        return
    df = read_csv(path)
    columns = df.columns.tolist()
    if columns not in (SERVICE_COLUMNS, [*SERVICE_COLUMNS, "message"]):
        c.fail(f"service_use.csv: columns {columns}, the contract says {SERVICE_COLUMNS} (and perhaps message)")
        return
    su = pairs[pairs["instrument"] == "service_use"]
    versions = sorted(su["instrument_version"].unique().tolist())
    if len(versions) > 1:
        c.notes.append(f"service_use pairs have versions {versions}: items are compared over all of them")
    items = set()
    for i, rec in enumerate(df.to_dict("records")):
        item = rec["item"]
        where = f"service_use.csv {item}"
        items.add(item)
        g = su[su["score"] == item]
        first = g["first_value"].to_numpy(dtype=float)
        latest = g["latest_value"].to_numpy(dtype=float)
        d = latest - first
        n = len(d)
        c.count("service use items")
        c.compare(where, "n", rec["n"], n)
        if n == 0:
            continue
        if n < min_pairs:
            c.count("service use items blank (n < min_pairs)")
            shown = [k for k in SERVICE_COLUMNS[3:9] if rec[k] != ""]
            if shown:
                c.fail(f"{where}: {shown} shown although n = {n} < min_pairs")
            if "message" in rec and not rec["message"].strip():
                c.fail(f"{where}: figures blank (n = {n}) but message does not say why")
            continue
        c.compare(where, "first_total", rec["first_total"], float(first.sum()))
        c.compare(where, "latest_total", rec["latest_total"], float(latest.sum()))
        c.compare(where, "mean_change", rec["mean_change"], float(d.mean()))
        s = paired(first, latest)
        if no_variation(d) and all(rec[k] == "" for k in ("wilcoxon_w", "wilcoxon_p", "wilcoxon_method")):
            c.count("service use items without a test (every change the same)")
        elif "wilcoxon_w" not in s:
            c.fail(f"{where}: a Wilcoxon test is shown although every change is zero")
        else:
            c.count("service use Wilcoxon tests")
            c.compare(where, "wilcoxon_w", rec["wilcoxon_w"], s.get("wilcoxon_w"))
            c.compare(where, "wilcoxon_p", rec["wilcoxon_p"], s.get("wilcoxon_p"))
            if rec["wilcoxon_method"] != s["wilcoxon_path"]:
                c.fail(f"{where}: wilcoxon_method = {rec['wilcoxon_method']!r}, scipy's method='auto' used {s['wilcoxon_path']!r}")
        if rec["unit_cost"] != "":
            unit = float(rec["unit_cost"])
            total = unit * float(latest.sum() - first.sum())
            per_person = unit * float(d.mean())
            got = num(rec["cost_change"])
            c.count("figures compared")
            if got is None or not (close(got, total, REL_TOL) or close(got, per_person, REL_TOL)):
                c.fail(f"{where}: cost_change = {rec['cost_change']!r}, unit cost x change gives {total!r} "
                       f"(in total) or {per_person!r} (per person)")
            if not rec["cost_source"].strip() or not re.fullmatch(r"\d{4}", rec["cost_year"]):
                c.fail(f"{where}: a unit cost without its source and year ({rec['cost_source']!r}, {rec['cost_year']!r})")
        elif rec["cost_change"] != "":
            c.fail(f"{where}: cost_change {rec['cost_change']!r} without a unit cost")
    for item in sorted(set(su["score"]) - items):
        c.fail(f"outcome_pairs.csv has service_use pairs for {item!r} but service_use.csv has no row for it")
    rows = report.get("service_use")
    if isinstance(rows, list) and all(isinstance(r, dict) for r in rows) and (not rows or "item" in rows[0]):
        check_table_equals_json(c, "service_use.csv", columns, SERVICE_TEXT | {"message"}, rows, ["item"])
    else:
        c.notes.append("report.json service_use is not a list of service_use.csv rows: not compared")


def check_value(c: Checker, report: dict, pairs: pd.DataFrame, min_pairs: int) -> None:
    value = report.get("value")
    if not isinstance(value, dict):
        c.fail("report.json: value is missing or not an object")
        return
    ls = pairs[(pairs["instrument"] == "ons4") & (pairs["score"] == "life_satisfaction")]
    versions = sorted(ls["instrument_version"].unique().tolist())
    if value.get("wellbys") is None:
        if not str(value.get("message") or "").strip():
            c.fail("report.json value: no wellbys and no message")
        if len(versions) == 1 and len(ls) >= min_pairs:
            c.fail(f"report.json value: no WELLBY figures although {len(ls)} life-satisfaction pairs are in the package")
        c.count("WELLBY checks skipped with a message")
        return
    missing = [k for k in VALUE_KEYS if k not in value]
    if missing:
        c.fail(f"report.json value: missing {missing}")
    people = num(value.get("people"))
    if len(versions) > 1:
        ls = ls[ls["instrument_version"] == max(versions)]
        c.notes.append(f"ONS4 life satisfaction has versions {versions}: the WELLBY is checked against v{max(versions)}")
    first = ls["first_value"].to_numpy(dtype=float)
    latest = ls["latest_value"].to_numpy(dtype=float)
    n = len(first)
    where = "report.json value"
    c.compare(where, "people", value.get("people"), n)
    if n < 2:
        c.fail(f"{where}: WELLBY figures from {n} life-satisfaction pair(s)")
        return
    s = paired(first, latest)
    duration = num(value.get("duration_years"))
    if duration != 1.0:
        c.fail(f"{where}: duration_years = {value.get('duration_years')!r}, the contract assumes 1.0")
    duration = duration or 1.0
    wellbys = n * s["mean_change"] * duration
    c.compare(where, "mean_change", value.get("mean_change"), s["mean_change"])
    c.compare(where, "wellbys", value.get("wellbys"), wellbys)
    c.compare(where, "wellbys_ci_low", value.get("wellbys_ci_low"), n * s["ci_low"] * duration)
    c.compare(where, "wellbys_ci_high", value.get("wellbys_ci_high"), n * s["ci_high"] * duration)
    for k, price in zip(("low", "central", "high"), WELLBY_PRICES):
        c.compare(where, f"price_{k}", value.get(f"price_{k}"), price)
        c.compare(where, f"value_{k}", value.get(f"value_{k}"), wellbys * price)
    # The widest range, where given: the CI ends at the prices that stretch them most.
    for k, pick, end in (("value_widest_low", min, "ci_low"), ("value_widest_high", max, "ci_high")):
        if k in value and not (is_null(value.get(k)) and is_null(value.get(f"wellbys_{end}"))):
            c.compare(where, k, value.get(k), pick(n * s[end] * duration * price for price in WELLBY_PRICES))
    if value.get("price_year") != WELLBY_PRICE_YEAR:
        c.fail(f"{where}: price_year = {value.get('price_year')!r}, expected {WELLBY_PRICE_YEAR}")
    working = value.get("working")
    if not (isinstance(working, list) and working and all(isinstance(w, str) and w.strip() for w in working)):
        c.fail(f"{where}: working is not a list of sentences: {working!r}")
    c.count("WELLBY figures recomputed from pairs", n)
    if people is not None and people != n:
        return
    vpath = c.root / "value.csv"
    if vpath.is_file():
        vdf = read_csv(vpath)
        if vdf.columns.tolist() != ["quantity", "low", "central", "high"]:
            c.fail(f"value.csv: columns {vdf.columns.tolist()}, the contract says quantity, low, central, high")
        else:
            centrals = [num(x) for x in vdf["central"] if x != ""]
            for label, want in (("WELLBYs", wellbys), ("value", wellbys * WELLBY_PRICES[1])):
                if not any(close(x, want, REL_TOL) for x in centrals):
                    c.fail(f"value.csv: no row has the central {label} {want!r}")
    else:
        c.fail("value.csv is missing")


# ---------------------------------------------------------------- instrument definitions

def check_against_definitions(c: Checker, report: dict, builtin: Path | None) -> None:
    """Threshold, direction and reliability of each row against the built-in definitions."""
    if builtin is None or not builtin.is_dir():
        return
    defs = {}
    for f in builtin.glob("*.json"):
        d = json.loads(f.read_text(encoding="utf-8"))
        for s in d.get("scores", []):
            defs[(d["id"], int(d["version"]), s["id"])] = s
    for row in report.get("outcomes") or []:
        if not isinstance(row, dict):
            continue
        try:
            key = (row.get("instrument"), int(num(row.get("instrument_version"))), row.get("score"))
        except (TypeError, ValueError):
            continue
        s = defs.get(key)
        if s is None:
            continue
        c.count("rows checked against the built-in instrument definitions")
        where = f"outcomes {key[0]} v{key[1]} {key[2]}"
        if row.get("direction") != s.get("direction", "higher_is_better"):
            c.fail(f"{where}: direction {row.get('direction')!r}, the definition says {s.get('direction')!r}")
        want_t = s.get("meaningful_change")
        if want_t is not None:
            c.compare(where, "threshold", row.get("threshold"), float(want_t))
        rel = (s.get("reliability") or {}).get("value")
        if rel is not None:
            c.compare(where, "reliability", row.get("reliability"), float(rel))
        elif not is_null(row.get("reliability")):
            c.fail(f"{where}: reliability {row.get('reliability')!r}, the definition has none")


# ---------------------------------------------------------------- driver

def check_package(root: Path, builtin: Path | None = None) -> Checker:
    c = Checker(root)
    check_descriptor(c)
    rpath = root / "report.json"
    try:
        report = json.loads(rpath.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        c.fail(f"report.json: {e}")
        return c
    if report.get("audience") != "evaluator":
        c.fail(f"report.json: audience {report.get('audience')!r}; the package from the CLI is the evaluators' exact view")
    disclosure = report.get("disclosure") or {}
    min_pairs = disclosure.get("min_pairs")
    if not isinstance(min_pairs, int) or min_pairs < 2:
        c.fail(f"report.json: disclosure.min_pairs {min_pairs!r} is not a whole number >= 2")
        min_pairs = 8
    c.counts["min_pairs"] = min_pairs
    pairs = load_pairs(c)
    if pairs is None:
        return c
    check_outcomes(c, report, pairs, min_pairs)
    check_table_equals_json(c, "outcomes.csv", OUTCOME_COLUMNS, OUTCOME_TEXT, report.get("outcomes"), KEY)
    check_band_shifts(c, report, pairs, min_pairs)
    check_service_use(c, report, pairs, min_pairs)
    check_value(c, report, pairs, min_pairs)
    check_against_definitions(c, report, builtin)
    return c


def summary_line(c: Checker) -> str:
    k = c.counts
    return (f"recompute: {c.root}: {k.get('pairs', 0)} pairs of {k.get('people', 0)} people; "
            f"{k.get('outcome rows', 0)} outcome rows ({k.get('outcome rows with statistics', 0)} with n >= "
            f"{k.get('min_pairs', '?')}, {k.get('outcome rows blank (n < min_pairs or no variation)', 0)} blank, "
            f"{k.get('outcome rows without pairs', 0)} without pairs); "
            f"{k.get('band shift rows', 0)} band shift rows; {k.get('service use items', 0)} service use items "
            f"({k.get('service use Wilcoxon tests', 0)} Wilcoxon); WELLBY from "
            f"{k.get('WELLBY figures recomputed from pairs', 0)} pairs; {k.get('figures compared', 0)} figures and "
            f"{k.get('CSV cells compared with report.json', 0)} CSV cells compared; frictionless: "
            f"{k.get('frictionless resources validated', 0)} resources ({k.get('CSV resources', 0)} CSV); "
            f"{k.get('rows checked against the built-in instrument definitions', 0)} rows against instrument definitions")


def run(root: Path, builtin: Path | None, min_rows: int) -> int:
    c = check_package(root, builtin)
    print(summary_line(c))
    if c.counts.get("outcome rows with statistics", 0) < min_rows:
        c.fail(f"only {c.counts.get('outcome rows with statistics', 0)} outcome row(s) had n >= min_pairs "
               f"and statistics (at least {min_rows} required): nothing substantial was checked")
    for note in c.notes:
        print(f"note: {note}")
    if c.problems:
        print(f"FAILED: {len(c.problems)} mismatch(es):", file=sys.stderr)
        for p in c.problems:
            print(f"  {p}", file=sys.stderr)
        return 1
    print("recompute: every figure agrees")
    return 0


# ---------------------------------------------------------------- self-test

# WILCOXON_NOTES.md E3 (n = 10, 3 zeros: scipy's permutation path) and E7 (n = 20, ties and
# zeros: normal approximation), with scipy 1.17.1's results written out.
E3 = dict(before=[5, 6, 7, 4, 8, 6, 5, 7, 3, 6], after=[6, 6, 9, 4, 7, 8, 5, 9, 6, 7],
          mean_change=1.0, sd_change=1.247219128924647, ci_low=0.10779318286503681,
          ci_high=1.8922068171349631, t=2.5354627641855494, p_value=0.031947732703496587,
          cohen_dz=0.80178372573727319, wilcoxon_w=2.0, wilcoxon_p=0.0625, zeros=3)
E7 = dict(before=[22, 25, 19, 30, 27, 24, 21, 26, 23, 28, 20, 25, 22, 29, 24, 27, 23, 26, 21, 25],
          after=[24, 25, 22, 31, 29, 22, 24, 26, 26, 30, 21, 28, 25, 31, 23, 30, 25, 29, 24, 27],
          mean_change=1.75, sd_change=1.4823523268955432, ci_low=1.0562377556227958,
          ci_high=2.4437622443772042, t=5.2796071347218616, p_value=4.2737845192017767e-05,
          cohen_dz=1.1805560447730974, wilcoxon_w=9.0, wilcoxon_p=0.00069900150389395899, zeros=2)


def ons4_band(v: float) -> str:
    return "low" if v <= 4 else "medium" if v <= 6 else "high" if v <= 8 else "very high"


def self_test_pairs() -> list[dict]:
    rows = []
    pid = iter(f"{i:020x}" for i in range(1, 1000))
    for b, a in zip(E3["before"], E3["after"]):  # ONS4 life satisfaction: 10 people
        rows.append(dict(instrument="ons4", instrument_version=1, score="life_satisfaction", first_value=b,
                         latest_value=a, first_band=ons4_band(b), latest_band=ons4_band(a)))
    for b, a in zip(E7["before"], E7["after"]):  # WEMWBS total (threshold 3, reliability 0.91)
        rows.append(dict(instrument="wemwbs", instrument_version=1, score="total", first_value=b,
                         latest_value=a, first_band="", latest_band=""))
    for b, a in [(2, 4), (5, 3), (6, 6), (3, 1), (7, 8)]:  # ONS4 anxiety: n = 5 < 8, blank
        rows.append(dict(instrument="ons4", instrument_version=1, score="anxiety", first_value=b,
                         latest_value=a, first_band="low", latest_band="low"))
    for b, a in [(4, 2), (3, 3), (5, 1), (2, 2), (6, 3), (1, 0), (3, 4), (2, 1), (0, 0), (4, 4)]:
        rows.append(dict(instrument="service_use", instrument_version=1, score="gp_appointments",
                         first_value=b, latest_value=a, first_band="", latest_band=""))
    for r in rows:
        r["pseudonym"] = next(pid)
        r["first_month"], r["latest_month"] = "2026-01", "2026-06"
    return rows


def fmt(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return repr(v)
    return repr(v) if isinstance(v, float) else str(v)


def build_self_test_package(root: Path) -> dict:
    """A package written by hand: the pairs above, the figures from scipy (checked against
    the worked examples' literal values first), and a frictionless descriptor."""
    pairs = self_test_pairs()
    pdf = pd.DataFrame(pairs)
    min_pairs = 8
    meta = {
        ("ons4", 1, "life_satisfaction"): ("Life satisfaction", "higher_is_better", None, None),
        ("wemwbs", 1, "total"): ("WEMWBS total", "higher_is_better", 3.0, 0.91),
        ("ons4", 1, "anxiety"): ("Anxiety", "lower_is_better", None, None),
    }
    outcomes = []
    for key, (label, direction, threshold, reliability) in meta.items():
        g = pdf[(pdf["instrument"] == key[0]) & (pdf["instrument_version"] == key[1]) & (pdf["score"] == key[2])]
        row = {"instrument": key[0], "instrument_version": key[1], "score": key[2], "label": label,
               "direction": direction, "threshold": threshold, "reliability": reliability}
        exp, blank = expected_outcome(g, row, min_pairs)
        out = {k: None for k in OUTCOME_COLUMNS}
        out.update({k: v for k, v in exp.items() if k in OUTCOME_COLUMNS})
        out.update(row)
        for k in ("n", "df", "wilcoxon_n", "wilcoxon_zeros", "improved", "unchanged", "worse",
                  "reliable_improved", "reliable_worse"):
            if out[k] is not None:
                out[k] = int(out[k])
        if not blank:
            out["wilcoxon_n"] = int(exp["_wilcoxon_nonzero"])
        out["message"] = f"Fewer than {min_pairs} people answered twice." if blank else None
        outcomes.append(out)
    # The anchors: scipy must still give the worked examples' values.
    for out, ex in ((outcomes[0], E3), (outcomes[1], E7)):
        for k in ("mean_change", "sd_change", "ci_low", "ci_high", "t", "p_value", "cohen_dz", "wilcoxon_w", "wilcoxon_p"):
            tol = P_TOL if k.endswith("p") or k == "p_value" else REL_TOL
            assert close(out[k], ex[k], tol), (out["instrument"], k, out[k], ex[k])
        assert out["wilcoxon_zeros"] == ex["zeros"]
    assert outcomes[0]["wilcoxon_method"] == "permutation" and outcomes[1]["wilcoxon_method"] == "approx"
    # Shares of E3 (any difference counts): 6 improved, 3 unchanged, 1 worse; Wilson 6/10 is
    # 0.3127 to 0.8318 (the published interval).
    assert (outcomes[0]["improved"], outcomes[0]["unchanged"], outcomes[0]["worse"]) == (6, 3, 1)
    assert abs(outcomes[0]["improved_ci_low"] - 0.3127) < 5e-5 and abs(outcomes[0]["improved_ci_high"] - 0.8318) < 5e-5

    # WELLBY worked example: 10 people x mean change 1.0 x 1 year = 10 WELLBYs, valued at
    # 100,000 / 130,000 / 160,000 GBP; the interval is 10 x the CI of the mean change.
    value = {"wellbys": 10.0, "wellbys_ci_low": 10 * E3["ci_low"], "wellbys_ci_high": 10 * E3["ci_high"],
             "price_low": 10_000, "price_central": 13_000, "price_high": 16_000,
             "value_low": 100_000.0, "value_central": 130_000.0, "value_high": 160_000.0,
             "value_widest_low": 10 * E3["ci_low"] * 10_000, "value_widest_high": 10 * E3["ci_high"] * 16_000,
             "price_year": 2019, "duration_years": 1.0, "people": 10, "mean_change": 1.0,
             "working": ["10 people x 1.0 points x 1 year = 10 WELLBYs.", "10 x 13,000 GBP = 130,000 GBP."]}

    su = pdf[pdf["instrument"] == "service_use"]
    first, latest = su["first_value"].to_numpy(float), su["latest_value"].to_numpy(float)
    s = paired(first, latest)
    service = [{"item": "gp_appointments", "label": "GP appointments", "n": 10, "first_total": 30.0,
                "latest_total": 20.0, "mean_change": -1.0, "wilcoxon_w": s["wilcoxon_w"],
                "wilcoxon_p": s["wilcoxon_p"], "wilcoxon_method": "permutation", "unit_cost": 42.0,
                "cost_source": "PSSRU Unit Costs 2024", "cost_year": 2024, "cost_change": 42.0 * -10}]
    assert s["wilcoxon_path"] == "permutation"

    bands = pdf.groupby([*KEY, "first_band", "latest_band"]).size()
    band_rows = [{"instrument": a, "instrument_version": int(b), "score": sc, "first_band": fb,
                  "latest_band": lb, "people": int(n)}
                 for (a, b, sc, fb, lb), n in bands.items() if fb and lb]

    report = {"programme": {"id": "p1", "name": "Self-test programme", "lead_organisation": "Test"},
              "period": {"from": "2026-01-01", "to": "2026-12-31"}, "generated_at": "2026-12-07T00:00:00Z",
              "audience": "evaluator", "disclosure": {"suppress_up_to": 5, "round_to": 5, "min_pairs": min_pairs},
              "summary": [], "reach": {}, "outcomes": outcomes, "band_shifts": band_rows,
              "service_use": service, "value": value, "practice": {}, "voices": {}, "barriers": [],
              "costs": [], "comparison": [], "methods": [], "messages": []}
    write_package(root, report, pairs, [["wellbys", value["wellbys_ci_low"], 10.0, value["wellbys_ci_high"]],
                                        ["value_gbp", 100_000.0, 130_000.0, 160_000.0]])
    return report


def field_type(col: str, values: list) -> str:
    vals = [v for v in values if v not in ("", None)]
    if vals and all(isinstance(v, bool) is False and isinstance(v, int) for v in vals):
        return "integer"
    if vals and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals):
        return "number"
    return "string"


def write_table(root: Path, name: str, columns: list[str], rows: list[dict], resources: list, types=None) -> None:
    with open(root / name, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(columns)
        for r in rows:
            w.writerow([fmt(r.get(k)) for k in columns])
    fields = [{"name": k, "type": (types or {}).get(k) or field_type(k, [r.get(k) for r in rows]),
               "description": f"The {k.replace('_', ' ')}."} for k in columns]
    resources.append({"name": name[:-4], "path": name, "format": "csv", "mediatype": "text/csv",
                      "encoding": "utf-8", "schema": {"fields": fields}})


def write_package(root: Path, report: dict, pairs: list[dict], value_rows: list[list]) -> None:
    root.mkdir(parents=True, exist_ok=True)
    resources: list = []
    write_table(root, "outcome_pairs.csv", PAIR_COLUMNS, pairs, resources,
                {"first_value": "number", "latest_value": "number"})
    write_table(root, "outcomes.csv", OUTCOME_COLUMNS, report["outcomes"], resources)
    write_table(root, "band_shifts.csv", BAND_COLUMNS, report["band_shifts"], resources)
    write_table(root, "service_use.csv", SERVICE_COLUMNS, report["service_use"], resources)
    write_table(root, "value.csv", ["quantity", "low", "central", "high"],
                [dict(zip(["quantity", "low", "central", "high"], r)) for r in value_rows], resources)
    (root / "report.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    (root / "datapackage.json").write_text(json.dumps({"name": "self-test", "resources": resources}, indent=2),
                                           encoding="utf-8")


def rewrite_csv_cell(path: Path, match: dict, col: str, value: str) -> None:
    df = read_csv(path)
    mask = np.ones(len(df), dtype=bool)
    for k, v in match.items():
        mask &= df[k] == v
    assert mask.sum() == 1, (path, match)
    df.loc[mask, col] = value
    df.to_csv(path, index=False, lineterminator="\n")


def self_test() -> int:
    tmp = Path(tempfile.mkdtemp(prefix="recompute-selftest."))
    failures = []
    try:
        good = tmp / "good"
        report = build_self_test_package(good)
        c = check_package(good)
        print(summary_line(c))
        if c.problems or c.counts.get("outcome rows with statistics", 0) != 2:
            failures.append(f"the hand-built package should pass with 2 rows of statistics: {c.problems}")

        def in_report(mutate):
            def apply(root: Path):
                r = json.loads((root / "report.json").read_text())
                mutate(r)
                (root / "report.json").write_text(json.dumps(r))
            return apply

        def outcome(key, col, val):
            def m(r):
                for o in r["outcomes"]:
                    if (o["instrument"], o["score"]) == key:
                        o[col] = val
            return m

        def both(key, col, val):
            """Change report.json and outcomes.csv alike, so only the recomputation can catch it."""
            def apply(root: Path):
                in_report(outcome(key, col, val))(root)
                rewrite_csv_cell(root / "outcomes.csv", {"instrument": key[0], "score": key[1]}, col, fmt(val))
            return apply

        ls, wem, anx = ("ons4", "life_satisfaction"), ("wemwbs", "total"), ("ons4", "anxiety")
        e3 = report["outcomes"][0]
        cases = [
            ("a mean change off by 1e-6", both(ls, "mean_change", 1.000001), r"mean_change = 1\.000001"),
            ("a paired-t p-value off by 2e-6", both(wem, "p_value", E7["p_value"] + 2e-6), r"p_value"),
            ("a Wilcoxon p-value off by 2e-6", both(ls, "wilcoxon_p", 0.062502), r"wilcoxon_p"),
            ("the CI low end of the mean change", both(wem, "ci_low", 1.05), r"ci_low"),
            ("Cohen's d_z with the sign flipped", both(ls, "cohen_dz", -e3["cohen_dz"]), r"cohen_dz"),
            ("the Wilcoxon method", both(wem, "wilcoxon_method", "exact"), r"wilcoxon_method"),
            ("one person moved from unchanged to improved", both(ls, "improved", 7), r"improved = 7"),
            ("a Wilson interval end", both(ls, "worse_ci_high", 0.4), r"worse_ci_high"),
            ("the reliable improvement count", both(wem, "reliable_improved", 99), r"reliable_improved"),
            ("a t statistic shown with n = 5 < 8", both(anx, "t", 1.5), r"t = .* shown although n = 5"),
            ("outcomes.csv differs from report.json",
             lambda root: rewrite_csv_cell(root / "outcomes.csv", {"score": "total"}, "mean_first", "24.36"),
             r"outcomes\.csv .* mean_first"),
            ("report.json lacks a measure present in the pairs",
             in_report(lambda r: r["outcomes"].pop(2)), r"no outcome row for it"),
            ("a band shift count",
             lambda root: rewrite_csv_cell(root / "band_shifts.csv", {"first_band": "medium", "latest_band": "high"}, "people", "9"),
             r"band_shifts\.csv .*people = 9"),
            ("the WELLBY central value",
             in_report(lambda r: r["value"].update(value_central=129_000.0)), r"value_central"),
            ("the WELLBY count copied from a different mean change",
             in_report(lambda r: r["value"].update(wellbys=11.0)), r"wellbys = 11\.0"),
            ("the widest value range at the wrong price",
             in_report(lambda r: r["value"].update(value_widest_high=10 * E3["ci_high"] * 13_000)), r"value_widest_high"),
            ("a service-use total",
             lambda root: rewrite_csv_cell(root / "service_use.csv", {"item": "gp_appointments"}, "latest_total", "23.0"),
             r"latest_total"),
            ("a CSV left out of datapackage.json",
             lambda root: (root / "extra.csv").write_text("a,b\n1,2\n"), r"extra\.csv .*not a resource"),
            ("a field without a description",
             lambda root: (root / "datapackage.json").write_text(
                 (root / "datapackage.json").read_text().replace('"description": "The first band."', '"description": ""')),
             r"field 'first_band' has no description"),
            ("a number where the schema says integer",
             lambda root: rewrite_csv_cell(root / "band_shifts.csv", {"first_band": "medium", "latest_band": "high"}, "people", "two"),
             r"frictionless"),
            ("a pseudonym that is a name",
             lambda root: rewrite_csv_cell(root / "outcome_pairs.csv", {"pseudonym": f"{1:020x}"}, "pseudonym", "Alex Example"),
             r"pseudonym"),
        ]
        for label, apply, expect in cases:
            d = tmp / re.sub(r"\W+", "-", label)
            shutil.copytree(good, d)
            apply(d)
            with contextlib.redirect_stdout(io.StringIO()):
                cc = check_package(d)
            hit = [p for p in cc.problems if re.search(expect, p)]
            if hit:
                print(f"caught: {label}: {hit[0]}")
            if not hit:
                failures.append(f"not caught: {label} (expected a problem matching {expect!r}; got {cc.problems})")
        # An empty check must fail: only blank rows.
        d = tmp / "only-blank"
        shutil.copytree(good, d)
        r = json.loads((d / "report.json").read_text())
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            rc = run(d, None, 3)
        if rc == 0:
            failures.append("a package with fewer outcome rows with statistics than required passed")
        del r
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print("self-test FAILED:", file=sys.stderr)
        for f in failures:
            print(f"  {f}", file=sys.stderr)
        return 1
    print(f"self-test: the hand-built package passes and each of {len(cases)} broken figures is caught")
    return 0


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("package", nargs="?", type=Path, help="the package directory")
    ap.add_argument("--self-test", action="store_true")
    ap.add_argument("--min-outcome-rows", type=int, default=1,
                    help="fail unless at least this many outcome rows had n >= min_pairs (default 1)")
    ap.add_argument("--instruments", type=Path,
                    default=Path(__file__).resolve().parents[2] / "crates/ensemble/src/modules/measures/builtin",
                    help="built-in instrument definitions to check threshold, direction and reliability against")
    args = ap.parse_args(argv)
    if args.self_test:
        return self_test()
    if args.package is None:
        ap.error("give a package directory or --self-test")
    if not args.package.is_dir():
        ap.error(f"{args.package} is not a directory")
    return run(args.package, args.instruments, args.min_outcome_rows)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
