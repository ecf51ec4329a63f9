"""A fault the local AWS emulation injects when a test asks: a queue send that never completes.

What it reproduces: a function that dies in the middle of `SendMessage` (a Lambda timeout, an out-of-memory kill,
a crash), after everything before the send was written. That cannot be arranged from outside the function at the
right instant, so the emulation holds the call instead, and the test kills the function while it is held.

Tag a queue `retouch-fault=hold-send` (ordinary TagQueue) and the next SendMessage to it is held: the tag then
reads `holding`, so the test knows the sender is inside the call. Setting the tag to `release` (or HOLD_SECONDS
passing) ends the hold with a 503 and no message stored, as if the request never reached SQS. Nothing else of
moto's behaviour changes, and a queue without the tag is never touched.

Written against moto 5.2.6 (local.aws.MOTO_VERSION): wraps SQSResponse.send_message and reads the queue's tags
through its sqs_backend.
"""

from __future__ import annotations

import threading
import time
from typing import Any

FAULT_TAG = "retouch-fault"
HOLD_SEND, HOLDING, RELEASE = "hold-send", "holding", "release"
HOLD_SECONDS = 120.0

_lock = threading.Lock()
_installed = False


def install() -> None:
    """Patch moto's SQS SendMessage (idempotent)."""
    global _installed
    if _installed:
        return
    _installed = True
    from moto.core.exceptions import JsonRESTError
    from moto.sqs.responses import SQSResponse

    class SendHeld(JsonRESTError):
        code = 503

        def __init__(self) -> None:
            super().__init__("ServiceUnavailable", "The send was held by a test fault and dropped.")

    original_send = SQSResponse.send_message

    def send_message(self: Any) -> Any:
        tags = self.sqs_backend.get_queue(self._get_queue_name()).tags
        with _lock:  # only one send takes the fault
            held = tags.get(FAULT_TAG) == HOLD_SEND
            if held:
                tags[FAULT_TAG] = HOLDING
        if not held:
            return original_send(self)
        deadline = time.monotonic() + HOLD_SECONDS
        while tags.get(FAULT_TAG) == HOLDING and time.monotonic() < deadline:
            time.sleep(0.05)
        tags.pop(FAULT_TAG, None)
        raise SendHeld()

    SQSResponse.send_message = send_message
