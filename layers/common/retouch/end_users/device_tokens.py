"""Minting, reading and revoking device tokens (POST/GET/DELETE /v1/client_tokens): the account's own key mints a
token for one end user with scopes, a spend cap and an expiry of at most an hour; the token is shown once. How a
token is recognised is auth/client_tokens.py."""

from __future__ import annotations

import secrets

from retouch.auth.client_tokens import ID_CHARS, TOKEN_PREFIX, token_id_of
from retouch.auth.keys import hash_api_key
from retouch.billing.money import parse_usd, to_usd
from retouch.errors import ClientTokenNotFound, InvalidRequest
from retouch.models.client_tokens import ClientTokenRecord, ClientTokenRequest, ClientTokenView
from retouch.models.common import random_id
from retouch.ports import ClientTokenStore

# A token settles for up to a day after it stops working (a job it submitted may still be running).
SETTLEMENT_GRACE_SECONDS = 86400
MAX_SPEND_CAP_MICROS = 10_000 * 1_000_000


def mint_client_token(account_id: str, request: ClientTokenRequest, tokens: ClientTokenStore,
                      now: int) -> ClientTokenView:
    try:
        cap = parse_usd(str(request.spend_cap_usd))
    except ValueError as exc:
        raise InvalidRequest(str(exc), param="spend_cap_usd") from exc
    if not 0 < cap <= MAX_SPEND_CAP_MICROS:
        raise InvalidRequest("spend_cap_usd must be more than 0 and at most 10000.", param="spend_cap_usd")
    id_part = random_id("", ID_CHARS)
    secret = secrets.token_urlsafe(32)
    record = ClientTokenRecord(
        token_id=token_id_of(id_part), account_id=account_id, end_user=request.user, scopes=request.scopes,
        secret_hash=hash_api_key(secret), spend_cap_micros=cap, created_at=now, valid_until=now + request.expires_in,
        expires_at=now + request.expires_in + SETTLEMENT_GRACE_SECONDS)
    tokens.create(record)
    return token_view(record, token=TOKEN_PREFIX + id_part + secret, expires_in=request.expires_in)


def token_view(record: ClientTokenRecord, *, token: str | None = None, expires_in: int | None = None,
               ) -> ClientTokenView:
    return ClientTokenView(id=record.token_id, token=token, user=record.end_user, scopes=record.scopes,
                           spend_cap_usd=to_usd(record.spend_cap_micros), spend_cap_micros=record.spend_cap_micros,
                           committed_micros=record.committed_micros, created_at=record.created_at,
                           expires_at=record.valid_until, expires_in=expires_in, revoked=record.revoked_at is not None)


def revoke_client_token(account_id: str, token_id: str, tokens: ClientTokenStore, now: int) -> ClientTokenView:
    record = tokens.get(token_id) if token_id.startswith("ctok_") else None
    if record is None or record.account_id != account_id or not tokens.revoke(account_id, token_id, now):
        raise ClientTokenNotFound(f"No device token '{token_id}'.", param="token_id")
    return token_view(record.model_copy(update={"revoked_at": now}))


def get_client_token(account_id: str, token_id: str, tokens: ClientTokenStore) -> ClientTokenView:
    record = tokens.get(token_id) if token_id.startswith("ctok_") else None
    if record is None or record.account_id != account_id:
        raise ClientTokenNotFound(f"No device token '{token_id}'.", param="token_id")
    return token_view(record)
