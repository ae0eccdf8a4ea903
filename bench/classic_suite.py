"""The default classifier suite: `redline scan --target demo-classifier`, end to end.

Prints the wall time of the whole command in a fresh process (import, training the demo
model at first use, 1,680 attempts, store, reports; median of --repeat runs), against the
same model queried directly in one process for the same number of queries (the ratio is
the harness's cost per query over the model's own), the planted bias it finds (parity
difference and ratio with their intervals, the four-fifths rule, counterfactual flips),
and robust accuracy and margins of the boundary search. With IBM ART installed
(`pip install adversarial-robustness-toolbox`), it also runs ART's HopSkipJump on the same
model and rows and prints both side by side (time, queries, robust accuracy per budget, median
margin; redline's side is the boundary check alone, scanned in this process); without it, that
part is skipped. Beside them, the exact margins (the demo is linear: each row's distance to
its decision hyperplane), the floor both searches are measured against. ART's figures vary a
little from run to run (its HopSkipJump's draws are not seeded by redline); redline's do not.

    python bench/classic_suite.py [--repeat 3] [--art-rows 80]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import WORK, redline_python, run_child, write_result


def scan_once(work: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    work.mkdir(parents=True, exist_ok=True)
    db = work / "r.db"
    db.unlink(missing_ok=True)
    got = run_child([redline_python(), "-m", "redline", "scan", "--target", "demo-classifier",
                     "--no-progress", "--db", str(db), "--out", str(work / "out")], cwd=work)
    if got["rc"] not in (0, 1):
        raise SystemExit(f"scan failed (rc {got['rc']}): {got['stderr'][-2000:]}")
    with sqlite3.connect(db) as con:
        (summary,) = con.execute("SELECT summary FROM runs").fetchone()
    return got, json.loads(summary)


def direct_queries(n: int) -> float:
    """The demo model alone: n single-row predictions, as many as the scan made."""
    from redline.classic.data import credit
    from redline.classic.estimator import demo_classifier

    model = demo_classifier()
    rows = credit(500, seed=5).rows
    started = time.perf_counter()
    for i in range(n):
        model.predict([rows[i % len(rows)]])
    return time.perf_counter() - started


def redline_boundary(work: Path, rows: int) -> dict[str, Any]:
    """The catalog's boundary check alone, as a scan in this process (engine, store and
    reports included; the demo model already trained): its time, queries and the margins of
    its first `rows` rows."""
    import shutil

    from redline.classic.estimator import demo_classifier
    from redline.core.config import load_config
    from redline.core.scan import scan

    suite = work / "boundary-only"
    shutil.rmtree(work, ignore_errors=True)
    suite.mkdir(parents=True)
    source = Path(__file__).resolve().parent.parent / "src/redline/catalog/classic"
    shutil.copy(source / "evasion-boundary.yaml", suite)
    demo_classifier()
    started = time.perf_counter()
    result = scan(load_config(None, {"target": "demo-classifier", "suite": str(suite),
                                     "db": str(work / "r.db"), "out": str(work / "out")}))
    seconds = time.perf_counter() - started
    m = result.run.summary["metrics"]["classic-evasion-boundary"]
    return {"seconds": seconds, "queries": m["queries"],
            "margins": [r["margin"] for r in m["per_input"][:rows]]}


def exact_margins(rows: int) -> list[float]:
    """The true smallest L2 evasion of each row, in the checks' units (numeric features in
    standard deviations, categories fixed): the demo is logistic regression, so it is the
    row's distance to the hyperplane, |logit| / ||v|| with v the weights of the numeric
    features times scale / training std (0 for a misclassified row). No search can find a
    smaller margin; an attack's robust accuracy can only be at or above these."""
    import numpy as np

    from redline.classic.estimator import demo_classifier
    from redline.classic.schema import _load

    model = demo_classifier()
    enc, est = model.model.encoder, model.model.estimator
    data = _load(json.dumps({"rows": 80}), 0)
    scales = data.scales()
    weights = est.coef_.ravel()[:len(enc.numeric)]
    v = np.asarray([w * scales[f] / s
                    for w, f, s in zip(weights, enc.numeric, enc.stds, strict=True)])
    out = []
    for row, label in list(zip(data.rows, data.labels, strict=True))[:rows]:
        (probs,) = model.predict([row])
        if max(probs, key=probs.get) != label:
            out.append(0.0)
            continue
        logit = float(est.decision_function(enc.transform([row]))[0])
        out.append(abs(logit) / float(np.linalg.norm(v)))
    return out


def art_hopskipjump(rows: int, iterations: int) -> dict[str, Any] | None:
    """ART's HopSkipJump (L2) on the demo model over the boundary check's first rows, in
    the same standardised space as redline's search; None when ART is not installed."""
    try:
        from art.attacks.evasion import HopSkipJump
        from art.estimators.classification import BlackBoxClassifier
    except ImportError:
        return None
    import numpy as np

    from redline.classic.estimator import demo_classifier
    from redline.classic.schema import _load

    model = demo_classifier()
    data = _load(json.dumps({"rows": 80}), 0)
    scales = {f: s for f, s in data.scales().items()}
    names = list(scales)
    margins, started, queries = [], time.perf_counter(), 0
    for row, label in list(zip(data.rows, data.labels, strict=True))[:rows]:
        def predict(x: Any, row: dict[str, Any] = row) -> Any:
            nonlocal queries
            queries += len(x)
            batch = [{**row, **{f: v * scales[f] for f, v in zip(names, xi, strict=True)}}
                     for xi in x]
            return np.asarray([[p[c] for c in model.classes] for p in model.predict(batch)])

        x0 = np.asarray([[float(row[f]) / scales[f] for f in names]])
        clf = BlackBoxClassifier(predict, (len(names),), len(model.classes))
        if model.classes[int(predict(x0).argmax())] != label:
            margins.append(0.0)
            continue
        attack = HopSkipJump(clf, norm=2, max_iter=iterations, max_eval=200, init_eval=20,
                             verbose=False)
        adv = attack.generate(x0)
        flipped = predict(adv).argmax() != predict(x0).argmax()
        margins.append(float(np.linalg.norm(adv - x0)) if flipped else None)
    return {"seconds": time.perf_counter() - started, "queries": queries, "margins": margins}


def _robust(margins: list[float | None], budgets: list[float]) -> dict[str, float]:
    return {f"{b:g}": sum(1 for m in margins if m is None or m > b) / len(margins)
            for b in budgets}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--art-rows", type=int, default=80)  # all of the boundary check's rows
    args = ap.parse_args()
    walls, cpus, summaries = [], [], []
    for i in range(args.repeat):
        got, summary = scan_once(WORK / f"classic-{i}")
        walls.append(got["wall_s"])
        cpus.append(got["cpu_s"])
        summaries.append(summary["metrics"])
        print(f"run {i + 1}: {got['wall_s']:.2f} s wall, {got['cpu_s']:.2f} s CPU, "
              f"{got['peak_rss_mb']:.0f} MB peak")
    same = all(s == summaries[0] for s in summaries)
    metrics = summaries[0]
    fair = metrics["classic-fairness-group"]
    group = fair["features"]["group"]
    evasion_queries = sum(m.get("queries", 0) for m in metrics.values())
    queries = evasion_queries + sum(m["rows"] for m in metrics.values()
                                    if m["check"] == "calibration") + 2 * fair["rows"]
    direct = direct_queries(queries)
    wall = statistics.median(walls)
    boundary = metrics["classic-evasion-boundary"]
    print(f"\nredline scan --target demo-classifier: median {wall:.2f} s wall over "
          f"{args.repeat} fresh processes ({statistics.median(cpus):.2f} s CPU); "
          f"metrics identical across runs: {same}")
    print(f"the same {queries} queries straight to the model: {direct:.3f} s "
          f"-> the whole command is {wall / direct:.1f}x the model's own time")
    dp, ratio = group["demographic_parity_difference"], group["demographic_parity_ratio"]
    print(f"planted bias: demographic parity difference {dp['value']:.3f} "
          f"[{dp['low']:.3f}, {dp['high']:.3f}], ratio {ratio['value']:.3f} "
          f"[{ratio['low']:.3f}, {ratio['high']:.3f}], four-fifths rule "
          f"{'passes' if group['four_fifths']['passes'] else 'fails'}; counterfactual flips "
          f"{fair['counterfactual_flip_rate']['value']:.3f} "
          f"[{fair['counterfactual_flip_rate']['low']:.3f}, "
          f"{fair['counterfactual_flip_rate']['high']:.3f}]")
    robust = {b: r["value"] for b, r in boundary["robust_accuracy"].items()}
    print(f"boundary search ({boundary['rows']} rows, {boundary['queries']} queries): robust "
          f"accuracy {robust}, median margin {boundary['margins']['median']}")
    art = art_hopskipjump(args.art_rows, 10)
    result: dict[str, Any] = {
        "wall_s_median": wall, "wall_s": walls, "cpu_s": cpus, "metrics_identical": same,
        "queries": queries, "direct_model_s": direct, "ratio_to_model": wall / direct,
        "fairness": fair, "boundary": {k: v for k, v in boundary.items() if k != "per_input"}}
    if art is None:
        print("ART HopSkipJump: skipped (adversarial-robustness-toolbox is not installed)")
    else:
        ours = redline_boundary(WORK / "classic-boundary", args.art_rows)
        budgets = [float(b) for b in boundary["robust_accuracy"]]
        exact = {"margins": exact_margins(args.art_rows)}
        for name, got in (("ART HopSkipJump (L2)", art), ("redline boundary check", ours),
                          ("exact margins (closed form, the model is linear)", exact)):
            found = sorted(m for m in got["margins"] if m)
            cost = f"{got['seconds']:.2f} s, {got['queries']} queries, " if got != exact else ""
            print(f"{name} on the same {len(got['margins'])} rows: {cost}robust accuracy "
                  f"{_robust(got['margins'], budgets)}, median margin found "
                  f"{found[len(found) // 2] if found else None}")
        result["art"] = {**art, "redline": ours, "exact_margins": exact["margins"]}
        for name, got in (("ART", art), ("redline", ours)):
            ratios = sorted(m / e for m, e in zip(got["margins"], exact["margins"], strict=True)
                            if m and e)
            print(f"{name}: margin found / exact margin, median over {len(ratios)} rows "
                  f"{ratios[len(ratios) // 2]:.3f}, smallest {ratios[0]:.3f}")
    write_result("classic_suite", result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
