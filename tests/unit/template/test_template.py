"""template.yaml: the rules we rely on hold (`make lint-template` runs sam validate, cfn-lint and checkov)."""

from __future__ import annotations

from pathlib import Path

import pytest

from local.cloudformation.template import load_yaml

ROOT = Path(__file__).resolve().parents[3]
TEMPLATE = ROOT / "template.yaml"


@pytest.fixture(scope="module")
def template() -> dict:
    return load_yaml(TEMPLATE.read_text())


def _functions(template: dict) -> dict[str, dict]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == "AWS::Serverless::Function"}


def _timeout(template: dict, function: dict) -> int:
    return int(function["Properties"].get("Timeout", template["Globals"]["Function"]["Timeout"]))


def test_runtime_is_python313_on_arm64(template):
    globals_ = template["Globals"]["Function"]
    assert globals_["Runtime"] == "python3.13"
    assert globals_["Architectures"] == ["arm64"]


def test_every_sqs_triggered_queue_has_visibility_at_least_six_times_the_function_timeout(template):
    resources = template["Resources"]
    checked = 0
    for function in _functions(template).values():
        for event in function["Properties"].get("Events", {}).values():
            if event["Type"] != "SQS":
                continue
            queue_id = event["Properties"]["Queue"]["Fn::GetAtt"][0]
            visibility = int(resources[queue_id]["Properties"]["VisibilityTimeout"])
            # Six times the timeout, plus the batching window received messages wait out (a parameter: its largest)
            window = event["Properties"].get("MaximumBatchingWindowInSeconds", 0)
            if isinstance(window, dict):
                window = template["Parameters"][window["Ref"]]["MaxValue"]
            assert visibility >= 6 * _timeout(template, function) + int(window), queue_id
            assert event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
            checked += 1
    assert checked >= 2


def test_work_queues_redrive_to_a_dead_letter_queue_and_all_queues_are_encrypted(template):
    queues = {k: v for k, v in template["Resources"].items() if v["Type"] == "AWS::SQS::Queue"}
    dead_letter_targets = {q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
                           for q in queues.values() if "RedrivePolicy" in q["Properties"]}
    assert dead_letter_targets, "no queue has a DLQ"
    for name, queue in queues.items():
        assert queue["Properties"].get("SqsManagedSseEnabled") is True, name
        assert name in dead_letter_targets or "RedrivePolicy" in queue["Properties"], name


def test_no_function_uses_a_wildcard_or_full_access_policy(template):
    for name, function in _functions(template).items():
        for policy in function["Properties"].get("Policies", []):
            text = str(policy)
            assert "FullAccess" not in text and "'*'" not in text, name


def test_every_function_has_a_log_group_with_retention(template):
    groups = [v for v in template["Resources"].values() if v["Type"] == "AWS::Logs::LogGroup"]
    named = {str(g["Properties"]["LogGroupName"]) for g in groups}
    for name in _functions(template):
        assert any(name in text for text in named), name
    assert all("RetentionInDays" in g["Properties"] for g in groups)


def test_bucket_is_private_encrypted_and_expires_objects(template):
    bucket = template["Resources"]["Bucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    prefixes = {rule.get("Prefix") for rule in bucket["LifecycleConfiguration"]["Rules"]}
    assert {"inputs/", "outputs/"} <= prefixes


# The one greedy route: the console's backend (issue #21) takes every /console/api path and declares its own routes
# in code (web/functions.py), answering 404 to any other (tests/integration/console/test_console_function.py); its
# mounted public routes are the template's own /v1 routes (tests/integration/core/test_route_auth.py).
CONSOLE_PROXY = ("ConsoleFunction", "/console/api/{proxy+}")


def test_no_catch_all_routes_but_the_consoles_own_prefix(template):
    greedy = [(function_id, event["Properties"]["Path"]) for function_id, function in _functions(template).items()
              for event in function["Properties"].get("Events", {}).values()
              if event["Type"] == "HttpApi" and "+}" in event["Properties"]["Path"]]
    assert greedy == [CONSOLE_PROXY]


def test_functions_that_delay_redelivery_may_change_their_queues_visibility(template):
    """The SQS event source grants receive/delete only; retry backoff needs sqs:ChangeMessageVisibility."""
    for name in ("WorkerFunction", "WebhookFunction"):
        function = _functions(template)[name]
        queue_ids = [event["Properties"]["Queue"]["Fn::GetAtt"][0]
                     for event in function["Properties"]["Events"].values() if event["Type"] == "SQS"]
        pollable = [statement["Resource"]["Fn::GetAtt"][0]
                    for policy in function["Properties"]["Policies"] for statement in policy.get("Statement", [])
                    if statement["Action"] == "sqs:ChangeMessageVisibility"]
        assert queue_ids and set(queue_ids) <= set(pollable), name


def test_uploaded_files_expire_with_file_expiry_hours_in_the_table_and_the_bucket(template):
    # The parameter, its default, and the api function's setting
    parameter = template["Parameters"]["FileExpiryHours"]
    assert int(parameter["Default"]) == 24
    api = _functions(template)["ApiFunction"]["Properties"]
    assert api["Environment"]["Variables"]["RETOUCH_FILE_EXPIRY_HOURS"] == {"Ref": "FileExpiryHours"}
    # every allowed value has its lifecycle days (whole days, at least the hours)
    days = template["Mappings"]["FileExpiry"]
    for hours in parameter["AllowedValues"]:
        assert int(days[str(hours)]["LifecycleDays"]) * 24 >= int(hours), hours
    [rule] = [r for r in template["Resources"]["Bucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
              if r.get("Prefix") == "uploads/"]
    assert rule["ExpirationInDays"] == {"Fn::FindInMap": ["FileExpiry", {"Ref": "FileExpiryHours"}, "LifecycleDays"]}


def test_the_file_routes_are_on_the_api_function(template):
    routes = {(e["Properties"]["Method"], e["Properties"]["Path"])
              for e in _functions(template)["ApiFunction"]["Properties"]["Events"].values() if e["Type"] == "HttpApi"}
    assert {("POST", "/v1/uploads"), ("GET", "/v1/files"), ("GET", "/v1/files/{file_id}"),
            ("DELETE", "/v1/files/{file_id}")} <= routes
