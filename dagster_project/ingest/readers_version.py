"""The readers' version of a family: a digest of the code and data its loader reads with, derived from the code.

A family is read again when its readers change (``reread.py``) and the parse cache keys on the same version
(``parse_cache.py``). One version for the whole of ``ingest/`` re-read every family — the 10 M trading rows, each
kept once more as a superseded reading — for a budget-only spec fix or a comment. The version of a loader module is
instead derived, never listed by hand:

* its **modules**: the import closure of the loader's module within ``dagster_project.ingest`` (found with ``ast``:
  ``import``/``from … import`` anywhere in a module, also inside functions; a literal ``dagster_project.ingest.<m>``
  or ``import_module("…")`` counts as an import). A module that imports by a name computed at run time
  (``import_module(name)``) makes the closure the whole package: what cannot be seen is not left out. Each module
  counts by its syntax tree without docstrings (``ast.dump``): a comment, docstring or blank-line edit changes no
  version; a change to code does.
* its **data**: the files under ``ingest/specs/`` and the dbt project (seeds, macros …) that a module of the closure
  names by a string literal — the file's name (``"ref_amount_units.csv"``, also inside a longer literal or a path)
  or a glob literal that matches it (``"workbook_*.yaml"``). A file under ``ingest/specs/`` or ``dbt/seeds/ingest/``
  (the data meant for the readers) that no ingest module names counts for every family, so none can be missed.

Budget and debt share a loader (``workbook.py``), so they share a version; a module every loader imports
(``framework.py``, ``grid.py`` for the workbook and trading readers, ``text_staging.py`` …) moves every family that
imports it. The closure is by module, not by function: trading's workbook reader calls ``readers.read_grids`` (to
say what an unreadable .xlsx is), which can reach the PDF reader and ``workbook_spec.py``, so an edit of
``workbook_tables.yaml`` moves trading too. What is not counted: modules outside ``dagster_project.ingest`` (``paths``, ``stage_state``,
``file_status``) and the versions of third-party readers (openpyxl, pdfplumber, calamine, xlrd).

Cost: parsing the package's ~30 modules takes ~0.2 s, so each module's analysis is memoised on disk by the SHA-256
of its bytes (``readers_version_memo.json`` in the parse cache directory); a run whose modules are unchanged reads
and hashes the files: ~7–9 ms a family on the busy 2-core box (the one version: ~2–6 ms a process).
"""
from __future__ import annotations

import ast
import fnmatch
import functools
import hashlib
import json
import os
import re
import sys
from pathlib import Path

from dagster_project.paths import DBT_PROJECT_DIR, DBT_SEEDS_DIR, INGEST_SPECS_DIR, REPO_ROOT

PACKAGE = "dagster_project.ingest"
HERE = Path(__file__).parent
# data the readers may read: every file under these roots (dbt's build output left out)
DATA_ROOTS = (INGEST_SPECS_DIR, DBT_PROJECT_DIR)
DATA_SKIPPED = frozenset({"target", "logs", "dbt_packages", "__pycache__"})
# data meant for the readers: a file here no module names counts for every family
EVERY_FAMILY_ROOTS = (INGEST_SPECS_DIR, DBT_SEEDS_DIR / "ingest")
MEMO_NAME = "readers_version_memo.json"
_TOKEN = re.compile(r"[\w.*?\[\]-]+")
_MODULE_REF = re.compile(re.escape(PACKAGE) + r"\.(\w+)")
_GLOB = re.compile(r"[*?\[]")


def _analyse(source: bytes) -> dict:
    """What one module imports within the package, the file names its literals name, and its code's digest."""
    tree = ast.parse(source)
    docstrings: list[tuple[ast.AST, ast.Expr]] = []
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and body:
            first = body[0]
            if (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
                    and isinstance(first.value.value, str)):
                docstrings.append((node, first))
    skipped = {id(expr.value) for _, expr in docstrings}
    imports: set[str] = set()
    names: set[str] = set()
    dynamic = False
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imports.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the package this module is in
                parent = PACKAGE.split(".")[: len(PACKAGE.split(".")) - (node.level - 1)]
                base = ".".join(parent + ([base] if base else []))
            imports.add(base)
            imports.update(f"{base}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Call):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called in ("import_module", "__import__") and node.args:
                arg = node.args[0]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    imports.add(arg.value)
                else:
                    dynamic = True
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skipped:
            text = node.value
            imports.update(f"{PACKAGE}.{m}" for m in _MODULE_REF.findall(text))
            last = text.replace("\\", "/").rsplit("/", 1)[-1]
            if _GLOB.search(last) and "." in last and _TOKEN.fullmatch(last):  # a file pattern, not SQL or a regex
                names.add("glob:" + last)
            names.update(t for t in re.split(r"[/\\]", text) for t in _TOKEN.findall(t)
                         if "." in t and not _GLOB.search(t))
    for owner, expr in docstrings:  # the code's digest leaves out what documents it
        owner.body = owner.body[1:] or [ast.Pass()]
    digest = hashlib.sha256(ast.dump(tree).encode("utf-8")).hexdigest()
    return {"digest": digest, "imports": sorted(imports), "names": sorted(names), "dynamic": dynamic}


def _memo_path() -> Path | None:
    try:
        from dagster_project.paths import settings

        return settings().parse_cache_dir / MEMO_NAME
    except Exception:  # noqa: BLE001 - no usable cache directory: analyse every time (slower, never wrong)
        return None


@functools.lru_cache(maxsize=1)
def _package() -> dict[str, dict]:
    """Every module of the package (short name → its analysis), memoised on disk by the bytes' SHA-256."""
    key = f"py{sys.version_info[0]}.{sys.version_info[1]}"  # ast.dump differs between Python versions
    memo_path = _memo_path()
    memo: dict = {}
    if memo_path is not None and memo_path.exists():
        try:
            memo = json.loads(memo_path.read_text(encoding="utf-8")).get(key, {})
        except (OSError, ValueError):
            memo = {}
    modules, fresh, changed = {}, {}, False
    for path in sorted(HERE.glob("*.py")):
        source = path.read_bytes()
        sha = hashlib.sha256(source).hexdigest()
        if sha not in memo:
            memo[sha] = _analyse(source)
            changed = True
        fresh[sha] = memo[sha]
        modules[path.stem] = memo[sha]
    if changed and memo_path is not None:
        try:
            memo_path.parent.mkdir(parents=True, exist_ok=True)
            tmp = memo_path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps({key: fresh}), encoding="utf-8")
            os.replace(tmp, memo_path)
        except OSError:
            pass  # a read-only scratch dir costs speed, never correctness
    return modules


def _module_of(dotted: str, modules: dict[str, dict]) -> str | None:
    if dotted == PACKAGE:
        return "__init__"
    if not dotted.startswith(PACKAGE + "."):
        return None
    name = dotted[len(PACKAGE) + 1:].split(".", 1)[0]
    return name if name in modules else None


@functools.lru_cache(maxsize=1)
def _data_files() -> tuple[tuple[str, str], ...]:
    """(file name, path) of every data file the readers may read (strings: thousands of Paths cost milliseconds)."""
    found = set()
    for root in DATA_ROOTS:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = [d for d in dirnames if d not in DATA_SKIPPED and not d.startswith(".")]
            found.update((name, os.path.join(dirpath, name)) for name in filenames if not name.startswith("."))
    return tuple(sorted(found, key=lambda item: item[1]))


def _matcher(names) -> tuple[frozenset[str], tuple[str, ...]]:
    names = set(names)
    return frozenset(names), tuple(n[5:] for n in names if n.startswith("glob:"))


def _named(name: str, matcher: tuple[frozenset[str], tuple[str, ...]]) -> bool:
    exact, patterns = matcher
    return name in exact or any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)


@functools.lru_cache(maxsize=1)
def _unnamed_reader_data() -> frozenset[str]:
    """Data meant for the readers that no ingest module names (paths): it counts for every family."""
    everyone = _matcher(n for a in _package().values() for n in a["names"])
    roots = tuple(os.path.join(str(r), "") for r in EVERY_FAMILY_ROOTS)
    return frozenset(path for name, path in _data_files() if path.startswith(roots) and not _named(name, everyone))


def closure(module: str) -> tuple[list[str], list[Path]]:
    """The modules (short names) and data files the readers of ``module`` (dotted) use."""
    modules = _package()
    root = _module_of(module, modules)
    if root is None:  # not a reader of this package (a test's loader): the whole package, so nothing is missed
        seen = set(modules)
    else:
        seen, todo = {"__init__", root}, [root]
        while todo:
            analysis = modules[todo.pop()]
            if analysis["dynamic"]:
                seen = set(modules)
                break
            for dotted in analysis["imports"]:
                found = _module_of(dotted, modules)
                if found is not None and found not in seen:
                    seen.add(found)
                    todo.append(found)
    named = _matcher(n for m in seen for n in modules[m]["names"])
    unnamed = _unnamed_reader_data()
    data = [Path(path) for name, path in _data_files() if path in unnamed or _named(name, named)]
    return sorted(seen), data


@functools.lru_cache(maxsize=None)
def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@functools.lru_cache(maxsize=None)
def version_of(module: str) -> str:
    """The version of the readers of ``module`` (a loader's dotted module): 16 hex digits."""
    modules, data = closure(module)
    package = _package()
    digest = hashlib.sha256()
    for name in modules:
        digest.update(f"{name}\x00{package[name]['digest']}\x00".encode())
    for path in data:
        rel = path.relative_to(REPO_ROOT).as_posix() if path.is_relative_to(REPO_ROOT) else path.name
        digest.update(f"{rel}\x00{_file_digest(path)}\x00".encode())
    return digest.hexdigest()[:16]


def loader_module(loader) -> str:
    """The dotted module a family loader is defined in (a callable without one: the package)."""
    return getattr(loader, "__module__", None) or ""


def clear() -> None:
    """Forget what this process derived (files changed under a long-lived process, tests)."""
    for cached in (_package, _data_files, _unnamed_reader_data, _file_digest, version_of):
        cached.cache_clear()


__all__ = ["closure", "clear", "loader_module", "version_of"]
