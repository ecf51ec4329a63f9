"""local.cloudformation.intrinsics: parameters and !Ref/!GetAtt/!Sub/... resolution against the real template.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest

from local.cloudformation.intrinsics import NO_VALUE, PhysicalResource, Resolver, parameter_values, to_string
from local.cloudformation.resources import virtual_resources
from local.cloudformation.template import Template, TemplateError

ROOT = Path(__file__).resolve().parents[3]
QUEUE_URL = "http://127.0.0.1:5000/123456789012/retouch-local-jobsqueue"
EMULATED = {"AWS::DynamoDB::Table", "AWS::SQS::Queue", "AWS::S3::Bucket", "AWS::SecretsManager::Secret",
            "AWS::Cognito::UserPool", "AWS::Cognito::UserPoolClient", "AWS::Cognito::UserPoolGroup"}
SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:retouch-local-providerapikeysecret-AbCdEf"


@pytest.fixture(scope="module")
def template() -> Template:
    return Template.load(ROOT / "template.yaml")


def physical(template: Template) -> dict[str, PhysicalResource]:
    """Stand-in physical ids for every emulated resource (new ones included), then the ones tests check."""
    resources = virtual_resources(template)
    for logical_id, resource in template.resources.items():
        if resource["Type"] in EMULATED:
            resources[logical_id] = PhysicalResource(f"physical-{logical_id}", {"Arn": f"arn-{logical_id}",
                                                                                "QueueName": logical_id})
    resources.update({
        "Table": PhysicalResource("retouch-local-table", {"Arn": "arn:aws:dynamodb:us-east-1:123456789012:table/t"}),
        "Bucket": PhysicalResource("retouch-local-bucket", {"Arn": "arn:aws:s3:::retouch-local-bucket"}),
        "JobsQueue": PhysicalResource(QUEUE_URL, {"Arn": "arn:aws:sqs:us-east-1:123456789012:retouch-local-jobsqueue",
                                                  "QueueName": "retouch-local-jobsqueue"}),
        "ProviderApiKeySecret": PhysicalResource(SECRET_ARN),
    })
    return resources


def resolver(template: Template, **overrides: str) -> Resolver:
    return Resolver(template, parameter_values(template, overrides), physical(template))


def test_parameters_take_template_defaults_as_strings(template):
    values = parameter_values(template)
    assert values["Stage"] == "dev"
    assert values["MaxWaitSeconds"] == "25"
    assert values["UrlAllowlist"] == ""
    assert values["ProviderBaseUrl"] == "https://api.openai.com/v1"


def test_overrides_win_and_are_checked_against_the_parameter_rules(template):
    assert parameter_values(template, {"MaxWaitSeconds": 120.0})["MaxWaitSeconds"] == "120"
    with pytest.raises(TemplateError, match="above MaxValue"):
        parameter_values(template, {"MaxWaitSeconds": 601})
    with pytest.raises(TemplateError, match="not one of"):
        parameter_values(template, {"Stage": "qa"})
    with pytest.raises(TemplateError, match="unknown template parameters"):
        parameter_values(template, {"NoSuchParameter": "1"})


def test_api_environment_resolves_refs_to_physical_ids_and_parameters(template):
    # Given the emulated resources and a local MaxWaitSeconds
    env = resolver(template, MaxWaitSeconds="120").function_environment(template.functions["ApiFunction"])
    # Then the variables hold physical ids and parameter values
    assert env["POWERTOOLS_SERVICE_NAME"] == "retouch"
    assert env["RETOUCH_TABLE_NAME"] == "retouch-local-table"
    assert env["RETOUCH_BUCKET_NAME"] == "retouch-local-bucket"
    assert env["RETOUCH_JOBS_QUEUE_URL"] == QUEUE_URL
    assert env["RETOUCH_MAX_WAIT_SECONDS"] == "120"
    assert env["RETOUCH_URL_EXPIRY_SECONDS"] == "3600"


def test_every_functions_environment_resolves_to_plain_strings(template):
    # A variable naming something the local stack does not emulate would raise here, not at run time.
    r = resolver(template)
    for spec in template.functions.values():
        env = r.function_environment(spec)
        assert set(env) == set(spec.environment), spec.logical_id
        assert all(isinstance(value, str) for value in env.values()), spec.logical_id


def test_worker_environment_gets_the_secret_arn_provider_url_and_numbers_as_strings(template):
    env = resolver(template, ProviderBaseUrl="http://127.0.0.1:9999/v1").function_environment(
        template.functions["WorkerFunction"])
    assert env["RETOUCH_PROVIDER_SECRET_ARN"] == SECRET_ARN
    assert env["RETOUCH_PROVIDER_BASE_URL"] == "http://127.0.0.1:9999/v1"
    assert env["RETOUCH_MAX_ATTEMPTS"] == "4"
    assert env["RETOUCH_PROVIDER_TIMEOUT_SECONDS"] == "240"


def test_conditions_mappings_and_sub_resolve_like_cloudformation(template):
    r = resolver(template)
    assert r.condition("IsProd") is False
    assert resolver(template, Stage="prod").condition("IsProd") is True
    assert r.resolve({"Fn::If": ["IsProd", "Retain", "Delete"]}) == "Delete"
    assert r.resolve({"Fn::FindInMap": ["StageSettings", {"Ref": "Stage"}, "OutputExpiryDays"]}) == 7
    assert r.resolve({"Fn::Sub": "${Bucket.Arn}/*"}) == "arn:aws:s3:::retouch-local-bucket/*"
    assert r.resolve({"Fn::Sub": "/aws/lambda/${ApiFunction}"}) == "/aws/lambda/retouch-local-apifunction"
    assert r.resolve({"Fn::Sub": "${AWS::Region}-${!Literal}"}) == "us-east-1-${Literal}"
    assert r.resolve({"Fn::Sub": ["${A}:${Stage}", {"A": {"Ref": "Table"}}]}) == "retouch-local-table:dev"
    assert r.resolve({"Fn::Join": ["/", ["a", {"Ref": "Stage"}]]}) == "a/dev"
    assert r.resolve({"Fn::GetAtt": ["JobsQueue", "QueueName"]}) == "retouch-local-jobsqueue"
    function_arn = r.resolve({"Fn::GetAtt": ["AuthorizerFunction", "Arn"]})
    assert function_arn.endswith(":function:retouch-local-authorizerfunction")


def test_no_value_drops_the_item_it_stands_in(template):
    r = resolver(template)
    assert r.resolve([1, {"Ref": "AWS::NoValue"}, 2]) == [1, 2]
    assert r.resolve({"a": {"Ref": "AWS::NoValue"}, "b": 1}) == {"b": 1}
    assert r.resolve({"Ref": "AWS::NoValue"}) is NO_VALUE


def test_a_reference_to_something_not_emulated_fails_loudly(template):
    r = Resolver(template, parameter_values(template), {})
    with pytest.raises(TemplateError, match="Table"):
        r.resolve({"Ref": "Table"})
    with pytest.raises(TemplateError, match=r"JobsQueue\.Arn"):
        r.resolve({"Fn::GetAtt": ["JobsQueue", "Arn"]})


@pytest.mark.parametrize(("value", "text"), [(240, "240"), (1.0, "1"), (0.5, "0.5"), (True, "true"), ("x", "x")])
def test_values_become_the_strings_aws_would_set(value, text):
    assert to_string(value) == text
