"""template.yaml's per-tenant limits (issue #24): the synchronous entry always has a reserved concurrency, one account
may hold only a few of its slots, and an account's URL-fetching jobs stay below the workers' concurrency."""

from __future__ import annotations

import pytest

from local.cloudformation.template import load_yaml
from tests.unit.template.test_template import TEMPLATE


@pytest.fixture(scope="module")
def template() -> dict:
    return load_yaml(TEMPLATE.read_text())


def test_the_sync_entry_refuses_zero_reserved_concurrency_and_always_reserves_it(template: dict) -> None:
    parameters = template["Parameters"]
    assert parameters["SyncReservedConcurrency"]["MinValue"] >= 1
    sync = template["Resources"]["SyncFunction"]["Properties"]
    assert sync["ReservedConcurrentExecutions"] == {"Ref": "SyncReservedConcurrency"}


def test_one_account_holds_well_below_the_sync_entrys_reserved_concurrency(template: dict) -> None:
    parameters = template["Parameters"]
    holds, reserved = parameters["SyncHoldsPerAccount"], parameters["SyncReservedConcurrency"]
    assert holds["MinValue"] >= 1 and int(holds["Default"]) * 2 <= int(reserved["Default"])
    environment = template["Resources"]["SyncFunction"]["Properties"]["Environment"]["Variables"]
    assert environment["RETOUCH_HOLDS_PER_ACCOUNT"] == {"Ref": "SyncHoldsPerAccount"}


def test_an_accounts_url_fetching_jobs_stay_below_the_workers_concurrency(template: dict) -> None:
    parameters = template["Parameters"]
    per_account, workers = parameters["UrlFetchJobsPerAccount"], parameters["WorkerMaxConcurrency"]
    assert int(per_account["Default"]) < int(workers["Default"]) and per_account["MinValue"] >= 1
    environment = template["Resources"]["WorkerFunction"]["Properties"]["Environment"]["Variables"]
    assert environment["RETOUCH_URL_FETCH_JOBS_PER_ACCOUNT"] == {"Ref": "UrlFetchJobsPerAccount"}


# -- The synchronous entry's edge (SyncEdge CloudFrontWaf): what stops an unauthenticated flood before Lambda ---------


def test_the_sync_edge_is_cloudfront_with_a_waf_rate_rule_per_address_and_a_bearer_key_rule(template: dict) -> None:
    resources = template["Resources"]
    acl = resources["SyncEdgeWebAcl"]
    assert acl["Condition"] == "HasSyncEdge" and acl["Properties"]["Scope"] == "CLOUDFRONT"
    rules = {rule["Name"]: rule for rule in acl["Properties"]["Rules"]}
    rate = rules["requests-per-address"]["Statement"]["RateBasedStatement"]
    assert rate["AggregateKeyType"] == "IP" and rate["Limit"] == {"Ref": "SyncEdgeRequestsPerAddress"}
    assert rules["requests-per-address"]["Action"]["Block"]["CustomResponse"]["ResponseCode"] == 429
    no_key = rules["require-bearer-key"]
    assert no_key["Statement"]["NotStatement"]["Statement"]["ByteMatchStatement"]["SearchString"] == "Bearer "
    assert no_key["Action"]["Block"]["CustomResponse"]["ResponseCode"] == 401
    distribution = resources["SyncEdgeDistribution"]["Properties"]["DistributionConfig"]
    assert distribution["WebACLId"] == {"Fn::GetAtt": ["SyncEdgeWebAcl", "Arn"]}
    [origin] = distribution["Origins"]
    assert "SyncFunctionUrl" in str(origin["DomainName"])
    assert origin["CustomOriginConfig"]["OriginReadTimeout"] == {"Ref": "SyncEdgeTimeoutSeconds"}
    [header] = origin["OriginCustomHeaders"]
    assert header["HeaderName"] == "X-Retouch-Edge" and "SyncEdgeOriginSecret" in str(header["HeaderValue"])


def test_behind_the_edge_the_function_url_serves_only_requests_carrying_its_secret(template: dict) -> None:
    sync = template["Resources"]["SyncFunction"]["Properties"]
    assert sync["Environment"]["Variables"]["RETOUCH_EDGE_SECRET_ARN"] == {
        "Fn::If": ["HasSyncEdge", {"Ref": "SyncEdgeOriginSecret"}, ""]}
    assert "${AWS::StackName}-sync-edge-*" in str(sync["Policies"])
    secret = template["Resources"]["SyncEdgeOriginSecret"]["Properties"]
    assert secret["Name"] == {"Fn::Sub": "${AWS::StackName}-sync-edge"}


def test_the_edge_is_refused_outside_us_east_1_where_waf_for_cloudfront_lives(template: dict) -> None:
    rule = template["Rules"]["SyncEdgeNeedsUsEast1"]
    assert rule["RuleCondition"] == {"Fn::Equals": [{"Ref": "SyncEdge"}, "CloudFrontWaf"]}
    assert rule["Assertions"][0]["Assert"] == {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]}
