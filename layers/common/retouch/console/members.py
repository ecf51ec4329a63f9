"""An account's people: every member sees who belongs and who is invited; only the account's owner invites and removes,
and the owner cannot be removed. An invitation lasts 7 days; whoever verifies that e-mail in that time joins the
account instead of getting one (console/sign_up.py)."""

from __future__ import annotations

from dataclasses import dataclass

from retouch.console.ports import IdentityService, InviteTaken, People
from retouch.console.sign_up import normalized_email
from retouch.errors import MemberConflict, MemberNotFound
from retouch.models.console import InviteRecord, MemberRecord

INVITE_SECONDS = 7 * 86400


@dataclass(frozen=True)
class MemberDeps:
    people: People
    identity: IdentityService


@dataclass(frozen=True)
class AccountPeople:
    members: list[MemberRecord]
    invitations: list[InviteRecord]


def account_people(deps: MemberDeps, account_id: str, now: int) -> AccountPeople:
    return AccountPeople(members=deps.people.members(account_id),
                         invitations=deps.people.invitations(account_id, now))


def invite(deps: MemberDeps, inviter_sub: str, email: str, now: int) -> InviteRecord:
    inviter = _owner(deps, inviter_sub)
    address = normalized_email(email)
    known = deps.identity.find(address)
    if known is not None and deps.people.member(known.sub) is not None:
        raise MemberConflict("That person already belongs to an account.", param="email")
    record = InviteRecord(email=address, account_id=inviter.account_id, invited_by=inviter.user_sub, created_at=now,
                          expires_at=now + INVITE_SECONDS)
    try:
        deps.people.invite(record)
    except InviteTaken:
        raise MemberConflict("That e-mail has an open invitation from another account.", param="email") from None
    return record


def remove(deps: MemberDeps, remover_sub: str, user_sub: str) -> MemberRecord:
    owner = _owner(deps, remover_sub)
    target = deps.people.member(user_sub)
    if target is None or target.account_id != owner.account_id:
        raise MemberNotFound(f"No member {user_sub} in this account.", param="user_id")
    if target.account_role == "owner":
        raise MemberConflict("The account's owner cannot be removed.", param="user_id")
    deps.people.remove(target)
    return target


def _owner(deps: MemberDeps, user_sub: str) -> MemberRecord:
    member = deps.people.member(user_sub)
    if member is None or member.account_role != "owner":
        raise MemberConflict("Only the account's owner manages its people.")
    return member
