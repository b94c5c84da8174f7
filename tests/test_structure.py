"""The shape issue 23 asked for, kept: no decorated one-line forwarder (a handler object
declares its own commands, hooks and timers), one class name per concept in a plugin."""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DECLARERS = frozenset({"command", "on", "timer"})


def forwarders(source: str) -> list[str]:
    """Methods declared with `@command`/`@on`/`@timer` whose whole body (docstring aside) is
    one `[return] [await] self.<part>.<same name>(...)`: a declaration living in one file and
    its code in another under the same name (a hook that asks its store is no forwarder)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) or not any(
                isinstance(d, ast.Call) and getattr(d.func, "id", "") in DECLARERS
                for d in node.decorator_list):
            continue
        body = [s for s in node.body
                if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
        value = body[0].value if len(body) == 1 and isinstance(
            body[0], ast.Expr | ast.Return) else None
        if isinstance(value, ast.Await):
            value = value.value
        if (isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute)
                and isinstance(value.func.value, ast.Attribute)
                and isinstance(value.func.value.value, ast.Name)
                and value.func.value.value.id == "self" and value.func.attr == node.name):
            found.append(node.name)
    return found


def test_no_declaration_forwards_to_a_part() -> None:
    found = {str(path.relative_to(ROOT)): names
             for path in sorted((ROOT / "plugins").rglob("*.py"))
             if (names := forwarders(path.read_text(encoding="utf-8")))}
    assert found == {}


def test_the_forwarder_finder_sees_one() -> None:
    source = ("class P:\n    @command('x')\n    async def x(self, ctx):\n"
              "        '''Doc.'''\n        return await self.part.x(ctx)\n"
              "    @on(E)\n    async def e(self, ctx, ev):\n        await self.part.e(ctx, ev)\n"
              "        await self.other(ctx)\n"
              "    @on(F)\n    async def f(self, ctx, ev):\n        return self.store.get(ev)\n")
    assert forwarders(source) == ["x"]


def test_no_class_name_is_defined_twice_in_a_plugin() -> None:
    twice = {}
    for plugin in sorted(p for p in (ROOT / "plugins").iterdir() if p.is_dir()):
        names = Counter(node.name for path in plugin.rglob("*.py")
                        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                        if isinstance(node, ast.ClassDef))
        if doubles := sorted(n for n, count in names.items() if count > 1):
            twice[plugin.name] = doubles
    assert twice == {}


def test_no_file_over_600_lines() -> None:
    """Past that, a file holds several jobs: split it by job (issue 23)."""
    long = {str(path.relative_to(ROOT)): n
            for folder in ("bot", "plugins") for path in sorted((ROOT / folder).rglob("*.py"))
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > 600}
    assert long == {}
