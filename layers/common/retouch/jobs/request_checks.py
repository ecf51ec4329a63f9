"""What a submit checks of a parsed request before it holds any credit, in its order (retouch/validation.py steps 6-8):
the model's routed upstreams can serve it, each input image is usable, the webhook is. A quote
(POST /v1/images/quote) runs the same checks on the same body without submitting it, so it answers the same 400s;
only its images may also be declared by size alone, and those are checked for what a size can tell.

Nothing is written here: the inputs read whole (an upload, a data: URL) are handed back for the submit to store.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from retouch.catalog import ModelLimits, known_model
from retouch.files.edit_inputs import FileInput, file_input
from retouch.images.input_checks import (
    CheckedImage,
    Dimensions,
    check_image,
    check_mask,
    declared_image_rules,
    declared_mask_rules,
    image_url_input,
)
from retouch.models.quotes import DeclaredImage, QuotedImage, QuoteRequest
from retouch.models.requests import EditImage, EditRequest, FileRef, GenerationRequest, ImageOptions, UploadedImage
from retouch.models.webhooks import JobWebhook
from retouch.ports import FileRepository, ObjectStore

if TYPE_CHECKING:
    from retouch.routing.support import UpstreamSupport

CheckedRequestBody = GenerationRequest | EditRequest | QuoteRequest


class CheckingDeps(Protocol):
    """What the checks read: SubmitDeps and QuoteDeps both have it."""

    @property
    def files(self) -> FileRepository: ...  # uploaded files named by `file_id`
    @property
    def store(self) -> ObjectStore: ...  # their objects, read as the file's status requires (files/check.py)
    @property
    def webhook_for(self) -> Callable[[str, ImageOptions], JobWebhook | None]: ...
    @property
    def upstream_support(self) -> UpstreamSupport: ...


@dataclass(frozen=True)
class CheckedInput:
    """One input image, or the mask, as checked: exactly one of its fields is set."""

    url: str | None = None  # an http(s) URL: its form only; the worker fetches it and checks what it gets
    image: CheckedImage | None = None  # bytes (a multipart file, a data: URL), read whole
    file: FileInput | None = None  # an uploaded file, as read
    declared: DeclaredImage | None = None  # a quote's `{width, height}`

    @property
    def dimensions(self) -> Dimensions | None:
        """Its size, as read or declared; None for a URL (known to the worker only)."""
        if self.image is not None:
            return self.image.info
        if self.file is not None:
            return self.file.info
        return self.declared


@dataclass(frozen=True)
class CheckedRequest:
    images: list[CheckedInput]
    mask: CheckedInput | None
    webhook: JobWebhook | None  # the job's, if it gets events


def check_request(account_id: str, request: CheckedRequestBody, deps: CheckingDeps, *,
                  owner: str | None = None) -> CheckedRequest:
    """Every check of `request` after parsing and before the credit, in the submit's order; the first refusal is
    raised (a RetouchError naming its param). `owner`: the only end user whose uploads may be named (a device
    token's)."""
    images: list[EditImage] | list[QuotedImage] = [] if isinstance(request, GenerationRequest) else request.images
    mask = None if isinstance(request, GenerationRequest) else request.mask
    deps.upstream_support.check(request.model, operation="edit" if images else "generation",
                                image_count=len(images), has_mask=mask is not None,
                                options=request.provider_options())
    limits = known_model(request.model).limits
    if not images and mask is None:
        return CheckedRequest(images=[], mask=None, webhook=deps.webhook_for(account_id, request))
    # The webhook's read (and its URL's DNS) runs beside the image checks (CPU work, or reads of uploaded files); its
    # refusal is still raised after theirs, as the order above says. Leaving the `with` waits for it, whatever was
    # raised, so no thread outlives the request.
    with ThreadPoolExecutor(1, thread_name_prefix="check-webhook") as pool:
        webhook = pool.submit(deps.webhook_for, account_id, request)
        checked = [_checked(account_id, image, f"image[{index}]", f"images[{index}].file_id", limits, deps, owner)
                   for index, image in enumerate(images)]
        checked_mask = None
        if mask is not None:
            first = checked[0].dimensions if checked else None
            checked_mask = _checked(account_id, mask, "mask", "mask.file_id", limits, deps, owner, mask_for=first,
                                    is_mask=True)
        return CheckedRequest(images=checked, mask=checked_mask, webhook=webhook.result())


def _checked(account_id: str, source: EditImage | QuotedImage, param: str, file_param: str, limits: ModelLimits,
             deps: CheckingDeps, owner: str | None, *, mask_for: Dimensions | None = None,
             is_mask: bool = False) -> CheckedInput:
    """One input by its kind, named `param` (`file_param` for an uploaded file's id, as the edit names them); a mask
    is checked against the first image's size when that is known (`mask_for`)."""
    if isinstance(source, FileRef):  # the job reads the upload itself
        return CheckedInput(file=file_input(account_id, source.file_id, file_param, limits, deps.files, deps.store,
                                            mask_for=mask_for, is_mask=is_mask, end_user=owner))
    if isinstance(source, DeclaredImage):
        if is_mask:
            declared_mask_rules(source, mask_for, limits, param)
        else:
            declared_image_rules(source, limits, param)
        return CheckedInput(declared=source)
    data = source.data if isinstance(source, UploadedImage) else image_url_input(source.image_url, param)
    if isinstance(data, str):
        return CheckedInput(url=data)
    return CheckedInput(image=check_mask(data, mask_for, limits, param) if is_mask
                        else check_image(data, limits, param))
