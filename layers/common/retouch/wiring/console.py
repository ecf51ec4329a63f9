"""The console function's collaborators, built from its ConsoleSettings: its own route groups' (sign-up and sign-in,
the session and the account's people: `console_routes`), then the public API groups it mounts, built exactly as the
api, status and payments functions build them (the same builders, the same settings), keeping those its list names
(web/functions.py)."""

from __future__ import annotations

from dataclasses import dataclass

from retouch.billing.money import MICROS_PER_USD
from retouch.config import ConsoleSettings, StatusSettings
from retouch.console.limits import AttemptLimits
from retouch.console.members import MemberDeps
from retouch.console.sessions import SessionDeps
from retouch.console.sign_up import SignUpDeps
from retouch.data.accounts import AccountRepository
from retouch.data.console_attempts import AttemptCountRepository
from retouch.data.console_identity import CognitoIdentity
from retouch.data.console_people import PeopleRepository
from retouch.data.console_sessions import ConsoleSessionRepository
from retouch.web.functions import CONSOLE_FUNCTION, route_groups
from retouch.web.routes.console_auth import ConsoleAuthRoutes
from retouch.web.routes.console_session import ConsoleSessionRoutes
from retouch.wiring.api import build_api
from retouch.wiring.console_routes import build_console_routes
from retouch.wiring.payments import build_payments
from retouch.wiring.status import build_status


@dataclass(frozen=True)
class ConsoleCollaborators:
    routes: list[object]  # one object per route group (web/functions.py)
    sessions: SessionDeps  # what the gate resolves each request's cookie against (web/console_gate.py)


def build_console(settings: ConsoleSettings) -> ConsoleCollaborators:
    sessions = SessionDeps(sessions=ConsoleSessionRepository(settings.table_name),
                           people=PeopleRepository(settings.table_name))
    identity = CognitoIdentity(settings.user_pool_id, settings.user_pool_client_id)
    needed = {group.needs for group in route_groups(CONSOLE_FUNCTION)}
    mounted = [collaborator for collaborator in public_api_routes(settings) if type(collaborator) in needed]
    return ConsoleCollaborators(routes=[*console_routes(settings, sessions, identity), *mounted], sessions=sessions)


def console_routes(settings: ConsoleSettings, sessions: SessionDeps, identity: CognitoIdentity) -> list[object]:
    """The console-only groups' collaborators (a console-only group adds its own here)."""
    accounts = AccountRepository(settings.table_name)
    sign_up = SignUpDeps(identity=identity, people=sessions.people,
                         sign_up_credit_micros=int(settings.sign_up_credit_usd * MICROS_PER_USD))
    limits = AttemptLimits(counter=AttemptCountRepository(settings.table_name),
                           per_address=settings.auth_attempts_per_address, per_email=settings.auth_attempts_per_email)
    return [
        ConsoleAuthRoutes(sign_up=sign_up, sessions=sessions, limits=limits, accounts=accounts),
        ConsoleSessionRoutes(members=MemberDeps(people=sessions.people, identity=identity), accounts=accounts),
        *build_console_routes(table_name=settings.table_name, bucket_name=settings.bucket_name,
                              url_expiry_seconds=settings.url_expiry_seconds, url_allowlist=settings.url_allowlist,
                              routing_document=settings.routing_document, region=settings.region,
                              alarm_names=settings.alarm_names),
    ]


def public_api_routes(settings: ConsoleSettings) -> list[object]:
    """What the api, status and payments functions hand their groups, built from the console's own settings (the
    template gives it their variables)."""
    status = StatusSettings.model_validate(settings.model_dump(include=set(StatusSettings.model_fields)))
    return [*build_api(settings), *build_status(status), *build_payments(settings)]
