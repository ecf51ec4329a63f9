"""`make run`: start the local stack on 127.0.0.1:$PORT and keep it up until Ctrl-C or SIGTERM."""

from __future__ import annotations

import errno
import signal
import sys
from types import FrameType

from pydantic import ValidationError

from local.banner import banner
from local.child_process import ChildStartError
from local.cloudformation.template import TemplateError
from local.lambdas.function_pool import FunctionInitError
from local.settings import LocalSettings
from local.stack import LoopbackStack


def _interrupt(signum: int, frame: FrameType | None) -> None:
    # SIGTERM and SIGHUP unwind like Ctrl-C, so the `with` block stops every process and thread.
    raise KeyboardInterrupt


def main() -> int:
    try:
        settings = LocalSettings()
    except ValidationError as exc:
        print(f"invalid local settings:\n{exc}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGHUP, _interrupt)
    try:
        with LoopbackStack.from_settings(settings) as stack:
            print(banner(stack), flush=True)
            while True:
                signal.pause()
    except KeyboardInterrupt:
        print("\nstopped", file=sys.stderr)
        return 0
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        print(f"cannot start: port {settings.port} is in use (set PORT)", file=sys.stderr)
        return 1
    except (ChildStartError, FunctionInitError, TemplateError) as exc:
        print(f"cannot start: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
