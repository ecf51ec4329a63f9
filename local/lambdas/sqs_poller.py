"""Lambda's SQS event source mappings: long-poll, gather a batch, invoke, delete what succeeded.

A batch is gathered as Lambda's event source does: up to BatchSize messages; with a batching window
(MaximumBatchingWindowInSeconds) the poller keeps receiving, from the first message on, until the batch is full,
the window is over, or the records reach Lambda's 6 MB invocation payload; without one, it invokes with what one
receive returned (at most 10).

A message that failed is never deleted: it returns after the queue's visibility timeout (which the
function may shorten with ChangeMessageVisibility). The move to the DLQ after maxReceiveCount is
moto's: like SQS, it redrives a message on the receive after its last allowed one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from local.cloudformation.template import SqsMappingSpec
from local.lambdas.invocation import Invocation
from local.lambdas.sqs_events import build_sqs_event, messages_to_keep

# Short long-polls so a stop is noticed within about a second.
WAIT_SECONDS = 1
ERROR_BACKOFF_SECONDS = 1.0
# Lambda's synchronous invocation payload: the event source stops gathering a batch there.
MAX_BATCH_PAYLOAD_BYTES = 6 * 1024 * 1024
# Within a window's last second SQS can wait no longer (whole seconds): receive without waiting, this far apart.
SHORT_POLL_GAP_SECONDS = 0.05


class SqsPoller:
    """`concurrency` threads per mapping, so several batches (jobs) run at once, as Lambda scales out."""

    def __init__(
        self,
        mapping: SqsMappingSpec,
        *,
        queue_url: str,
        queue_arn: str,
        sqs: Any,
        invoke: Callable[[str, dict[str, Any]], Invocation],
        log: Callable[[str], None],
        concurrency: int = 4,
    ) -> None:
        self.mapping = mapping
        self._queue_url = queue_url
        self._queue_arn = queue_arn
        self._sqs = sqs
        self._invoke = invoke
        self._log = log
        self.concurrency = concurrency
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for index in range(self.concurrency):
            thread = threading.Thread(
                target=self._run, name=f"poller-{self.mapping.event_id}-{index}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def signal_stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float = 5.0) -> None:
        for thread in self._threads:
            thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception as exc:  # noqa: BLE001 - a poller must outlive one bad receive, invoke or delete
                if self._stop.is_set():
                    return
                self._log(f"{self.mapping.event_id}: {type(exc).__name__}: {exc}")
                self._stop.wait(ERROR_BACKOFF_SECONDS)

    def _receive(self, most: int, wait_seconds: int) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = self._sqs.receive_message(
            QueueUrl=self._queue_url,
            MaxNumberOfMessages=min(most, 10),
            WaitTimeSeconds=wait_seconds,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        return messages

    def gather_batch(self) -> list[dict[str, Any]]:
        """One batch as the event source builds it (see the module's docstring); empty when nothing came."""
        size, window = int(self.mapping.batch_size), int(self.mapping.batching_window_seconds)
        messages = self._receive(size, WAIT_SECONDS)
        if not messages:
            return []
        closes = time.monotonic() + window
        payload = sum(len(m["Body"].encode()) for m in messages)
        while len(messages) < size and payload < MAX_BATCH_PAYLOAD_BYTES and not self._stop.is_set():
            left = closes - time.monotonic()
            if left <= 0:
                break
            more = self._receive(size - len(messages), min(WAIT_SECONDS, int(left)))
            if not more and left < 1:
                time.sleep(min(SHORT_POLL_GAP_SECONDS, left))
            messages += more
            payload += sum(len(m["Body"].encode()) for m in more)
        return messages

    def poll_once(self) -> int:
        """Gather one batch, invoke, delete the successes; returns how many messages were received."""
        messages = self.gather_batch()
        if not messages:
            return 0
        invocation = self._invoke(self.mapping.function_id, build_sqs_event(messages, self._queue_arn))
        keep = messages_to_keep(
            invocation, [m["MessageId"] for m in messages], self.mapping.report_batch_item_failures
        )
        done = [m for m in messages if m["MessageId"] not in keep]
        for start in range(0, len(done), 10):
            chunk = done[start:start + 10]
            entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)]
            self._sqs.delete_message_batch(QueueUrl=self._queue_url, Entries=entries)
        if keep:
            self._log(f"{self.mapping.event_id}: {len(keep)} of {len(messages)} message(s) failed; left on the queue")
        return len(messages)
