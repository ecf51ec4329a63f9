"""The account's people (retouch/console/members.py): only the owner invites and removes; the owner stays; a person in
an account already cannot be invited; a member of another account cannot be removed from here."""

from __future__ import annotations

import pytest

from retouch.console.members import INVITE_SECONDS, MemberDeps, account_people, invite, remove
from retouch.errors import MemberConflict, MemberNotFound
from retouch.models.console import MemberRecord
from tests.fakes.console import FakeIdentity, FakePeople

NOW = 1_800_000_000
ACCOUNT, OTHER = "acct_abcdefghij0123456789", "acct_zyxwvutsrq9876543210"


def team() -> tuple[MemberDeps, FakePeople, FakeIdentity]:
    people, identity = FakePeople(), FakeIdentity()
    for sub, account, role in (("owner", ACCOUNT, "owner"), ("member", ACCOUNT, "member"),
                               ("stranger", OTHER, "member")):
        people.add_member(MemberRecord(user_sub=sub, account_id=account, email=f"{sub}@example.com",
                                       account_role=role, joined_at=NOW))
        identity.create_verified(f"{sub}@example.com", "Correct-Horse-42")
        identity.people[f"{sub}@example.com"].sub = sub
    return MemberDeps(people=people, identity=identity), people, identity


def test_the_owner_invites_for_seven_days_and_everyone_sees_the_invitation() -> None:
    deps, _, _ = team()
    invitation = invite(deps, "owner", " New@Example.com", NOW)
    assert (invitation.email, invitation.account_id, invitation.expires_at) == ("new@example.com", ACCOUNT,
                                                                                NOW + INVITE_SECONDS)
    seen = account_people(deps, ACCOUNT, NOW)
    assert {m.user_sub for m in seen.members} == {"owner", "member"} and seen.invitations == [invitation]
    assert account_people(deps, ACCOUNT, NOW + INVITE_SECONDS).invitations == []


def test_a_member_who_is_not_the_owner_manages_nobody() -> None:
    deps, _, _ = team()
    with pytest.raises(MemberConflict):
        invite(deps, "member", "new@example.com", NOW)
    with pytest.raises(MemberConflict):
        remove(deps, "member", "owner")


def test_someone_in_an_account_already_cannot_be_invited() -> None:
    deps, _, _ = team()
    with pytest.raises(MemberConflict):
        invite(deps, "owner", "stranger@example.com", NOW)


def test_the_owner_removes_a_member_but_not_themselves_nor_anyone_elsewhere() -> None:
    deps, people, _ = team()
    with pytest.raises(MemberConflict):
        remove(deps, "owner", "owner")
    with pytest.raises(MemberNotFound):
        remove(deps, "owner", "stranger")
    with pytest.raises(MemberNotFound):
        remove(deps, "owner", "nobody")
    assert remove(deps, "owner", "member").user_sub == "member"
    assert people.member("member") is None and people.member("stranger") is not None


def test_another_accounts_open_invitation_is_not_taken_over() -> None:
    """An invitation is keyed by its e-mail: another account's owner inviting the same address must not replace it
    (else whoever signs up on the first account's invitation joins the second account instead)."""
    deps, people, _ = team()
    people.add_member(MemberRecord(user_sub="other-owner", account_id=OTHER, email="other-owner@example.com",
                                   account_role="owner", joined_at=NOW))
    first = invite(deps, "owner", "new@example.com", NOW)
    with pytest.raises(MemberConflict):
        invite(deps, "other-owner", "new@example.com", NOW + 1)
    assert account_people(deps, ACCOUNT, NOW + 1).invitations == [first]
    assert invite(deps, "owner", "new@example.com", NOW + 2).created_at == NOW + 2  # the same account renews it
    assert invite(deps, "other-owner", "new@example.com", NOW + 2 + INVITE_SECONDS).account_id == OTHER  # expired
