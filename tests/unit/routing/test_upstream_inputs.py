"""Inputs given to URL-taking upstreams: every input (the mask too: stored, converted by an adapter, or fetched from
a URL) reaches them as an immutable copy of the bytes the worker checked, under its job's staging prefix
(outputs/{job}/upstream-inputs/) with an opaque key (#24 finding 4). Those copies are the job's: deleting the job
deletes them, the bucket's outputs expiry covers them, a re-claim does not take them for stray outputs, and the
worker's role, which signs their URLs, may read them."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from local.cloudformation.template import load_yaml
from retouch.jobs.process import WorkerDeps, run_job
from retouch.jobs.retention import RetentionDeps, delete_job, upstream_inputs_prefix
from retouch.models.records import StoredInput
from retouch.providers.base import InputImage
from retouch.providers.oxen import OxenUpstream, white_edit_mask
from retouch.providers.upstream import Outcome
from retouch.wiring.upstreams import PRESIGNED_INPUT_SECONDS, input_presigner
from tests.builders import image_bytes, mask_png, png, queued_job
from tests.fakes import FakeJobRepository, FakeObjectStore, FakeUrls, rendered
from tests.fakes.routing import FakeClock, ScriptedUpstream
from tooling.functions import ROOT

STAGED = upstream_inputs_prefix("job_x")


def test_a_stored_input_reaches_the_upstream_as_an_immutable_copy_under_an_opaque_key():
    # Given an uploaded file, as the worker read and checked it, and the upload's own object in the bucket
    store = FakeObjectStore()
    upload = "uploads/acct_Secret0000000000000000/file_abc"
    store.put(upload, png(), "image/png")
    checked = InputImage(data=png(), content_type="image/png", storage_key=upload, staging_prefix=STAGED)

    # When it is presigned for an upstream, and the client then replaces (or deletes) its upload
    url = input_presigner(store)(checked)
    store.put(upload, b"something else", "image/png")

    # Then the URL is of a copy of the checked bytes under the job's staging prefix, naming no account
    [copy] = store.keys_under(STAGED)
    assert url == store.presign_get(copy, PRESIGNED_INPUT_SECONDS)
    assert "acct_" not in url and upload not in url
    assert store.objects[copy].data == png()


def test_a_keyless_input_is_copied_under_its_jobs_staging_prefix_and_presigned_there():
    store = FakeObjectStore()
    presign = input_presigner(store)
    first = presign(InputImage(data=b"converted", content_type="image/png", staging_prefix=STAGED))
    second = presign(InputImage(data=b"fetched", content_type="image/jpeg", staging_prefix=STAGED))
    assert STAGED == "outputs/job_x/upstream-inputs/"
    [key_1, key_2] = sorted(store.keys_under(STAGED), key=lambda k: store.objects[k].data)
    assert (store.objects[key_1].data, store.objects[key_1].content_type) == (b"converted", "image/png")
    assert (store.objects[key_2].data, store.objects[key_2].content_type) == (b"fetched", "image/jpeg")
    assert {first, second} == {store.presign_get(key, PRESIGNED_INPUT_SECONDS) for key in (key_1, key_2)}


def test_a_keyless_input_without_a_staging_prefix_is_a_bug_not_an_orphan_object():
    store = FakeObjectStore()
    with pytest.raises(ValueError, match="staging prefix"):
        input_presigner(store)(InputImage(data=b"fetched", content_type="image/png"))
    assert store.objects == {}


def test_oxens_converted_mask_reaches_it_as_a_presigned_copy_under_the_job():
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
    adapter.submit(images=[InputImage(data=png(96, 64), content_type="image/png", storage_key="inputs/a/j/0.png",
                                      staging_prefix=STAGED)],
                   mask=InputImage(data=alpha_mask, content_type="image/png", storage_key="inputs/a/j/mask.png",
                                   staging_prefix=STAGED),
                   options={"prompt": "p"})
    # Then the white-means-edit mask (and the image) were copied under the job's staging prefix, and Oxen got their
    # presigned URLs
    staged = {store.objects[key].data: key for key in store.keys_under(STAGED)}
    assert set(staged) == {white_edit_mask(alpha_mask), png(96, 64)}
    assert sent[0]["mask_url"] == store.presign_get(staged[white_edit_mask(alpha_mask)], PRESIGNED_INPUT_SECONDS)
    assert sent[0]["input_image"] == [store.presign_get(staged[png(96, 64)], PRESIGNED_INPUT_SECONDS)]


class RecordingUpstream(ScriptedUpstream):
    """A URL-taking upstream: presigns what it is given through the worker's presigner, as fal and Runflow do."""

    def __init__(self, store: FakeObjectStore, clock: FakeClock) -> None:
        super().__init__("urls", [rendered()], clock=clock)
        self.presign = input_presigner(store)
        self.urls: list[str] = []

    def submit(self, *, images: list[InputImage], mask: InputImage | None, options: dict[str, Any]) -> Outcome:
        self.urls = [self.presign(image) for image in [*images, *([mask] if mask else [])]]
        return super().submit(images=images, mask=mask, options=options)


def test_a_job_stages_every_input_under_itself_as_checked(
        jobs: FakeJobRepository, store: FakeObjectStore, urls: FakeUrls, worker: Callable[..., WorkerDeps],
        clock: FakeClock) -> None:
    # Given an edit with a stored image, an image by URL and a stored mask, routed to a URL-taking upstream
    account = "acct_staging"
    store.put(f"inputs/{account}/x/image_0.png", png(96, 64), "image/png")
    store.put(f"inputs/{account}/x/mask.png", mask_png(96, 64), "image/png")
    urls.pages["https://images.example/b.png"] = image_bytes("png", 96, 64)
    job = queued_job(jobs, kind="edit", account_id=account, inputs=[
        StoredInput(key=f"inputs/{account}/x/image_0.png"), StoredInput(url="https://images.example/b.png")],
        mask=StoredInput(key=f"inputs/{account}/x/mask.png"))
    upstream = RecordingUpstream(store, clock)
    # When the worker runs it
    assert run_job(job.job_id, worker(upstream)) == "succeeded"
    # Then each input went as a copy under the job's own prefix (the stored image, the fetched one and the mask), its
    # URL naming neither the account nor the input's own key
    copies = store.keys_under(upstream_inputs_prefix(job.job_id))
    assert len(copies) == 3
    assert sorted(upstream.urls) == sorted(store.presign_get(key, PRESIGNED_INPUT_SECONDS) for key in copies)
    assert not any(account in url for url in upstream.urls)
    staged = copies[0]
    # And a re-claim does not take the copy for an output a dead worker left behind
    jobs.set(job.job_id, status="queued", attempts=1)
    for name in ("claim_token", "lease_until", "produced"):
        jobs.items[job.job_id].pop(name, None)
    upstream.steps.append(rendered())
    assert run_job(job.job_id, worker(upstream)) == "succeeded"
    assert staged in store.objects
    # And deleting the job deletes the copies with it
    delete_job(account, job.job_id, RetentionDeps(jobs=jobs, store=store), now=0)
    assert store.keys_under(upstream_inputs_prefix(job.job_id)) == []


def test_the_outputs_expiry_covers_the_copies_and_the_worker_may_read_what_it_signs():
    template = load_yaml((ROOT / "template.yaml").read_text())
    rules = template["Resources"]["Bucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    covering = [rule for rule in rules if STAGED.startswith(rule.get("Prefix", "\0")) and rule["Status"] == "Enabled"]
    assert [rule["Id"] for rule in covering] == ["expire-outputs"]
    worker = template["Resources"]["WorkerFunction"]["Properties"]
    readable = [json.dumps(resource) for policy in worker["Policies"] for statement in policy.get("Statement", [])
                if statement["Action"] == "s3:GetObject" for resource in statement["Resource"]]
    assert json.dumps({"Fn::Sub": "${Bucket.Arn}/outputs/*/upstream-inputs/*"}) in readable
