"""What a scan will run: a new run's plan (its scenarios, target and attacker, its manifest
and planned attempt ids, written to the store before any attempt), or the plan of a resumed
run or a replay, rebuilt from what the store recorded."""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from typing import Any

from redline.attack.attacker import Attacker
from redline.attack.driver import live_attacker, needs_attacker, recorded_attacker
from redline.catalog.schema import Scenario, parse_scenario
from redline.core.attempts import count_attempts, plan_ids
from redline.core.config import ScanConfig
from redline.core.errors import UsageError
from redline.evidence.credentials import Masker, config_secrets, redacted_config
from redline.evidence.manifest import build_manifest
from redline.plugins.detectors.judge import RecordedCalls
from redline.plugins.targets.base import Target
from redline.plugins.targets.cassette import CassetteTarget
from redline.plugins.targets.spec import build_target
from redline.store import Store, new_run_id


def recorded_judge(store: Store, run_id: str) -> RecordedCalls:
    return RecordedCalls.from_verdicts(json.loads(v) for _, _, v in store.verdict_rows(run_id))


def recorded_attacker_of(store: Store, run_id: str, seed: int, scenarios: list[Scenario]
                       ) -> Attacker | None:
    """A replay's attacker: the run's recorded attacker calls (when it has attacks)."""
    if not needs_attacker(scenarios):
        return None
    return recorded_attacker((json.loads(v) for _, _, v in store.verdict_rows(run_id)), seed)


def masker_for(config: ScanConfig) -> Masker:
    """Masks the values of every credential the config holds (target and judge)."""
    return Masker.of(config_secrets(config.model_dump(mode="json")))


@dataclass
class Plan:
    """What a scan will do: a new run, a resumed one, or a replay of a recording."""

    run_id: str
    scenarios: list[Scenario]
    target: Target
    planned: int
    done: set[str]
    resumed: bool = False
    judge_recording: RecordedCalls | None = None  # a replay's recorded judge calls
    attacker: Attacker | None = None  # attack scenarios' attacker (a replay: the recording)


def stored_scenarios(store: Store, run_id: str) -> list[Scenario]:
    """The run's probe scenarios, for a replay or a resume (other kinds have their own runs)."""
    defs = store.scenario_definitions(run_id)
    scenarios = [parse_scenario(defs[k]) for k in sorted(defs)]
    other = sorted({s.kind for s in scenarios if not isinstance(s, Scenario)})
    if other:
        raise UsageError(f"run {run_id} is a {'/'.join(other)} run: replay and resume take "
                         "scan runs; run the experiment again instead")
    return [s for s in scenarios if isinstance(s, Scenario)]


def judging_context(target: Target) -> dict[str, Any]:
    """What detectors need from the target, kept so a replay judges exactly as the run did."""
    return {"target_canaries": list(target.canaries),
            "target_system_prompt": target.system_prompt}


def new_plan(config: ScanConfig, store: Store, replay_of: str | None,
              loaded: tuple[list[Scenario], Target, Attacker | None] | None,
              held: contextlib.ExitStack) -> Plan:
    recording = None
    if loaded is not None:
        scenarios, target, attacker = loaded
    else:
        assert replay_of is not None
        source = store.get_run(replay_of)
        scenarios = stored_scenarios(store, source.id)
        target = CassetteTarget.from_store(store, source.id)
        recording = recorded_judge(store, source.id)
        attacker = recorded_attacker_of(store, source.id, source.seed, scenarios)
    planned = count_attempts(scenarios, config.seed)
    masker = masker_for(config)
    config_dict = masker.data(redacted_config(config.model_dump(mode="json")))
    manifest = build_manifest(config_dict, scenarios, masker.data(target.describe()),
                              config.seed, planned)
    manifest["judging"] = judging_context(target)
    if attacker is not None:
        manifest["attacker"] = masker.data(attacker.describe)
    if replay_of is not None:
        manifest["replay_of"] = target.describe()["source_run"]
    run_id = new_run_id()
    held.enter_context(store.hold_run(run_id))
    store.create_run(
        run_id, masker.text(target.spec) or "", config.suite, config.seed, planned, config_dict,
        manifest,
        [(s.id, s.version, s.model_dump(mode="json")) for s in scenarios],
        plan=plan_ids(scenarios, config.seed),
    )
    return Plan(run_id, scenarios, target, planned, set(), judge_recording=recording,
                attacker=attacker)


def resume_plan(store: Store, run_ref: str, held: contextlib.ExitStack
                 ) -> tuple[Plan, ScanConfig]:
    info = store.get_run(run_ref)
    # one process per run: a second resume (or a resume of a run still being scanned) is
    # refused here, before any work, instead of both storing the same attempts
    held.enter_context(store.hold_run(info.id))
    info = store.get_run(info.id)  # as it is now that no one else is writing it
    if info.status == "completed":
        raise UsageError(f"run {info.id} already completed; nothing to resume")
    config = ScanConfig.model_validate(info.config)
    scenarios = stored_scenarios(store, info.id)
    recording = None
    if "replay_of" in info.manifest:
        source = info.manifest["replay_of"]
        target: Target = CassetteTarget.from_store(store, source)
        recording = recorded_judge(store, source)
        attacker = recorded_attacker_of(store, source, config.seed, scenarios)
    else:
        target = build_target(config.target, seed=config.seed)
        attacker = live_attacker(config.attacker, scenarios, config.seed)
    store.mark_resumed(info.id)
    plan = Plan(info.id, scenarios, target, info.planned, store.done_attempt_ids(info.id), True,
                recording, attacker)
    return plan, config
