"""A request none of a model's routed upstreams can serve is refused at submit: a 400 naming the parameter, with
every upstream's reason, before anything is stored, held or queued. One upstream that can serve it is enough."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from retouch.errors import InvalidRequest
from retouch.routing.document import RoutingDocument, load_routing
from retouch.routing.support import UpstreamSupport
from tests.builders import (
    file_part,
    mask_png,
    multipart_event,
    new_account_id,
    png,
)
from tests.fakes import FakeJobQueue, FakeJobRepository, FakeObjectStore
from tests.unit.jobs.submitting import assert_nothing_left, refused, submit

RESELLERS = str(Path(__file__).resolve().parents[2] / "fixtures" / "routing" / "resellers.json")  # modelslab, runflow
OTHERS = {"gpt-image-1.5": [{"name": "openai", "kind": "openai"}],
          "gpt-image-1-mini": [{"name": "openai", "kind": "openai"}]}


def support(*gpt_image_2: dict[str, str]) -> UpstreamSupport:
    return UpstreamSupport(RoutingDocument.model_validate({"models": {"gpt-image-2": list(gpt_image_2), **OTHERS}}))


def check(upstreams: UpstreamSupport, *, operation: str = "edit", image_count: int = 1, has_mask: bool = False,
          **options: object) -> None:
    upstreams.check("gpt-image-2", operation=operation, image_count=image_count, has_mask=has_mask, options=options)


def test_n_above_every_upstreams_maximum_is_refused_naming_n() -> None:
    upstreams = UpstreamSupport(load_routing(RESELLERS))
    check(upstreams, n=4)  # runflow makes up to 4: served
    with pytest.raises(InvalidRequest) as caught:
        check(upstreams, n=5)
    error = caught.value
    assert (error.status_code, error.code, error.param) == (400, "unsupported_by_upstream", "n")
    assert "modelslab makes at most 1" in error.message and "runflow makes at most 4" in error.message


def test_a_mask_no_upstream_takes_is_refused_naming_mask() -> None:
    modelslab = {"name": "modelslab", "kind": "modelslab"}
    with pytest.raises(InvalidRequest) as caught:
        check(support(modelslab), has_mask=True)
    assert (caught.value.code, caught.value.param) == ("unsupported_by_upstream", "mask")
    # One upstream that takes masks (Oxen, converted to white = edit) is enough
    check(support(modelslab, {"name": "oxen", "kind": "oxen"}), has_mask=True)


@pytest.mark.parametrize(("options", "param"), [
    pytest.param({"size": "1280x720"}, "size", id="size"),  # not one of its presets
    pytest.param({"quality": "low"}, "quality", id="quality"),  # modelslab: auto only
    pytest.param({"output_format": "webp"}, "output_format", id="output-format"),
])
def test_the_first_upstreams_parameter_is_named_when_none_can_serve(options: dict[str, str], param: str) -> None:
    upstreams = support({"name": "modelslab", "kind": "modelslab"})
    with pytest.raises(InvalidRequest) as caught:
        check(upstreams, **options)
    assert caught.value.param == param


def test_a_generation_routed_only_to_edit_only_upstreams_is_refused_naming_model() -> None:
    with pytest.raises(InvalidRequest) as caught:
        check(UpstreamSupport(load_routing(RESELLERS)), operation="generation", image_count=0)
    assert (caught.value.code, caught.value.param) == ("unsupported_by_upstream", "model")


def test_the_default_routing_serves_everything_the_catalog_accepts() -> None:
    upstreams = UpstreamSupport(load_routing("default.json"))
    check(upstreams, image_count=16, has_mask=True, n=10, size="3840x2160", quality="high", output_format="webp")
    check(upstreams, operation="generation", image_count=0, n=10)


def test_a_refused_submission_leaves_nothing_behind(submit_deps, jobs: FakeJobRepository, store: FakeObjectStore,
                                                    queue: FakeJobQueue) -> None:
    # Given the api's submit over a routing whose upstreams make at most 4 images, and one accepted edit
    deps = dataclasses.replace(submit_deps, upstream_support=UpstreamSupport(load_routing(RESELLERS)))
    account_id = new_account_id()
    accepted = submit(multipart_event([("prompt", "p"), ("n", "4"), file_part("image", png())],
                                      account_id=account_id), deps, account_id)
    assert accepted.status == "queued"
    jobs.items.clear()
    store.objects.clear()
    queue.sent.clear()
    # When an edit asks for 5 images, Then it is the 400 naming `n`, and no job, input or message exists
    error = refused(multipart_event([("prompt", "p"), ("n", "5"), file_part("image", png())],
                                    account_id=account_id), deps, account_id)
    assert (error.status_code, error.code, error.param) == (400, "unsupported_by_upstream", "n")
    assert_nothing_left(jobs, store, queue)
    # And a mask goes through when one upstream (runflow) takes it
    masked = submit(multipart_event([("prompt", "p"), file_part("image", png(96, 64)),
                                     file_part("mask", mask_png(96, 64))], account_id=account_id), deps, account_id)
    assert masked.mask is not None
