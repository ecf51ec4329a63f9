"""In-memory fakes of the console's ports (retouch.console.ports): the identity service, its people, sessions and
attempt counts."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from retouch.console.ports import Identity, IdentityRefused, InviteGone, InviteTaken, NewAccount, PersonTaken
from retouch.models.account_records import AccountRecord, LedgerEntry
from retouch.models.console import ConsoleSessionRecord, InviteRecord, MemberRecord
from retouch.ports import WindowCount

if TYPE_CHECKING:
    from retouch.console import ports


@dataclass
class _Person:
    sub: str
    password: str
    account_name: str | None
    verified: bool = False
    code: str = ""
    operator: bool = False


class FakeIdentity:
    """Cognito as the console sees it: codes are handed out in `codes` (the e-mails), a minimum password length."""

    def __init__(self, min_password: int = 12) -> None:
        self.people: dict[str, _Person] = {}
        self.codes: dict[str, str] = {}
        self._min_password = min_password
        self._next_code = 100000

    def sign_up(self, email: str, password: str, account_name: str | None) -> None:
        if email in self.people:
            raise IdentityRefused("email_taken")
        if len(password) < self._min_password:
            raise IdentityRefused("invalid_password", "Password must have length greater than or equal to 12")
        self.people[email] = _Person(sub=str(uuid.uuid4()), password=password, account_name=account_name)
        self._send(email)

    def _send(self, email: str) -> None:
        self._next_code += 1
        self.people[email].code = self.codes[email] = str(self._next_code)

    def confirm(self, email: str, code: str) -> None:
        person = self.people.get(email)
        if person is None or person.verified or code != person.code:
            raise IdentityRefused("invalid_code")
        person.verified = True

    def resend_code(self, email: str) -> None:
        person = self.people.get(email)
        if person is None:
            raise IdentityRefused("unknown_email")
        if person.verified:
            raise IdentityRefused("already_verified")
        self._send(email)

    def authenticate(self, email: str, password: str) -> Identity:
        person = self.people.get(email)
        if person is None:
            raise IdentityRefused("unknown_email")
        if person.password != password:
            raise IdentityRefused("invalid_credentials")
        if not person.verified:
            raise IdentityRefused("email_not_verified")
        found = self.find(email)
        assert found is not None
        return found

    def check_password(self, email: str, password: str) -> None:
        person = self.people.get(email)
        if person is None or person.password != password:  # checked before (and whatever) the verification state
            raise IdentityRefused("invalid_credentials")

    def discard_unverified(self, email: str) -> bool:
        person = self.people.get(email)
        if person is None or person.verified:
            return False
        del self.people[email]
        self.codes.pop(email, None)
        return True

    def find(self, email: str) -> Identity | None:
        person = self.people.get(email)
        return (Identity(sub=person.sub, email=email, operator=person.operator, account_name=person.account_name)
                if person else None)

    def create_verified(self, email: str, password: str) -> None:
        if email not in self.people:
            self.people[email] = _Person(sub=str(uuid.uuid4()), password=password, account_name=None, verified=True)
        self.people[email].password = password

    def add_operator(self, email: str) -> None:
        if email not in self.people:
            raise LookupError(email)
        self.people[email].operator = True


@dataclass
class FakePeople:
    """Members, invitations, and the accounts (with their ledger entries) that sign-up made."""

    members_by_sub: dict[str, MemberRecord] = field(default_factory=dict)
    invites: dict[str, InviteRecord] = field(default_factory=dict)
    accounts: dict[str, AccountRecord] = field(default_factory=dict)
    ledger: list[LedgerEntry] = field(default_factory=list)

    def member(self, user_sub: str) -> MemberRecord | None:
        return self.members_by_sub.get(user_sub)

    def members(self, account_id: str) -> list[MemberRecord]:
        return [member for member in self.members_by_sub.values() if member.account_id == account_id]

    def create_account(self, new: NewAccount) -> None:
        if new.owner.user_sub in self.members_by_sub or new.account.account_id in self.accounts:
            raise PersonTaken(new.owner.user_sub)
        self.accounts[new.account.account_id] = new.account
        self.members_by_sub[new.owner.user_sub] = new.owner
        if new.credit is not None:
            self.ledger.append(new.credit)

    def add_member(self, member: MemberRecord) -> None:
        if member.user_sub in self.members_by_sub:
            raise PersonTaken(member.user_sub)
        self.members_by_sub[member.user_sub] = member

    def join(self, member: MemberRecord, invite: InviteRecord) -> None:
        if member.user_sub in self.members_by_sub:
            raise PersonTaken(member.user_sub)
        if self.invites.get(invite.email) != invite:
            raise InviteGone(invite.email)
        del self.invites[invite.email]
        self.members_by_sub[member.user_sub] = member

    def remove(self, member: MemberRecord) -> None:
        del self.members_by_sub[member.user_sub]

    def invite(self, invite: InviteRecord) -> None:
        held = self.invites.get(invite.email)
        if held is not None and held.account_id != invite.account_id and held.expires_at > invite.created_at:
            raise InviteTaken(invite.email)
        self.invites[invite.email] = invite

    def invitation(self, email: str, now: int) -> InviteRecord | None:
        found = self.invites.get(email)
        return found if found is not None and found.expires_at > now else None

    def invitations(self, account_id: str, now: int) -> list[InviteRecord]:
        return [invite for invite in self.invites.values() if invite.account_id == account_id
                and invite.expires_at > now]


@dataclass
class FakeSessions:
    sessions: dict[str, ConsoleSessionRecord] = field(default_factory=dict)
    touches: int = 0

    def put(self, session: ConsoleSessionRecord) -> None:
        self.sessions[session.session_hash] = session

    def get(self, session_hash: str) -> ConsoleSessionRecord | None:
        return self.sessions.get(session_hash)

    def touch(self, session_hash: str, last_seen_at: int, expires_at: int) -> None:
        if session_hash in self.sessions:
            self.touches += 1
            self.sessions[session_hash] = self.sessions[session_hash].model_copy(
                update={"last_seen_at": last_seen_at, "expires_at": expires_at})

    def delete(self, session_hash: str) -> None:
        self.sessions.pop(session_hash, None)


@dataclass
class FakeAttempts:
    counts: dict[tuple[str, int], int] = field(default_factory=dict)

    def count_attempt(self, subject: str, window: int, limit: int) -> WindowCount:
        count = self.counts.get((subject, window), 0)
        if count >= limit:
            return WindowCount(limit, False)
        self.counts[(subject, window)] = count + 1
        return WindowCount(count + 1, True)


if TYPE_CHECKING:  # mypy checks each fake against its port
    _identity: ports.IdentityService = FakeIdentity()
    _admin: ports.IdentityAdmin = FakeIdentity()
    _people: ports.People = FakePeople()
    _sessions: ports.SessionStore = FakeSessions()
    _attempts: ports.AttemptCounter = FakeAttempts()
