"""dbt invocation folders pruned after each build: the newest few are kept, older ones removed.

dagster-dbt gives every dbt invocation a target folder of its own (``dbt/target/<op>-<run>-<uuid>``, or ``<uuid>``
without a run) and never removes one. Each holds the manifest, the run results, the compiled SQL and dbt's log:
≈ 12 MB per build at 1 M trading rows, so a daily run fills gigabytes a year and a development checkout had 150
such folders (1.7 GB) after two days. Nothing reads a folder after its invocation ends (the partial-parse state is
kept apart, ``parse_state``; the project's own ``target/manifest.json`` is not an invocation folder), so only the
newest ``GONGKAI_DBT_INVOCATIONS_KEPT`` (default 10; ``paths.Settings.dbt_invocations_kept``) stay, for whoever
looks into a recent build.

A folder is removed only when it is not among the newest and nothing was written in it for an hour, so an
invocation still running beside this one (another worker's build on another warehouse) keeps its folder.
"""
from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

from dagster_project.paths import settings

QUIET_SECONDS = 3600
# dagster-dbt's names (DbtCliResource._get_unique_target_path): "<op>-<run id[:7]>-<uuid[:7]>" or "<uuid[:7]>"
_INVOCATION_NAME = re.compile(r"(?:\w+-[0-9a-f]{7}-)?[0-9a-f]{7}")


def _last_write(folder: Path) -> float:
    """The newest modification time of the folder and the files directly in it (dbt appends to ``dbt.log``)."""
    times = [folder.stat().st_mtime]
    with os.scandir(folder) as entries:
        times += [entry.stat(follow_symlinks=False).st_mtime for entry in entries]
    return max(times)


def prune(target_root: Path, keep: int | None = None, now: float | None = None) -> list[Path]:
    """Remove the invocation folders under ``target_root`` beyond the newest ``keep`` that were quiet for an hour;
    the removed folders, oldest first. Anything not named like an invocation folder is left alone."""
    keep = settings().dbt_invocations_kept if keep is None else keep
    now = time.time() if now is None else now
    if not target_root.is_dir():
        return []
    folders = []
    for entry in target_root.iterdir():
        if entry.is_dir() and not entry.is_symlink() and _INVOCATION_NAME.fullmatch(entry.name):
            try:
                folders.append((_last_write(entry), entry))
            except OSError:  # removed meanwhile by another build's pruning
                continue
    folders.sort(reverse=True)
    removed = []
    for written, folder in reversed(folders[keep:]):
        if now - written < QUIET_SECONDS:
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    return removed
