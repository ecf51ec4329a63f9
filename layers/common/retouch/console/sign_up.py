"""Sign-up, e-mail verification and sign-in, through the identity service (Amazon Cognito: it holds the passwords and
sends the codes; nothing here sees a password but to hand it on).

A verified person always belongs to one account. The first time they are verified (at verification, or at their first
sign-in if that write was lost) they join the account whose owner invited their e-mail, or get an account of their own
with the deployment's sign-up credit: the account, its owner and the credit's ledger entry in one transaction, its id
derived from the person's id, so a retried or concurrent verification makes it once and credits it once.
"""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass

from retouch.console.ports import (
    Identity,
    IdentityRefused,
    IdentityService,
    InviteGone,
    NewAccount,
    People,
    PersonTaken,
)
from retouch.errors import (
    AuthRateLimited,
    EmailNotVerified,
    EmailTaken,
    InvalidCode,
    InvalidCredentials,
    InvalidPassword,
    RetouchError,
)
from retouch.models.account_records import AccountRecord, LedgerEntry
from retouch.models.console import MemberRecord
from retouch.retry import MEMBERSHIP_TRIES

# Cognito does not say when its own limits (attempts, codes sent) let a person try again: a minute, as ours.
THROTTLED_WAIT_SECONDS = 60


@dataclass(frozen=True)
class SignUpDeps:
    identity: IdentityService
    people: People
    sign_up_credit_micros: int  # ConsoleSignUpCreditUsd


def normalized_email(email: str) -> str:
    """One spelling per address (the user pool compares usernames without case, so do the invitations)."""
    return email.strip().lower()


def sign_up(deps: SignUpDeps, email: str, password: str, account_name: str | None) -> None:
    """A new person, e-mailed a code. A sign-up nobody verified does not hold its e-mail: a new one replaces it (and
    its password), so whoever reads the mailbox can always sign up with their own password; a verified e-mail is
    taken."""
    address = normalized_email(email)
    try:
        try:
            deps.identity.sign_up(address, password, account_name)
        except IdentityRefused as refused:
            if refused.reason != "email_taken" or not deps.identity.discard_unverified(address):
                raise
            deps.identity.sign_up(address, password, account_name)
    except IdentityRefused as refused:
        raise _refusal(refused) from refused


def resend_code(deps: SignUpDeps, email: str) -> None:
    """A new code, e-mailed; nothing said about whether the e-mail is known (or already verified)."""
    with contextlib.suppress(IdentityRefused):
        deps.identity.resend_code(normalized_email(email))


def verify(deps: SignUpDeps, email: str, code: str, password: str, now: int) -> tuple[Identity, MemberRecord]:
    """The code and the password chosen at sign-up, checked first: the code proves the mailbox, the password that the
    sign-up was theirs. Without it, someone who signed up another's e-mail with their own password would have it
    verified by its owner and then sign in as them. Verified, the person is signed in (as by sign_in)."""
    address = normalized_email(email)
    try:
        deps.identity.check_password(address, password)
        deps.identity.confirm(address, code)
    except IdentityRefused as refused:
        raise _refusal(refused) from refused
    identity = deps.identity.find(address)
    if identity is None:  # confirmed a moment ago: only a deleted user gets here
        raise InvalidCode("That code is not valid for this e-mail.")
    return identity, ensure_member(deps, identity, now)


def sign_in(deps: SignUpDeps, email: str, password: str, now: int) -> tuple[Identity, MemberRecord]:
    try:
        identity = deps.identity.authenticate(normalized_email(email), password)
    except IdentityRefused as refused:
        raise _refusal(refused) from refused
    return identity, ensure_member(deps, identity, now)


def ensure_member(deps: SignUpDeps, identity: Identity, now: int) -> MemberRecord:
    """The person's membership: theirs already, or the invited account joined, or a new account made."""
    for _ in range(MEMBERSHIP_TRIES):
        found = deps.people.member(identity.sub)
        if found is not None:
            return found
        invite = deps.people.invitation(identity.email, now)
        try:
            if invite is not None:
                member = MemberRecord(user_sub=identity.sub, account_id=invite.account_id, email=identity.email,
                                      account_role="member", joined_at=now)
                deps.people.join(member, invite)
            else:
                member = _new_account(deps, identity, now)
            return member
        except (PersonTaken, InviteGone):
            continue  # made by a concurrent request, or the invitation went: read again
    raise RetouchError("Your account could not be set up; try again.")


def account_id_for(user_sub: str) -> str:
    """The id of the account a person makes: fixed by who they are, so making it twice is one account."""
    return "acct_" + hashlib.sha256(user_sub.encode()).hexdigest()[:24]


def _new_account(deps: SignUpDeps, identity: Identity, now: int) -> MemberRecord:
    account_id = account_id_for(identity.sub)
    credit = deps.sign_up_credit_micros
    account = AccountRecord(account_id=account_id, name=(identity.account_name or identity.email)[:100],
                            created_at=now, balance_micros=credit)
    owner = MemberRecord(user_sub=identity.sub, account_id=account_id, email=identity.email, account_role="owner",
                         joined_at=now)
    entry = (LedgerEntry(entry_id=f"credit_sign_up_{account_id}", account_id=account_id, kind="credit",
                         amount_micros=credit, balance_after_micros=credit, at_ms=now * 1000,
                         note="console sign-up credit") if credit else None)
    deps.people.create_account(NewAccount(account=account, owner=owner, credit=entry))
    return owner


def _refusal(refused: IdentityRefused) -> RetouchError:
    match refused.reason:
        case "email_taken":
            return EmailTaken("An account with this e-mail exists; sign in, or verify it with the code sent to it.",
                              param="email")
        case "invalid_password":
            return InvalidPassword(refused.detail or "The password does not meet the policy.", param="password")
        case "invalid_code":
            return InvalidCode("That code is wrong or has expired; ask for a new one.", param="code")
        case "email_not_verified":
            return EmailNotVerified("Verify your e-mail first: enter the code we sent to it.")
        case "throttled":
            return AuthRateLimited("Too many attempts; wait a minute and try again.",
                                   retry_after_seconds=THROTTLED_WAIT_SECONDS)
        case _:  # invalid_credentials, unknown_email: one answer, so sign-in does not tell who has an account
            return InvalidCredentials("Incorrect e-mail or password.")
