"""template.yaml's operations: alarms on the right metrics, throttles, access logs, documented suppressions."""

from __future__ import annotations

import json
import os
import re

import pytest

from local.cloudformation.template import load_yaml
from retouch.jobs.batch import MAX_RECORDS_AT_ONCE
from retouch.observability import metric_names
from tooling.functions import ROOT

TEXT = (ROOT / "template.yaml").read_text()
TEMPLATE = load_yaml(TEXT)
RESOURCES = TEMPLATE["Resources"]
PARAMETERS = TEMPLATE["Parameters"]


def _of_type(kind: str) -> dict[str, dict]:
    return {lid: r["Properties"] for lid, r in RESOURCES.items() if r["Type"] == kind}


ALARMS = _of_type("AWS::CloudWatch::Alarm")


def _alarm_metrics(alarm: dict) -> list[dict]:
    if "MetricName" in alarm:
        return [alarm]
    return [q["MetricStat"]["Metric"] for q in alarm["Metrics"] if "MetricStat" in q]


def _custom_metrics_in_alarms() -> set[str]:
    return {m["MetricName"] for a in ALARMS.values() for m in _alarm_metrics(a)
            if m["Namespace"] == {"Ref": "MetricsNamespace"}}


def _dashboard_rows() -> list[list]:
    body, variables = RESOURCES["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    assert variables == {"Ns": {"Ref": "MetricsNamespace"}}
    widgets = json.loads(re.sub(r"\$\{([^}]+)\}", r"\1", body))["widgets"]
    rows, previous = [], None
    for widget in widgets:
        for row in widget["properties"]["metrics"]:
            names = [v for v in row if isinstance(v, str)]
            if names[0] == "...":
                names = previous[: len(previous) - len(names) + 1] + names[1:]
            names = [previous[i] if v == "." else v for i, v in enumerate(names)]
            rows.append(names)
            previous = names
    return rows


def test_every_alarm_notifies_the_topic_and_an_email_subscribes_only_when_given():
    assert ALARMS
    for name, alarm in ALARMS.items():
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}], name
        assert alarm["TreatMissingData"] == "notBreaching", name
    subscription = RESOURCES["AlarmEmailSubscription"]
    assert subscription["Condition"] == "HasAlarmEmail"
    assert subscription["Properties"]["Endpoint"] == {"Ref": "AlarmEmail"}
    assert PARAMETERS["AlarmEmail"]["Default"] == ""


@pytest.mark.parametrize("queue", ["JobsDeadLetterQueue", "WebhooksDeadLetterQueue"])
def test_each_dead_letter_queue_alarms_when_it_holds_a_message(queue):
    depth = [a for a in ALARMS.values() if a.get("MetricName") == "ApproximateNumberOfMessagesVisible"
             and a["Dimensions"][0]["Value"] == {"Fn::GetAtt": [queue, "QueueName"]}]
    assert depth and depth[0]["Threshold"] == 0 and depth[0]["ComparisonOperator"] == "GreaterThanThreshold"


def test_alarms_cover_errors_queue_age_provider_failures_auth_failures_and_5xx():
    watched = {(m.get("Namespace") if isinstance(m.get("Namespace"), str) else "custom", m["MetricName"],
                json.dumps(m.get("Dimensions"))) for a in ALARMS.values() for m in _alarm_metrics(a)}
    for function in ("WorkerFunction", "ApiFunction"):
        assert ("AWS/Lambda", "Errors", json.dumps([{"Name": "FunctionName", "Value": {"Ref": function}}])) in watched
    assert any(w[:2] == ("AWS/SQS", "ApproximateAgeOfOldestMessage") for w in watched)
    assert any(w[:2] == ("AWS/ApiGateway", "5xx") for w in watched)
    alarmed = _custom_metrics_in_alarms()
    assert {metric_names.PROVIDER_CALLS, metric_names.PROVIDER_FAILURES, metric_names.JOBS_FAILED} <= alarmed


def test_the_auth_failure_alarm_fires_on_the_first_provider_auth_failed_job():
    alarm = ALARMS["ProviderAuthFailedAlarm"]
    assert alarm["MetricName"] == metric_names.JOBS_FAILED
    assert {"Name": metric_names.ERROR_CODE, "Value": metric_names.PROVIDER_AUTH_FAILED} in alarm["Dimensions"]
    assert alarm["Threshold"] == 0 and alarm["ComparisonOperator"] == "GreaterThanThreshold"


def test_custom_metrics_in_alarms_and_dashboard_are_the_ones_the_code_names():
    """metric_names.py is the one list; the template must not read a metric nobody emits."""
    assert PARAMETERS["MetricsNamespace"]["Default"] == metric_names.DEFAULT_NAMESPACE
    function_env = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]
    assert function_env["POWERTOOLS_METRICS_NAMESPACE"] == {"Ref": "MetricsNamespace"}
    assert function_env["POWERTOOLS_SERVICE_NAME"] == metric_names.SERVICE
    dashboard_custom = {row[1] for row in _dashboard_rows() if row[0] == "Ns"}
    assert dashboard_custom == metric_names.ALL_METRICS
    assert _custom_metrics_in_alarms() <= metric_names.ALL_METRICS
    for row in _dashboard_rows():
        if row[0] == "Ns":
            assert row[2:4] == ["service", metric_names.SERVICE], row


def test_the_http_api_throttles_its_default_route_and_logs_access_with_retention():
    api = RESOURCES["HttpApi"]["Properties"]
    assert api["DefaultRouteSettings"] == {"ThrottlingRateLimit": {"Ref": "ApiThrottleRateLimit"},
                                           "ThrottlingBurstLimit": {"Ref": "ApiThrottleBurstLimit"}}
    group_id = api["AccessLogSettings"]["DestinationArn"]["Fn::GetAtt"][0]
    assert "RetentionInDays" in RESOURCES[group_id]["Properties"]
    assert "$context.status" in api["AccessLogSettings"]["Format"]


@pytest.mark.parametrize("function, parameter", [("AuthorizerFunction", "AuthorizerReservedConcurrency"),
                                                 ("ApiFunction", "ApiReservedConcurrency"),
                                                 ("StatusFunction", "StatusReservedConcurrency")])
def test_edge_functions_reserve_concurrency_so_they_cannot_starve_the_worker(function, parameter):
    condition, value, absent = RESOURCES[function]["Properties"]["ReservedConcurrentExecutions"]["Fn::If"]
    assert value == {"Ref": parameter} and absent == {"Ref": "AWS::NoValue"}
    # 0 means "reserve nothing", never "throttle everything"
    assert TEMPLATE["Conditions"][condition] == {"Fn::Not": [{"Fn::Equals": [{"Ref": parameter}, 0]}]}
    assert int(PARAMETERS[parameter]["Default"]) > 0


def test_worker_concurrency_is_capped_by_a_parameter_and_queue_settings_fit_it():
    worker = RESOURCES["WorkerFunction"]["Properties"]
    [event] = [e for e in worker["Events"].values() if e["Type"] == "SQS"]
    assert event["Properties"]["ScalingConfig"] == {"MaximumConcurrency": {"Ref": "WorkerMaxConcurrency"}}
    parameter = PARAMETERS["WorkerMaxConcurrency"]
    assert int(parameter["MinValue"]) >= 2 and int(parameter["MaxValue"]) <= 1000  # the event source's bounds
    queue = RESOURCES["JobsQueue"]["Properties"]
    # Capped messages are not received, so receives go to attempts, crashes and duplicates: more than the attempts.
    max_attempts = int(worker["Environment"]["Variables"]["RETOUCH_MAX_ATTEMPTS"])
    assert int(queue["RedrivePolicy"]["maxReceiveCount"]) > max_attempts
    # Six times the function's timeout, plus the batching window its received messages wait out in flight
    window = PARAMETERS["WorkerBatchingWindowSeconds"]
    assert int(queue["VisibilityTimeout"]) >= 6 * int(worker["Timeout"]) + int(window["MaxValue"])


def test_worker_batches_fit_the_pool_that_runs_their_records_at_once_and_form_under_load():
    worker = RESOURCES["WorkerFunction"]["Properties"]
    [event] = [e for e in worker["Events"].values() if e["Type"] == "SQS"]
    assert event["Properties"]["BatchSize"] == {"Ref": "WorkerBatchSize"}
    assert event["Properties"]["MaximumBatchingWindowInSeconds"] == {"Ref": "WorkerBatchingWindowSeconds"}
    batch, window = PARAMETERS["WorkerBatchSize"], PARAMETERS["WorkerBatchingWindowSeconds"]
    # Every record of the largest batch gets a thread at once: the invocation lasts one job, within the Timeout
    assert 1 <= int(batch["MinValue"]) <= int(batch["Default"]) <= int(batch["MaxValue"]) <= MAX_RECORDS_AT_ONCE
    # A batch over 10 records needs a window in AWS; the window is within the event source's 0-300 s
    assert int(batch["MaxValue"]) <= 10 or int(window["MinValue"]) >= 1
    assert 0 <= int(window["MinValue"]) <= int(window["Default"]) <= int(window["MaxValue"]) <= 300


def test_every_checkov_suppression_sits_in_a_resource_and_gives_a_reason():
    skips = re.findall(r"^    # checkov:skip=(CKV\w+):(.*)$", TEXT, re.M)
    assert skips
    assert len(skips) == TEXT.count("checkov:skip=")
    for check, reason in skips:
        assert len(reason.strip()) > 20, check


HTTP_FUNCTIONS = ("AuthorizerFunction", "ApiFunction", "SyncFunction", "StatusFunction")


def test_snapstart_is_a_parameter_off_by_default_on_the_http_functions_published_versions():
    # SnapStart snapshots published versions only: each HTTP function is invoked through its AutoPublishAlias
    parameter = PARAMETERS["SnapStart"]
    assert parameter["Default"] == "None" and set(parameter["AllowedValues"]) == {"None", "PublishedVersions"}
    for function in HTTP_FUNCTIONS:
        properties = RESOURCES[function]["Properties"]
        assert properties["AutoPublishAlias"] == "live"
        assert properties["SnapStart"] == {"ApplyOn": {"Ref": "SnapStart"}}
    authorizer = RESOURCES["HttpApi"]["Properties"]["Auth"]["Authorizers"]["ApiKeyAuthorizer"]
    assert authorizer["FunctionArn"] == {"Ref": "AuthorizerFunction.Alias"}


def test_snapstart_stays_off_functions_it_cannot_serve():
    # SnapStart refuses ephemeral storage over 512 MB (the worker's /tmp holds 2 GB of images)
    for function, resource in RESOURCES.items():
        if resource["Type"] != "AWS::Serverless::Function" or "SnapStart" not in resource["Properties"]:
            continue
        assert function in HTTP_FUNCTIONS
        assert resource["Properties"].get("EphemeralStorage", {}).get("Size", 512) <= 512


def test_the_sync_entry_streams_through_its_own_runtime_loop() -> None:
    # The Function URL streams, and the python runtime starts the loop that writes streamed answers
    sync = RESOURCES["SyncFunction"]["Properties"]
    assert sync["FunctionUrlConfig"]["InvokeMode"] == "RESPONSE_STREAM"
    wrapper = sync["Environment"]["Variables"]["AWS_LAMBDA_EXEC_WRAPPER"]
    script = ROOT / "functions" / "sync" / wrapper.removeprefix("/var/task/")
    assert script.is_file() and os.access(script, os.X_OK)
    assert "python3 -m retouch.streaming_runtime" in script.read_text()
    # and SnapStart stays off by default (the loop does not run the managed runtime's snapshot hooks)
    assert PARAMETERS["SnapStart"]["Default"] == "None"


def test_the_console_links_every_alarm_of_the_stack():
    # Given every CloudWatch alarm the template declares, each named after the stack and its logical id
    assert ALARMS
    for lid, alarm in ALARMS.items():
        assert alarm["AlarmName"] == {"Fn::Sub": f"${{AWS::StackName}}-{lid}"}, lid

    # Then the console function is given each one's name (its operator page links them), in the template's order,
    # without a !Ref (an alarm on a function behind the HTTP API would make the console depend on itself)
    variables = RESOURCES["ConsoleFunction"]["Properties"]["Environment"]["Variables"]
    separator, names = variables["RETOUCH_ALARM_NAMES"]["Fn::Join"]
    assert separator == "," and names == [alarm["AlarmName"] for alarm in ALARMS.values()]
    assert variables["RETOUCH_REGION"] == {"Ref": "AWS::Region"}
