"""Executable specification of scipy.stats.wilcoxon(x, y) with default arguments.

A plain-Python (no numpy/scipy) restatement of what scipy 1.17 does for
zero_method='wilcox', correction=False, alternative='two-sided', method='auto', written
the way the Rust implementation should do it (see WILCOXON_NOTES.md). agreement.py
--self-test checks it against scipy on a few thousand inputs, so the notes cannot drift
from what scipy really does.

    wilcoxon_two_sided(d) -> WilcoxonSpec(w, p, kind, zeros, r_plus, r_minus, count, ...)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

EXACT_MAX_N = 50  # len(d) > 50 -> normal approximation (zeros included in len(d))
PERMUTATION_MAX_N = 13  # ties or zeros and len(d) <= 13 -> exhaustive sign flips


@dataclass
class WilcoxonSpec:
    w: float  # min(r_plus, r_minus): the returned statistic
    p: float  # two-sided p-value
    kind: str  # "exact" | "permutation" | "approx"
    zeros: int  # zero differences dropped
    count: int  # non-zero differences ranked
    r_plus: float
    r_minus: float
    tie_term: float  # sum over tie groups of t^3 - t (zeros excluded)
    z: float | None  # normal approximation only
    se: float | None  # normal approximation only
    ranks: list[float]  # average ranks of |d| for the non-zero d, in input order


def average_ranks(values: list[float]) -> tuple[list[float], list[int]]:
    """Average (mid) ranks 1..n of values, and the sizes of the groups of equal values."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    groups = []
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        rank = (i + 1 + j + 1) / 2  # mean of the positions i+1 .. j+1: a multiple of 0.5
        for k in range(i, j + 1):
            ranks[order[k]] = rank
        groups.append(j - i + 1)
        i = j + 1
    return ranks, groups


def exact_pmf(n: int) -> list[float]:
    """pmf of R+ = 0 .. n(n+1)/2 under H0, no ties: scipy's _get_wilcoxon_distr, same float ops."""
    c = [1.0]
    for k in range(1, n + 1):
        prev = c
        c = [0.0] * (k * (k + 1) // 2 + 1)
        m = len(prev)
        for i in range(m):  # c[:m] = prev * 0.5
            c[i] = prev[i] * 0.5
        off = len(c) - m
        for i in range(m):  # c[-m:] += prev * 0.5
            c[off + i] += prev[i] * 0.5
    return c


def exact_tails(r_plus: float, n: int) -> tuple[float, float]:
    """(sf(floor r), cdf(ceil r)) exactly as scipy's WilcoxonDistribution computes them.

    Below or at the mean both tails are direct sums of the pmf; above it both are
    1 - (a sum). Every pmf value is a/2^n with a < 2^53, so all of this is exact in f64
    and equal to counting subsets with integers.
    """
    pmf = exact_pmf(n)
    mean = n * (n + 1) / 4

    def cdf(k: int) -> float:  # P(R+ <= k)
        return sum(pmf[: k + 1]) if k <= mean else 1 - sum(pmf[k + 1 :])

    def sf(k: int) -> float:  # P(R+ >= k)
        return sum(pmf[k:]) if k <= mean else 1 - sum(pmf[:k])

    return sf(math.floor(r_plus)), cdf(math.ceil(r_plus))


def exact_p_two_sided(r_plus: float, n: int) -> float:
    """scipy: p = clip(2 * min(sf(floor r), cdf(ceil r)), 0, 1)."""
    sf, cdf = exact_tails(r_plus, n)
    return min(max(2 * min(sf, cdf), 0.0), 1.0)


def permutation_counts(ranks: list[float], r_plus: float) -> tuple[int, int, int]:
    """(#{R+ <= observed}, #{R+ >= observed}, 2^count) over all sign assignments.

    Ranks are multiples of 0.5, so doubled ranks are integers and the null distribution
    is counted exactly (subset-sum DP). Zeros only repeat every assignment 2^zeros
    times, which cancels in the proportions.
    """
    doubled = [round(2 * r) for r in ranks]
    total = sum(doubled)
    counts = [0] * (total + 1)
    counts[0] = 1
    for r in doubled:
        for s in range(total, r - 1, -1):
            counts[s] += counts[s - r]
    obs = round(2 * r_plus)
    return sum(counts[: obs + 1]), sum(counts[obs:]), 2 ** len(ranks)


def permutation_p_two_sided(ranks: list[float], r_plus: float) -> float:
    """Exhaustive sign-flip test: p = min(1, 2 * min(#le, #ge) / 2^count)."""
    le, ge, total = permutation_counts(ranks, r_plus)
    return min(1.0, 2 * min(le, ge) / total)


def wilcoxon_two_sided(d: list[float]) -> WilcoxonSpec:
    """scipy.stats.wilcoxon(after, before) for d = after - before (d must not be all zero)."""
    n = len(d)
    nonzero = [x for x in d if x != 0]
    zeros = n - len(nonzero)
    count = len(nonzero)
    ranks, groups = average_ranks([abs(x) for x in nonzero])
    r_plus = sum(r for r, x in zip(ranks, nonzero) if x > 0)
    r_minus = sum(r for r, x in zip(ranks, nonzero) if x < 0)
    has_ties = any(g > 1 for g in groups)
    tie_term = float(sum(g**3 - g for g in groups))

    if n > EXACT_MAX_N:
        kind = "approx"
    elif not has_ties and zeros == 0:
        kind = "exact"
    elif n <= PERMUTATION_MAX_N:
        kind = "permutation"
    else:
        kind = "approx"

    z = se = None
    if kind == "exact":
        p = exact_p_two_sided(r_plus, count)
    elif kind == "permutation":
        p = permutation_p_two_sided(ranks, r_plus)
    else:
        mn = count * (count + 1.0) * 0.25
        se = math.sqrt((count * (count + 1.0) * (2.0 * count + 1.0) - tie_term / 2) / 24)
        z = (r_plus - mn) / se
        p = math.erfc(abs(z) / math.sqrt(2))  # = 2 * Phi(-|z|)
    return WilcoxonSpec(min(r_plus, r_minus), p, kind, zeros, count, r_plus, r_minus,
                        tie_term, z, se, ranks)
