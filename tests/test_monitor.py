"""redline monitor: log reading, formats, drift with multiple-testing control, --once."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

from monitor_data import chat_rows, classifier_line, write_jsonl
from redline.gate.stats import holm
from redline.monitor.drift import DriftSettings, compare
from redline.monitor.logs import Source, parse_line
from redline.monitor.run import Follow, follow, read_once, read_reference
from redline.monitor.watch import Monitor, MonitorSettings

SMALL = dict(reference_records=1000, window=1000, step=500)


def redline(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "redline", *args], cwd=cwd, text=True,
                          input=stdin, capture_output=True, timeout=120)


def _monitor(path: Path, **kw) -> Monitor:
    mon = Monitor(MonitorSettings(**{**SMALL, **kw}))
    read_once(mon, [Source(str(path))])
    return mon


def test_topic_drift_alarms_after_it_starts_and_a_stable_log_stays_quiet(tmp_path):
    shifted = {"billing": 0.1, "travel": 0.1, "cooking": 0.2, "coding": 0.6}
    drift = write_jsonl(tmp_path / "drift.jsonl", chat_rows(3000, 1) + chat_rows(2000, 2, shifted))
    stable = write_jsonl(tmp_path / "stable.jsonl", chat_rows(5000, 3))
    mon = _monitor(drift)
    assert mon.records == 5000 and mon.reference.complete
    first = mon.first_alarm
    assert first is not None and first.drifted == ["topic"]
    assert 3000 < first.at_record <= 3500  # the first check that sees it
    assert first.where == f"{drift}:{first.at_record}"
    quiet = _monitor(stable)
    assert quiet.checks == 7 and quiet.alarm_checks == 0
    kinds = quiet.reference.kinds
    assert kinds["prompt_chars"] == "numeric" and kinds["topic"] == "categorical"
    assert kinds["refused"] == "rate" and kinds["hit:pii"] == "rate"


def test_refusal_rate_and_prompt_length_drift(tmp_path):
    rows = chat_rows(2000, 1) + chat_rows(1000, 2, refuse_rate=0.2, long=True)
    mon = _monitor(write_jsonl(tmp_path / "r.jsonl", rows))
    assert mon.latest is not None
    assert {"refused", "prompt_chars"} <= set(mon.latest.drifted)
    cols = {c.column: c for c in mon.latest.columns}
    assert cols["refused"].current > 0.15 and cols["refused"].reference < 0.05
    assert cols["prompt_chars"].psi > 0.5


def test_classifier_numeric_shift_is_the_only_drifted_column(tmp_path):
    rng = random.Random(5)
    rows = [classifier_line(rng) for _ in range(2000)] + \
        [classifier_line(rng, shift=8.0) for _ in range(1000)]
    mon = _monitor(write_jsonl(tmp_path / "clf.jsonl", rows), kind="classifier")
    assert mon.kind == "classifier"
    assert mon.reference.kinds == {"age": "numeric", "income": "numeric",
                                   "region": "categorical", "tenure": "numeric",
                                   "prediction": "categorical", "score": "numeric"}
    assert mon.latest is not None and mon.latest.drifted == ["age"]
    age = next(c for c in mon.latest.columns if c.column == "age")
    assert age.test == "ks" and age.psi > 0.2


def test_holm_controls_what_naive_per_column_tests_flag():
    assert holm([0.01, 0.04, 0.03]) == [0.03, 0.06, 0.06]
    rng = random.Random(11)
    naive = corrected = 0
    for _ in range(20):  # 20 checks of 10 stable columns: only chance differences
        cols = {f"c{i}": ("numeric", [rng.gauss(0, 1) for _ in range(300)],
                          [rng.gauss(0, 1) for _ in range(300)]) for i in range(10)}
        naive += sum(d.drifted for d in compare(cols, DriftSettings(
            alpha=0.05, min_psi=0.0, correct=False)))
        corrected += sum(d.drifted for d in compare(cols, DriftSettings()))
    assert naive >= 8 and corrected <= 1  # about 10 expected, and at most 0.2


def test_malformed_lines_are_reported_with_file_and_line_and_skipped(tmp_path):
    good = [json.dumps(r) for r in chat_rows(5, 1)]
    lines = [good[0], "not json", good[1], "[1, 2]", '{"response": "no prompt"}', good[2],
             '{"prompt": 5}', "", good[3], '{"features": {"a": 1}}', good[4]]
    path = tmp_path / "m.jsonl"
    path.write_bytes(("\n".join(lines) + "\n").encode() + b"\xff\xfe oops\n")
    mon = Monitor(MonitorSettings(kind="chat", reference_records=100))
    read_once(mon, [Source(str(path))])
    assert mon.records == 5
    got = {b.where.rsplit(":", 1)[1]: b.reason for b in mon.bad}
    assert set(got) == {"2", "4", "5", "7", "8", "10", "12"}
    assert got["2"].startswith("not JSON") and "object" in got["4"]
    assert "prompt" in got["5"] and "string" in got["7"] and got["12"].startswith("not UTF-8")
    assert all(b.where.startswith(str(path)) for b in mon.bad)


def test_chat_formats_messages_and_openai_response():
    from redline.monitor.logs import LogLine
    obj = {"messages": [{"role": "system", "content": "Be terse."},
                        {"role": "user", "content": "hi"}, {"role": "assistant", "content": "x"},
                        {"role": "user", "content": "and now?"}],
           "response": {"choices": [{"message": {"content": "Now this."}}]}, "ts": 17}
    rec = parse_line(LogLine("f", 1, json.dumps(obj).encode()), None)
    assert rec.prompt == "and now?" and rec.system_prompt == "Be terse."
    assert rec.response == "Now this." and rec.ts == "17"


def test_a_growing_directory_is_followed_without_losing_or_repeating_lines(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    rows = [json.dumps(r) + "\n" for r in chat_rows(30, 4)]
    (logs / "a.jsonl").write_text("".join(rows[:10]) + rows[10][:15])  # a line half written
    source = Source(str(logs))
    first = list(source.poll())
    assert [x.lineno for x in first] == list(range(1, 11))
    with (logs / "a.jsonl").open("a") as fh:
        fh.write(rows[10][15:] + "".join(rows[11:20]))
    (logs / "b.jsonl").write_text("".join(rows[20:]))
    second = list(source.poll())
    assert [x.where for x in second][:2] == [f"{logs / 'a.jsonl'}:11", f"{logs / 'a.jsonl'}:12"]
    assert len(second) == 20
    assert [json.loads(x.raw) for x in first + second] == [json.loads(r) for r in rows]
    (logs / "a.jsonl").write_text(rows[0])  # rotated: read again from the start
    assert [x.where for x in source.poll()] == [f"{logs / 'a.jsonl'}:1"]


def test_follow_picks_up_appended_records_and_checks_them(tmp_path):
    path = write_jsonl(tmp_path / "live.jsonl", chat_rows(1500, 1))
    later = chat_rows(1500, 2, mix={"coding": 1.0})
    mon = Monitor(MonitorSettings(**SMALL))
    ticks: list[int] = []

    def on_tick(checks) -> None:
        ticks.append(mon.records)
        if len(ticks) == 1:
            with path.open("a") as fh:
                fh.write("".join(json.dumps(r) + "\n" for r in later))

    follow(mon, [Source(str(path))], Follow(interval_s=0.01, max_idle_polls=2), on_tick)
    assert mon.records == 3000 and mon.first_alarm is not None
    assert "topic" in mon.first_alarm.drifted


def test_reference_file_and_too_few_records(tmp_path):
    ref = write_jsonl(tmp_path / "ref.jsonl", chat_rows(800, 1))
    cur = write_jsonl(tmp_path / "cur.jsonl", chat_rows(1200, 2))
    mon = Monitor(MonitorSettings(**SMALL))
    read_reference(mon, str(ref))
    read_once(mon, [Source(str(cur))])
    assert mon.reference.source == str(ref) and mon.checks == 2 and not mon.alarm_checks
    short = write_jsonl(tmp_path / "short.jsonl", chat_rows(50, 1))
    res = redline("monitor", str(short), "--once", "--json", cwd=tmp_path)
    assert res.returncode == 3, res.stderr
    assert json.loads(res.stdout)["drift"]["checks"] == 0


def test_cli_once_reads_stdin_and_reports_json_with_exit_code(tmp_path):
    shifted = {"billing": 0.0, "travel": 0.0, "cooking": 0.1, "coding": 0.9}
    text = "".join(json.dumps(r) + "\n" for r in chat_rows(800, 1) + chat_rows(600, 2, shifted))
    res = redline("monitor", "-", "--once", "--json", "--reference-records", "500",
                  "--window", "500", "--step", "250", cwd=tmp_path, stdin=text + "{bad\n")
    assert res.returncode == 1, res.stderr
    out = json.loads(res.stdout)
    assert out["exit_code"] == 1 and out["records"] == 1400
    assert out["malformed"]["lines"] == [{"where": "<stdin>:1401",
                                          "reason": "not JSON: Expecting property name "
                                          "enclosed in double quotes at column 2"}]
    assert "skipped <stdin>:1401" in res.stderr
    assert "topic" in out["drift"]["first_alarm"]["drifted"]
    missing = redline("monitor", str(tmp_path / "nope.jsonl"), "--once", cwd=tmp_path)
    assert missing.returncode == 2 and "no such file" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_language_guess_by_script_and_common_words():
    from redline.monitor.columns import guess_language

    cases = {"Please help me with the invoice": "en", "Привет, как дела": "cyrillic",
             "Por favor ayúdame con la pregunta": "es", "こんにちは世界": "japanese",
             "Bonjour, comment ça va avec vous": "fr", "12345 !!": "none", "Zxq vbn": "latin"}
    assert {t: guess_language(t) for t in cases} == cases
