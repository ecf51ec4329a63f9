"""What the JSON-bodied stand-ins share (ModelsLab, Oxen, Runflow, fal): errors already in the provider's shape,
JSON bodies, the submit-time faults, and drawing the outputs of an edit."""

from __future__ import annotations

import json
from typing import Any

from PIL import Image
from werkzeug.wrappers import Request, Response

from local.stand_ins.drawing import Canvas, draw_outputs
from local.stand_ins.stand_in import ReceivedCall, StandIn


class WireError(Exception):
    """An error response, its body already in the provider's own shape."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.body = body
        self.headers = headers or {}


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, headers=headers, mimetype="application/json")


def json_object(request: Request) -> dict[str, Any] | None:
    """The request's JSON object body; None when it is not one."""
    try:
        body = json.loads(request.get_data() or b"")
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def draw_edits(prompt: str, images: list[Image.Image], alpha_mask: Image.Image | None, size: tuple[int, int],
               output_format: str, count: int) -> list[bytes]:
    canvas = Canvas(size=size, transparent=False, output_format=output_format, compression=None)
    return draw_outputs(prompt, images, alpha_mask, canvas, count)


class JsonStandIn(StandIn):
    """A stand-in whose `route(request)` answers or raises WireError."""

    #: Transport-level fault kinds every JSON stand-in renders at the HTTP layer.
    http_faults = ("500", "503", "429")
    #: An asynchronous API answers its submit at once; its job takes the delay (local.stand_ins.queue).
    answers_at_once = False

    def respond(self, request: Request) -> Response:
        try:
            return self.route(request)
        except WireError as exc:
            return json_response(exc.status, exc.body, exc.headers)

    def route(self, request: Request) -> Response:
        raise NotImplementedError

    def record_json(self, endpoint: str, prompt: Any, body: dict[str, Any], *, image_count: int, size: Any = None,
                    n: int | None = None, has_mask: bool = False) -> None:
        """Record a call; a key sent in the body is left out of `fields`."""
        self.record(ReceivedCall(
            endpoint=endpoint, prompt=prompt if isinstance(prompt, str) else "", n=n,
            size=str(size) if size is not None else None, image_count=image_count, has_mask=has_mask,
            fields={name: value for name, value in body.items() if name != "key"},
        ))

    def http_fault(self, prompt: str, render: Any) -> str | None:
        """Wait as the prompt's next fault says; raise its HTTP error (`render(status, fault)` shapes the body);
        return the fault when it is a refusal for the wire format to express."""
        fault = self.faults.next_fault(prompt)
        if self.answers_at_once:
            self.delay_for_fault(fault)
        else:
            self.delay_for(fault)
        if fault in self.http_faults:
            status = int(fault)
            headers = {"Retry-After": "1"} if status == 429 else None
            raise WireError(status, render(status, fault), headers)
        return fault
