"""The function host's runtime (no HTTP), the Lambda environment, the local settings and queue ordering."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest

from local.cloudformation.resources import _dependency_order, physical_name
from local.cloudformation.template import FunctionSpec, TemplateError, load_yaml
from local.lambdas.environment import lambda_environment
from local.lambdas.function_runtime import FunctionRuntime, LambdaContext
from local.settings import LocalSettings
from local.stack import STAND_IN_STRIPE_KEY
from local.stand_ins.stripe_api import StripeStandIn
from retouch.models.payments import StripeKeys


@pytest.fixture()
def handler_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A uniquely named handler module on sys.path (the host imports by name, as Lambda does)."""
    name = f"handler_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{name}.py").write_text(
        "def ok(event, context):\n"
        "    return {'echo': event, 'fn': context.function_name, 'left': context.get_remaining_time_in_millis()}\n"
        "def boom(event, context):\n"
        "    raise ValueError('bad input')\n"
        "def unserializable(event, context):\n"
        "    return {'when': object()}\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "retouch-local-apifunction")
    return name


def runtime(module: str, function: str) -> FunctionRuntime:
    rt = FunctionRuntime(f"{module}.{function}", timeout=29, memory_size=1024)
    rt.initialize()
    return rt


def test_a_successful_invocation_returns_the_handlers_json(handler_module):
    payload, failed = runtime(handler_module, "ok").invoke({"a": 1})
    result = json.loads(payload)
    assert failed is False
    assert result["echo"] == {"a": 1} and result["fn"] == "retouch-local-apifunction"
    assert 28_000 < result["left"] <= 29_000


def test_a_raising_handler_returns_lambdas_error_payload(handler_module, capsys):
    payload, failed = runtime(handler_module, "boom").invoke({})
    error = json.loads(payload)
    assert failed is True
    assert (error["errorType"], error["errorMessage"]) == ("ValueError", "bad input")
    assert error["stackTrace"]
    assert "ValueError: bad input" in capsys.readouterr().err


def test_an_unserializable_result_is_a_marshal_error(handler_module):
    payload, failed = runtime(handler_module, "unserializable").invoke({})
    assert failed is True and json.loads(payload)["errorType"] == "Runtime.MarshalError"


def test_an_import_failure_fails_every_invocation_like_lambda(capsys):
    rt = runtime("no_such_module_anywhere", "handler")
    assert rt.init_error is not None and rt.init_error["errorType"] == "Runtime.ImportModuleError"
    payload, failed = rt.invoke({})
    assert failed is True and json.loads(payload)["errorType"] == "Runtime.ImportModuleError"


def test_remaining_time_counts_down_from_the_timeout():
    context = LambdaContext(function_name="f", memory_limit_in_mb=128, invoked_function_arn="arn", aws_request_id="r",
                            log_group_name="g", log_stream_name="s", timeout_seconds=0.2)
    first = context.get_remaining_time_in_millis()
    time.sleep(0.25)
    assert 0 < first <= 200 and context.get_remaining_time_in_millis() == 0


def test_lambda_environment_is_the_template_plus_aws_and_nothing_from_the_shell(monkeypatch):
    # Given a developer shell with secrets and AWS profiles
    monkeypatch.setenv("OPENAI_API_KEY", "sk-real")
    monkeypatch.setenv("AWS_PROFILE", "prod-admin")
    spec = FunctionSpec("ApiFunction", Path("/repo/functions/api"), "app.lambda_handler", 29, 1024, {}, ())
    # When the api function's environment is built
    env = lambda_environment(spec, {"RETOUCH_TABLE_NAME": "retouch-local-table"},
                             function_name="retouch-local-apifunction", aws_endpoint_url="http://127.0.0.1:5000")
    # Then it reaches the emulation only, and says which function it is
    assert env["RETOUCH_TABLE_NAME"] == "retouch-local-table"
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:5000"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert env["AWS_ACCESS_KEY_ID"] == env["AWS_SECRET_ACCESS_KEY"] == "testing"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "retouch-local-apifunction"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "1024"
    assert env["AWS_SDK_UA_APP_ID"] == "api"  # names the caller in its AWS requests' User-Agent (the bench's count)
    assert "127.0.0.1" in env["NO_PROXY"]
    assert "OPENAI_API_KEY" not in env and "AWS_PROFILE" not in env


def test_settings_defaults_for_a_local_run(monkeypatch):
    for name in ("PORT", "RETOUCH_LOCAL_API_KEY", "OPENAI_API_KEY", "RETOUCH_MAX_WAIT_SECONDS",
                 "RETOUCH_LOCAL_TRANSACTION_HOLD_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    settings = LocalSettings()
    assert (settings.port, settings.api_key, settings.openai_api_key) == (3000, None, None)
    assert (settings.provider_delay, settings.max_wait_seconds, settings.url_allowlist) == (1.0, 25, "")
    # `make run` shows transaction conflicts as DynamoDB does (local.aws.dynamodb_contention)
    assert settings.transaction_hold_seconds == 0.02


def test_settings_read_the_documented_variables(monkeypatch):
    monkeypatch.setenv("PORT", "3100")
    monkeypatch.setenv("RETOUCH_LOCAL_API_KEY", "rt_fixed")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x")
    monkeypatch.setenv("RETOUCH_LOCAL_PROVIDER_DELAY", "0.1")
    monkeypatch.setenv("RETOUCH_LOCAL_TRANSACTION_HOLD_SECONDS", "0")
    settings = LocalSettings()
    assert (settings.port, settings.api_key, settings.provider_delay) == (3100, "rt_fixed", 0.1)
    assert settings.transaction_hold_seconds == 0
    assert settings.openai_api_key is not None and settings.openai_api_key.get_secret_value() == "sk-x"
    assert "sk-x" not in repr(settings)


def test_an_empty_openai_key_means_the_stand_in(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "")
    assert LocalSettings().openai_api_key is None


def test_stripe_itself_needs_a_real_webhook_secret_beside_its_key(monkeypatch):
    # Given a developer's Stripe key without the webhook secret `stripe listen` prints, or with a placeholder
    monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_test_dev")
    monkeypatch.delenv("STRIPE_WEBHOOK_SECRET", raising=False)
    with pytest.raises(ValueError, match="STRIPE_WEBHOOK_SECRET"):
        LocalSettings()
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", "replace-me")
    with pytest.raises(ValueError, match="STRIPE_WEBHOOK_SECRET"):
        LocalSettings()

    # When both are real, `make run` takes them
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", "whsec_dev")
    settings = LocalSettings()
    assert settings.stripe_webhook_secret is not None and settings.stripe_webhook_secret.get_secret_value() == (
        "whsec_dev")


def test_the_stripe_stand_in_gives_the_local_stack_configured_keys():
    # The keys `make run` puts in the Stripe secret while the stand-in answers (local/stack.py _put_stripe_keys):
    # neither is a placeholder, so local top-ups and their events are not refused as payments_not_enabled
    stand_in = StripeStandIn(api_key=STAND_IN_STRIPE_KEY, delay=0)
    keys = StripeKeys(secret_key=STAND_IN_STRIPE_KEY, webhook_secret=stand_in.webhook_secret)
    assert keys.configured and keys.webhook_secret.startswith("whsec_")


def test_dead_letter_queues_are_created_before_the_queues_that_name_them():
    resources = load_yaml("""
    A: {Type: AWS::SQS::Queue, Properties: {RedrivePolicy: {deadLetterTargetArn: !GetAtt B.Arn, maxReceiveCount: 5}}}
    B: {Type: AWS::SQS::Queue, Properties: {RedrivePolicy: {deadLetterTargetArn: !GetAtt C.Arn, maxReceiveCount: 5}}}
    C: {Type: AWS::SQS::Queue, Properties: {}}
    """)
    assert list(_dependency_order(resources)) == ["C", "B", "A"]


def test_queues_naming_each_other_are_refused():
    resources = load_yaml("""
    A: {Type: AWS::SQS::Queue, Properties: {RedrivePolicy: {deadLetterTargetArn: !GetAtt B.Arn}}}
    B: {Type: AWS::SQS::Queue, Properties: {RedrivePolicy: {deadLetterTargetArn: !GetAtt A.Arn}}}
    """)
    with pytest.raises(TemplateError, match="cycle"):
        list(_dependency_order(resources))


def test_physical_names_are_lower_case_and_stack_prefixed():
    assert physical_name("JobsDeadLetterQueue") == "retouch-local-jobsdeadletterqueue"
