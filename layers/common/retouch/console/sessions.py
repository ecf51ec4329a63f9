"""Console sessions: a random 256-bit secret in the browser's cookie, stored only as its SHA-256, with the person, their
account and role, and a CSRF token. A session ends 12 h after sign-in, or 2 h after its last use, or at sign-out; and
at once when its person leaves the account (each request reads the membership with the session)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from retouch.console.ports import Identity, People, SessionStore
from retouch.models.console import ConsoleSessionRecord, MemberRecord

ABSOLUTE_SECONDS = 12 * 3600
IDLE_SECONDS = 2 * 3600
# A session's idle end is moved on at most this often (a write per request would double every read's cost).
TOUCH_EVERY_SECONDS = 300
_SECRET_BYTES = 32  # 256 bits
_MAX_SECRET_CHARS = 64  # longer is no secret of ours: refused without a lookup


@dataclass(frozen=True)
class SessionDeps:
    sessions: SessionStore
    people: People


@dataclass(frozen=True)
class NewSession:
    secret: str  # the cookie's value: given to the browser once, never stored
    record: ConsoleSessionRecord


def session_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def start_session(deps: SessionDeps, identity: Identity, member: MemberRecord, now: int) -> NewSession:
    secret = secrets.token_urlsafe(_SECRET_BYTES)
    record = ConsoleSessionRecord(
        session_hash=session_hash(secret), account_id=member.account_id, user_sub=identity.sub, email=identity.email,
        role="operator" if identity.operator else "member", csrf_token=secrets.token_urlsafe(_SECRET_BYTES),
        created_at=now, last_seen_at=now, expires_at=now + min(ABSOLUTE_SECONDS, IDLE_SECONDS))
    deps.sessions.put(record)
    return NewSession(secret=secret, record=record)


def resolve_session(deps: SessionDeps, secret: str | None, now: int) -> ConsoleSessionRecord | None:
    """The live session this secret opens; None for none, an unknown, ended or expired one, or one whose person is
    no longer in its account."""
    if not secret or len(secret) > _MAX_SECRET_CHARS:
        return None
    record = deps.sessions.get(session_hash(secret))
    if record is None or record.expires_at <= now:  # the TTL removes expired items late: the time decides
        return None
    member = deps.people.member(record.user_sub)
    if member is None or member.account_id != record.account_id:
        return None
    if now - record.last_seen_at >= TOUCH_EVERY_SECONDS:
        deps.sessions.touch(record.session_hash, now, idle_end(record, now))
    return record


def idle_end(record: ConsoleSessionRecord, now: int) -> int:
    return min(record.created_at + ABSOLUTE_SECONDS, now + IDLE_SECONDS)


def end_session(deps: SessionDeps, secret: str | None) -> None:
    if secret and len(secret) <= _MAX_SECRET_CHARS:
        deps.sessions.delete(session_hash(secret))
