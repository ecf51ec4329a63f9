"""retouch.mcp.stdio (`retouch-mcp`): configured by its installer, refusing to start half-configured, and declared as
the package's console script."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from retouch.mcp import stdio

ROOT = Path(__file__).resolve().parents[3]


def test_it_is_the_retouch_mcp_console_script() -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    module, _, function = scripts["retouch-mcp"].partition(":")
    assert (module, function) == ("retouch.mcp.stdio", "main")


@pytest.mark.parametrize("missing", ["RETOUCH_BASE_URL", "RETOUCH_API_KEY"])
def test_it_refuses_to_start_without_a_url_and_a_key(missing: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RETOUCH_BASE_URL", "http://127.0.0.1:3000")
    monkeypatch.setenv("RETOUCH_API_KEY", "rt_live_x")
    monkeypatch.delenv(missing)
    with pytest.raises(SystemExit) as stopped:
        stdio.main([])
    assert "RETOUCH_API_KEY" in str(stopped.value.code)


def test_a_malformed_ceiling_stops_it_before_serving(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RETOUCH_BASE_URL", "http://127.0.0.1:3000")
    monkeypatch.setenv("RETOUCH_API_KEY", "rt_live_x")
    with pytest.raises(ValueError, match="not an amount"):
        stdio.main(["--max-cost-per-call", "lots"])
