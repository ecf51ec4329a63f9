"""`make run`'s console shows each JSON log or EMF line as one short line; the log file keeps the JSON."""

from __future__ import annotations

import io
import json

from local.console import Console
from local.log_lines import formatter, short_line

LOG = {"level": "WARNING", "location": "_fail:171", "message": "job failed",
       "timestamp": "2026-01-01 00:00:00,000+0000", "service": "retouch", "cold_start": False,
       "function_name": "retouch-WorkerFunction", "function_request_id": "5b1c", "correlation_id": "job_abc",
       "account_id": "acct_1", "code": "provider_auth_failed", "xray_trace_id": "1-2-3"}
EMF = {"_aws": {"Timestamp": 1,
                "CloudWatchMetrics": [{"Namespace": "Retouch", "Dimensions": [["service", "error_code"]],
                                       "Metrics": [{"Name": "JobsFailed", "Unit": "Count"}]}]},
       "service": "retouch", "error_code": "provider_auth_failed", "JobsFailed": [1.0]}


def test_a_log_line_is_level_message_job_and_its_own_keys() -> None:
    assert short_line(json.dumps(LOG)) == "WARNING job failed [job_abc] account_id=acct_1 code=provider_auth_failed"


def test_an_emf_line_is_its_metrics_and_extra_dimensions() -> None:
    assert short_line(json.dumps(EMF)) == "metrics JobsFailed=1 error_code=provider_auth_failed"


def test_long_values_are_cut_and_other_lines_pass_unchanged() -> None:
    line = short_line(json.dumps({"level": "INFO", "message": "m", "body": "x" * 500}))
    assert line.startswith("INFO    m body=xxx") and line.endswith("…") and len(line) < 90
    for text in ("REPORT RequestId: 1\tDuration: 2.0 ms", "Traceback (most recent call last):", "{not json", "[1]"):
        assert short_line(text) == text


def test_the_console_shows_short_lines_and_the_log_file_keeps_json(tmp_path) -> None:
    stream, log_path = io.StringIO(), tmp_path / "stack.log"
    console = Console(stream=stream, log_path=log_path, render=formatter("short"))
    console.line("worker", json.dumps(LOG))
    console.close()
    assert stream.getvalue() == "[worker] WARNING job failed [job_abc] account_id=acct_1 code=provider_auth_failed\n"
    assert json.loads(log_path.read_text().removeprefix("[worker] ")) == LOG
    assert console.recent("worker") == [f"[worker] {json.dumps(LOG)}"]


def test_the_json_setting_shows_lines_as_printed() -> None:
    stream = io.StringIO()
    Console(stream=stream, render=formatter("json")).line("api", json.dumps(LOG))
    assert json.loads(stream.getvalue().removeprefix("[api] ")) == LOG
