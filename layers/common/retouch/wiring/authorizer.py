"""The authorizer function's collaborators: the accounts and API-key hashes a bearer key is resolved against, and the
device tokens (auth/client_tokens.py), built from its AuthorizerSettings."""

from __future__ import annotations

from dataclasses import dataclass

from retouch.config import AuthorizerSettings
from retouch.data.accounts import AccountRepository
from retouch.data.client_tokens import ClientTokenRepository
from retouch.ports import AccountRepository as Accounts
from retouch.ports import ClientTokenStore


@dataclass(frozen=True)
class Credentials:
    accounts: Accounts
    client_tokens: ClientTokenStore


def build_authorizer(settings: AuthorizerSettings) -> Credentials:
    return Credentials(accounts=AccountRepository(settings.table_name),
                       client_tokens=ClientTokenRepository(settings.table_name))
