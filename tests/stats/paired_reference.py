#!/usr/bin/env python3
"""Reference paired before/after analysis with pandas + scipy.

Does the job of `ensemble analyse paired FILE.csv --before COL --after COL --format json`
the way an analyst would in Python, and prints the same JSON object (same keys, floats
printed with repr so they round-trip). It is the oracle of tests/stats/agreement.py and
the competitor in scripts/bench-analyse.

    paired_reference.py FILE.csv --before COL --after COL

Semantics (the CLI's contract):
  * Only an empty cell is missing; a row whose before or after cell is empty is dropped
    and counted in `dropped`. Any other cell must be a finite number: 'NaN', 'inf',
    'n/a', 'abc', ... in the two analysed columns are errors. Other columns are ignored.
  * change = after - before, per pair.
  * t-test: scipy.stats.ttest_rel(after, before) (two-sided) and its 95 % CI.
  * Wilcoxon: scipy.stats.wilcoxon(after, before) with all defaults.
  * Refused (exit 1, one line on stderr starting with "error:"): a missing column, an
    empty file, fewer than 2 complete pairs, a non-numeric or non-finite cell, every
    change zero, every change equal (zero variance). Usage errors exit 2 (argparse).

Run with the venv of tests/stats/requirements.txt (target/stats-venv/bin/python).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import warnings

import numpy as np
import pandas as pd
from scipy import stats

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import KEYS, METHOD_LABELS  # noqa: E402

# scipy.stats.wilcoxon(method="auto") thresholds (scipy/stats/_wilcoxon.py, see
# WILCOXON_NOTES.md): more than 50 differences -> normal approximation; otherwise the
# exact distribution if there are no ties and no zeros; otherwise an exhaustive
# permutation test if there are at most 13 differences; otherwise the approximation.
# Both counts include the zero differences.
WILCOXON_EXACT_MAX_N = 50
WILCOXON_PERMUTATION_MAX_N = 13


class AnalysisError(Exception):
    """An input the analysis refuses; the message is printed after 'error: '."""


def _first_bad_cell(values: pd.Series) -> tuple[int, str, str] | None:
    """(data row, cell text, problem) of the first cell that is not empty or a finite number."""
    for i, cell in enumerate(values):
        if isinstance(cell, float) and math.isnan(cell):  # empty cell read as NA
            continue
        text = str(cell)
        try:
            x = float(text)
        except ValueError:
            return i + 1, text, "non-numeric"
        if not math.isfinite(x):
            return i + 1, text, "non-finite"
    return None


def read_pairs(path: str, before_col: str, after_col: str) -> tuple[np.ndarray, np.ndarray, int]:
    """Read the two columns; return (before, after, dropped) for the complete pairs."""
    try:
        header = pd.read_csv(path, nrows=0).columns
    except pd.errors.EmptyDataError:
        raise AnalysisError(f"{path} is empty: no header row") from None
    except FileNotFoundError:
        raise AnalysisError(f"{path}: no such file") from None
    for col in (before_col, after_col):
        if col not in header:
            raise AnalysisError(
                f"column '{col}' not found in {path} (columns: {', '.join(map(str, header))})"
            )

    # keep_default_na=False + na_values=[""]: only an empty cell is missing. pandas would
    # otherwise silently treat 'NaN', 'NA', 'n/a', 'null', ... as missing and drop them.
    # Cells that are not numbers leave the column as strings (checked below); pandas
    # parses 'inf'/'Infinity'/'1e400' as +-inf (also checked below). pandas 3.1 uses one
    # correctly rounded float parser, so values are the same doubles as Rust's parse().
    cols = list(dict.fromkeys((before_col, after_col)))
    frame = pd.read_csv(path, usecols=cols, keep_default_na=False, na_values=[""])
    arrays = {}
    for col in cols:
        s = frame[col]
        if len(s) == 0:  # header only
            arrays[col] = np.empty(0, dtype=np.float64)
            continue
        if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
            bad = _first_bad_cell(s)
            if bad is None:  # e.g. a column of True/False
                bad = (1, str(s.iloc[0]), "non-numeric")
            row, text, problem = bad
            raise AnalysisError(f"{problem} value '{text}' in column '{col}' at data row {row}")
        values = s.to_numpy(dtype=np.float64, na_value=np.nan)
        inf = np.isinf(values)
        if inf.any():
            row = int(np.argmax(inf)) + 1
            raise AnalysisError(
                f"non-finite value '{values[row - 1]}' in column '{col}' at data row {row}"
            )
        arrays[col] = values

    before, after = arrays[before_col], arrays[after_col]
    complete = ~(np.isnan(before) | np.isnan(after))
    dropped = int(complete.size - np.count_nonzero(complete))
    return before[complete], after[complete], dropped


def wilcoxon_kind(d: np.ndarray) -> str:
    """Which computation scipy.stats.wilcoxon(method='auto') performs for differences d.

    Returns 'exact' (exact null distribution), 'permutation' (exhaustive sign-flip
    permutation test, exact given the ties) or 'approx' (normal approximation).
    """
    n = d.size  # includes zero differences, as in scipy
    if n > WILCOXON_EXACT_MAX_N:
        return "approx"
    nonzero = np.abs(d[d != 0])
    has_ties = np.unique(nonzero).size < nonzero.size
    has_zeros = nonzero.size < n
    if not (has_ties or has_zeros):
        return "exact"
    if n <= WILCOXON_PERMUTATION_MAX_N:
        return "permutation"
    return "approx"


def analyse(before: np.ndarray, after: np.ndarray, dropped: int) -> dict:
    """All keys of the CLI's JSON object, computed with numpy/scipy."""
    before = np.asarray(before, dtype=np.float64)
    after = np.asarray(after, dtype=np.float64)
    d = after - before
    n = int(d.size)
    if n < 2:
        why = f" ({dropped} rows dropped for an empty before/after cell)" if dropped else ""
        raise AnalysisError(f"need at least 2 complete before/after pairs, found {n}{why}")
    if np.all(d == 0):
        raise AnalysisError(
            "every change (after - before) is zero: the t-test and the Wilcoxon test "
            "are undefined"
        )
    if np.all(d == d[0]):
        raise AnalysisError(
            f"every change (after - before) is {float(d[0])!r}: the change has zero "
            "variance, so the t-test is undefined"
        )

    with warnings.catch_warnings():
        # scipy warns about precision loss for nearly constant changes; the result is
        # still what scipy returns, which is what we compare against.
        warnings.simplefilter("ignore", RuntimeWarning)
        tt = stats.ttest_rel(after, before)
        ci = tt.confidence_interval(confidence_level=0.95)
        wx = stats.wilcoxon(after, before)

    mean_change = float(np.mean(d))
    sd_change = float(np.std(d, ddof=1))
    result = {
        "n": n,
        "dropped": int(dropped),
        "mean_before": float(np.mean(before)),
        "mean_after": float(np.mean(after)),
        "mean_change": mean_change,
        "sd_change": sd_change,
        "ci95_low": float(ci.low),
        "ci95_high": float(ci.high),
        "t": float(tt.statistic),
        "df": int(tt.df),
        "p_value": float(tt.pvalue),
        "cohen_dz": mean_change / sd_change,
        "wilcoxon_w": float(wx.statistic),
        "wilcoxon_p": float(wx.pvalue),
        "wilcoxon_method": METHOD_LABELS[wilcoxon_kind(d)],
        "wilcoxon_zeros": int(np.count_nonzero(d == 0)),
    }
    assert tuple(result) == KEYS
    for key, value in result.items():
        if isinstance(value, float) and not math.isfinite(value):
            raise AnalysisError(f"internal: scipy returned {key} = {value}")
    return result


def analyse_file(path: str, before_col: str, after_col: str) -> dict:
    before, after, dropped = read_pairs(path, before_col, after_col)
    return analyse(before, after, dropped)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", metavar="FILE.csv")
    parser.add_argument("--before", required=True, metavar="COL")
    parser.add_argument("--after", required=True, metavar="COL")
    args = parser.parse_args(argv)
    try:
        result = analyse_file(args.file, args.before, args.after)
    except AnalysisError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    # json.dumps writes floats with repr(), which round-trips; allow_nan=False guarantees
    # that no NaN/Infinity can reach stdout.
    print(json.dumps(result, allow_nan=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
