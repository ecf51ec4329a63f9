"""The signed-in person's session and their account's people (console/members.py), served by the console function
under /console/api. Every route here needs a console session (an API key never reaches the console function, and a
route mounted elsewhere would refuse one: 403 `console_session_required`)."""

from __future__ import annotations

from dataclasses import dataclass

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from retouch.auth.standing import AccountReader
from retouch.console.members import MemberDeps, account_people, invite, remove
from retouch.models.common import now_epoch
from retouch.models.console_views import (
    InvitationView,
    InviteRequest,
    MemberList,
    MemberView,
    SessionView,
)
from retouch.models.responses import ErrorBody
from retouch.web.console_gate import current_session
from retouch.web.principal import current_console_user
from retouch.web.request_parsing import SMALL_JSON_BODY_BYTES, parse_json_body
from retouch.web.responses import documented, json_response
from retouch.web.route_groups import RouteGroup

NOT_SIGNED_IN = documented(ErrorBody, "`not_signed_in`: no live session")
CSRF_FAILED = documented(ErrorBody, "`csrf_failed`: no X-CSRF-Token matching the session's, or another Origin")


@dataclass(frozen=True)
class ConsoleSessionRoutes:
    members: MemberDeps
    accounts: AccountReader


routes = RouteGroup(Router(), ConsoleSessionRoutes)
router = routes.router


@router.get("/session", summary="Who is signed in", responses={
    200: documented(SessionView, "The person, their account and the session's CSRF token"),
    401: NOT_SIGNED_IN,
})
def get_session() -> Response[SessionView]:
    caller = current_console_user()
    session = current_session()
    account = routes.deps().accounts.get_account(caller.account_id)
    return json_response(SessionView.of(session, account.name if account else ""))


@router.get("/members", summary="The account's people and open invitations", responses={
    200: documented(MemberList, "Members (the owner first) and invitations not yet taken"),
    401: NOT_SIGNED_IN,
})
def get_members() -> Response[MemberList]:
    caller = current_console_user()
    people = account_people(routes.deps().members, caller.account_id, now_epoch())
    members = sorted(people.members, key=lambda member: (member.account_role != "owner", member.joined_at))
    return json_response(MemberList(
        data=[MemberView(id=member.user_sub, email=member.email, account_role=member.account_role,
                         joined_at=member.joined_at) for member in members],
        invitations=[InvitationView(email=invitation.email, invited_by=invitation.invited_by,
                                    created_at=invitation.created_at, expires_at=invitation.expires_at)
                     for invitation in people.invitations]))


@router.post("/members", summary="Invite someone into the account", responses={
    202: documented(InvitationView, "Invited: when they sign up and verify this e-mail, they join the account"),
    401: NOT_SIGNED_IN,
    403: CSRF_FAILED,
    409: documented(ErrorBody, "`member_conflict`: not the account's owner, they belong to an account already, or "
                               "another account's invitation to them is open"),
})
def post_member() -> Response[InvitationView]:
    caller = current_console_user()
    request = parse_json_body(routes.event().raw_event, SMALL_JSON_BODY_BYTES, InviteRequest)
    invitation = invite(routes.deps().members, str(caller.console_user), request.email, now_epoch())
    return json_response(InvitationView(email=invitation.email, invited_by=invitation.invited_by,
                                        created_at=invitation.created_at, expires_at=invitation.expires_at),
                         status=202)


@router.delete("/members/<user_id>", summary="Remove someone from the account", responses={
    200: documented(MemberView, "Removed: their sessions end at once"),
    401: NOT_SIGNED_IN,
    403: CSRF_FAILED,
    404: documented(ErrorBody, "`member_not_found`: no such person in this account"),
    409: documented(ErrorBody, "`member_conflict`: not the account's owner, or the owner named"),
})
def delete_member(user_id: str) -> Response[MemberView]:
    caller = current_console_user()
    removed = remove(routes.deps().members, str(caller.console_user), user_id)
    return json_response(MemberView(id=removed.user_sub, email=removed.email, account_role=removed.account_role,
                                    joined_at=removed.joined_at))
