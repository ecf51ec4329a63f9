"""`python -m local.stand_ins`: the OpenAI images stand-in on its own, until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from local.stand_ins.openai_images import OpenAIImagesFake


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Fake OpenAI images API on loopback.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--delay", type=float, default=1.0, help="seconds to wait before answering")
    parser.add_argument("--hang-seconds", type=float, default=30.0, help="how long a timeout fault hangs")
    args = parser.parse_args(argv)
    fake = OpenAIImagesFake(args.host, args.port, delay=args.delay, hang_seconds=args.hang_seconds, quiet=False)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stopped.set())
    fake.start()
    print(f"fake images provider listening: base_url={fake.base_url}", file=sys.stderr, flush=True)
    try:
        stopped.wait()
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
