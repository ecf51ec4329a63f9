"""`make run`'s console: the functions' JSON log and EMF lines as one short line each (RETOUCH_LOCAL_LOG_FORMAT=short,
the default), or as they are (json). The functions log JSON as in Lambda; only the console shows them shorter."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Literal

LogFormat = Literal["short", "json"]

# Powertools' keys that say nothing new on a developer's console (each line's function is its prefix already).
_QUIET_KEYS = frozenset({"level", "location", "message", "timestamp", "service", "cold_start", "function_name",
                         "function_memory_size", "function_arn", "function_request_id", "xray_trace_id",
                         "sampling_rate", "correlation_id"})
_MAX_VALUE = 60


def short_line(text: str) -> str:
    """One JSON log line as `LEVEL message [job] key=value ...`, an EMF line as `metrics Name=value ...`; anything
    else (tracebacks, REPORT lines) unchanged."""
    if not text.startswith("{"):
        return text
    try:
        record = json.loads(text)
    except ValueError:
        return text
    if not isinstance(record, dict):
        return text
    if "_aws" in record:
        return _metrics_line(record)
    if "message" not in record or "level" not in record:
        return text
    parts = [f"{record['level']:<7}", str(record["message"])]
    if record.get("correlation_id"):
        parts.append(f"[{record['correlation_id']}]")
    parts += [f"{key}={_short(value)}" for key, value in record.items() if key not in _QUIET_KEYS]
    return " ".join(parts)


def _metrics_line(record: dict[str, Any]) -> str:
    directives = record["_aws"].get("CloudWatchMetrics") or [{}]
    dimensions = {name for names in directives[0].get("Dimensions", []) for name in names} - {"service"}
    values = [f"{metric['Name']}={_short(record.get(metric['Name']))}" for metric in directives[0].get("Metrics", [])]
    return " ".join(["metrics", *values, *(f"{name}={record.get(name)}" for name in sorted(dimensions))])


def _short(value: Any) -> str:
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), default=str)
    return text if len(text) <= _MAX_VALUE else text[: _MAX_VALUE - 1] + "…"


def formatter(log_format: LogFormat) -> Callable[[str], str]:
    return short_line if log_format == "short" else _unchanged


def _unchanged(text: str) -> str:
    return text
