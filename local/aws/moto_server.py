"""The AWS emulation: moto's ThreadedMotoServer on 127.0.0.1, in a child process of its own.

Presigned URLs the functions make point here (their AWS_ENDPOINT_URL), so clients upload to it directly, and
POST uploads are checked against their signed policy as S3 checks them (see local.aws.s3_post_policy).

A child rather than a thread of the stack because moto's state is process-global: in-process, a
test's `mock_aws` would reset (or intercept) the running stack's tables and queues, and two stacks
would share one account. It also keeps moto's CPU work (100 MB uploads) off the gateway's GIL.

Child: `python -m local.aws.moto_server [--transaction-hold-seconds S]` (see local.aws.dynamodb_contention).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading

from local import REPO_ROOT
from local.aws import LOCAL_CREDENTIAL
from local.aws.dynamodb_contention import DEFAULT_HOLD_SECONDS
from local.child_process import ChildProcess, announce_ready, exit_with_parent
from local.console import Console

S3_MEMORY_BUFFER_BYTES = 64 * 1024


class MotoServer:
    """Parent side: start the child, learn its port."""

    def __init__(self, console: Console, *, transaction_hold_seconds: float = DEFAULT_HOLD_SECONDS) -> None:
        """`transaction_hold_seconds`: how long a TransactWriteItems holds its items (0: never, no conflicts)."""
        argv = [sys.executable, "-m", "local.aws.moto_server",
                "--transaction-hold-seconds", str(transaction_hold_seconds)]
        self._child = ChildProcess("moto", argv, env=_child_env(), console=console)
        self.endpoint_url = ""

    def start(self) -> None:
        self._child.start()

    def wait_ready(self, timeout: float) -> str:
        info = self._child.wait_ready(timeout)
        self.endpoint_url = f"http://127.0.0.1:{info['port']}"
        return self.endpoint_url

    def stop(self) -> None:
        self._child.stop()

    @property
    def pid(self) -> int | None:
        return self._child.pid


def _child_env() -> dict[str, str]:
    # moto needs no credentials or config of the developer's; the repo root makes `local` importable.
    keep = ("PATH", "HOME", "LANG", "TMPDIR", "SYSTEMROOT")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env["PYTHONPATH"] = str(REPO_ROOT)
    env["PYTHONUNBUFFERED"] = "1"
    # S3 objects past 64 KiB live in temporary files, not in the server's memory, so a long run stays bounded.
    env["MOTO_S3_DEFAULT_KEY_BUFFER_SIZE"] = str(S3_MEMORY_BUFFER_BYTES)
    return env


def main() -> None:
    from moto.server import ThreadedMotoServer

    from local.aws import (
        cognito_codes,
        dispatch_cache,
        dynamodb_atomicity,
        dynamodb_contention,
        email_capture,
        s3_copy_conditions,
        s3_post_policy,
        sqs_fair_queues,
        sqs_faults,
    )

    parser = argparse.ArgumentParser(prog="python -m local.aws.moto_server")
    parser.add_argument("--transaction-hold-seconds", type=float, default=DEFAULT_HOLD_SECONDS)
    args = parser.parse_args()
    dynamodb_atomicity.install()  # DynamoDB atomic per request, as in AWS (see local.aws.dynamodb_atomicity)
    # Transactions hold their items, so overlapping writes conflict as in AWS (see local.aws.dynamodb_contention).
    dynamodb_contention.install(args.transaction_hold_seconds)
    s3_post_policy.install(LOCAL_CREDENTIAL)  # presigned POST uploads checked against their policy, as S3 does
    s3_copy_conditions.install()  # a copy conditioned on its source's ETag refused when it changed, as S3 does
    sqs_faults.install()  # a queue send held on a test's request (see local.aws.sqs_faults)
    sqs_fair_queues.install()  # standard queues deliver fairly across MessageGroupIds (see local.aws.sqs_fair_queues)
    cognito_codes.install()  # sign-up codes made, e-mailed and checked, as Cognito does (see local.aws.cognito_codes)
    email_capture.install()  # the e-mails moto's SES holds, at /moto-api/retouch/emails (see local.aws.email_capture)
    dispatch_cache.install()  # each host name's service found once, not on every request (local.aws.dispatch_cache)
    # werkzeug logs every request at INFO; the functions' own logs say what matters.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    exit_with_parent()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    _, port = server.get_host_and_port()
    announce_ready({"port": port})
    threading.Event().wait()  # until the parent closes stdin (exit_with_parent)


if __name__ == "__main__":
    main()
