"""redline monitor triggers: re-run a suite, gate it against the last approved run, POST the
result to a webhook on a real loopback server, cool down."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from monitor_data import chat_rows, write_jsonl
from redline.monitor.triggers import Signals, TriggerFile, TriggerRule, Triggers, post_webhook
from test_monitor_recurrence import SCENARIO


@contextmanager
def hook_server(status: int = 200):
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            return

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            received.append(json.loads(body))
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    finally:
        server.shutdown()
        server.server_close()


def redline(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "redline", *args], cwd=cwd, text=True,
                          capture_output=True, timeout=180, env=env)


def test_cool_down_keeps_a_flapping_signal_from_looping(tmp_path):
    now = [1000.0]
    ran: list[str] = []
    rule = TriggerRule(name="g", when=["drift"], columns=["refused"], suite="s", target="t",
                       cooldown_s=600)
    with hook_server() as (url, received):
        spec = TriggerFile(webhook=url, state=tmp_path / "state.json", triggers=[rule])

        def runner(r):
            ran.append(r.name)
            return {"run": f"run{len(ran)}", "verdict": "approve", "gate_exit_code": 0}

        triggers = Triggers(spec, runner, clock=lambda: now[0])
        assert triggers.evaluate(Signals(drifted=["topic"])) == []  # not its column
        first = triggers.evaluate(Signals(drifted=["refused"]))
        assert [a.status for a in first] == ["ran"] and first[0].webhook == "200"
        now[0] += 300
        again = Triggers(spec, runner, clock=lambda: now[0])  # a later cron run: same state
        (cool,) = again.evaluate(Signals(drifted=["refused"]))
        assert cool.status == "cooling_down" and cool.until == 1600
        now[0] += 301
        assert [a.status for a in again.evaluate(Signals(drifted=["refused"]))] == ["ran"]
    assert ran == ["g", "g"]
    assert [b["run"] for b in received] == ["run1", "run2"]
    assert received[0]["event"] == "redline.monitor.trigger"
    assert received[0]["reason"] == "drift in refused"


def test_a_failing_webhook_or_rerun_is_reported_never_a_pass(tmp_path):
    with hook_server(status=500) as (url, _):
        assert post_webhook(url, {"x": 1}, 5) == "error: HTTP 500"
    assert post_webhook("http://127.0.0.1:9/none", {}, 2).startswith("error")
    rule = TriggerRule(name="g", suite="s", target="t", cooldown_s=0)
    spec = TriggerFile(state=tmp_path / "s.json", triggers=[rule])

    def broken(r):
        raise RuntimeError("target down")

    triggers = Triggers(spec, broken)
    (action,) = triggers.evaluate(Signals(recurrences=2, scenarios=["x"]))
    assert action.status == "failed" and "target down" in action.error
    assert triggers.exit_code() == 4


def test_monitor_reruns_gates_against_the_approved_run_and_posts(tmp_path):
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "t.yaml").write_text(SCENARIO)
    target = "python:redline.plugins.targets.toys:refuse"
    base = redline("scan", "-t", target, "-s", str(suite), "--no-progress", cwd=tmp_path)
    assert base.returncode == 0, base.stderr
    assert redline("gate", "latest", cwd=tmp_path).returncode == 0
    approved = json.loads(redline("runs", "list", "--json", cwd=tmp_path).stdout)[0]["id"]
    shifted = {"billing": 0.0, "travel": 0.0, "cooking": 0.1, "coding": 0.9}
    log = write_jsonl(tmp_path / "p.jsonl", chat_rows(600, 1) + chat_rows(400, 2, shifted))
    with hook_server() as (url, received):
        (tmp_path / "triggers.yaml").write_text(
            f"webhook: {url}\nstate: {tmp_path / 'state.json'}\ntriggers:\n"
            f"  - {{name: guard, when: [drift], suite: {suite}, target: '{target}',"
            " cooldown_s: 3600}\n"
            f"  - {{name: leaky, when: [drift], suite: {suite},"
            " target: 'python:redline.plugins.targets.toys:echo', cooldown_s: 3600}\n")
        args = ("monitor", str(log), "--once", "--json", "--triggers", "triggers.yaml",
                "--reference-records", "300", "--window", "300", "--step", "100",
                "--suite", str(suite))
        res = redline(*args, cwd=tmp_path)
        assert res.returncode == 4, res.stderr  # the echo target fails its gate
        guard, leaky = json.loads(res.stdout)["actions"]
        assert guard["status"] == "ran" and guard["baseline"] == approved
        assert guard["verdict"] == "approve" and guard["gate_exit_code"] == 0
        assert leaky["status"] == "ran" and leaky["gate_exit_code"] == 1
        assert leaky["baseline"] is None  # no approved run of that target
        assert [b["trigger"] for b in received] == ["guard", "leaky"]
        assert received[0]["signals"]["drifted"] == ["topic"]
        again = redline(*args, cwd=tmp_path)
        assert again.returncode == 1, again.stderr  # drift, both triggers cooling down
        assert [a["status"] for a in json.loads(again.stdout)["actions"]] == \
            ["cooling_down", "cooling_down"]
        assert len(received) == 2
    bad = tmp_path / "bad.yaml"
    bad.write_text("triggers:\n  - {name: x, suite: s, target: t, cooldown_s: -1}\n")
    res = redline("monitor", str(log), "--once", "--triggers", str(bad), cwd=tmp_path)
    assert res.returncode == 2 and "bad.yaml:2" in res.stderr and "cooldown_s" in res.stderr
