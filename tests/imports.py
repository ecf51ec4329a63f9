"""What a module imports, read from its source: for the tests that hold layers apart (test_data_layer_imports,
test_composition)."""

from __future__ import annotations

import ast


def imports_under(source: str, package: str, prefix: str) -> list[str]:
    """The modules and names under `prefix` that `source` imports, deferred imports included; `package` is the
    importing module's package, against which relative imports resolve."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                parts = package.split(".")
                base = parts[:len(parts) - node.level + 1]
                module = ".".join([*base, module] if module else base)
            names = [module] + [f"{module}.{alias.name}" for alias in node.names]
        else:
            continue
        found += [name for name in names if name == prefix or name.startswith(prefix + ".")]
    return found
