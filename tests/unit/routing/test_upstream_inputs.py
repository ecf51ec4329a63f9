"""Inputs given to URL-taking upstreams: a stored input is presigned where it is; one with no key (a mask an adapter
converted, an image fetched from a URL) is stored under UPSTREAM_INPUTS_PREFIX first. Those objects are temporary:
the bucket expires them after a day, and the worker's role, which signs their URLs, may read them."""

from __future__ import annotations

import json

import httpx
from retouch.providers.base import InputImage
from retouch.providers.oxen import OxenUpstream, white_edit_mask
from retouch.wiring.upstreams import PRESIGNED_INPUT_SECONDS, UPSTREAM_INPUTS_PREFIX, input_presigner

from local.template import load_yaml
from scripts.function_env import ROOT
from tests.fakes import FakeObjectStore
from tests.unit.core.builders import mask_png, png


def test_a_stored_input_is_presigned_where_it_is_and_nothing_is_copied():
    store = FakeObjectStore()
    url = input_presigner(store)(InputImage(data=png(), content_type="image/png", storage_key="inputs/a/job/0.png"))
    assert url == store.presign_get("inputs/a/job/0.png", PRESIGNED_INPUT_SECONDS)
    assert store.objects == {}


def test_a_keyless_input_is_stored_under_the_upstream_inputs_prefix_and_presigned_there():
    store = FakeObjectStore()
    presign = input_presigner(store)
    first = presign(InputImage(data=b"converted", content_type="image/png"))
    second = presign(InputImage(data=b"fetched", content_type="image/jpeg"))
    [key_1, key_2] = sorted(store.keys_under(UPSTREAM_INPUTS_PREFIX), key=lambda k: store.objects[k].data)
    assert (store.objects[key_1].data, store.objects[key_1].content_type) == (b"converted", "image/png")
    assert (store.objects[key_2].data, store.objects[key_2].content_type) == (b"fetched", "image/jpeg")
    assert {first, second} == {store.presign_get(key, PRESIGNED_INPUT_SECONDS) for key in (key_1, key_2)}


def test_oxens_converted_mask_reaches_it_as_a_presigned_temporary_object():
    # Given the Oxen adapter with the worker's presigner over a store, and an OpenAI-style (alpha) mask
    store = FakeObjectStore()
    sent: list[dict[str, object]] = []

    def oxen(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.read()))
        return httpx.Response(200, json={"generations": [{"generation_id": "gen_1"}]})

    adapter = OxenUpstream(api_key="k", presign=input_presigner(store), timeout_seconds=5,
                           client=httpx.Client(transport=httpx.MockTransport(oxen)))
    alpha_mask = mask_png(96, 64)
    # When an edit is submitted
    adapter.submit(images=[InputImage(data=png(96, 64), content_type="image/png", storage_key="inputs/a/j/0.png")],
                   mask=InputImage(data=alpha_mask, content_type="image/png", storage_key="inputs/a/j/mask.png"),
                   options={"prompt": "p"})
    # Then the white-means-edit mask was stored as a temporary object, and Oxen got its presigned URL
    [staged] = store.keys_under(UPSTREAM_INPUTS_PREFIX)
    assert store.objects[staged].data == white_edit_mask(alpha_mask)
    assert sent[0]["mask_url"] == store.presign_get(staged, PRESIGNED_INPUT_SECONDS)
    assert sent[0]["input_image"] == [store.presign_get("inputs/a/j/0.png", PRESIGNED_INPUT_SECONDS)]


def test_the_bucket_expires_them_after_a_day_and_the_worker_may_read_what_it_signs():
    template = load_yaml((ROOT / "template.yaml").read_text())
    rules = template["Resources"]["Bucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    [rule] = [rule for rule in rules if rule.get("Prefix") == UPSTREAM_INPUTS_PREFIX]
    assert (rule["Status"], rule["ExpirationInDays"]) == ("Enabled", 1)
    worker = template["Resources"]["WorkerFunction"]["Properties"]
    readable = [json.dumps(resource) for policy in worker["Policies"] for statement in policy.get("Statement", [])
                if statement["Action"] == "s3:GetObject" for resource in statement["Resource"]]
    assert json.dumps({"Fn::Sub": f"${{Bucket.Arn}}/{UPSTREAM_INPUTS_PREFIX}*"}) in readable
