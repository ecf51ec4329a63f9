"""The authorizer function's collaborator: the accounts and API-key hashes a bearer key is resolved against, built
once per process from AuthorizerSettings."""

from __future__ import annotations

from functools import cache

from retouch.config import authorizer_settings
from retouch.data.accounts import AccountRepository


@cache
def accounts() -> AccountRepository:
    return AccountRepository(authorizer_settings().table_name)
