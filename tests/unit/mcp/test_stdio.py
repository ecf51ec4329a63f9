"""retouch.mcp.stdio (`retouch-mcp`): configured by its installer, refusing to start half-configured, and declared as
the package's console script."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import anyio
import pytest

from retouch.mcp import stdio
from retouch.mcp.api_client import ApiRefused
from retouch.mcp.spend_guard import SpendGuard

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


class _AccountReads:
    """Stands in for RetouchApi's GET /v1/account: the view it answers, or the refusal it raises."""

    def __init__(self, answer: dict[str, object] | ApiRefused) -> None:
        self._answer = answer

    async def account(self) -> dict[str, object]:
        if isinstance(self._answer, ApiRefused):
            raise self._answer
        return self._answer


@pytest.mark.parametrize(("view", "flag", "applied"), [
    pytest.param({"key_max_cost_per_call_micros": 300_000}, 2_000_000, 300_000, id="key-lower"),
    pytest.param({"key_max_cost_per_call_micros": 3_000_000}, 2_000_000, 2_000_000, id="flag-lower"),
    pytest.param({"key_max_cost_per_call_micros": 300_000}, None, 300_000, id="no-flag"),
    pytest.param({}, 2_000_000, 2_000_000, id="no-key-ceiling"),
])
def test_the_keys_ceiling_the_api_shows_narrows_the_flags(view: dict[str, object], flag: int | None,
                                                          applied: int) -> None:
    api: Any = _AccountReads({"id": "acct_x", **view})
    assert anyio.run(stdio.key_guard, api, SpendGuard(flag)) == SpendGuard(applied)


def test_a_device_token_that_may_not_read_the_account_keeps_the_flags_ceiling() -> None:
    refusal = ApiRefused(403, "A device token cannot call GET /v1/account", code="client_token_forbidden")
    api: Any = _AccountReads(refusal)
    assert anyio.run(stdio.key_guard, api, SpendGuard(500_000)) == SpendGuard(500_000)


def test_it_does_not_serve_when_the_keys_ceiling_cannot_be_read() -> None:
    api: Any = _AccountReads(ApiRefused(503, "The Retouch API could not be reached"))
    with pytest.raises(SystemExit, match="could not read the key's account"):
        anyio.run(stdio.key_guard, api, SpendGuard(500_000))
