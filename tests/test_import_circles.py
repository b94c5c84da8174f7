"""No import circle among the modules of `bot/` and `plugins/`: every import counts, those
under `if TYPE_CHECKING:` and those inside a function too (a circle hidden there is still a
package depending upward on its user). Run it as a script to list the circles found."""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "plugins")


def modules(root: Path = ROOT) -> dict[str, Path]:
    """Every module of the packages, by dotted name (a package by its `__init__`)."""
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def imports(name: str, path: Path, known: Iterable[str]) -> set[str]:
    """The modules of `known` that `name` imports, wherever in the file the import is."""
    known = set(known)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                       for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:  # `import bot.matrix.x.y` → the module
                target = target.rpartition(".")[0]
            if target and target != name:
                out.add(target)
    return out


def circles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component: list[str] = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    mods = modules(root)
    return {name: imports(name, path, mods) for name, path in mods.items()}


def test_no_import_circle() -> None:
    assert circles(import_graph()) == []


def test_the_finder_sees_type_only_and_local_imports(tmp_path: Path) -> None:
    (tmp_path / "bot" / "sub").mkdir(parents=True)
    (tmp_path / "plugins").mkdir()
    (tmp_path / "bot" / "__init__.py").write_text("")
    (tmp_path / "plugins" / "__init__.py").write_text("")
    (tmp_path / "bot" / "sub" / "__init__.py").write_text("")
    (tmp_path / "bot" / "a.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from bot.sub.b import X\n")
    (tmp_path / "bot" / "sub" / "b.py").write_text("def f():\n    from ..a import Y\n")
    (tmp_path / "bot" / "c.py").write_text("import bot.a\nfrom bot import sub\n")
    assert circles(import_graph(tmp_path)) == [["bot.a", "bot.sub.b"]]


if __name__ == "__main__":
    for circle in circles(import_graph()):
        print(" ⇄ ".join(circle))
    sys.exit(0)
