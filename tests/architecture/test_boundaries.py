"""The pipeline core is pure: no database, HTTP client or web framework (STYLE.md rule 2).

Two checks: every import statement in a pure file (walked in the AST, including imports inside
functions), and what importing the pure modules actually loads, in a clean interpreter.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PURE = ["app/detection", "app/parsing", "app/verification", "app/statements/format.py", "app/pipeline.py"]
FORBIDDEN = ("sqlalchemy", "fastapi", "starlette", "httpx", "asyncpg", "alembic", "app.core.db", "app.main")


def pure_files() -> list[Path]:
    files: list[Path] = []
    for entry in PURE:
        path = ROOT / entry
        if path.is_dir():
            files.extend(sorted(path.rglob("*.py")))
        elif path.exists():
            files.append(path)
    return files


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) for every import in the file, relative ones resolved."""
    package = module_name(path).rsplit(".", 0 if path.name == "__init__.py" else 1)[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.append((node.lineno, target))
            found.extend((node.lineno, f"{target}.{alias.name}") for alias in node.names)
    return found


def is_forbidden(module: str) -> bool:
    return any(module == bad or module.startswith(bad + ".") for bad in FORBIDDEN)


def test_pure_packages_exist() -> None:
    assert pure_files(), "no pure modules found; did the layout change?"


@pytest.mark.parametrize("path", pure_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_pure_module_imports_nothing_impure(path: Path) -> None:
    offending = [f"line {line}: {module}" for line, module in imported_modules(path) if is_forbidden(module)]
    assert not offending, f"{path.relative_to(ROOT)} imports {offending}"


def test_importing_the_pure_modules_loads_nothing_impure() -> None:
    modules = sorted({module_name(path) for path in pure_files()})
    probe = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    loaded = [name for name in json.loads(result.stdout) if is_forbidden(name)]
    assert not loaded, f"importing the pure modules loads {sorted({n.split('.')[0] for n in loaded})}"
