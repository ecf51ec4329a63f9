"""What the sync function builds beyond its routes' collaborators (wiring/api.py, wiring/status.py): the accounts and
API-key hashes it resolves keys against itself, since no authorizer stands in front of its Function URL. Built once
per process from ApiSettings (kept out of wiring/api.py, which the api function loads too and never reads keys)."""

from __future__ import annotations

from functools import cache

from retouch.config import api_settings
from retouch.data.accounts import AccountRepository


@cache
def accounts() -> AccountRepository:
    return AccountRepository(api_settings().table_name)
