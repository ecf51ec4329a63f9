"""Sign-up, verification and sign-in (retouch/console/sign_up.py) over fakes: the account made once with the
sign-up credit, or the inviting account joined; the identity service's refusals as the console's errors."""

from __future__ import annotations

import pytest

from retouch.console.sign_up import SignUpDeps, account_id_for, ensure_member, resend_code, sign_in, sign_up, verify
from retouch.errors import EmailNotVerified, EmailTaken, InvalidCode, InvalidCredentials, InvalidPassword
from retouch.models.console import InviteRecord
from tests.fakes.console import FakeIdentity, FakePeople

NOW = 1_800_000_000
PASSWORD = "Correct-Horse-42"


def deps(credit_micros: int = 5_000_000) -> SignUpDeps:
    return SignUpDeps(identity=FakeIdentity(), people=FakePeople(), sign_up_credit_micros=credit_micros)


def identity(d: SignUpDeps) -> FakeIdentity:
    assert isinstance(d.identity, FakeIdentity)
    return d.identity


def people(d: SignUpDeps) -> FakePeople:
    assert isinstance(d.people, FakePeople)
    return d.people


def test_verifying_makes_the_persons_account_with_the_sign_up_credit_once() -> None:
    # Given a person who signed up (with mixed case) and got their code
    d = deps(credit_micros=5_000_000)
    sign_up(d, " Ada@Example.com ", PASSWORD, "Ada's studio")
    code = identity(d).codes["ada@example.com"]

    # When they verify, and sign in twice (each making sure of their membership)
    _, member = verify(d, "ada@example.com", code, PASSWORD, NOW)
    sign_in(d, "ADA@example.com", PASSWORD, NOW + 1)
    sign_in(d, "ada@example.com", PASSWORD, NOW + 2)

    # Then one account exists, named as they asked, owned by them, credited once with the sign-up credit
    [account] = people(d).accounts.values()
    assert (account.account_id, account.name, account.balance_micros) == (member.account_id, "Ada's studio", 5_000_000)
    assert member.account_role == "owner" and member.account_id == account_id_for(member.user_sub)
    [entry] = people(d).ledger
    assert (entry.kind, entry.amount_micros, entry.entry_id) == ("credit", 5_000_000,
                                                                 f"credit_sign_up_{account.account_id}")


def test_no_sign_up_credit_writes_no_ledger_entry() -> None:
    d = deps(credit_micros=0)
    sign_up(d, "bo@example.com", PASSWORD, None)
    verify(d, "bo@example.com", identity(d).codes["bo@example.com"], PASSWORD, NOW)
    assert [a.balance_micros for a in people(d).accounts.values()] == [0] and people(d).ledger == []
    assert [a.name for a in people(d).accounts.values()] == ["bo@example.com"]


def test_an_invited_person_joins_the_inviting_account_and_makes_none() -> None:
    # Given an owner's invitation for this e-mail
    d = deps()
    people(d).invite(InviteRecord(email="cy@example.com", account_id="acct_owner000000000000", invited_by="owner",
                                  created_at=NOW, expires_at=NOW + 100))
    sign_up(d, "cy@example.com", PASSWORD, None)

    _, member = verify(d, "cy@example.com", identity(d).codes["cy@example.com"], PASSWORD, NOW)

    assert (member.account_id, member.account_role) == ("acct_owner000000000000", "member")
    assert people(d).accounts == {} and people(d).invites == {}


def test_an_expired_invitation_is_ignored() -> None:
    d = deps()
    people(d).invite(InviteRecord(email="di@example.com", account_id="acct_owner000000000000", invited_by="owner",
                                  created_at=NOW - 100, expires_at=NOW - 1))
    sign_up(d, "di@example.com", PASSWORD, None)
    _, member = verify(d, "di@example.com", identity(d).codes["di@example.com"], PASSWORD, NOW)
    assert member.account_role == "owner" and member.account_id != "acct_owner000000000000"


def test_a_membership_made_concurrently_is_read_not_made_twice() -> None:
    # Given a person whose account a concurrent verification made between our read and our write
    d = deps()
    sign_up(d, "ed@example.com", PASSWORD, None)
    identity(d).confirm("ed@example.com", identity(d).codes["ed@example.com"])
    person = identity(d).find("ed@example.com")
    assert person is not None
    first = ensure_member(d, person, NOW)

    class RacingPeople(FakePeople):
        calls = 0

        def member(self, user_sub: str):  # the first read misses the concurrent write
            self.calls += 1
            return None if self.calls == 1 else super().member(user_sub)

    racing = RacingPeople(members_by_sub=dict(people(d).members_by_sub), accounts=dict(people(d).accounts))
    again = ensure_member(SignUpDeps(identity=d.identity, people=racing, sign_up_credit_micros=5_000_000), person,
                          NOW + 1)

    assert again == first and len(racing.accounts) == 1 and racing.ledger == []


@pytest.mark.parametrize(("action", "error", "code"), [
    ("taken", EmailTaken, "email_taken"),  # verified: an unverified sign-up is replaced (below)
    ("weak", InvalidPassword, "invalid_password"),
    ("wrong-code", InvalidCode, "invalid_code"),
    ("verify-wrong-password", InvalidCredentials, "invalid_credentials"),
    ("unverified", EmailNotVerified, "email_not_verified"),
    ("wrong-password", InvalidCredentials, "invalid_credentials"),
    ("unknown", InvalidCredentials, "invalid_credentials"),
])
def test_the_identity_services_refusals_become_the_consoles_errors(action: str, error: type, code: str) -> None:
    d = deps()
    sign_up(d, "fy@example.com", PASSWORD, None)
    with pytest.raises(error) as raised:
        match action:
            case "taken":
                verify(d, "fy@example.com", identity(d).codes["fy@example.com"], PASSWORD, NOW)
                sign_up(d, "FY@example.com", PASSWORD, None)
            case "weak":
                sign_up(d, "gi@example.com", "short", None)
            case "wrong-code":
                verify(d, "fy@example.com", "000000", PASSWORD, NOW)
            case "verify-wrong-password":
                verify(d, "fy@example.com", identity(d).codes["fy@example.com"], PASSWORD + "x", NOW)
            case "unverified":
                sign_in(d, "fy@example.com", PASSWORD, NOW)
            case "wrong-password":
                verify(d, "fy@example.com", identity(d).codes["fy@example.com"], PASSWORD, NOW)
                sign_in(d, "fy@example.com", PASSWORD + "x", NOW)
            case "unknown":
                sign_in(d, "nobody@example.com", PASSWORD, NOW)
    assert raised.value.code == code


def test_resending_says_nothing_about_an_unknown_email() -> None:
    d = deps()
    resend_code(d, "nobody@example.com")  # no error: whether the e-mail is known is not told
    sign_up(d, "ha@example.com", PASSWORD, None)
    first = identity(d).codes["ha@example.com"]
    resend_code(d, "ha@example.com")
    assert identity(d).codes["ha@example.com"] != first
    with pytest.raises(InvalidCode):
        verify(d, "ha@example.com", first, PASSWORD, NOW)  # the old code stops working


def test_a_sign_up_nobody_verified_is_replaced_by_the_next_and_verifying_needs_its_password() -> None:
    # Given an attacker's sign-up of the victim's e-mail, with the attacker's password, left unverified
    d = deps()
    people(d).invite(InviteRecord(email="vi@example.com", account_id="acct_owner000000000000", invited_by="owner",
                                  created_at=NOW, expires_at=NOW + 100))
    sign_up(d, "vi@example.com", "Attackers-Pass-1", None)
    attackers_code = identity(d).codes["vi@example.com"]

    # When the victim signs up with their own password (a new code e-mailed), and verifies with it
    sign_up(d, "VI@example.com", PASSWORD, None)
    victims_code = identity(d).codes["vi@example.com"]
    with pytest.raises(InvalidCredentials):  # the attacker's password verifies nothing
        verify(d, "vi@example.com", victims_code, "Attackers-Pass-1", NOW)
    assert victims_code != attackers_code and not identity(d).people["vi@example.com"].verified
    person, member = verify(d, "vi@example.com", victims_code, PASSWORD, NOW)

    # Then the invitation's account is the victim's, and only the victim's password signs in
    assert (person.email, member.account_id) == ("vi@example.com", "acct_owner000000000000")
    with pytest.raises(InvalidCredentials):
        sign_in(d, "vi@example.com", "Attackers-Pass-1", NOW)
    assert sign_in(d, "vi@example.com", PASSWORD, NOW)[1] == member


def test_a_wrong_password_at_verification_confirms_nothing() -> None:
    d = deps()
    sign_up(d, "wu@example.com", PASSWORD, None)
    code = identity(d).codes["wu@example.com"]
    with pytest.raises(InvalidCredentials):
        verify(d, "wu@example.com", code, PASSWORD + "x", NOW)
    assert not identity(d).people["wu@example.com"].verified and people(d).accounts == {}
    with pytest.raises(EmailNotVerified):
        sign_in(d, "wu@example.com", PASSWORD, NOW)
    verify(d, "wu@example.com", code, PASSWORD, NOW)  # the code still works with the right password
