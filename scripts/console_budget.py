"""`make console-budget` (run by `make lint`, so CI checks it): the gzip size of the console's shipped JavaScript and
CSS (console/dist, built by `make console`), printed per file with the raw size, failing when either kind passes its
budget.

The budget: the whole console (every page, Preact, the charts) in at most 40 KB of gzipped JavaScript and 8 KB of
gzipped CSS: about twice the first build's figures (19 KB and 2 KB), so the app can grow by pages but not by a UI kit
or a chart library. Gzip at level 9, as CloudFront's automatic compression roughly gives.
"""

from __future__ import annotations

import argparse
import gzip
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "console" / "dist"
KB = 1024
BUDGET_GZIP_BYTES = {".js": 40 * KB, ".css": 8 * KB}


@dataclass(frozen=True)
class ShippedFile:
    path: Path
    raw_bytes: int
    gzip_bytes: int


def shipped_files(dist: Path) -> list[ShippedFile]:
    """The JS and CSS files under `dist`, with their raw and gzipped sizes."""
    files = []
    for path in sorted(dist.rglob("*")):
        if path.suffix in BUDGET_GZIP_BYTES and path.is_file():
            data = path.read_bytes()
            files.append(ShippedFile(path, len(data), len(gzip.compress(data, compresslevel=9, mtime=0))))
    return files


def over_budget(files: list[ShippedFile], budget: dict[str, int] = BUDGET_GZIP_BYTES) -> list[str]:
    """One line per kind (.js, .css) whose gzipped total passes its budget; empty when all fit."""
    over = []
    for suffix, limit in budget.items():
        total = sum(file.gzip_bytes for file in files if file.path.suffix == suffix)
        if total > limit:
            over.append(f"{suffix}: {total / KB:.1f} KB gzipped, budget {limit / KB:.0f} KB")
    return over


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dist", type=Path, default=DIST, help="the built console (default console/dist)")
    dist = parser.parse_args().dist
    files = shipped_files(dist)
    if not any(file.path.suffix == ".js" for file in files):
        print(f"no JavaScript under {dist}: run `make console` first")
        return 1
    print(f"{'file':<40}{'raw':>10}{'gzip':>10}")
    for file in files:
        print(f"{file.path.relative_to(dist)!s:<40}{file.raw_bytes / KB:>8.1f}KB{file.gzip_bytes / KB:>8.1f}KB")
    for suffix, limit in BUDGET_GZIP_BYTES.items():
        chosen = [file for file in files if file.path.suffix == suffix]
        raw = sum(file.raw_bytes for file in chosen) / KB
        zipped = sum(file.gzip_bytes for file in chosen) / KB
        print(f"{'total ' + suffix:<40}{raw:>8.1f}KB{zipped:>8.1f}KB   budget {limit / KB:.0f} KB gzipped")
    over = over_budget(files)
    for line in over:
        print(f"over budget: {line}")
    return 1 if over else 0


if __name__ == "__main__":
    raise SystemExit(main())
