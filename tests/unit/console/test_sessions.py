"""Console sessions (retouch/console/sessions.py) over fakes: only a hash is stored; the absolute and idle ends; the
idle end moved on at most every few minutes; a person removed from the account loses their sessions at once."""

from __future__ import annotations

from retouch.console.ports import Identity
from retouch.console.sessions import (
    ABSOLUTE_SECONDS,
    IDLE_SECONDS,
    TOUCH_EVERY_SECONDS,
    SessionDeps,
    end_session,
    resolve_session,
    session_hash,
    start_session,
)
from retouch.models.console import MemberRecord
from tests.fakes.console import FakePeople, FakeSessions

NOW = 1_800_000_000
ACCOUNT = "acct_abcdefghij0123456789"


def signed_in(operator: bool = False) -> tuple[SessionDeps, FakeSessions, FakePeople, str]:
    sessions, people = FakeSessions(), FakePeople()
    member = MemberRecord(user_sub="sub-1", account_id=ACCOUNT, email="ada@example.com", account_role="owner",
                          joined_at=NOW)
    people.add_member(member)
    deps = SessionDeps(sessions=sessions, people=people)
    started = start_session(deps, Identity(sub="sub-1", email="ada@example.com", operator=operator), member, NOW)
    return deps, sessions, people, started.secret


def test_a_session_is_stored_under_its_secrets_hash_with_its_person_role_and_csrf_token() -> None:
    deps, sessions, _, secret = signed_in(operator=True)
    [(stored_hash, record)] = sessions.sessions.items()
    assert stored_hash == session_hash(secret) != secret and len(secret) >= 43  # 256 bits, url-safe base64
    assert secret not in record.model_dump_json()
    assert (record.account_id, record.user_sub, record.role) == (ACCOUNT, "sub-1", "operator")
    assert len(record.csrf_token) >= 43 and record.expires_at == NOW + IDLE_SECONDS
    assert resolve_session(deps, secret, NOW + 1) == record


def test_unknown_missing_and_oversized_secrets_open_nothing() -> None:
    deps, _, _, secret = signed_in()
    assert resolve_session(deps, None, NOW) is None
    assert resolve_session(deps, "", NOW) is None
    assert resolve_session(deps, secret + "x", NOW) is None
    assert resolve_session(deps, "a" * 10_000, NOW) is None


def test_a_session_idle_past_its_idle_end_is_over() -> None:
    deps, _, _, secret = signed_in()
    assert resolve_session(deps, secret, NOW + IDLE_SECONDS) is None


def test_use_moves_the_idle_end_on_but_never_past_the_absolute_end() -> None:
    deps, sessions, _, secret = signed_in()
    # Used every 90 minutes, the session lives on past its first idle end...
    at = NOW
    while at + 90 * 60 < NOW + ABSOLUTE_SECONDS:
        at += 90 * 60
        assert resolve_session(deps, secret, at) is not None, at
    # ...until 12 h after sign-in, however it is used
    assert resolve_session(deps, secret, NOW + ABSOLUTE_SECONDS) is None
    assert sessions.sessions[session_hash(secret)].expires_at == NOW + ABSOLUTE_SECONDS


def test_the_idle_end_is_written_at_most_every_few_minutes() -> None:
    deps, sessions, _, secret = signed_in()
    for offset in range(0, TOUCH_EVERY_SECONDS, 10):
        resolve_session(deps, secret, NOW + offset)
    assert sessions.touches == 0
    resolve_session(deps, secret, NOW + TOUCH_EVERY_SECONDS)
    assert sessions.touches == 1


def test_signing_out_ends_the_session() -> None:
    deps, sessions, _, secret = signed_in()
    end_session(deps, secret)
    assert sessions.sessions == {} and resolve_session(deps, secret, NOW) is None


def test_a_person_removed_from_the_account_loses_their_session_at_once() -> None:
    deps, _, people, secret = signed_in()
    member = people.member("sub-1")
    assert member is not None
    people.remove(member)
    assert resolve_session(deps, secret, NOW + 1) is None
