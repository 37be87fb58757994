"""The project uses its libraries through their public APIs only (issue 23).

An AST scan of every Python file of `orchestration/`, `expectations/`, `tests/` and `bench/`:

* no import of a private module (a dotted path with a `_`-prefixed part, `dagster._core`) of a
  library, and from dagster and dagster-dbt only their top-level exports (`dagster_dbt.core.*`
  is internal);
* no `_`-prefixed name imported from a library;
* no `_`-prefixed attribute read or written on anything but `self` / `cls` (our own classes'
  private state stays inside them);
* no assignment to an attribute of a library's module, class or function, no `setattr` on one,
  and no pytest `monkeypatch.setattr` of a library.

It fails naming each file, line and what it found.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCANNED = ("orchestration", "expectations", "tests", "bench")
LIBRARIES = {
    "dagster",
    "dagster_dbt",
    "dagster_webserver",
    "dagster_duckdb",
    "dagster_graphql",
    "dbt",
    "dbt_common",
    "great_expectations",
    "pyspark",
    "duckdb",
    "sqlalchemy",
}
# the libraries whose documented API is their top-level package
TOP_LEVEL_ONLY = {"dagster", "dagster_dbt"}


def _files() -> list[Path]:
    return sorted(p for folder in SCANNED for p in (REPO / folder).rglob("*.py"))


def _private(dotted: str) -> bool:
    return any(part.startswith("_") and not part.startswith("__") for part in dotted.split("."))


class _Scan(ast.NodeVisitor):
    def __init__(self) -> None:
        self.problems: list[tuple[int, str]] = []
        self.library_names: set[str] = set()  # names bound to a library module or object

    def _module(self, node: ast.AST, module: str) -> None:
        top = module.split(".")[0]
        if top not in LIBRARIES:
            return
        if _private(module):
            self.problems.append((node.lineno, f"imports the private module {module}"))
        elif top in TOP_LEVEL_ONLY and module != top:
            self.problems.append((node.lineno, f"imports {module}: use `{top}`'s exports"))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._module(node, alias.name)
            if alias.name.split(".")[0] in LIBRARIES:
                self.library_names.add((alias.asname or alias.name).split(".")[0])

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if node.level == 0 and module.split(".")[0] in LIBRARIES:
            self._module(node, module)
            for alias in node.names:
                if _private(alias.name):
                    self.problems.append(
                        (node.lineno, f"imports the private name {alias.name} from {module}")
                    )
                self.library_names.add(alias.asname or alias.name)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        root = node.value
        if _private(node.attr) and not (isinstance(root, ast.Name) and root.id in {"self", "cls"}):
            self.problems.append((node.lineno, f"uses the private attribute .{node.attr}"))
        self.generic_visit(node)

    def _root(self, node: ast.AST) -> str | None:
        while isinstance(node, ast.Attribute):
            node = node.value
        return node.id if isinstance(node, ast.Name) else None

    def _assigned(self, targets: list[ast.AST], lineno: int) -> None:
        for target in targets:
            if isinstance(target, ast.Attribute) and self._root(target) in self.library_names:
                self.problems.append((lineno, f"assigns {ast.unparse(target)}: patches a library"))

    def visit_Assign(self, node: ast.Assign) -> None:
        self._assigned(node.targets, node.lineno)
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self._assigned([node.target], node.lineno)
        self.generic_visit(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        if any(self._root(base) in self.library_names for base in node.bases):
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and _private(item.name):
                    self.problems.append(
                        (item.lineno, f"{node.name} overrides the private {item.name}")
                    )
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        name = ast.unparse(func)
        if name in {"getattr", "hasattr"} and len(node.args) > 1:
            attribute = node.args[1]
            owner = node.args[0]
            own = isinstance(owner, ast.Name) and owner.id in {"self", "cls"}
            if isinstance(attribute, ast.Constant) and _private(str(attribute.value)) and not own:
                self.problems.append((node.lineno, f"{name}(..., {attribute.value!r})"))
        if name in {"setattr", "monkeypatch.setattr", "delattr", "monkeypatch.delattr"} and (
            node.args
        ):
            target = node.args[0]
            text = target.value if isinstance(target, ast.Constant) else None
            if (isinstance(text, str) and text.split(".")[0] in LIBRARIES) or (
                self._root(target) in self.library_names
            ):
                self.problems.append((node.lineno, f"{name}({ast.unparse(target)}, ...)"))
        self.generic_visit(node)


def scan(source: str) -> list[tuple[int, str]]:
    visitor = _Scan()
    visitor.visit(ast.parse(source))
    return visitor.problems


def test_the_scan_finds_each_kind_of_reach_into_a_library():
    found = scan(
        "import dagster._core.storage as s\n"
        "from dagster_dbt.core.resource import DbtCliInvocation\n"
        "from dbt.cli import requires\n"
        "from dagster import _check, SqliteEventLogStorage\n"
        "requires.get_env = lambda: {}\n"
        "x = con._ENV\n"
        "setattr(requires, 'get_env', None)\n"
        "monkeypatch.setattr('dbt.cli.requires.get_env', None)\n"
        "self._lock = None\n"
        "getattr(storage, '_db_lock')\n"
        "class Storage(SqliteEventLogStorage):\n"
        "    def _connect(self): ...\n"
    )
    assert [line for line, _ in found] == [1, 2, 4, 5, 6, 7, 8, 10, 12], found


def test_nothing_reaches_into_a_library():
    problems = [
        f"{path.relative_to(REPO)}:{line}: {what}"
        for path in _files()
        if path.name != Path(__file__).name
        for line, what in scan(path.read_text(encoding="utf-8"))
    ]
    assert not problems, "private API or patches of a library:\n" + "\n".join(problems)
