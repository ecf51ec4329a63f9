"""The operator's console tools: making someone an operator (the console's operator view), and the local stack's
seeded operator, who signs in to the local account."""

from __future__ import annotations

import contextlib

from retouch.console.ports import IdentityAdmin, IdentityService, People, PersonTaken
from retouch.console.sign_up import normalized_email
from retouch.models.common import now_epoch
from retouch.models.console import MemberRecord


def add_operator(operators: IdentityAdmin, email: str) -> None:
    """Into the operators group; they have the operator role from their next sign-in."""
    operators.add_operator(normalized_email(email))


def seed_operator(operators: IdentityAdmin, identity: IdentityService, people: People, email: str, password: str,
                  account_id: str) -> None:
    """A verified operator with this password, the owner of `account_id` (kept as they are when they exist)."""
    address = normalized_email(email)
    operators.create_verified(address, password)
    operators.add_operator(address)
    person = identity.find(address)
    if person is None:
        raise LookupError(f"{address} was not created")
    with contextlib.suppress(PersonTaken):  # kept as they are
        people.add_member(MemberRecord(user_sub=person.sub, account_id=account_id, email=address,
                                       account_role="owner", joined_at=now_epoch()))
