"""Least privilege both ways: every action a function's role is granted is one its code can make, and every action
its code can make is granted (or listed, with its reason, as one this function never makes); and every key a function
presigns a GET for is one it may read.

The needed set is derived, not listed: import the function's app.py in a fresh interpreter, take the retouch.data
modules it loaded (only data modules touch boto3), and scan their source for the boto3 methods they call or pass on.
"""

from __future__ import annotations

import ast
import json
import re
from functools import cache
from pathlib import Path

import pytest

from local.cloudformation.template import load_yaml
from tooling.functions import ROOT, cold_imported_modules

TEMPLATE = load_yaml((ROOT / "template.yaml").read_text())
FUNCTIONS = {lid: r["Properties"] for lid, r in TEMPLATE["Resources"].items()
             if r["Type"] == "AWS::Serverless::Function"}
DATA = ROOT / "layers" / "common" / "retouch" / "data"

# A boto3 client method (or paginator / presigned operation) -> the IAM action it needs.
ACTION_OF_CALL = {
    "get_item": "dynamodb:GetItem", "put_item": "dynamodb:PutItem", "update_item": "dynamodb:UpdateItem",
    "delete_item": "dynamodb:DeleteItem", "query": "dynamodb:Query", "scan": "dynamodb:Scan",
    "batch_get_item": "dynamodb:BatchGetItem", "batch_write_item": "dynamodb:BatchWriteItem",
    "get_object": "s3:GetObject", "head_object": "s3:GetObject", "put_object": "s3:PutObject",
    "generate_presigned_post": "s3:PutObject", "copy_object": "s3:PutObject", "delete_object": "s3:DeleteObject",
    "delete_objects": "s3:DeleteObject", "list_objects_v2": "s3:ListBucket",
    "send_message": "sqs:SendMessage", "change_message_visibility": "sqs:ChangeMessageVisibility",
    "send_email": "ses:SendEmail",
    # The console's user pool (issue 21): sign-up, verification and sign-in (the console function), operators (admin).
    "sign_up": "cognito-idp:SignUp", "confirm_sign_up": "cognito-idp:ConfirmSignUp",
    "resend_confirmation_code": "cognito-idp:ResendConfirmationCode", "initiate_auth": "cognito-idp:InitiateAuth",
    "admin_get_user": "cognito-idp:AdminGetUser", "admin_list_groups_for_user": "cognito-idp:AdminListGroupsForUser",
    "admin_create_user": "cognito-idp:AdminCreateUser", "admin_set_user_password": "cognito-idp:AdminSetUserPassword",
    "admin_add_user_to_group": "cognito-idp:AdminAddUserToGroup",
    "admin_delete_user": "cognito-idp:AdminDeleteUser",  # a pending (unverified) sign-up replaced by a new one
}
# transact_write_items authorizes each part under its own action.
ACTION_OF_TRANSACTION_PART = {"Put": "dynamodb:PutItem", "Update": "dynamodb:UpdateItem",
                              "Delete": "dynamodb:DeleteItem", "ConditionCheck": "dynamodb:ConditionCheckItem"}
# Calls that name the operation as their first argument.
OPERATION_BY_NAME = ("get_paginator", "generate_presigned_url")
SECRETS_READER = "SecretsProvider"  # Powertools' reader: secretsmanager:GetSecretValue


def _is_client_method(node: ast.AST) -> bool:
    """`<anything>._client.<method>`: a boto3 client method, called or passed on."""
    return isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute) and node.value.attr == "_client"


def _calls_of(path: Path) -> tuple[set[str], set[str], bool]:
    """(client methods called on `self._client`, transaction part keys, reads secrets) in one module."""
    methods: set[str] = set()
    parts: set[str] = set()
    reads_secrets = False
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and _is_client_method(node.func) \
                and isinstance(node.func, ast.Attribute) and node.func.attr in OPERATION_BY_NAME:
            first = node.args[0]
            assert isinstance(first, ast.Constant), f"{path.name}: {node.func.attr} needs a literal operation"
            methods.add(first.value)
        elif _is_client_method(node) and isinstance(node, ast.Attribute) and node.attr not in OPERATION_BY_NAME:
            # Called or only referenced (`_conditional(self._client.delete_item, ...)`): either way it is made.
            methods.add(node.attr)
        elif isinstance(node, ast.Dict):
            parts |= {k.value for k in node.keys
                      if isinstance(k, ast.Constant) and k.value in ACTION_OF_TRANSACTION_PART}
        elif isinstance(node, ast.Name | ast.ImportFrom):
            names = [node.id] if isinstance(node, ast.Name) else [a.name for a in node.names]
            reads_secrets |= SECRETS_READER in names
    return methods, parts, reads_secrets


@cache
def loaded_data_modules(code_uri: str) -> tuple[str, ...]:
    return tuple(sorted(m for m in cold_imported_modules(Path(code_uri).name) if m.startswith("retouch.data")))


def needed_actions(modules: tuple[str, ...]) -> set[str]:
    methods: set[str] = set()
    parts: set[str] = set()
    reads_secrets = False
    for module in modules:
        path = ROOT / "layers" / "common" / (module.replace(".", "/") + ".py")
        if not path.exists():
            path = path.with_suffix("") / "__init__.py"
        found = _calls_of(path)
        methods |= found[0]
        parts |= found[1]
        reads_secrets |= found[2]
    unmapped = methods - set(ACTION_OF_CALL) - {"transact_write_items"}
    assert not unmapped, f"add these boto3 calls to ACTION_OF_CALL: {sorted(unmapped)}"
    actions = {ACTION_OF_CALL[m] for m in methods if m in ACTION_OF_CALL}
    if "transact_write_items" in methods:
        actions |= {ACTION_OF_TRANSACTION_PART[p] for p in parts}
    if reads_secrets:
        actions.add("secretsmanager:GetSecretValue")
    return actions


def statements(function: dict) -> list[dict]:
    found = []
    for policy in function.get("Policies", []):
        assert set(policy) == {"Statement"}, f"a SAM policy template grants more than the code needs: {policy}"
        found += policy["Statement"]
    return found


def granted_actions(function: dict) -> set[str]:
    actions: set[str] = set()
    for statement in statements(function):
        assert statement["Effect"] == "Allow"
        action = statement["Action"]
        actions |= set(action if isinstance(action, list) else [action])
    return actions


def _grants(function: dict, action: str) -> list[dict]:
    return [s for s in statements(function)
            if action in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])]


def _resources(statement: dict) -> list[str]:
    resource = statement["Resource"]
    return [json.dumps(r) for r in (resource if isinstance(resource, list) else [resource])]


@pytest.mark.parametrize("function_id", sorted(FUNCTIONS))
def test_a_function_is_granted_only_actions_its_data_modules_make(function_id):
    function = FUNCTIONS[function_id]
    needed = needed_actions(loaded_data_modules(function["CodeUri"].rstrip("/")))
    granted = granted_actions(function)
    assert granted, function_id
    assert granted <= needed, f"{function_id} is granted {sorted(granted - needed)} that its code never calls"


def test_the_scan_maps_calls_and_transactions_to_actions():
    # Given the ledger module (transactions of Put and Update) and the objects module (presigning)
    ledger = needed_actions(("retouch.data.ledger",))
    objects = needed_actions(("retouch.data.objects",))
    # Then transaction parts and presigned operations count as the actions they need
    assert {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"} <= ledger
    assert "dynamodb:ConditionCheckItem" not in ledger
    assert {"s3:PutObject", "s3:GetObject", "s3:DeleteObject", "s3:ListBucket"} == objects
    assert needed_actions(("retouch.data.secrets",)) == {"secretsmanager:GetSecretValue"}


def test_no_function_may_scan_or_batch_write_the_table():
    for function_id, function in FUNCTIONS.items():
        assert not granted_actions(function) & {"dynamodb:Scan", "dynamodb:BatchWriteItem"}, function_id


def test_the_authorizer_only_reads_keys_accounts_and_device_tokens():
    [statement] = statements(FUNCTIONS["AuthorizerFunction"])
    assert statement["Action"] == "dynamodb:GetItem"
    assert statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"] == ["KEY#*", "ACCOUNT#*",
                                                                                          "CLIENT_TOKEN#*"]


def test_the_status_function_reads_outputs_and_account_keyed_items_and_writes_only_read_counts_and_stream_slots():
    status = FUNCTIONS["StatusFunction"]
    assert granted_actions(status) == {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:UpdateItem", "s3:GetObject"}
    [count] = _grants(status, "dynamodb:UpdateItem")
    assert count["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"] == ["ACCOUNT#*/READS",
                                                                                     "ACCOUNT#*/SLOTS"]
    [s3_read] = _grants(status, "s3:GetObject")
    assert _resources(s3_read) == [json.dumps({"Fn::Sub": "${Bucket.Arn}/outputs/*"})]
    for statement in _grants(status, "dynamodb:Query"):
        assert statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]


def test_the_webhook_function_updates_jobs_only():
    [update] = _grants(FUNCTIONS["WebhookFunction"], "dynamodb:UpdateItem")
    assert update["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"] == ["JOB#*"]


def test_bucket_access_is_per_prefix_never_the_whole_bucket():
    for function_id, function in FUNCTIONS.items():
        for statement in statements(function):
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if not any(a.startswith("s3:") for a in actions):
                continue
            if actions == ["s3:ListBucket"]:
                prefixes = statement["Condition"]["StringLike"]["s3:prefix"]
                assert all(p.endswith("/*") for p in (prefixes if isinstance(prefixes, list) else [prefixes]))
                continue
            for resource in _resources(statement):  # a top-level prefix, or a narrower folder of one
                assert any(re.search(rf"/{prefix}/([a-z0-9-]+/)*\*", resource)
                           for prefix in ("inputs", "uploads", "outputs")), function_id


# The reverse direction: what a function's data modules can do, it must be granted, except what this function never
# does with a module it loads for other methods (the scan is per module, not per call path). Each entry says why.
_ADMIN_SCAN = "dynamodb:Scan"  # account_state.account_ids: admin CLI and reconciliation only, never a function
_WORKER_ONLY_VISIBILITY = "sqs:ChangeMessageVisibility"  # queue.delay_redelivery: the worker's retry backoff
_KEY_RELEASE = "dynamodb:DeleteItem"  # idempotency.release: only the submit paths (Api, Sync) release a key
NOT_NEEDED: dict[str, dict[str, str]] = {
    "ApiFunction": {_ADMIN_SCAN: "admin only", _WORKER_ONLY_VISIBILITY: "worker only"},
    "ConsoleFunction": {_ADMIN_SCAN: "admin only", _WORKER_ONLY_VISIBILITY: "worker only"},
    "PaymentsFunction": {
        _ADMIN_SCAN: "admin only", _WORKER_ONLY_VISIBILITY: "worker only",
        "dynamodb:DeleteItem": "ledger/accounts modules are loaded for credits and reads; it deletes nothing",
    },
    "RechargeFunction": {
        _ADMIN_SCAN: "admin only", _WORKER_ONLY_VISIBILITY: "worker only",
        "dynamodb:DeleteItem": "webhooks module is loaded to read the account's webhook URL; it deletes nothing",
        "dynamodb:PutItem": "as DeleteItem: it only updates the claim and reads settings",
        "dynamodb:Query": "reads the account and its settings by key; lists nothing",
    },
    "AuthorizerFunction": {
        "dynamodb:PutItem": "accounts: key and account writes are the admin CLI's; it only reads them",
        "dynamodb:UpdateItem": "accounts: as PutItem",
        "dynamodb:Query": "accounts: key listings are the admin CLI's",
    },
    "McpFunction": {  # issue 22: it resolves keys as the authorizer does; everything else goes through the API
        "dynamodb:PutItem": "accounts: key and account writes are the admin CLI's; it only reads them",
        "dynamodb:Query": "accounts: key listings are the admin CLI's",
    },
    "DeadLetterFunction": {
        _KEY_RELEASE: "submit paths only",
        _ADMIN_SCAN: "admin only", _WORKER_ONLY_VISIBILITY: "worker only",
        "dynamodb:Query": "ends one job by id (with its hold's ledger entry); lists nothing",
    },
    "StatusFunction": {
        _KEY_RELEASE: "submit paths only",
        _ADMIN_SCAN: "admin only",
        "dynamodb:PutItem": "read-only: jobs/ledger/idempotency modules are loaded for their reads",
        "s3:PutObject": "presigns GETs of outputs only", "s3:DeleteObject": "as s3:PutObject",
        "s3:ListBucket": "as s3:PutObject",
    },
    "SweeperFunction": {
        _ADMIN_SCAN: "admin only", _WORKER_ONLY_VISIBILITY: "worker only",
        "s3:GetObject": "only deletes the outputs of the jobs it ends", "s3:PutObject": "as s3:GetObject",
    },
    "SyncFunction": {
        _ADMIN_SCAN: "admin only", _WORKER_ONLY_VISIBILITY: "worker only",
        "s3:ListBucket": "never deletes a prefix (job deletion is the ApiFunction's)",
    },
    "WebhookFunction": {
        _KEY_RELEASE: "submit paths only",
        "dynamodb:PutItem": "updates the job's delivery log only",
        "dynamodb:Query": "reads one job by id",
        "s3:PutObject": "presigns GETs of outputs only", "s3:DeleteObject": "as s3:PutObject",
        "s3:ListBucket": "as s3:PutObject",
    },
    "EraserFunction": {
        _ADMIN_SCAN: "admin only", _WORKER_ONLY_VISIBILITY: "worker only",
        "s3:GetObject": "only deletes the end user's objects", "s3:PutObject": "as s3:GetObject",
    },
    "WorkerFunction": {
        _KEY_RELEASE: "submit paths only",
        _ADMIN_SCAN: "admin only",
        "dynamodb:Query": "reads jobs, accounts and breakers by key; lists nothing",
    },
}


@pytest.mark.parametrize("function_id", sorted(FUNCTIONS))
def test_a_function_is_granted_every_action_its_data_modules_make_unless_listed_as_not_needed(function_id):
    function = FUNCTIONS[function_id]
    needed = needed_actions(loaded_data_modules(function["CodeUri"].rstrip("/")))
    not_needed = NOT_NEEDED.get(function_id, {})
    missing = needed - granted_actions(function) - set(not_needed)
    assert not missing, f"{function_id} calls {sorted(missing)} without the grant (AccessDenied in AWS)"
    # And the list stays honest: nothing on it is granted anyway, or no longer made by the modules
    stale = set(not_needed) - (needed - granted_actions(function))
    assert not stale, f"{function_id}: drop {sorted(stale)} from NOT_NEEDED"


def test_the_scan_counts_a_client_method_passed_by_reference():
    # Given idempotency.py, which deletes a key with `_conditional(self._client.delete_item, ...)` (never a direct call)
    assert "dynamodb:DeleteItem" in needed_actions(("retouch.data.idempotency",))


def _object_grants(function: dict, action: str) -> list[re.Pattern[str]]:
    """The object keys `action` is granted on, as patterns (an IAM `*` matches across slashes)."""
    patterns = []
    for statement in _grants(function, action):
        for resource in statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]:
            arn = resource["Fn::Sub"] if isinstance(resource, dict) else resource
            if arn.startswith("${Bucket.Arn}/"):
                key = arn.removeprefix("${Bucket.Arn}/")
                patterns.append(re.compile(".*".join(re.escape(part) for part in key.split("*")) + r"\Z"))
    return patterns


def _presigned_gets() -> dict[str, list[str]]:
    """Keys each function hands out presigned GET URLs for (a URL signed without s3:GetObject is refused by S3)."""
    from retouch.jobs.retention import upstream_inputs_prefix

    outputs = ["outputs/job_x/0123abcd-0.png"]  # jobs/view.py: a job's output URLs
    return {
        # Upstreams that take URLs are sent the job's inputs, uploaded files, and copies of anything else
        # (wiring/upstreams.py input_presigner, under jobs/retention.py upstream_inputs_prefix).
        "WorkerFunction": ["inputs/acct_x/job_x/image_0.png", "uploads/acct_x/file_x",
                           upstream_inputs_prefix("job_x") + "0123abcd"],
        "StatusFunction": outputs,
        "ApiFunction": outputs,  # Prefer: wait answers with the finished job's URLs
        # The mounted job routes (issue 21), and a job's inputs (GET /console/api/jobs/{id}/images).
        "ConsoleFunction": [*outputs, "inputs/acct_x/job_x/image_0.png"],
        "SyncFunction": outputs,
    }


@pytest.mark.parametrize("function_id", sorted(_presigned_gets()))
def test_a_function_may_read_every_key_it_presigns_a_get_for(function_id):
    readable = _object_grants(FUNCTIONS[function_id], "s3:GetObject")
    for key in _presigned_gets()[function_id]:
        assert any(pattern.match(key) for pattern in readable), f"{function_id} presigns {key} without s3:GetObject"


@pytest.mark.parametrize(("function_id", "prefixes"), [
    ("ApiFunction", {"IDEMPOTENCY#*", "JOB#*", "FILE#*"}),
    ("SyncFunction", {"IDEMPOTENCY#*", "JOB#*"}),
])
def test_the_submit_functions_delete_only_keys_jobs_and_files_they_own(function_id, prefixes):
    # Given the items these functions legitimately delete: a released Idempotency-Key, a job discarded before its
    # hold (data/jobs.discard_unheld), and (api) a deleted upload's record
    # Then every DeleteItem grant is limited to those key prefixes: never an account, a ledger entry or an API key
    deletes = _grants(FUNCTIONS[function_id], "dynamodb:DeleteItem")
    assert deletes, function_id
    for statement in deletes:
        assert set(statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]) == prefixes


def test_the_mcp_function_only_reads_keys_device_tokens_and_accounts_and_counts_reads():
    # issue 22: it resolves the caller's key or device token and calls the HTTP API with it; no job, object or queue
    # is its own. Its one write is the count of the account's reads this minute (every MCP request is one).
    reads, count = statements(FUNCTIONS["McpFunction"])
    assert reads["Action"] == "dynamodb:GetItem"
    assert reads["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"] == [
        "KEY#*", "ACCOUNT#*", "CLIENT_TOKEN#*"]
    assert count["Action"] == "dynamodb:UpdateItem"
    assert count["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"] == ["ACCOUNT#*/READS"]
