"""Agreement of `ensemble analyse agreement` with scikit-learn's `cohen_kappa_score`.

    kappa.py --ensemble PATH_TO_BINARY [--datasets N] [--seed S]

Generates codings by two coders (random codes over 2 to 8 categories with a tunable chance of
agreeing, binary theme/no-theme codings, and the degenerate cases: a single item, one coder
using one code throughout, both coders using the same single code, perfect agreement, perfect
disagreement), writes each as a CSV file, runs the binary on it with `--format json`, and
compares n, percentage agreement, chance agreement and kappa with the reference:
percentage agreement is numpy's mean of equal codes, chance agreement is computed from the
confusion matrix, and kappa is `sklearn.metrics.cohen_kappa_score` (NaN there must be null
in Ensemble). Exits non-zero, listing every difference, if any value differs by more than
1e-12 (absolute) or if any generated case is missing.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import warnings

import numpy as np
from sklearn.metrics import cohen_kappa_score, confusion_matrix

TOLERANCE = 1e-12


def generate(count: int, seed: int) -> list[tuple[str, list[str], list[str]]]:
    rng = np.random.default_rng(seed)
    cases: list[tuple[str, list[str], list[str]]] = [
        ("single item, disagreeing", ["joy"], ["loss"]),
        ("single item, agreeing", ["joy"], ["joy"]),
        ("both coders one code", ["joy"] * 12, ["joy"] * 12),
        ("first coder one code", ["joy"] * 15, list(rng.choice(["joy", "loss", "hope"], 15))),
        ("second coder one code", list(rng.choice(["joy", "loss"], 9)), ["loss"] * 9),
        ("perfect agreement", ["a", "b", "c", "a", "b"], ["a", "b", "c", "a", "b"]),
        ("perfect disagreement", ["yes", "no"] * 10, ["no", "yes"] * 10),
        ("codes with spaces", ["peer support", "music", "peer support"], ["peer support", "peer support", "music"]),
    ]
    for i in range(count):
        n = int(rng.choice([2, 3, 5, 10, 30, 100, 1000, 5000]))
        if i % 3 == 0:
            # Binary: was the theme applied to this voice?
            first = rng.random(n) < rng.uniform(0.05, 0.95)
            flip = rng.random(n) < rng.uniform(0.0, 0.5)
            second = np.where(flip, ~first, first)
            cases.append((f"binary {i} (n={n})", ["yes" if x else "no" for x in first],
                          ["yes" if x else "no" for x in second]))
        else:
            k = int(rng.integers(2, 9))
            codes = [f"theme {c}" for c in range(k)]
            weights = rng.dirichlet(np.ones(k))
            first = rng.choice(codes, n, p=weights)
            agree = rng.random(n) < rng.uniform(0.0, 1.0)
            other = rng.choice(codes, n)
            second = np.where(agree, first, other)
            cases.append((f"categorical {i} (n={n}, k={k})", list(first), list(second)))
    return cases


def reference(first: list[str], second: list[str]) -> dict:
    a, b = np.array(first), np.array(second)
    labels = sorted(set(first) | set(second))
    with warnings.catch_warnings():
        # sklearn warns on one label and on kappa's 0/0; both cases are expected here.
        warnings.simplefilter("ignore")
        cm = confusion_matrix(a, b, labels=labels).astype(float)
        kappa = float(cohen_kappa_score(a, b, labels=labels))
    n = cm.sum()
    expected = float((cm.sum(axis=1) * cm.sum(axis=0)).sum() / (n * n))
    return {
        "n": int(n),
        "observed": float(np.mean(a == b)),
        "expected": expected,
        "kappa": None if math.isnan(kappa) else kappa,
    }


def compare(name: str, got: dict, want: dict) -> list[str]:
    problems = []
    if got.get("n") != want["n"]:
        problems.append(f"{name}: n {got.get('n')} != {want['n']}")
    for key in ("observed", "expected", "kappa"):
        g, w = got.get(key), want[key]
        if (g is None) != (w is None):
            problems.append(f"{name}: {key} {g} != {w}")
        elif g is not None and abs(g - w) > TOLERANCE:
            problems.append(f"{name}: {key} {g!r} != {w!r} (difference {abs(g - w):.3g})")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ensemble", required=True, metavar="PATH")
    parser.add_argument("--datasets", type=int, default=120)
    parser.add_argument("--seed", type=int, default=20261207)
    args = parser.parse_args(argv)
    if not (os.path.isfile(args.ensemble) and os.access(args.ensemble, os.X_OK)):
        parser.error(f"{args.ensemble} is not an executable file")
    cases = generate(args.datasets, args.seed)
    problems: list[str] = []
    undefined = 0
    with tempfile.TemporaryDirectory(prefix="ensemble-kappa.") as directory:
        for index, (name, first, second) in enumerate(cases):
            path = os.path.join(directory, f"case{index}.csv")
            with open(path, "w", encoding="utf-8") as f:
                f.write("item,first coder,second coder\n")
                for i, (x, y) in enumerate(zip(first, second)):
                    f.write(f"{i},{x},{y}\n")
            run = subprocess.run(
                [args.ensemble, "analyse", "agreement", path, "--first", "first coder",
                 "--second", "second coder", "--format", "json"],
                capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
            if run.returncode != 0:
                problems.append(f"{name}: exit {run.returncode}: {run.stderr.strip()}")
                continue
            got = json.loads(run.stdout)
            want = reference(first, second)
            undefined += want["kappa"] is None
            problems.extend(compare(name, got, want))
        # Nothing to compare is refused with a message, not a number.
        empty = os.path.join(directory, "empty.csv")
        with open(empty, "w", encoding="utf-8") as f:
            f.write("first coder,second coder\n,joy\n")
        run = subprocess.run(
            [args.ensemble, "analyse", "agreement", empty, "--first", "first coder",
             "--second", "second coder", "--format", "json"],
            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
        if run.returncode == 0 or "nothing to compare" not in run.stderr:
            problems.append(f"blank codings: expected a refusal, got exit {run.returncode}: {run.stdout}{run.stderr}")
    if undefined == 0:
        problems.append("no generated case had an undefined kappa: the degenerate cases are missing")
    for p in problems:
        print(p, file=sys.stderr)
    print(f"kappa: {len(cases)} codings compared with scikit-learn, {undefined} with kappa undefined, "
          f"{len(problems)} difference(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
