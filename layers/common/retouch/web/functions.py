"""Which routes each HTTP function serves: the one list per function (keyed by its logical id in template.yaml)
that its app, its wiring check and the OpenAPI document all read. Adding a route: docs/adding-a-route.md.

Named, not imported: a function imports only its own routes modules at cold start.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from retouch.web.route_groups import RouteGroup

# function (template.yaml logical id) -> its routes modules (retouch.web.routes.<name>), in the order its app includes
# them. tests/integration/core/test_route_auth.py holds each list to the function's routes in template.yaml.
ROUTES: dict[str, tuple[str, ...]] = {
    "ApiFunction": ("images", "files", "job_actions", "catalog", "system", "webhooks", "end_users", "client_tokens"),
    "StatusFunction": ("jobs", "account"),
    # The job routes too, read-only: a 202 from the sync URL (a job still running at SyncMaxWaitSeconds, or
    # `Prefer: respond-async`) points at /v1/jobs/{id}, which must answer on this URL as well.
    "SyncFunction": ("images", "jobs", "catalog"),
    # Top-ups, payments and Stripe's webhook: the only function holding Stripe's library and keys (issue #20).
    "PaymentsFunction": ("payments",),
}
# GET /v1/jobs/{id}/events (Server-Sent Events): through API Gateway on the status function, to the job's end on the
# sync entry.
ROUTES["StatusFunction"] += ("job_events",)
ROUTES["SyncFunction"] += ("job_events",)
# POST /v1/images/quote: what an edit or generation would hold and cost, no job made.
ROUTES["ApiFunction"] += ("quotes",)


def route_group(name: str) -> RouteGroup[Any]:
    group = import_module(f"retouch.web.routes.{name}").routes
    if not isinstance(group, RouteGroup):
        raise TypeError(f"retouch.web.routes.{name}.routes is not a RouteGroup")
    return group


def route_groups(function_id: str) -> list[RouteGroup[Any]]:
    """The function's route groups, its routes modules imported now."""
    return [route_group(name) for name in ROUTES[function_id]]


def all_route_groups() -> list[RouteGroup[Any]]:
    """Every public API function's groups, each once (the OpenAPI document's): not the console's, whose own routes are
    the console's (under /console/api, not the API's) and whose other groups other functions serve."""
    names = dict.fromkeys(name for function_id, names in ROUTES.items() if function_id != CONSOLE_FUNCTION
                          for name in names)
    return [route_group(name) for name in names]
# POST /v1/upstream-callbacks/{upstream}/{job_id}: upstreams saying a job is done (fal's webhooks), through API Gateway.
ROUTES["ApiFunction"] += ("upstream_callbacks",)

# The console's backend (issue #21, functions/console/app.py) behind `ANY /console/api/{proxy+}`: its own routes,
# declared without the prefix its gate strips (web/console_gate.py), then the public API's groups it serves to a
# signed-in person exactly as they are served to a key. A console-only group (C2's keys, webhooks, operator) is added
# with `ROUTES[CONSOLE_FUNCTION] += ("console_keys",)`; tests/integration/core/test_route_auth.py holds the mounted ones
# to the template's routes and the console's own outside /v1.
CONSOLE_FUNCTION = "ConsoleFunction"
CONSOLE_MOUNTED_GROUPS: tuple[str, ...] = ("images", "quotes", "files", "jobs", "job_events", "job_actions", "webhooks",
                                           "account", "end_users", "payments", "catalog")
ROUTES[CONSOLE_FUNCTION] = ("console_auth", "console_session", *CONSOLE_MOUNTED_GROUPS)
# The console's own routes for the signed-in person (issue #21, C2): API keys, webhook settings and deliveries, a job's
# images; and the operator's (accounts, credit adjustments, margin, upstream health).
ROUTES[CONSOLE_FUNCTION] += ("console_keys", "console_webhooks", "console_jobs", "console_operator")
