"""Composition roots: each function's collaborators are built here, one module per function (`admin` builds the
admin tool's), never inside the domain packages. Outside data/ itself, these are the only modules that import
retouch.data (tests/unit/test_data_layer_imports.py); boto3 clients are lazy.

One style for every function: its entry point (functions/<name>/app.py) reads its settings model from the environment
at import, uncached (`XSettings.from_environment()`: a bad deploy fails at cold start), and hands them to its module
here (`build_api(settings)`, `build_worker(settings)`, ...), which returns what the handler serves with. No module
reads global settings, so any two functions can share one process with different values (the integration tests run
the api, status and sync functions side by side). A handler builds no adapter, and no route imports this package
(tests/unit/test_composition.py).

How the HTTP functions hand collaborators to their routes: a small typed container per route group, set once per
function. Each routes module declares the one frozen dataclass its routes need (`ImageRoutes`, `JobReadRoutes`, ...);
`build_<function>` returns one per group its function serves (web/functions.py); `create_app` checks at cold start
that exactly those were given and binds them to its app, which hands them to its routes for the span of each request
(web/route_groups.py). Chosen over Powertools' `app.append_context(...)` / `router.context` because a router's context
is the context of the app that included it last, and the image, job and catalog routers are included in several apps
(api, sync, the OpenAPI document): with two functions in one process a route would read the other function's
collaborators. The container is also typed, where `context` is a `dict[str, Any]` read by key.
"""
