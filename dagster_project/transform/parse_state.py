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
"""
from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from pathlib import Path

from dagster_project.paths import DBT_PROJECT_DIR, Settings, settings

PARTIAL_PARSE_FILE = "partial_parse.msgpack"  # dbt's name (dbt.constants.PARTIAL_PARSE_FILE_NAME)
STATE_FOLDER = "dbt_partial_parse"


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
