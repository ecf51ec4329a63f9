"""The operator's console tools (retouch/admin/console.py) over fakes: making an operator, and the local stack's
seeded operator, verified, in the operators group, owner of the local account, made once however often seeded."""

from __future__ import annotations

import pytest

from retouch.admin.console import add_operator, seed_operator
from tests.fakes.console import FakeIdentity, FakePeople

ACCOUNT = "acct_local0000000000000"


def test_a_signed_up_person_becomes_an_operator_and_nobody_else_can() -> None:
    identity = FakeIdentity()
    identity.sign_up("ada@example.com", "Correct-Horse-42", None)
    add_operator(identity, " ADA@example.com")
    found = identity.find("ada@example.com")
    assert found is not None and found.operator
    with pytest.raises(LookupError):
        add_operator(identity, "nobody@example.com")


def test_the_seeded_operator_owns_the_account_and_seeding_again_changes_nothing_but_the_password() -> None:
    identity, people = FakeIdentity(), FakePeople()
    seed_operator(identity, identity, people, "operator@retouch.example", "First-password-1", ACCOUNT)
    seed_operator(identity, identity, people, "operator@retouch.example", "Second-password-2", ACCOUNT)

    person = identity.authenticate("operator@retouch.example", "Second-password-2")
    assert person.operator
    [member] = people.members(ACCOUNT)
    assert (member.user_sub, member.account_role) == (person.sub, "owner")
