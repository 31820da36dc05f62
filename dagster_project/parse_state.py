"""dbt's partial-parse state kept beside the warehouse it was parsed for, so a build does not re-parse the project.

dbt re-parses the whole project (≈ 3–5 s at start-up of every invocation) unless the ``partial_parse.msgpack`` it
finds in its target folder was written under the same profile. The profile renders the warehouse path
(``env_var('GONGKAI_WAREHOUSE')``), and the path also names the DuckDB catalog every node's ``database`` carries, so a
state parsed for one warehouse is rightly refused for another ("Unable to do partial parsing because profile has
changed"). ``dbt/target/partial_parse.msgpack`` is written by ``cli prepare`` for whatever warehouse it was run with
(``make prepare``: the default one) and dagster-dbt copies it into every invocation's fresh target folder — so every
build on another warehouse (a benchmark's, a second deployment's) paid a full parse, every time.

Here each (dbt project, target, warehouse) keeps its own state under the warehouse's scratch folder: a build seeds
its invocation folder with it (dagster-dbt then leaves that folder's file alone) and keeps what dbt wrote back after
the invocation. dbt itself still decides whether the state is usable: it compares the dbt version, the profile,
vars, the project file and every file's checksum, re-parsing what changed; nothing here decides validity.

One decision is taken here, before dbt starts: whether ``cli prepare`` needs dbt at all. A ``dbt parse`` that finds
nothing changed still costs a process — dbt's imports, its state read, two megabytes of manifest written: ≈ 3–4 s of
every ``make run``, ``make ui`` and ``make docs``. ``prepare`` records what the manifest it put into ``dbt/target``
was parsed from (``prepared_inputs``: the project's files, the settings they read, dbt's flags and version, and this
interpreter) together with the manifest's own digest; when both still hold, dbt is not started. The
manifest's digest ties the record to the file it describes: another process that prepared for other inputs since
replaced the manifest, so the record no longer matches it and the next ``prepare`` parses again.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
import uuid
from importlib import metadata
from pathlib import Path
from typing import Callable

from dagster_project.paths import DBT_PROJECT_DIR, Settings, settings

PARTIAL_PARSE_FILE = "partial_parse.msgpack"  # dbt's name (dbt.constants.PARTIAL_PARSE_FILE_NAME)
STATE_FOLDER = "dbt_partial_parse"
MANIFEST_FILE = "manifest.json"
# beside the manifest in dbt/target: what it was parsed from and its digest (the module docstring)
PREPARED_RECORD = "prepared_inputs.json"
# The dbt project's files dbt reads (dbt_project.yml names no other path): a change to any of these is a change of
# the dbt stage's code (transform/assets.py rebuilds whole on it) and of what a parse gives.
DBT_CODE_PATHS = ("models", "macros", "seeds", "tests", "dbt_project.yml", "profiles.yml")
# What dbt reads from the environment at a parse: the variables the project's files name in env_var() (dbt tracks
# the same, by name, for its partial parse) and its own flags.
ENV_VAR_CALL = re.compile(r"""env_var\(\s*['"]([A-Za-z_][A-Za-z0-9_]*)['"]""")
DBT_FLAG_PREFIX = "DBT_"
TEXT_SUFFIXES = (".sql", ".yml", ".yaml", ".md")  # where an env_var() call can be written


def state_file(current: "Settings | None" = None, project_dir: Path = DBT_PROJECT_DIR) -> Path:
    """Where the state of this project, dbt target and warehouse is kept (the warehouse's scratch folder)."""
    current = current or settings()
    key = "\n".join((str(project_dir.resolve()), current.dbt_target, str(current.warehouse)))
    name = f"{current.warehouse.stem}-{current.dbt_target}-{hashlib.sha256(key.encode('utf-8')).hexdigest()[:12]}"
    return current.tmp_dir / STATE_FOLDER / f"{name}.msgpack"


def seed(target_path: Path, current: "Settings | None" = None) -> bool:
    """Put the kept state into a dbt invocation's (new) target folder; False when none is kept yet."""
    kept = state_file(current)
    if not kept.is_file():
        return False
    target_path.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(kept, target_path / PARTIAL_PARSE_FILE)
    return True


def keep(target_path: Path, current: "Settings | None" = None) -> bool:
    """Keep the state dbt left in an invocation's target folder for the next build on this warehouse (replaced
    atomically: a concurrent reader sees the old state or the new one)."""
    written = target_path / PARTIAL_PARSE_FILE
    if not written.is_file():
        return False
    kept = state_file(current)
    kept.parent.mkdir(parents=True, exist_ok=True)
    tmp = kept.with_name(f".{kept.name}.{uuid.uuid4().hex[:8]}")
    shutil.copyfile(written, tmp)
    os.replace(tmp, kept)
    return True


def dbt_code_digest(project_dir: Path = DBT_PROJECT_DIR,
                    visit: "Callable[[Path, bytes], None] | None" = None) -> str:
    """Hash of the dbt project's files (path and bytes) in a stable order (``stage_state.tree_digest``)."""
    from dagster_project.stage_state import tree_digest

    return tree_digest([project_dir / p for p in DBT_CODE_PATHS if (project_dir / p).exists()], visit=visit)


def prepared_inputs(env: "dict[str, str]", project_dir: Path = DBT_PROJECT_DIR) -> str:
    """What a ``dbt parse`` run with ``env`` in ``project_dir`` depends on, as one digest: the project's files, the
    values of the environment variables they name in ``env_var()`` and of dbt's own ``DBT_*`` flags, dbt's and the
    adapters' versions, and the interpreter. Other settings (the raw root, the output root) are not read by dbt.
    The files are read once: the names are found in the bytes the digest hashes."""
    read: set[str] = set()

    def names(path: Path, data: bytes) -> None:
        if path.suffix in TEXT_SUFFIXES:
            read.update(ENV_VAR_CALL.findall(data.decode("utf-8", errors="replace")))

    code = dbt_code_digest(project_dir, visit=names)
    versions = []
    for package in ("dbt-core", "dbt-duckdb", "dbt-spark"):
        try:
            versions.append(f"{package}={metadata.version(package)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{package}=-")
    settings_read = sorted(f"{k}={v}" for k, v in env.items() if k in read or k.startswith(DBT_FLAG_PREFIX))
    parts = [code, str(project_dir.resolve()), sys.executable, *versions, *settings_read]
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()


def file_digest(path: Path) -> "str | None":
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def manifest_prepared_for(target: Path, inputs: str) -> bool:
    """True when ``target``'s manifest is the one a ``prepare`` with these ``inputs`` wrote, unchanged since."""
    try:
        record = json.loads((target / PREPARED_RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(record, dict) or record.get("inputs") != inputs:
        return False
    manifest = file_digest(target / MANIFEST_FILE)
    return manifest is not None and record.get("manifest_sha256") == manifest


def record_prepared(target: Path, inputs: str, manifest_sha256: str) -> None:
    """Record that ``target``'s manifest (whose digest is given: the bytes this process put there) was parsed from
    ``inputs``; replaced atomically."""
    tmp = target / f".{PREPARED_RECORD}.{uuid.uuid4().hex[:8]}"
    tmp.write_text(json.dumps({"inputs": inputs, "manifest_sha256": manifest_sha256}), encoding="utf-8")
    os.replace(tmp, target / PREPARED_RECORD)
