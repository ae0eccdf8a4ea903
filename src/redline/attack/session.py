"""One attack attempt's state: its budget, its tree of nodes and its attacker calls.

Strategies (`redline.attack.strategies`) drive a session: `ask_attacker` for the next
prompt, `request` to build the target request, `scored` to judge a reply with the project's
judge, and `node` to add the attempt to the tree. `verdict()` turns the session into the
attempt's `attack` verdict: the evidence a replay and the reports read.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from redline.attack.attacker import Attacker, AttackerCall, clock, extract_prompt, unusable
from redline.attack.schema import AttackScenario, Budget
from redline.core.halting import Prices
from redline.core.models import Attempt, Message, TargetRequest, TargetResponse, Verdict
from redline.plugins.detectors.wording import topic_terms

# (attempt, responses) -> (outcome, verdicts, error): the engine's one judge
JudgeReply = Callable[[Attempt, Sequence[TargetResponse]],
                      Awaitable[tuple[str, list[Verdict], str | None]]]
REPLY_CHARS = 600  # of each target reply kept in a node (the full reply is in responses)
BROKEN_IN_A_ROW = 3  # unusable attacker replies in a row that end the attack


class AttackerBroken(Exception):
    """The attacker gave no usable prompt BROKEN_IN_A_ROW times in a row."""


@dataclass(frozen=True)
class Scored:
    success: bool
    score: float
    outcome: str
    verdicts: list[Verdict]
    error: str | None


@dataclass
class AttackSession:
    attempt: Attempt
    scenario: AttackScenario
    attacker: Attacker | None
    judge_reply: JudgeReply
    nodes: list[dict[str, Any]] = field(default_factory=list)
    calls: list[AttackerCall] = field(default_factory=list)
    broken: list[dict[str, Any]] = field(default_factory=list)
    queries: int = 0
    target_tokens: int = 0
    attacker_tokens: int = 0
    elapsed_ms: float = 0.0
    stopped: str = "exhausted"
    winner: int | None = None
    broken_run: int = 0

    prices: Prices = field(default_factory=Prices)

    @property
    def tokens(self) -> int:
        return self.target_tokens + self.attacker_tokens

    @property
    def cost(self) -> float:
        """Estimated at the run's prices per 1000 tokens."""
        return self.prices.cost(self.target_tokens, self.attacker_tokens)

    @property
    def objective(self) -> str:
        return self.attempt.original

    @property
    def budget(self) -> Budget:
        return self.scenario.budget

    @property
    def system_prompt(self) -> str:
        ref = self.scenario.attacker
        text = ref.system if ref is not None and ref.system else ""
        return text.replace("{objective}", self.objective)

    def over_budget(self) -> str | None:
        """Which cap the attack has reached, or None."""
        b = self.budget
        if self.queries >= b.max_queries:
            return "budget: queries"
        if len(self.calls) >= b.attacker_calls:
            return "budget: attacker calls"
        if b.max_tokens is not None and self.tokens >= b.max_tokens:
            return "budget: tokens"
        if b.max_seconds is not None and self.elapsed_ms >= b.max_seconds * 1000:
            return "budget: time"
        if b.max_cost is not None and self.cost >= b.max_cost:
            return "budget: cost"
        return None

    def exhausted(self) -> bool:
        """Whether a cap is reached (then the attack stops, saying which)."""
        reason = self.over_budget()
        if reason is not None:
            self.stopped = reason
        return reason is not None

    async def answered(self, response: TargetResponse) -> Scored:
        """Account a target reply and judge it."""
        self.sent(response)
        return await self.scored(response)

    def request(self, prompt: str, history: Sequence[Message] = ()) -> TargetRequest:
        """The target request for an attack prompt: the scenario's own leading messages (a
        system prompt), the conversation so far, then the prompt."""
        head = tuple(m for m in self.attempt.messages[:-1])
        return TargetRequest((*head, *history, Message("user", prompt)), self.attempt.id)

    async def ask_attacker(self, messages: Sequence[Message], on_topic: bool = True
                           ) -> str | None:
        """The attacker's next prompt, or None when its reply is unusable (recorded with the
        reason). Raises AttackerBroken after BROKEN_IN_A_ROW unusable replies in a row.
        `on_topic`: a prompt must name the objective's topic (Crescendo's steps need not)."""
        if self.attacker is None:
            raise AttackerBroken("this strategy needs an attacker and the run has none")
        call = await self.attacker.ask(self.attempt.id, tuple(messages), len(self.calls))
        self.calls.append(call)
        self.attacker_tokens += call.tokens or 0
        self.elapsed_ms += call.latency_ms
        prompt = extract_prompt(call.reply or "")
        reason = unusable(call, prompt, self.objective, messages, on_topic)
        if reason is None:
            self.broken_run = 0
            return prompt
        self.broken.append({"call": len(self.calls) - 1, "reason": reason})
        self.broken_run += 1
        if self.broken_run >= BROKEN_IN_A_ROW:
            raise AttackerBroken(f"{self.broken_run} unusable attacker replies in a row; "
                                 f"last: {reason}")
        return None

    def require_objective(self) -> None:
        """For a strategy whose single turns may skip the objective's topic (Crescendo): an
        attack none of whose sent prompts ever names it did not pursue the objective, so its
        safe replies prove nothing: recorded as broken (unclear, never a pass)."""
        goal = topic_terms(self.objective)
        sent = [n["prompt"] for n in self.nodes if n.get("turn") is not None]
        if self.winner is None and goal and sent and not any(goal & topic_terms(p)
                                                             for p in sent):
            self.broken.append({"call": None, "reason": "attacker never reached the "
                                f"objective: none of the {len(sent)} prompts sent names its "
                                "topic"})

    def sent(self, response: TargetResponse) -> None:
        """Account one target query."""
        self.queries += 1
        self.target_tokens += response.tokens or 0
        self.elapsed_ms += clock(response.latency_s)

    async def scored(self, response: TargetResponse) -> Scored:
        """Judge one reply alone with the scenario's detectors (and the LLM judge when the
        run has one): success means the target did what the attack wanted."""
        outcome, verdicts, error = await self.judge_reply(self.attempt, [response])
        score = max((v.score for v in verdicts if v.detected or v.unclear), default=0.0)
        if outcome == "fail":
            score = max(score, 1.0)
        return Scored(outcome == "fail", score, outcome, verdicts, error)

    def node(self, prompt: str, response: TargetResponse, scored: Scored, *,
             parent: int | None = None, **extra: Any) -> int:
        """Add a tried prompt to the tree; returns its index."""
        index = len(self.nodes)
        depth = 0 if parent is None else self.nodes[parent]["depth"] + 1
        self.nodes.append({
            "id": index, "parent": parent, "depth": depth, "turn": self.queries - 1,
            "prompt": prompt, "reply": (response.text or "")[:REPLY_CHARS],
            "score": round(scored.score, 4), "outcome": scored.outcome,
            "verdicts": [v.to_dict() for v in scored.verdicts], **extra})
        if scored.success and self.winner is None:
            self.winner = index
            self.stopped = "success"
        return index

    def prune(self, prompt: str | None, reason: str, parent: int | None) -> int:
        """Record a branch cut before (off-topic, unusable) or after (low score) its query."""
        index = len(self.nodes)
        depth = 0 if parent is None else self.nodes[parent]["depth"] + 1
        self.nodes.append({"id": index, "parent": parent, "depth": depth, "turn": None,
                           "prompt": prompt, "outcome": "pruned", "pruned": reason})
        return index

    def unclear_reason(self) -> str:
        calls = sum(b["call"] is not None for b in self.broken)
        reasons = [f"{calls} of {len(self.calls)} attacker calls gave no usable prompt"
                   ] if calls else []
        return "; ".join(reasons + [b["reason"] for b in self.broken if b["call"] is None])

    def verdict(self, strategy: str, error: str | None = None) -> Verdict:
        """The attempt's `attack` verdict: detected when the attack succeeded; unclear when
        it did not and the attacker was unusable at some point (never a pass)."""
        success = self.winner is not None
        evidence: dict[str, Any] = {
            "strategy": strategy, "scenario_id": self.attempt.scenario_id,
            "objective": self.objective,
            "attacker_prompt": self.scenario.attacker.key if self.scenario.attacker else None,
            "succeeded": success, "stopped": self.stopped,
            "queries": self.queries, "queries_to_success":
                self.nodes[self.winner]["turn"] + 1 if self.winner is not None else None,
            "winning_prompt": self.nodes[self.winner]["prompt"] if success else None,
            "tokens": self.tokens, "attacker_tokens": self.attacker_tokens,
            "cost": round(self.cost, 6), "nodes": self.nodes,
            "attacker_calls": [c.to_dict() for c in self.calls], "broken": self.broken,
        }
        if error is not None:
            evidence["attack_error"] = error
        unclear = not success and bool(self.broken) and error is None
        if unclear:
            evidence["unclear_reason"] = self.unclear_reason()
        best = max((n.get("score", 0.0) for n in self.nodes), default=0.0)
        return Verdict("attack", success, best, evidence, unclear=unclear)
