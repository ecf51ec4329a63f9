"""Device tokens: minted once (only the hash kept), recognised only whole, unrevoked and unexpired; a request's end
user from `user`, X-End-User or the token."""

from __future__ import annotations

import pytest

from retouch.auth.client_tokens import find_client_token
from retouch.end_users.device_tokens import mint_client_token, revoke_client_token
from retouch.errors import ClientTokenNotFound, EndUserMismatch, InvalidRequest
from retouch.models.client_tokens import ClientTokenRecord, ClientTokenRequest
from retouch.web.end_user import request_end_user
from retouch.web.principal import Caller

NOW = 1_800_000_000


class FakeTokens:
    def __init__(self) -> None:
        self.items: dict[str, ClientTokenRecord] = {}

    def create(self, record: ClientTokenRecord) -> None:
        self.items[record.token_id] = record

    def get(self, token_id: str) -> ClientTokenRecord | None:
        return self.items.get(token_id)

    def revoke(self, account_id: str, token_id: str, now: int) -> bool:
        record = self.items.get(token_id)
        if record is None or record.account_id != account_id:
            return False
        self.items[token_id] = record.model_copy(update={"revoked_at": now})
        return True

    def hold(self, token_id: str, job_id: str, micros: int, now: int) -> bool:
        raise NotImplementedError

    def release(self, token_id: str, job_id: str, micros_used: int) -> bool:
        raise NotImplementedError


def _mint(tokens: FakeTokens, expires_in: int = 900) -> tuple[str, str]:
    request = ClientTokenRequest.model_validate({"user": "u_1", "scopes": ["jobs:read"], "spend_cap_usd": "0.25",
                                                 "expires_in": expires_in})
    view = mint_client_token("acct_1", request, tokens, NOW)
    assert view.token is not None and view.spend_cap_micros == 250_000
    return view.id, view.token


def test_a_minted_token_is_found_until_it_expires_or_is_revoked_and_only_its_hash_is_kept() -> None:
    tokens = FakeTokens()
    token_id, token = _mint(tokens)
    assert token not in tokens.items[token_id].model_dump_json()
    assert find_client_token(token, tokens, NOW) is not None
    assert find_client_token(token[:-1] + ("A" if token[-1] != "A" else "B"), tokens, NOW) is None  # forged secret
    assert find_client_token(token, tokens, NOW + 900) is None  # expired
    revoke_client_token("acct_1", token_id, tokens, NOW)
    assert find_client_token(token, tokens, NOW) is None
    with pytest.raises(ClientTokenNotFound):
        revoke_client_token("acct_other", token_id, tokens, NOW)


def test_a_token_lives_at_most_an_hour() -> None:
    with pytest.raises(ValueError, match="expires_in"):
        ClientTokenRequest.model_validate({"user": "u", "scopes": ["jobs:read"], "spend_cap_usd": "1",
                                           "expires_in": 3601})


ACCOUNT_KEY = Caller(account_id="acct_1", key_id="key_1")
DEVICE = Caller(account_id="acct_1", key_id="ctok_x", end_user="u_1", scopes=frozenset({"images:edit"}),
                valid_until=NOW + 60)


def test_the_end_user_comes_from_user_or_the_header_and_for_a_device_always_its_own() -> None:
    assert request_end_user(ACCOUNT_KEY, {}, None) is None
    assert request_end_user(ACCOUNT_KEY, {"x-end-user": "u_9"}, None) == "u_9"
    assert request_end_user(ACCOUNT_KEY, {"x-end-user": "u_9"}, "u_9") == "u_9"
    with pytest.raises(InvalidRequest):
        request_end_user(ACCOUNT_KEY, {"x-end-user": "u_9"}, "u_8")
    with pytest.raises(InvalidRequest):
        request_end_user(ACCOUNT_KEY, {"x-end-user": "bad\nid"}, None)
    assert request_end_user(DEVICE, {}, None) == "u_1"
    with pytest.raises(EndUserMismatch):
        request_end_user(DEVICE, {}, "u_2")


@pytest.mark.parametrize("header", [
    pytest.param("\u00c3\u00a9", id="utf8-bytes-read-as-latin1"),
    pytest.param("\u00ff\u00fe", id="invalid-utf8-read-as-latin1"),
    pytest.param("\u00e9", id="latin1-e-acute"),
    pytest.param("caf\u00e9", id="non-ascii-inside"),
    pytest.param("tab\tid", id="control-character"),
    pytest.param("del\x7fid", id="delete-character"),
])
def test_x_end_user_carries_printable_ascii_only(header: str) -> None:
    # Given an X-End-User header with a character outside printable ASCII (as http.server hands UTF-8 bytes: Latin-1)
    # When the request's end user is read
    with pytest.raises(InvalidRequest) as refused:
        request_end_user(ACCOUNT_KEY, {"x-end-user": header}, None)

    # Then it is a 400 naming the header that tells to send such ids in `user`
    assert (refused.value.status_code, refused.value.code, refused.value.param) == (400, "invalid_value", "X-End-User")
    assert "'user'" in refused.value.message


def test_a_unicode_end_user_id_is_sent_in_user_and_printable_ascii_in_the_header() -> None:
    assert request_end_user(ACCOUNT_KEY, {}, "\u00e9") == "\u00e9"
    assert request_end_user(ACCOUNT_KEY, {"x-end-user": "user 42 ~!"}, None) == "user 42 ~!"
