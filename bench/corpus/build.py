"""Build the labeled validation corpus: src/redline/plugins/detectors/corpus/{dev,heldout}.jsonl.

    python bench/corpus/build.py

Sources: hand-written cases in bench/corpus/cases_*.py, labeled real replies of the bundled
model (bench/corpus/bundled_labels.jsonl) and programmatic leak cases (bench/corpus/leaks.py,
seeded). The split is seeded and stratified by (detector, style, label) and stable: a case
keeps the part it was first given (bench/corpus/assigned.json), and new cases fill the
smaller part of their stratum, so both parts hold about half of each stratum.
The sources contain held-out cases: do not read them (or heldout.jsonl) while tuning detectors.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import random
import sys
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
OUT = ROOT / "src" / "redline" / "plugins" / "detectors" / "corpus"
SEED = 20261201
MODULES = ["cases_refusal", "cases_harmful", "cases_leak", "cases_pii_exfil",
           "cases_extra", "cases_fresh"]
ROUNDS = {"cases_harmful": 3, "cases_pii_exfil": 2, "cases_refusal": 2}


def _sources() -> list[dict]:
    sys.path.insert(0, str(HERE))
    rng = random.Random(SEED)
    cases: list[dict] = []
    for name in MODULES:
        try:
            mod = importlib.import_module(name)
        except ModuleNotFoundError:
            continue
        # round 0 is the first corpus; later rounds draw other template combinations and
        # other fake records (exact duplicates are dropped)
        for round_ in range(ROUNDS.get(name, 1)):
            seed = f"{SEED}:{name}" + (f":{round_}" if round_ else "")
            for case in mod.build(random.Random(seed)):
                case.setdefault("provenance", f"generated:bench/corpus/{name}.py")
                cases.append(case)
    import leaks

    for round_ in range(2):
        for case in leaks.build(rng if round_ == 0 else random.Random(f"{SEED}:leaks:1")):
            case["provenance"] = "generated:bench/corpus/leaks.py"
            cases.append(case)
    labels = HERE / "bundled_labels.jsonl"
    if labels.exists():
        for line in labels.read_text(encoding="utf-8").splitlines():
            if line.strip():
                case = json.loads(line)
                case["provenance"] = "bundled-model"
                cases.append(case)
    return cases


def _with_ids(cases: list[dict]) -> list[dict]:
    seen: dict[str, int] = defaultdict(int)
    out = []
    for case in cases:
        key = json.dumps([case["detector"], case["request"], case["reply"],
                          case.get("secrets"), case.get("system_prompt")], ensure_ascii=False)
        digest = hashlib.sha1(key.encode()).hexdigest()[:10]
        if seen[digest]:
            continue  # exact duplicate
        seen[digest] += 1
        ordered = {"id": f"{case['detector']}-{digest}", **case}
        out.append(ordered)
    return out


def split(cases: list[dict], assigned: dict[str, str]) -> tuple[list[dict], list[dict]]:
    """Cases keep the part they were first given (bench/corpus/assigned.json); within each
    (detector, style, label) stratum, new cases go, in a seeded order, to the smaller part
    (held-out on a tie), so each stratum stays about 50/50 and adding cases never moves an
    old one between parts."""
    strata: dict[tuple, list[dict]] = defaultdict(list)
    for case in cases:
        strata[(case["detector"], case.get("style", ""), case["label"])].append(case)
    parts: dict[str, list[dict]] = {"dev": [], "heldout": []}
    for key in sorted(strata, key=str):
        group = strata[key]
        size = {"dev": 0, "heldout": 0}
        for case in group:
            if case["id"] in assigned:
                size[assigned[case["id"]]] += 1
        rng = random.Random(f"{SEED}:{key}")
        new = sorted((c for c in group if c["id"] not in assigned), key=lambda c: c["id"])
        rng.shuffle(new)
        for case in new:
            side = "dev" if size["dev"] < size["heldout"] else "heldout"
            assigned[case["id"]] = side
            size[side] += 1
        for case in group:
            parts[assigned[case["id"]]].append(case)
    return parts["dev"], parts["heldout"]


def _write(path: Path, cases: list[dict]) -> None:
    with path.open("w", encoding="utf-8") as f:
        for case in sorted(cases, key=lambda c: (c["detector"], c["id"])):
            f.write(json.dumps(case, ensure_ascii=False) + "\n")


def main() -> None:
    cases = _with_ids(_sources())
    assigned_path = HERE / "assigned.json"
    assigned = json.loads(assigned_path.read_text(encoding="utf-8"))
    dev, held = split(cases, assigned)
    live = {c["id"] for c in cases}
    assigned_path.write_text(json.dumps(
        {k: v for k, v in sorted(assigned.items()) if k in live}, indent=0) + "\n",
        encoding="utf-8")
    _write(OUT / "dev.jsonl", dev)
    _write(OUT / "heldout.jsonl", held)
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for case in cases:
        counts[case["detector"]][0 if case["label"] else 1] += 1
    for det, (pos, neg) in sorted(counts.items()):
        print(f"{det:20} {pos:5} positive {neg:5} negative")
    print(f"total {len(cases)}: dev {len(dev)}, heldout {len(held)}")


if __name__ == "__main__":
    main()
