"""`make package`: build what Lambda runs (python3.13, arm64) without a python3.13 here, print each artifact's size,
and fail when one outgrows its budget.

Layers: each LayerVersion's requirements.txt installed with pip for manylinux2014_aarch64 / CPython 3.13, binary
wheels only (what `sam build` would put in the layer), plus its own packages (the common layer's `retouch`, without
the operator CLI `retouch.admin`, which runs on the operator's machine). boto3 is left out: the runtime ships it.
A layer attached beside the common layer (every function has it: Globals) is resolved against the common layer's
versions and leaves out what the common layer already ships, so two copies of one package (pydantic, say) never
overwrite each other in /opt/python. Functions: each CodeUri folder. Artifacts land in build/package/<name>.zip.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from local.cloudformation.template import LAYER_TYPE, Template

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "build" / "package"
MB = 1024 * 1024
# Unzipped MB per layer: the measured 14.7 (with Powertools' tracer extra), 19.0 and 15.1 MB (stripe 16 with its
# requests dependency) plus ~15 % headroom
# (docs/operations.md has the figures). Lambda's own limit is 250 MB unzipped for a function and all its layers.
LAYER_BUDGET_MB = {"CommonLayer": 17, "ImagesLayer": 22,
                   # issue 22: the MCP SDK and its dependencies (Starlette, jsonschema, cryptography for its OAuth
                   # parts) less what the common layer ships (pydantic, httpx), measured at 20.3 MB unzipped
                   "McpLayer": 24,
                   # issue 20: stripe and requests, measured at 15.1 MB before the common layer's packages were left out
                   "PaymentsLayer": 18}
FUNCTION_BUDGET_MB = 1
COMMON_LAYER = "CommonLayer"  # in Globals: beside every other layer
# Never in a Lambda artifact: the operator CLI and interpreter caches.
EXCLUDED_PARTS = {"__pycache__", "admin"}
# The python3.13 runtime ships the AWS SDK; aws-xray-sdk (Powertools' tracer extra) declares botocore, which would
# otherwise add ~23 MB to the layer and shadow the runtime's own SDK.
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath")
PIP_TARGET = ["--platform", "manylinux2014_aarch64", "--python-version", "3.13", "--implementation", "cp",
              "--only-binary=:all:"]


def _tree_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def _zip(source: Path, archive: Path) -> int:
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for file in sorted(source.rglob("*")):
            if file.is_file():
                zf.write(file, file.relative_to(source))
    return archive.stat().st_size


def _copy_code(source: Path, target: Path) -> None:
    def ignore(directory: str, names: list[str]) -> set[str]:
        here = Path(directory).relative_to(source)
        return {n for n in names if n in {"__pycache__", "requirements.txt"} or n.endswith(".pyc")
                or (n == "admin" and here.parts == ("retouch",))}

    for child in source.iterdir():
        if child.is_dir() and child.name not in EXCLUDED_PARTS:
            shutil.copytree(child, target / child.name, ignore=ignore)


def _distributions(site: Path) -> dict[str, Path]:
    """Installed distributions in `site` by normalised name, each with its dist-info folder."""
    found = {}
    for dist_info in site.glob("*.dist-info"):
        name = dist_info.name.removesuffix(".dist-info").rsplit("-", 1)[0]
        found[name.lower().replace("_", "-").replace(".", "-")] = dist_info
    return found


def _version(dist_info: Path) -> str:
    return dist_info.name.removesuffix(".dist-info").rsplit("-", 1)[1]


def _remove_distribution(site: Path, dist_info: Path) -> None:
    """Delete every file the distribution installed (its RECORD), then the folders left empty."""
    for line in (dist_info / "RECORD").read_text().splitlines():
        path = site / line.split(",", 1)[0]
        if path.is_file():
            path.unlink()
    for folder in sorted((p for p in site.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        if not any(folder.iterdir()):
            folder.rmdir()
    shutil.rmtree(dist_info, ignore_errors=True)


def build_layer(logical_id: str, content_dir: Path, shared: dict[str, Path]) -> Path:
    """Install the layer's requirements; `shared` is what the common layer already ships (empty when building it)."""
    staging = OUT / logical_id / "python"  # a layer's packages live under python/
    staging.mkdir(parents=True)
    requirements = content_dir / "requirements.txt"
    if requirements.exists():
        constraints = OUT / f"{logical_id}-constraints.txt"
        constraints.write_text("".join(f"{name}=={_version(info)}\n" for name, info in shared.items()))
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        "--no-compile", "--ignore-installed", "--target", str(staging), *PIP_TARGET,
                        "-r", str(requirements), "-c", str(constraints)], check=True)
    for name, dist_info in _distributions(staging).items():
        if name in shared:
            _remove_distribution(staging, dist_info)
    for provided in RUNTIME_PROVIDED:
        for path in [staging / provided, *staging.glob(f"{provided}-*.dist-info")]:
            shutil.rmtree(path, ignore_errors=True)
    _copy_code(content_dir, staging)
    for cache in staging.rglob("__pycache__"):
        shutil.rmtree(cache)
    return staging.parent


def main() -> int:
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    template = Template.load(ROOT / "template.yaml")
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    over: list[str] = []
    print(f"{'artifact':<22}{'unzipped':>12}{'zipped':>12}{'budget':>10}")
    layers = template.resources_of_type(LAYER_TYPE)
    shared: dict[str, Path] = {}
    for logical_id in sorted(layers, key=lambda lid: lid != COMMON_LAYER):  # the common layer first
        tree = build_layer(logical_id, template.root / layers[logical_id]["Properties"]["ContentUri"], shared)
        if logical_id == COMMON_LAYER:
            shared = _distributions(tree / "python")
        size, zipped = _tree_size(tree), _zip(tree, OUT / f"{logical_id}.zip")
        budget = LAYER_BUDGET_MB.get(logical_id)
        print(f"{logical_id:<22}{size / MB:>10.1f}MB{zipped / MB:>10.1f}MB{budget or '-':>8}MB")
        if budget is None or size > budget * MB:
            over.append(f"{logical_id}: {size / MB:.1f} MB unzipped, budget {budget} MB")
    for logical_id, spec in template.functions.items():
        tree = OUT / logical_id
        shutil.copytree(spec.code_dir, tree, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        size, zipped = _tree_size(tree), _zip(tree, OUT / f"{logical_id}.zip")
        print(f"{logical_id:<22}{size / 1024:>10.1f}KB{zipped / 1024:>10.1f}KB{FUNCTION_BUDGET_MB:>8}MB")
        if size > FUNCTION_BUDGET_MB * MB:
            over.append(f"{logical_id}: {size / MB:.2f} MB unzipped, budget {FUNCTION_BUDGET_MB} MB")
    layers_of = {lid: [d.name for d in spec.layer_dirs] for lid, spec in template.functions.items()}
    print("layers per function: " + ", ".join(f"{lid.removesuffix('Function')}={'+'.join(v)}"
                                                for lid, v in layers_of.items()))
    print(f"artifacts in {OUT.relative_to(ROOT)}/")
    for problem in over:
        print(f"OVER BUDGET {problem}", file=sys.stderr)
    return 1 if over else 0


if __name__ == "__main__":
    raise SystemExit(main())
