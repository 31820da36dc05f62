"""The summary ``make run`` ends with: what became of the files, the findings, and whether it published.

Read after the run from the warehouse (``raw.load_files``, ``raw.load_rejects``, ``quality.*``), the output
root (``LATEST``, the release's ``manifest.json``) and, when the run failed, Dagster's event log for the
one-line cause. Per family: files loaded / unchanged / rejected / retired (first reasons shown), rows
rejected — of those read in this run, how many were new or changed bytes and how many the same bytes read again
because the readers changed (``ingest/reread.py``); findings by severity with new and resolved since the previous quality run; quarantined
records; the release id and where the report is.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from dagster_project.ingest.framework import FAMILIES
from dagster_project.paths import Settings

SEVERITIES = ("failure", "warning", "red_flag", "info")
SEVERITY_LABELS = {"failure": "违规 failure", "warning": "警告 warning", "red_flag": "风险 red flag", "info": "提示 info"}
FIRST_REASONS = 3


@dataclass
class FamilySummary:
    family: str
    loaded: int = 0  # read in this run and loaded
    unchanged: int = 0
    rejected: int = 0
    rejected_now: int = 0  # of them, rejected in this run
    loaded_reread: int = 0  # of the loaded, the same bytes read again because the readers changed
    rejected_reread: int = 0  # of the rejected in this run, likewise
    retired: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    reasons: list[str] = field(default_factory=list)


@dataclass
class RunSummary:
    families: list[FamilySummary]
    findings: dict[str, tuple[int, int, int]]  # severity -> (open, new, resolved)
    integrity: str
    quarantined: dict
    release_id: str | None
    release_is_new: bool
    report: Path | None
    published: bool
    cause: str | None = None

    def lines(self) -> list[str]:
        out = ["", "══ gongkai 运行摘要 run summary " + "═" * 48]
        cells = [(f, f"{f.loaded}" + (f" ({REREAD} {f.loaded_reread})" if f.loaded_reread else ""),
                  f"{f.rejected}" + (f" ({_this_run(f.rejected_now - f.rejected_reread, f.rejected_reread)})"
                                     if f.rejected_now else "")) for f in self.families]
        wl = max([12] + [len(c[1]) + 2 for c in cells])  # the annotated counts widen their column
        wr = max([14] + [len(c[2]) + 2 for c in cells])
        out.append(f"{'数据族 family':<16}{'装载 loaded':>{wl}}{'未变 unchanged':>15}{'拒收 rejected':>{wr}}"
                   f"{'退役 retired':>13}{'拒收行 rows rejected':>21}")
        for f, loaded, rejected in cells:
            out.append(f"{f.family:<16}{loaded:>{wl}}{f.unchanged:>15}{rejected:>{wr}}{f.retired:>13}{f.rows_rejected:>21}")
            for reason in f.reasons:
                out.append(f"    ✗ {reason}")
        if any(f.rejected_now or f.loaded_reread for f in self.families):
            out.append(f"    括号内为本次运行读取的文件 in brackets, the files read in this run: {NEW} = 新文件或字节已变")
            out.append(f"    new or changed bytes; {REREAD} = 字节未变, 读取程序更新后重新读取 the same bytes read again by"
                       " changed readers")
        if self.findings:
            parts = []
            for sev in SEVERITIES:
                if sev in self.findings:
                    n, new, resolved = self.findings[sev]
                    parts.append(f"{SEVERITY_LABELS[sev]} {n} (新 new {new}, 已解决 resolved {resolved})")
            out.append("核查发现 findings: " + " · ".join(parts))
        else:
            out.append("核查发现 findings: 尚无质量运行 no quality run yet")
        out.append(f"管道完整性 integrity: {self.integrity}")
        if self.quarantined:
            parts = [f"{name} {_count(info)}" for name, info in self.quarantined.items()]
            out.append("未纳入发布的记录 records left out (kept in the warehouse, see findings QUAR_*): " + ", ".join(parts))
        if self.release_id:
            state = "新发布 published" if self.release_is_new else "未变化, 仍为当前版本 unchanged, still current"
            out.append(f"开放数据 release: {self.release_id} ({state})")
        else:
            out.append("开放数据 release: 无 none")
        if self.report:
            out.append(f"质量报告 report: {self.report}")
        if self.published:
            out.append("结果 result: 已发布 published (publishers' defects are findings, not failures)")
        else:
            out.append(f"结果 result: 未发布 NOT published — {self.cause or '见上方日志 see the log above'}")
        out.append("═" * 80)
        return out


NEW, REREAD = "新 new", "重读 re-read"


def _this_run(new: int, reread: int) -> str:
    return ", ".join(f"{label} {n}" for label, n in ((NEW, new), (REREAD, reread)) if n)


def _count(info) -> int:
    """Rows of a manifest ``quarantined`` entry: {"rows": n, …} for datasets, {reason: n} for OCDS."""
    if isinstance(info, dict):
        return int(info["rows"]) if "rows" in info else sum(int(v) for v in info.values() if isinstance(v, int))
    return int(info)


def _families(con: duckdb.DuckDBPyConnection, since: dt.datetime | None) -> list[FamilySummary]:
    since = since or dt.datetime.min
    # a file read in this run whose previous load had the same bytes was read again because the readers changed
    rows = con.execute(
        """select family, source_file, status, reason, rows_loaded, rows_rejected, loaded_at, retired_at,
                  coalesce(source_sha256 = previous_sha256, false) as reread
           from (select *, lag(source_sha256) over (partition by source_file order by loaded_at, load_id) as previous_sha256
                 from raw.load_files)
           where is_current""").fetchall()
    by_family = {f: FamilySummary(f) for f in FAMILIES}
    for family, rel, status, reason, rows_loaded, rows_rejected, loaded_at, retired_at, reread in sorted(
            rows, key=lambda r: r[1]):
        s = by_family.setdefault(family, FamilySummary(family))
        if status == "retired":
            if retired_at is not None and retired_at >= since:
                s.retired += 1
            continue
        fresh = loaded_at >= since
        if status == "rejected":
            s.rejected += 1
            s.rejected_now += int(fresh)
            s.rejected_reread += int(fresh and reread)
            if len(s.reasons) < FIRST_REASONS:
                s.reasons.append(f"{rel}: {(reason or '').splitlines()[0][:160]}")
        elif fresh:
            s.loaded += 1
            s.loaded_reread += int(reread)
        else:
            s.unchanged += 1
        s.rows_loaded += int(rows_loaded or 0)
        s.rows_rejected += int(rows_rejected or 0)
    return list(by_family.values())


def _findings(con: duckdb.DuckDBPyConnection) -> tuple[dict[str, tuple[int, int, int]], str]:
    from dagster_project.quality import store

    tables = store.existing_tables(con)
    if "quality.runs" not in tables:
        return {}, "未运行 not run"
    latest = con.execute("select run_id from quality.runs order by started_at desc limit 1").fetchone()
    if latest is None:
        return {}, "未运行 not run"
    run_id = latest[0]
    change = store.change_since_previous(con, run_id)
    severity = dict(con.execute(
        "select finding_key, any_value(severity) from quality.findings where kind = 'compliance' group by 1").fetchall())
    now = dict(con.execute(
        "select severity, count(distinct finding_key) from quality.findings where run_id = ? and kind = 'compliance' "
        "group by 1", [run_id]).fetchall())
    new, resolved = {}, {}
    for key in change.new:
        new[severity.get(key)] = new.get(severity.get(key), 0) + 1
    for key in change.fixed:
        resolved[severity.get(key)] = resolved.get(severity.get(key), 0) + 1
    counts = {sev: (int(now.get(sev, 0)), new.get(sev, 0), resolved.get(sev, 0))
              for sev in SEVERITIES if now.get(sev) or new.get(sev) or resolved.get(sev)}
    bad = con.execute(
        "select count(*) filter (where status not in ('passed', 'insufficient_data')), count(*) "
        "from quality.check_runs where run_id = ? and kind = 'integrity'", [run_id]).fetchone()
    integrity = (f"{bad[1]} 项全部通过 all passed" if not bad[0]
                 else f"{bad[0]}/{bad[1]} 项未通过 failed: 发布被阻止 publication blocked")
    return counts, integrity


def summarise(settings: Settings, since: dt.datetime | None, previous_release: str | None,
              run_ok: bool, cause: str | None = None) -> RunSummary:
    from dagster_project.publish import atomic

    root = settings.out_dir / "open-data"
    release_id = atomic.read_pointer(root)
    quarantined: dict = {}
    if release_id and (root / release_id / "manifest.json").exists():
        manifest = json.loads((root / release_id / "manifest.json").read_text(encoding="utf-8"))
        quarantined = manifest.get("quarantined") or {}
    report = settings.out_dir / "quality" / "index.html"
    families: list[FamilySummary] = []
    findings: dict = {}
    integrity = "未运行 not run"
    if settings.warehouse.exists():
        con = duckdb.connect(str(settings.warehouse), read_only=True)
        try:
            tables = {r[0] for r in con.execute(
                "select table_schema || '.' || table_name from information_schema.tables").fetchall()}
            if "raw.load_files" in tables:
                families = _families(con, since)
            findings, integrity = _findings(con)
        finally:
            con.close()
    published = run_ok and release_id is not None
    if run_ok and release_id is None:
        cause = cause or "没有生成开放数据版本 no release was built"
    return RunSummary(families, findings, integrity, quarantined, release_id,
                      release_is_new=release_id is not None and release_id != previous_release,
                      report=report if report.exists() else None, published=published, cause=cause)


def _one_line(message: str) -> str:
    text = " ".join(message.split())
    # Dagster prefixes the exception's class (``dagster._core.errors.DagsterAssetCheckFailedError: …``,
    # ``dagster._core.definitions.events.Failure: …``): the words after it are the cause
    return re.sub(r"^(?:[A-Za-z_]\w*\.)*\w*(?:Error|Failure|Exception): ", "", text)


def failure_cause(dagster_home: Path, job_name: str, since: dt.datetime | None) -> str | None:
    """The first error of the latest run of ``job_name``, on one line (and how many other steps failed)."""
    import os

    from dagster import DagsterEventType, DagsterInstance
    from dagster._core.storage.dagster_run import RunsFilter

    previous = os.environ.get("DAGSTER_HOME")
    os.environ["DAGSTER_HOME"] = str(dagster_home)
    try:
        with DagsterInstance.get() as instance:
            runs = instance.get_runs(filters=RunsFilter(job_name=job_name), limit=1)
            if not runs:
                return None
            causes: list[tuple[str, str]] = []
            for event_type in (DagsterEventType.STEP_FAILURE, DagsterEventType.RUN_FAILURE):
                for record in instance.all_logs(runs[0].run_id, of_type=event_type):
                    event = record.dagster_event
                    error = getattr(event.event_specific_data, "error", None) if event else None
                    message = (getattr(error, "message", None) or (event.message if event else None)
                               or record.user_message or "")
                    if message.strip():
                        causes.append((event.step_key if event and event.step_key else "", _one_line(message)))
    finally:
        if previous is None:
            os.environ.pop("DAGSTER_HOME", None)
        else:
            os.environ["DAGSTER_HOME"] = previous
    if not causes:
        return None
    step, text = causes[0]
    others = sorted({s for s, _ in causes[1:] if s and s != step})
    more = f" (+ {len(others)} more: {', '.join(others)})" if others else ""
    return ((f"[{step}] " if step else "") + text)[:400] + more


__all__ = ["FamilySummary", "RunSummary", "failure_cause", "summarise"]
