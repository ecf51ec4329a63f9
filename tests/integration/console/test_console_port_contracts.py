"""The console's ports (retouch/console/ports.py): the same scenarios on tests/fakes/console.py and on the adapters
over moto (Cognito taught to e-mail and check codes by local/aws/cognito_codes.py; the table). If one fails only for
the fake, the unit tier's console tests are testing against a fiction."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from local.aws.email_capture import code_in, sent_emails
from retouch.console import ports
from retouch.console.ports import IdentityRefused, InviteGone, InviteTaken, NewAccount, PersonTaken
from retouch.data.console_attempts import AttemptCountRepository
from retouch.data.console_identity import CognitoIdentity
from retouch.data.console_operators import CognitoOperators
from retouch.data.console_people import PeopleRepository
from retouch.data.console_sessions import ConsoleSessionRepository
from retouch.models.account_records import AccountRecord, LedgerEntry
from retouch.models.console import AccountRole, ConsoleSessionRecord, InviteRecord, MemberRecord
from tests.builders import new_account_id
from tests.fakes.console import FakeAttempts, FakeIdentity, FakePeople, FakeSessions
from tests.integration.core.aws_stack import Stack, client

NOW = 1_800_000_000
PASSWORD = "Correct-Horse-42"


class Identities:
    """The identity service and its admin side, and how a test reads the code e-mailed to someone."""

    def __init__(self, service: ports.IdentityService, admin: ports.IdentityAdmin, fake: FakeIdentity | None) -> None:
        self.service, self.admin, self._fake = service, admin, fake

    def code(self, email: str) -> str:
        return self._fake.codes[email] if self._fake else code_in(sent_emails(email)[-1])


@pytest.fixture(params=["fake", "cognito"])
def identities(request: pytest.FixtureRequest) -> Identities:
    if request.param == "fake":
        fake = FakeIdentity()
        return Identities(fake, fake, fake)
    stack: Stack = request.getfixturevalue("stack")
    environment = stack.environments["ConsoleFunction"]
    pool, client_id = environment["RETOUCH_USER_POOL_ID"], environment["RETOUCH_USER_POOL_CLIENT_ID"]
    return Identities(CognitoIdentity(pool, client_id, client("cognito-idp")),
                      CognitoOperators(pool, client("cognito-idp")), None)


@pytest.fixture(params=["fake", "dynamodb"])
def people(request: pytest.FixtureRequest) -> ports.People:
    if request.param == "fake":
        return FakePeople()
    return PeopleRepository(request.getfixturevalue("stack").table, client("dynamodb"))


@pytest.fixture(params=["fake", "dynamodb"])
def sessions(request: pytest.FixtureRequest) -> ports.SessionStore:
    if request.param == "fake":
        return FakeSessions()
    return ConsoleSessionRepository(request.getfixturevalue("stack").table, client("dynamodb"))


@pytest.fixture(params=["fake", "dynamodb"])
def attempts(request: pytest.FixtureRequest) -> ports.AttemptCounter:
    if request.param == "fake":
        return FakeAttempts()
    return AttemptCountRepository(request.getfixturevalue("stack").table, client("dynamodb"))


def new_email() -> str:
    return f"contract-{uuid.uuid4().hex[:12]}@example.com"


def refusal(action: Callable[[], object]) -> str:
    with pytest.raises(IdentityRefused) as refused:
        action()
    return refused.value.reason


def test_sign_up_e_mails_a_code_that_alone_verifies(identities: Identities) -> None:
    service, email = identities.service, new_email()
    service.sign_up(email, PASSWORD, "Studio")
    code = identities.code(email)
    assert len(code) == 6 and code.isdigit()

    assert refusal(lambda: service.sign_up(email, PASSWORD, None)) == "email_taken"
    assert refusal(lambda: service.sign_up(new_email(), "short", None)) == "invalid_password"
    assert refusal(lambda: service.authenticate(email, PASSWORD)) == "email_not_verified"
    assert refusal(lambda: service.confirm(email, f"{(int(code) + 1) % 1_000_000:06d}")) == "invalid_code"
    service.resend_code(email)
    assert refusal(lambda: service.confirm(email, code)) == "invalid_code"  # the resent code replaced it

    service.confirm(email, identities.code(email))

    assert refusal(lambda: service.confirm(email, identities.code(email))) == "invalid_code"  # used
    person = service.authenticate(email, PASSWORD)
    assert (person.email, person.operator, person.account_name) == (email, False, "Studio")
    assert service.find(email) == person and service.find(new_email()) is None
    assert refusal(lambda: service.authenticate(email, PASSWORD + "x")) == "invalid_credentials"
    assert refusal(lambda: service.authenticate(new_email(), PASSWORD)) in ("unknown_email", "invalid_credentials")
    assert refusal(lambda: service.confirm(new_email(), "123456")) == "invalid_code"
    assert refusal(lambda: service.resend_code(email)) == "already_verified"  # no code for a verified e-mail
    assert refusal(lambda: service.resend_code(new_email())) == "unknown_email"


def test_the_password_is_checked_before_verification_and_a_pending_sign_up_can_be_discarded(
        identities: Identities) -> None:
    service, email = identities.service, new_email()
    service.sign_up(email, PASSWORD, None)

    service.check_password(email, PASSWORD)  # right, though not verified yet
    assert refusal(lambda: service.check_password(email, PASSWORD + "x")) == "invalid_credentials"
    assert refusal(lambda: service.check_password(new_email(), PASSWORD)) == "invalid_credentials"

    first_code = identities.code(email)
    assert service.discard_unverified(email) is True
    assert service.find(email) is None and service.discard_unverified(email) is False
    service.sign_up(email, PASSWORD + "2", None)  # the e-mail is free again, with a new code
    assert refusal(lambda: service.check_password(email, PASSWORD)) == "invalid_credentials"
    code = identities.code(email)
    if code != first_code:  # a 6-digit code can repeat; when it does not, the old one must not work
        assert refusal(lambda: service.confirm(email, first_code)) == "invalid_code"
    service.confirm(email, code)

    assert service.discard_unverified(email) is False  # a verified person is kept
    service.check_password(email, PASSWORD + "2")
    assert service.authenticate(email, PASSWORD + "2").email == email


def test_the_admin_side_makes_verified_people_and_operators(identities: Identities) -> None:
    email = new_email()
    identities.admin.create_verified(email, PASSWORD)
    identities.admin.create_verified(email, PASSWORD + "2")  # again: the password changes, nothing else
    identities.admin.add_operator(email)
    assert identities.service.authenticate(email, PASSWORD + "2").operator
    with pytest.raises(LookupError):
        identities.admin.add_operator(new_email())


def member(account_id: str, role: AccountRole = "owner") -> MemberRecord:
    return MemberRecord(user_sub=str(uuid.uuid4()), account_id=account_id, email=new_email(), account_role=role,
                        joined_at=NOW)


def test_an_account_is_made_once_with_its_owner_and_credit(people: ports.People) -> None:
    account_id = new_account_id()
    owner = member(account_id)
    new = NewAccount(account=AccountRecord(account_id=account_id, name="Studio", created_at=NOW,
                                           balance_micros=2_000_000),
                     owner=owner,
                     credit=LedgerEntry(entry_id=f"credit_sign_up_{account_id}", account_id=account_id, kind="credit",
                                        amount_micros=2_000_000, balance_after_micros=2_000_000, at_ms=NOW * 1000))
    people.create_account(new)
    with pytest.raises(PersonTaken):
        people.create_account(new)
    assert people.member(owner.user_sub) == owner
    assert people.members(account_id) == [owner]
    with pytest.raises(PersonTaken):
        people.add_member(owner)


def test_an_invitation_is_taken_once_and_an_expired_one_is_none(people: ports.People) -> None:
    account_id = new_account_id()
    joining = member(account_id, "member")
    invite = InviteRecord(email=joining.email, account_id=account_id, invited_by="owner", created_at=NOW,
                          expires_at=NOW + 60)
    people.invite(invite)
    assert people.invitation(joining.email, NOW) == invite and people.invitation(joining.email, NOW + 60) is None
    assert people.invitations(account_id, NOW) == [invite] and people.invitations(account_id, NOW + 60) == []

    people.join(joining, invite)

    assert people.member(joining.user_sub) == joining and people.invitation(joining.email, NOW) is None
    with pytest.raises(PersonTaken):
        people.join(joining, invite)
    with pytest.raises(InviteGone):
        people.join(member(account_id, "member"), invite)
    people.remove(joining)
    assert people.member(joining.user_sub) is None and people.members(account_id) == []


def test_an_open_invitation_is_renewed_by_its_account_only(people: ports.People) -> None:
    account_id, other = new_account_id(), new_account_id()
    email = f"invited-{uuid.uuid4().hex[:12]}@example.com"
    first = InviteRecord(email=email, account_id=account_id, invited_by="owner", created_at=NOW, expires_at=NOW + 60)
    people.invite(first)
    with pytest.raises(InviteTaken):
        people.invite(first.model_copy(update={"account_id": other, "created_at": NOW + 1}))
    assert people.invitation(email, NOW + 1) == first and people.invitations(other, NOW + 1) == []
    renewed = first.model_copy(update={"created_at": NOW + 2, "expires_at": NOW + 120})
    people.invite(renewed)
    assert people.invitation(email, NOW + 2) == renewed
    taken_over = first.model_copy(update={"account_id": other, "created_at": NOW + 120, "expires_at": NOW + 180})
    people.invite(taken_over)  # the first expired: anyone may invite the address again
    assert people.invitation(email, NOW + 120) == taken_over


def test_sessions_are_put_read_touched_and_deleted(sessions: ports.SessionStore) -> None:
    record = ConsoleSessionRecord(session_hash=uuid.uuid4().hex * 2, account_id=new_account_id(), user_sub="sub",
                                  email="ada@example.com", role="member", csrf_token="t" * 43, created_at=NOW,
                                  last_seen_at=NOW, expires_at=NOW + 7200)
    sessions.put(record)
    assert sessions.get(record.session_hash) == record
    sessions.touch(record.session_hash, NOW + 600, NOW + 7800)
    assert sessions.get(record.session_hash) == record.model_copy(update={"last_seen_at": NOW + 600,
                                                                         "expires_at": NOW + 7800})
    sessions.delete(record.session_hash)
    assert sessions.get(record.session_hash) is None
    sessions.touch(record.session_hash, NOW + 900, NOW + 8100)  # signed out meanwhile: nothing comes back
    assert sessions.get(record.session_hash) is None


def test_attempts_are_counted_per_subject_and_window_up_to_the_limit(attempts: ports.AttemptCounter) -> None:
    subject = uuid.uuid4().hex * 2
    window = NOW // 60
    assert [attempts.count_attempt(subject, window, 2).admitted for _ in range(3)] == [True, True, False]
    assert attempts.count_attempt(subject, window + 1, 2).admitted
    assert attempts.count_attempt(uuid.uuid4().hex * 2, window, 2).count == 1
