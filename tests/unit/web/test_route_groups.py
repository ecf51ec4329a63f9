"""A route is handed what its function's wiring built (web/route_groups.py): checked at create_app, bound per app
and per request, so one router in two apps reads each app's own collaborators and request."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from aws_lambda_powertools.event_handler.api_gateway import Router

from retouch.web.app import create_app
from retouch.web.route_groups import RouteGroup
from tests.builders import http_event

ACCOUNT = "acct_abcdefghij0123456789"


@dataclass(frozen=True)
class Greeting:
    word: str


def _group() -> RouteGroup[Greeting]:
    group = RouteGroup(Router(), Greeting)

    @group.router.get("/v1/models")
    def greet() -> dict:
        return {"word": group.deps().word, "path": group.event().raw_path}

    return group


def test_one_router_in_two_apps_reads_the_resolving_apps_collaborators() -> None:
    # Given one route group included in two apps, each given its own collaborator (the api and sync functions)
    group = _group()
    first = create_app([group], [Greeting("first")])
    second = create_app([group], [Greeting("second")])

    # When each resolves a request, the first after the second included the router
    answers = [json.loads(app.resolve(http_event("list_models.json", account_id=ACCOUNT), None)["body"])  # type: ignore[arg-type]
               for app in (first, second, first)]

    # Then each route read its own app's collaborator and request
    assert [answer["word"] for answer in answers] == ["first", "second", "first"]
    assert {answer["path"] for answer in answers} == {"/v1/models"}


@pytest.mark.parametrize(("given", "message"), [
    ([], "missing ['Greeting']"),
    ([Greeting("a"), 42], "not needed ['int']"),
], ids=["missing", "stray"])
def test_an_app_without_exactly_its_routes_collaborators_fails_to_build(given: list[object], message: str) -> None:
    # When an app is built with a collaborator missing, or one no route needs
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        create_app([_group()], given)


def test_two_collaborators_of_one_type_fail_to_build() -> None:
    with pytest.raises(ValueError, match="two collaborators of type Greeting"):
        create_app([_group()], [Greeting("a"), Greeting("b")])


def test_deps_outside_a_request_is_an_error_not_a_guess() -> None:
    with pytest.raises(RuntimeError, match="outside a request"):
        _group().deps()
