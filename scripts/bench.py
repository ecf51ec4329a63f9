"""Figures, not tests: one edit's wall time through the local stack, and each function's cold import time.

Run: make bench
"""

from __future__ import annotations

import io
import statistics
import subprocess
import sys
import time
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(_ROOT), str(_ROOT / "layers" / "common")]

import httpx  # noqa: E402
from PIL import Image  # noqa: E402

from local.stack import LoopbackStack  # noqa: E402
from scripts.function_env import ROOT, existing_functions, function_env  # noqa: E402

PROVIDER_DELAY = 2.0
RUNS = 5


def png(size: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (120, 80, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


def edit_wall_times() -> list[float]:
    """Submit with Prefer: wait and measure until the 200 arrives (minus the provider's own latency)."""
    overheads = []
    with LoopbackStack(port=0, provider_delay=PROVIDER_DELAY, quiet=True) as stack:
        headers = {"Authorization": f"Bearer {stack.api_key}", "Prefer": "wait=60"}
        files = [("image[]", ("photo.png", png((1024, 1024)), "image/png")),
                 ("image[]", ("hat.png", png((256, 256)), "image/png"))]
        with httpx.Client(base_url=stack.base_url, headers=headers, timeout=120) as client:
            for index in range(RUNS + 1):
                started = time.perf_counter()
                response = client.post("/v1/images/edits", files=files,
                                       data={"prompt": f"bench {index}", "size": "1024x1536"})
                elapsed = time.perf_counter() - started
                assert response.status_code == 200 and response.json()["status"] == "succeeded", response.text
                if index:  # the first run warms every function (cold starts)
                    overheads.append(elapsed - PROVIDER_DELAY)
    return overheads


def import_seconds(code: str, env: dict[str, str], cwd: Path) -> float:
    """Median import time in fresh interpreters, bytecode cached (as boto3's is in the Lambda runtime)."""
    env = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(ROOT / ".venv" / "bench-pycache")
    probe = f"import time; t = time.perf_counter(); {code}; print(time.perf_counter() - t)"

    def run() -> float:
        return float(subprocess.run([sys.executable, "-c", probe], env=env, cwd=cwd, capture_output=True,
                                    text=True, check=True).stdout)

    run()  # fills the bytecode cache
    return statistics.median(run() for _ in range(RUNS))


def main() -> None:
    print(f"cold import, median of {RUNS} fresh interpreters:")
    rows = [("import boto3", "import boto3", "api", ROOT)]
    rows += [(f"{name} function", "import app", name, ROOT / "functions" / name) for name in existing_functions()]
    for label, code, env_of, cwd in rows:
        print(f"  {label:<22} {import_seconds(code, function_env(env_of), cwd) * 1000:7.1f} ms")
    overheads = edit_wall_times()
    print(f"edit through the local stack, provider delay {PROVIDER_DELAY:.0f} s subtracted, {RUNS} warm runs:")
    print(f"  median {statistics.median(overheads) * 1000:.0f} ms, min {min(overheads) * 1000:.0f} ms, "
          f"max {max(overheads) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
