"""What the console's people need from the identity service (Amazon Cognito: data/console_identity.py) and the table
(data/console_people.py, data/console_sessions.py, data/console_attempts.py), in their own vocabulary."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from retouch.models.account_records import AccountRecord, LedgerEntry
from retouch.models.console import ConsoleSessionRecord, InviteRecord, MemberRecord
from retouch.ports import WindowCount

# ---- the identity service ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Identity:
    """A verified person as the identity service knows them: its stable id (Cognito's `sub`) and their groups."""

    sub: str
    email: str
    operator: bool
    account_name: str | None = None  # what they named their account at sign-up, if anything


class IdentityRefused(Exception):
    """The identity service said no. `reason`: email_taken, invalid_password, invalid_code, invalid_credentials,
    email_not_verified, unknown_email, already_verified (a resend for a verified e-mail), throttled (the service's own
    limits)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class IdentityService(Protocol):
    def sign_up(self, email: str, password: str, account_name: str | None) -> None:
        """A new unverified person; the service e-mails them a verification code."""

    def confirm(self, email: str, code: str) -> None:
        """The code they were e-mailed: the person is verified."""

    def resend_code(self, email: str) -> None: ...

    def authenticate(self, email: str, password: str) -> Identity:
        """The verified person with this e-mail and password."""

    def check_password(self, email: str, password: str) -> None:
        """This is the password of the person with this e-mail, verified or not; IdentityRefused("invalid_credentials")
        when it is not (or nobody has the e-mail)."""

    def discard_unverified(self, email: str) -> bool:
        """The pending sign-up of an e-mail nobody has verified deleted (True); False when the e-mail is verified or
        unknown."""

    def find(self, email: str) -> Identity | None: ...


class IdentityAdmin(Protocol):
    """What the operator's tools do in the identity service (retouch-admin console, the local stack's seeding)."""

    def create_verified(self, email: str, password: str) -> None:
        """A verified person with this password, e-mailing nothing; nothing when they exist already."""

    def add_operator(self, email: str) -> None:
        """Into the operators group (the console's operator role); LookupError when nobody has this e-mail."""


# ---- the table -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewAccount:
    """A self-serve account, its first owner, and its sign-up credit (None: none): written together or not at all."""

    account: AccountRecord
    owner: MemberRecord
    credit: LedgerEntry | None


class PersonTaken(Exception):
    """The person already belongs to an account (a retried or concurrent verification made it first)."""


class InviteGone(Exception):
    """The invitation was taken (or withdrawn) in the meantime."""


class InviteTaken(Exception):
    """Another account's live invitation holds this e-mail."""


class People(Protocol):
    def member(self, user_sub: str) -> MemberRecord | None: ...

    def members(self, account_id: str) -> list[MemberRecord]: ...

    def create_account(self, new: NewAccount) -> None:
        """PersonTaken when the owner already belongs to an account (then nothing is written)."""

    def add_member(self, member: MemberRecord) -> None:
        """The member added to an existing account (the operator's tools); PersonTaken when in one already."""

    def join(self, member: MemberRecord, invite: InviteRecord) -> None:
        """The member added and the invitation taken, together; PersonTaken or InviteGone otherwise."""

    def remove(self, member: MemberRecord) -> None: ...

    def invite(self, invite: InviteRecord) -> None:
        """The invitation made, or its account's own renewed; InviteTaken while another account's is live."""

    def invitation(self, email: str, now: int) -> InviteRecord | None:
        """The live invitation for this e-mail (an expired one is none, before the TTL removes it)."""

    def invitations(self, account_id: str, now: int) -> list[InviteRecord]: ...


class SessionStore(Protocol):
    def put(self, session: ConsoleSessionRecord) -> None: ...

    def get(self, session_hash: str) -> ConsoleSessionRecord | None: ...

    def touch(self, session_hash: str, last_seen_at: int, expires_at: int) -> None:
        """Moves its idle end on (nothing when it is gone)."""

    def delete(self, session_hash: str) -> None: ...


class AttemptCounter(Protocol):
    def count_attempt(self, subject: str, window: int, limit: int) -> WindowCount:
        """One more attempt by `subject` (an address or an e-mail, hashed by the caller) in a one-minute window."""
