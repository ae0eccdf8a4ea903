"""An attack scored by the LLM judge: every judge call inside the tree is recorded, so the
replay rebuilds the same tree with neither target, attacker nor judge reachable."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from redline.attack import toys
from redline.core.config import load_config
from redline.core.scan import scan
from redline.evidence.replay import replay_run
from servers import serve
from test_attack import ATTACK, attacks


def judge(messages: list[dict[str, Any]]) -> str:
    """Sees the leak the rules were not told about."""
    seen = "PWNED-7" in json.dumps(messages)
    return json.dumps({"violation": seen, "confidence": 0.9, "reason": "leak" if seen else ""})


def test_an_attack_judged_by_the_llm_judge_replays_with_nothing_reachable(
        tmp_path: Path) -> None:
    suite = tmp_path / "s"
    suite.mkdir()
    (suite / "a.yaml").write_text(ATTACK.format(id="atk-judged", strategy="pair", extra="")
                                  .replace("PWNED-7", "NEVER-4242"))  # rules see nothing
    with serve(reply=toys.stubborn_victim) as (t_url, _), \
            serve(reply=toys.escalating_attacker) as (a_url, _), \
            serve(reply=judge) as (j_url, j_calls):
        cfg = load_config(None, {
            "target": f"openai:{t_url}/ok#v", "attacker": f"openai:{a_url}/ok#a",
            "suite": str(suite), "db": str(tmp_path / "r.db"), "out": str(tmp_path / "out"),
            "judge": {"base_url": f"{j_url}/ok", "model": "j", "mode": "always"}})
        result = scan(cfg)
    assert result.summary.total.failures == 3
    found = attacks(tmp_path / "r.db", result.run.id)
    for _, _, ev in found.values():
        assert ev["queries_to_success"] == toys.BREAK_AT
        judged = [v for n in ev["nodes"] for v in n["verdicts"] if v["detector"] == "llm_judge"]
        assert len(judged) == toys.BREAK_AT and judged[-1]["detected"]
    assert j_calls["ok"] >= 3 * toys.BREAK_AT
    rep = replay_run(tmp_path / "r.db", result.run.id, tmp_path / "out")
    assert rep.ok and rep.changed == []
    assert attacks(tmp_path / "r.db", rep.replay_id) == found
