"""Text evasion: typos, swapped letters and synonyms from the shipped list against a real
TF-IDF + logistic-regression model read from a joblib file; a flipped text is stored as
evidence and really flips the model."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

pytest.importorskip("sklearn")

from redline.classic.data import reviews
from redline.classic.schema import shipped_synonyms
from redline.classic.strategies import edit
from redline.core.config import load_config
from redline.core.scan import scan
from redline.store import Store
from test_classic_checks import HEADER


def test_edits_are_seeded_and_use_the_shipped_synonyms() -> None:
    synonyms = shipped_synonyms()
    assert "great" in synonyms and "superb" in synonyms["great"]
    one = [edit("the battery was great", random.Random(3), synonyms) for _ in range(1)]
    assert one == [edit("the battery was great", random.Random(3), synonyms)]
    seen = {edit("the battery was great", random.Random(i), synonyms) for i in range(40)}
    assert any(w in s for s in seen for w in synonyms["great"])  # synonyms
    assert any(len(s) == len("the battery was great") and s != "the battery was great"
               for s in seen)  # typos and swaps keep the length


def test_text_evasion_finds_flips_that_really_flip_the_model(tmp_path: Path) -> None:
    import joblib
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    train = reviews(600, seed=1)
    model = make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=500)).fit(
        [r["text"] for r in train.rows], train.labels)
    path = tmp_path / "sentiment.joblib"
    joblib.dump(model, path)
    suite = tmp_path / "s"
    suite.mkdir()
    (suite / "t.yaml").write_text(HEADER.format(id="t-text", kind="evasion", category="evasion")
                                  + "method: text\nbudgets: [1, 2, 3]\nsamples: 5\n"
                                  "dataset: {generator: reviews, rows: 30}\n")
    result = scan(load_config(None, {"target": f"classifier:{path}", "suite": str(suite),
                                     "db": str(tmp_path / "r.db"),
                                     "out": str(tmp_path / "o")}))
    m = result.run.summary["metrics"]["t-text"]
    values = [r["value"] for r in m["robust_accuracy"].values()]
    assert values == sorted(values, reverse=True) and m["margins"]["found"] > 0
    store = Store(tmp_path / "r.db")
    try:
        flipped = [json.loads(v)[0]["evidence"] for _, v in
                   store.scenario_verdicts(result.run.id, "t-text")]
    finally:
        store.close()
    adversarial = [e for e in flipped if isinstance(e.get("adversarial"), str)]
    assert adversarial
    for e in adversarial:
        assert model.predict([e["adversarial"]])[0] != e["clean"]


def test_text_budgets_must_be_whole_numbers(tmp_path: Path) -> None:
    from redline.catalog import load_scenarios
    from redline.core.errors import InputFileError

    path = tmp_path / "t.yaml"
    path.write_text(HEADER.format(id="t-text", kind="evasion", category="evasion")
                    + "method: text\nbudgets: [0.5]\n")
    with pytest.raises(InputFileError, match="whole numbers"):
        load_scenarios([path])


MEMBERSHIP = """\
kind: membership
members: {rows: 300, seed: 7}
dataset: {rows: 300}
per_side: 150
resamples: 100
"""


def test_membership_advantage_tells_an_overfit_model_from_the_demo(tmp_path: Path,
                                                                   monkeypatch: object
                                                                   ) -> None:
    import sys
    import textwrap

    (tmp_path / "overfit_models.py").write_text(textwrap.dedent("""
        from redline.classic.data import credit
        from sklearn.tree import DecisionTreeClassifier
        _DATA = credit(300, seed=7)
        NUMERIC = list(_DATA.numeric)
        TREE = DecisionTreeClassifier(random_state=0).fit(
            [[r[n] for n in NUMERIC] for r in _DATA.rows], _DATA.labels)
    """))
    sys.path.insert(0, str(tmp_path))
    try:
        import overfit_models

        suite = tmp_path / "s"
        suite.mkdir()
        (suite / "m.yaml").write_text(HEADER.format(id="t-mia", kind="membership",
                                                    category="privacy").replace(
            "kind: membership\n", "") + MEMBERSHIP)
        config = tmp_path / "c.yaml"
        config.write_text(json.dumps({
            "target": {"kind": "classifier", "model": "overfit_models:TREE",
                       "features": overfit_models.NUMERIC},
            "suite": str(suite), "db": str(tmp_path / "r.db"), "out": str(tmp_path / "o")}))
        overfit = scan(load_config(config, {})).run.summary["metrics"]["t-mia"]
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("overfit_models", None)
    assert overfit["advantage"]["low"] > 0.2
    assert overfit["mean_loss_members"] < overfit["mean_loss_nonmembers"]
    demo = scan(load_config(None, {"target": "demo-classifier", "suite": str(suite),
                                   "db": str(tmp_path / "r.db"),
                                   "out": str(tmp_path / "o")})).run.summary["metrics"]
    assert demo["t-mia"]["advantage"]["value"] < overfit["advantage"]["value"]


def test_a_synthetic_cohort_the_model_never_saw_shows_no_disparity(tmp_path: Path) -> None:
    suite = tmp_path / "s"
    suite.mkdir()
    (suite / "f.yaml").write_text(HEADER.format(id="t-cohort", kind="fairness",
                                                category="fairness")
                                  + "dataset: {rows: 300, cohort: {name: region, "
                                  "values: [north, south], seed: 4}}\nresamples: 100\n")
    result = scan(load_config(None, {"target": "demo-classifier", "suite": str(suite),
                                     "db": str(tmp_path / "r.db"),
                                     "out": str(tmp_path / "o")}))
    m = result.run.summary["metrics"]["t-cohort"]
    region = m["features"]["region"]
    assert set(region["groups"]) == {"north", "south"}
    assert region["demographic_parity_difference"]["low"] < 0.05  # no real gap
    assert m["features"]["group"]["demographic_parity_difference"]["low"] > 0.05
    store = Store(tmp_path / "r.db")
    try:
        flips = [f for _, v in store.scenario_verdicts(result.run.id, "t-cohort")
                 for f in json.loads(v)[0]["evidence"]["flips"]]
    finally:
        store.close()
    assert flips and all(f["feature"] == "group" for f in flips)
