"""Build the labeled validation corpus: src/redline/detectors/corpus/{dev,heldout}.jsonl.

    python bench/corpus/build.py

Sources: hand-written cases in bench/corpus/cases_*.py, labeled real replies of the bundled
model (bench/corpus/bundled_labels.jsonl) and programmatic leak cases (bench/corpus/leaks.py,
seeded). The split is seeded and stratified by (detector, style, label): each stratum is
shuffled and its cases alternate between dev and heldout, so both parts have ~50% of each.
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
OUT = ROOT / "src" / "redline" / "detectors" / "corpus"
SEED = 20261201
MODULES = ["cases_refusal", "cases_harmful", "cases_leak", "cases_pii_exfil",
           "cases_extra"]


def _sources() -> list[dict]:
    sys.path.insert(0, str(HERE))
    rng = random.Random(SEED)
    cases: list[dict] = []
    for name in MODULES:
        try:
            mod = importlib.import_module(name)
        except ModuleNotFoundError:
            continue
        for case in mod.build(random.Random(f"{SEED}:{name}")):
            case.setdefault("provenance", f"generated:bench/corpus/{name}.py")
            cases.append(case)
    import leaks

    for case in leaks.build(rng):
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


def split(cases: list[dict]) -> tuple[list[dict], list[dict]]:
    strata: dict[tuple, list[dict]] = defaultdict(list)
    for case in cases:
        strata[(case["detector"], case.get("style", ""), case["label"])].append(case)
    rng = random.Random(SEED)
    dev, held = [], []
    for key in sorted(strata, key=str):
        group = sorted(strata[key], key=lambda c: c["id"])
        rng.shuffle(group)
        first_dev = rng.random() < 0.5  # odd-sized strata do not all favour one side
        for i, case in enumerate(group):
            (dev if (i % 2 == 0) == first_dev else held).append(case)
    return dev, held


def _write(path: Path, cases: list[dict]) -> None:
    with path.open("w", encoding="utf-8") as f:
        for case in sorted(cases, key=lambda c: (c["detector"], c["id"])):
            f.write(json.dumps(case, ensure_ascii=False) + "\n")


def main() -> None:
    cases = _with_ids(_sources())
    dev, held = split(cases)
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
