"""A console session's principal travels through the authorizer context like a key's, and console-only and operator
routes tell a signed-in person (and an operator) from an API key."""

import pytest
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from retouch.auth.authorize import Principal, authorizer_response
from retouch.errors import ConsoleSessionRequired, OperatorOnly
from retouch.web.principal import _caller_in, _calling, current_console_user, current_operator


def _caller(principal: Principal):
    event = {"requestContext": {"authorizer": {"lambda": authorizer_response(principal)["context"]}}}
    return _caller_in(APIGatewayProxyEventV2(event))


def test_a_console_session_principal_round_trips_with_its_person_and_role():
    caller = _caller(Principal(account_id="acct_1", key_id="", console_user="u-1", console_role="operator"))
    assert (caller.account_id, caller.console_user, caller.console_role, caller.is_operator) == \
        ("acct_1", "u-1", "operator", True)
    with _calling(caller):
        assert current_operator() is caller


def test_an_api_key_cannot_call_console_only_routes():
    caller = _caller(Principal(account_id="acct_1", key_id="key_1"))
    assert caller.console_user is None
    with _calling(caller), pytest.raises(ConsoleSessionRequired):
        current_console_user()


def test_a_member_is_not_an_operator():
    caller = _caller(Principal(account_id="acct_1", key_id="", console_user="u-2", console_role="member"))
    with _calling(caller):
        assert current_console_user() is caller
        with pytest.raises(OperatorOnly):
            current_operator()
