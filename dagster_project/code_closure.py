"""The code a stage runs with, derived from its imports across ``dagster_project``: what keys what it carries.

A stage that keeps its outputs while "nothing changed" must count every module its outputs depend on, not a folder
listed by hand. The release, the OCDS packages and the dashboards were keyed by the ``publish/`` folder only, so a
fix to the masking (``personal_numbers.py``), the identifier checks or the relation fingerprints never reached a
carried part: the previous release's bytes — unmasked — were linked again and not scanned again.

``digest(entries)`` is the import closure of the ``entries`` (dotted modules) within ``dagster_project``, each module
counted by its syntax tree without docstrings: the analysis is ``ingest/readers_version.py``'s (``_analyse``: imports
anywhere in a module, also inside functions; ``import_module("literal")``; a module importing by a computed name makes
the closure the whole package — what cannot be seen is not left out), applied to the whole package instead of
``ingest/`` only. Each module's package ``__init__`` counts too (importing ``a.b.c`` runs ``a/__init__`` and
``a/b/__init__``). Data files are not followed: a stage keys the data it reads itself (``publish/``'s YAML, the
dashboards' specs).

Cost: analysing the ~35 modules publishing reaches takes ~0.3 CPU-s, so each module's analysis is memoised by the
SHA-256 of its bytes, in the process and on disk (``code_closure_memo.json`` in the parse cache directory, as
``readers_version`` does): a digest then reads and hashes the closure's files (a few ms).
"""
from __future__ import annotations

import ast
import hashlib
import json
import os
import re
import sys
from pathlib import Path

PACKAGE = "dagster_project"
PACKAGE_DIR = Path(__file__).resolve().parent
_SKIPPED = frozenset({"__pycache__"})
_RELATIVE = re.compile(rb"^\s*from\s+\.", re.MULTILINE)
MEMO_NAME = "code_closure_memo.json"  # in the parse cache directory, beside readers_version's
_VERSION = f"py{sys.version_info[0]}.{sys.version_info[1]}"  # ast.dump differs between Python versions


def _modules(root: Path) -> dict[str, Path]:
    """Every module of the package under ``root`` (dotted name → file)."""
    found = {}
    for path in root.rglob("*.py"):
        rel = path.relative_to(root)
        if any(part in _SKIPPED or part.startswith(".") for part in rel.parts[:-1]):
            continue
        parts = [PACKAGE, *rel.with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _relative_imports(source: bytes, module: str, is_package: bool) -> set[str]:
    """``from . import x`` resolved against the module's own package (``_analyse`` resolves against ``ingest``)."""
    own = module.split(".") if is_package else module.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = ".".join(own[: len(own) - (node.level - 1)] + ([node.module] if node.module else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


_memo: dict[str, dict] | None = None  # "<sha>:<module>" → analysis, read once per process from MEMO_NAME
_memo_changed = False


def _memo_file() -> Path | None:
    from dagster_project.paths import settings

    try:
        return settings().parse_cache_dir / MEMO_NAME
    except Exception:  # noqa: BLE001 - no usable cache directory: analyse every time (slower, never wrong)
        return None


def _analysis(sha: str, source: bytes, module: str, is_package: bool) -> dict:
    global _memo, _memo_changed
    if _memo is None:
        path = _memo_file()
        try:
            _memo = json.loads(path.read_text(encoding="utf-8")).get(_VERSION, {}) if path and path.exists() else {}
        except (OSError, ValueError):
            _memo = {}
    key = f"{sha}:{module}"  # a relative import resolves against the module's own package
    if key not in _memo:
        from dagster_project.ingest.readers_version import _analyse

        found = _analyse(source)
        imports = set(found["imports"])
        if _RELATIVE.search(source):  # what _analyse read against ingest stays too: more modules, never fewer
            imports |= _relative_imports(source, module, is_package)
        _memo[key] = {"digest": found["digest"], "imports": sorted(imports), "dynamic": found["dynamic"]}
        _memo_changed = True
    return _memo[key]


def _save_memo(kept: set[str]) -> None:
    """Keep the analyses of this closure's modules (best effort: a read-only cache analyses again next time)."""
    global _memo_changed
    path = _memo_file()
    if not _memo_changed or path is None or _memo is None:
        return
    try:
        old = json.loads(path.read_text(encoding="utf-8")).get(_VERSION, {}) if path.exists() else {}
    except (OSError, ValueError):
        old = {}
    live = {k for k in old if k.partition(":")[0] in _live_shas()}  # analyses of files as they are now
    merged = {k: v for k, v in {**old, **_memo}.items() if k in kept or k in live}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({_VERSION: merged}), encoding="utf-8")
        os.replace(tmp, path)
        _memo_changed = False
    except OSError:
        pass


def _live_shas() -> set[str]:
    return {hashlib.sha256(p.read_bytes()).hexdigest() for p in _modules(PACKAGE_DIR).values()}


def _owner(dotted: str, modules: dict[str, Path]) -> str | None:
    """The module an imported name lives in (``a.b.f`` → ``a.b``), if it is one of the package's."""
    while dotted:
        if dotted in modules:
            return dotted
        dotted = dotted.rpartition(".")[0]
    return None


def closure(entries: tuple[str, ...] | list[str], root: Path | None = None) -> dict[str, str]:
    """The modules the ``entries`` import within the package, with their packages' ``__init__`` (name → digest)."""
    modules = _modules(root or PACKAGE_DIR)
    seen: dict[str, str] = {}
    todo = [m for m in entries if m in modules]
    missing = [m for m in entries if m not in modules]
    if missing:
        raise ValueError(f"not a module of {PACKAGE}: {missing}")
    everything = False
    used: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        path = modules[name]
        source = path.read_bytes()
        sha = hashlib.sha256(source).hexdigest()
        found = _analysis(sha, source, name, path.name == "__init__.py")
        used.add(f"{sha}:{name}")
        seen[name] = found["digest"]
        if found["dynamic"] and not everything:  # imports by a computed name: the whole package
            everything = True
            todo.extend(modules)
        parents = [".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)]
        for dotted in [*found["imports"], *parents]:
            owner = _owner(dotted, modules)
            if owner is not None and owner not in seen:
                todo.append(owner)
    _save_memo(used)
    return dict(sorted(seen.items()))


def digest(entries: tuple[str, ...] | list[str], root: Path | None = None, leave_out: tuple[str, ...] = ()) -> str:
    """One digest of the closure of ``entries``; modules under a ``leave_out`` prefix (a folder the caller hashes by
    its bytes already) are left out."""
    lines = [f"{name}\x00{value}" for name, value in closure(entries, root).items()
             if not any(name == p or name.startswith(p + ".") for p in leave_out)]
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


def package_modules(package: str, root: Path | None = None, leave_out: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The modules of a subpackage (``dagster_project.publish``), except those named in ``leave_out``."""
    return tuple(sorted(m for m in _modules(root or PACKAGE_DIR)
                        if (m == package or m.startswith(package + ".")) and m not in leave_out))


__all__ = ["PACKAGE_DIR", "closure", "digest", "package_modules"]
