"""Comparison of two `ensemble analyse paired --format json` results.

Shared by tests/stats/agreement.py (CLI vs scipy on many generated datasets) and
scripts/bench-analyse (CLI vs tests/stats/paired_reference.py on one large file), so the
two use exactly the same keys and tolerances.

Tolerances
----------
Every float is compared with a *floored relative difference*

    diff = |got - want| / max(|got|, |want|, floor)

and must be <= its tolerance. The floor is what turns the comparison into an absolute
one for values that are ~0, where a relative difference is meaningless (0 vs 1e-17 would
be "100 % different"):

* estimates (tolerance 1e-9):
  - location keys (mean_before, mean_after, mean_change, ci95_low, ci95_high): floor =
    the scale of the data, max(|mean_before|, |mean_after|, sd_change) of the reference.
    Rounding error in a mean is proportional to the size of the values summed, not to
    the mean itself, so a mean change of ~0 computed from scores of ~25 is compared to
    1e-9 * 25 absolute.
  - t and cohen_dz: floor 1.0, i.e. relative for |t| > 1 and absolute 1e-9 below (t is
    ~0 when the mean change is ~0; its error is then that of the mean divided by the SE).
  - sd_change: plain relative (it is > 0 in every accepted input).
  - wilcoxon_w: floor 1.0 (W is a sum of half-integer ranks and can be 0).
* p-values (tolerance 1e-6): floor = P_ABS_FLOOR / P_REL_TOL = 1e-6, which makes the
  test "relative difference <= 1e-6, or absolute difference <= 1e-12". Below ~1e-12 a
  p-value carries no usable information (no decision changes between 1e-13 and 1e-15),
  and there the result depends on how a special-function library handles deep tails
  and underflow (e.g. scipy's Boost t cdf returns exactly 0 for df = 9999, t = 40, where
  another incomplete-beta implementation may return a denormal or 1e-300), so requiring
  1e-6 relative there would test the library, not the analysis.
* counts (n, dropped, df, wilcoxon_zeros; 9 or 9.0) and wilcoxon_method: exactly equal.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

# The JSON object's keys, in the order the CLI and paired_reference.py print them.
KEYS = (
    "n",
    "dropped",
    "mean_before",
    "mean_after",
    "mean_change",
    "sd_change",
    "ci95_low",
    "ci95_high",
    "t",
    "df",
    "p_value",
    "cohen_dz",
    "wilcoxon_w",
    "wilcoxon_p",
    "wilcoxon_method",
    "wilcoxon_zeros",
)
INT_KEYS = ("n", "dropped", "df", "wilcoxon_zeros")
STRING_KEYS = ("wilcoxon_method",)
LOCATION_KEYS = ("mean_before", "mean_after", "mean_change", "ci95_low", "ci95_high")
STANDARDISED_KEYS = ("t", "cohen_dz")
P_KEYS = ("p_value", "wilcoxon_p")
ESTIMATE_KEYS = LOCATION_KEYS + STANDARDISED_KEYS + ("sd_change", "wilcoxon_w")

EST_REL_TOL = 1e-9
P_REL_TOL = 1e-6
P_ABS_FLOOR = 1e-12

# How scipy.stats.wilcoxon's method="auto" choice is reported in `wilcoxon_method`.
# scipy has three outcomes (see WILCOXON_NOTES.md): the exact null distribution (no ties,
# no zeros, n <= 50), an exhaustive sign-flip permutation test (ties or zeros, n <= 13),
# which is also exact (the exact conditional distribution given the ties), and the
# normal approximation. The CLI contract has two labels, so both exact computations are
# "exact". Change the "permutation" entry here if the CLI gets a third label.
METHOD_LABELS = {"exact": "exact", "permutation": "permutation", "approx": "approx"}


@dataclass
class Mismatch:
    key: str
    got: object
    want: object
    detail: str

    def __str__(self) -> str:
        return f"{self.key}: got {self.got!r}, want {self.want!r} ({self.detail})"


@dataclass
class Comparison:
    mismatches: list[Mismatch] = field(default_factory=list)
    max_estimate_diff: float = 0.0  # largest floored relative difference over ESTIMATE_KEYS
    max_p_diff: float = 0.0  # largest floored relative difference over P_KEYS

    @property
    def ok(self) -> bool:
        return not self.mismatches


def floored_rel_diff(got: float, want: float, floor: float) -> float:
    """|got - want| / max(|got|, |want|, floor); 0 when both are exactly equal."""
    if got == want:
        return 0.0
    denom = max(abs(got), abs(want), floor)
    if denom == 0.0:
        return math.inf
    return abs(got - want) / denom


def _is_number(v: object) -> bool:
    return (isinstance(v, (int, float)) and not isinstance(v, bool)) and math.isfinite(v)


def compare_results(got: dict, want: dict) -> Comparison:
    """Compare a result `got` (usually the CLI's) with the reference `want` (scipy's)."""
    cmp = Comparison()
    for key in sorted(set(got) - set(KEYS)):
        cmp.mismatches.append(Mismatch(key, got[key], None, "unexpected key"))
    for key in KEYS:
        if key not in got:
            cmp.mismatches.append(Mismatch(key, None, want.get(key), "missing key"))
    if any(m.detail == "missing key" for m in cmp.mismatches):
        return cmp

    for key in INT_KEYS:
        # Counts must be exactly equal; 3 and 3.0 are both accepted (JSON has one number type).
        if not _is_number(got[key]) or got[key] != want[key]:
            cmp.mismatches.append(Mismatch(key, got[key], want[key], "counts must be equal"))
    for key in STRING_KEYS:
        if got[key] != want[key]:
            cmp.mismatches.append(Mismatch(key, got[key], want[key], "must be equal"))

    scale = max(abs(want["mean_before"]), abs(want["mean_after"]), abs(want["sd_change"]))
    floors = {k: scale for k in LOCATION_KEYS}
    floors.update({k: 1.0 for k in STANDARDISED_KEYS})
    floors["sd_change"] = 0.0
    floors["wilcoxon_w"] = 1.0
    for key in ESTIMATE_KEYS:
        if not _is_number(got[key]):
            cmp.mismatches.append(Mismatch(key, got[key], want[key], "not a finite number"))
            continue
        d = floored_rel_diff(float(got[key]), float(want[key]), floors[key])
        cmp.max_estimate_diff = max(cmp.max_estimate_diff, d)
        if not d <= EST_REL_TOL:
            cmp.mismatches.append(
                Mismatch(key, got[key], want[key], f"diff {d:.3g} > {EST_REL_TOL:g}")
            )
    for key in P_KEYS:
        if not _is_number(got[key]) or not 0.0 <= got[key] <= 1.0:
            cmp.mismatches.append(Mismatch(key, got[key], want[key], "not a p-value in [0, 1]"))
            continue
        d = floored_rel_diff(float(got[key]), float(want[key]), P_ABS_FLOOR / P_REL_TOL)
        cmp.max_p_diff = max(cmp.max_p_diff, d)
        if not d <= P_REL_TOL:
            cmp.mismatches.append(
                Mismatch(key, got[key], want[key], f"diff {d:.3g} > {P_REL_TOL:g}")
            )
    return cmp


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not valid JSON (non-finite number in output)")


def parse_output(text: str) -> dict:
    """Parse stdout that must hold exactly one JSON object (NaN/Infinity rejected)."""
    obj = json.loads(text, parse_constant=_reject_constant)
    if not isinstance(obj, dict):
        raise ValueError(f"expected one JSON object, got {type(obj).__name__}")
    return obj


def _self_test() -> None:
    """Checks of the tolerance rules themselves (run by agreement.py --self-test)."""
    base = {
        "n": 10, "dropped": 1, "mean_before": 25.0, "mean_after": 26.0, "mean_change": 1e-3,
        "sd_change": 2.0, "ci95_low": -1.4, "ci95_high": 1.4, "t": 0.0016, "df": 9,
        "p_value": 0.99, "cohen_dz": 0.0005, "wilcoxon_w": 0.0, "wilcoxon_p": 1e-15,
        "wilcoxon_method": "exact", "wilcoxon_zeros": 0,
    }
    assert compare_results(dict(base), base).ok
    # mean change ~0: absolute error 1e-11 on data of scale 26 passes, 1e-7 fails
    assert compare_results(dict(base, mean_change=1e-3 + 1e-11), base).ok
    assert not compare_results(dict(base, mean_change=1e-3 + 1e-7), base).ok
    # tiny p-values: absolute floor 1e-12
    assert compare_results(dict(base, wilcoxon_p=3e-15), base).ok
    assert not compare_results(dict(base, wilcoxon_p=2e-12), base).ok
    # p-values: relative 1e-6
    assert compare_results(dict(base, p_value=0.99 * (1 + 5e-7)), base).ok
    assert not compare_results(dict(base, p_value=0.99 * (1 + 5e-6)), base).ok
    # types and keys
    assert compare_results(dict(base, df=9.0), base).ok
    assert not compare_results(dict(base, n=11), base).ok
    assert not compare_results(dict(base, n=True), base).ok
    assert not compare_results(dict(base, wilcoxon_method="approx"), base).ok
    assert not compare_results(dict(base, extra=1), base).ok
    missing = dict(base)
    del missing["t"]
    assert not compare_results(missing, base).ok
    try:
        parse_output('{"t": NaN}')
    except ValueError:
        pass
    else:
        raise AssertionError("NaN accepted")
