"""What `make run`'s console shows of a real function: the api function's /health calls, in a host process as the
stack runs it (real template.yaml, resources on moto), print no warning a newcomer would have to learn to ignore."""

from __future__ import annotations

import json

import pytest

from local import REPO_ROOT
from local.cloudformation.intrinsics import Resolver, parameter_values
from local.cloudformation.resources import ResourceCreator
from local.cloudformation.template import Template
from local.console import Console
from local.lambdas.environment import lambda_environment
from local.lambdas.function_host import FunctionHost
from tests.integration.local.conftest import REAL_TEMPLATE

HEALTH_EVENT = json.loads((REPO_ROOT / "events" / "health.json").read_text())


@pytest.fixture(scope="module")
def api_host_env(aws, moto_url) -> tuple[Template, dict[str, str]]:
    template = Template.load(REAL_TEMPLATE)
    parameters = parameter_values(template)
    created = ResourceCreator(template, parameters, aws, secret_value="x").create_all()
    spec = template.functions["ApiFunction"]
    env = Resolver(template, parameters, created.physical).function_environment(spec)
    return template, lambda_environment(spec, env, function_name=created.ref("ApiFunction"), aws_endpoint_url=moto_url)


def test_health_checks_log_no_warning(api_host_env):
    # Given the api function in its own execution environment, its output on a console
    template, env = api_host_env
    console = Console(quiet=True)
    host = FunctionHost(template.functions["ApiFunction"], env, console, prefix="api")
    host.start()
    try:
        host.wait_ready(60)

        # When a load balancer's health check calls /health, twice (cold, then warm)
        answers = [host.invoke(HEALTH_EVENT) for _ in range(2)]
    finally:
        host.stop()  # and every line the process printed has reached the console

    # Then both answered, and nothing it printed is a warning (Powertools' empty-metrics one included)
    assert [(answer.failed, answer.payload["statusCode"]) for answer in answers] == [(False, 200), (False, 200)]
    lines = console.recent("api", limit=200)
    assert sum("REPORT RequestId" in line for line in lines) == 2
    assert [line for line in lines if "Warning" in line or "warnings.warn" in line] == []
