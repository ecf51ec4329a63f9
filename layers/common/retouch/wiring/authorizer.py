"""The authorizer function's collaborator: the accounts and API-key hashes a bearer key is resolved against, built
from its AuthorizerSettings."""

from __future__ import annotations

from retouch.config import AuthorizerSettings
from retouch.data.accounts import AccountRepository
from retouch.ports import AccountRepository as Accounts


def build_authorizer(settings: AuthorizerSettings) -> Accounts:
    return AccountRepository(settings.table_name)
