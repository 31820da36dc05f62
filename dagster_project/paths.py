"""The one module that owns file locations and reads the environment.

Every other module asks this one; nothing else reads ``os.environ`` for paths.
Defaults make ``make run`` / ``make test`` work on a clean checkout with no variables set.
"""
from __future__ import annotations

import datetime as _dt
import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt"
DBT_SEEDS_DIR = DBT_PROJECT_DIR / "seeds"
EXPECTATIONS_DIR = REPO_ROOT / "expectations"
INGEST_SPECS_DIR = Path(__file__).resolve().parent / "ingest" / "specs"


# OCDS identifiers (docs/OPEN_DATA.md "OCDS identifiers and links"). An ocid is this prefix + the deal key;
# a publisher registers its own prefix (``ocds-`` + 6 characters) with the OCDS helpdesk and sets
# GONGKAI_OCDS_OCID_PREFIX. The default is gongkai's own, unregistered, Ningxia-scoped one.
DEFAULT_OCDS_OCID_PREFIX = "ocds-gongkai-640000-"
TRUE_WORDS = frozenset({"1", "true", "yes", "on", "y"})
FALSE_WORDS = frozenset({"", "0", "false", "no", "off", "n"})
DEFAULT_RETIRE_MAX_DROP = 0.5


class SettingError(ValueError):
    """A GONGKAI_* variable holds a value gongkai cannot use (the message names it)."""


@dataclass(frozen=True)
class Settings:
    raw_dir: Path
    warehouse: Path
    out_dir: Path
    as_of: _dt.date
    ocds_ocid_prefix: str = DEFAULT_OCDS_OCID_PREFIX
    # URL under which <out>/ocds/ is published (package uris and record links are <this><build-id>/<file>);
    # blank: the file: URI of <out>/ocds/ itself, so links resolve to the files that were written.
    ocds_base_uri: str = ""
    # The dbt target (dbt/profiles.yml): `local` = DuckDB (default); `spark_ci` = a Spark session in the dbt
    # process; `spark` = a Spark cluster's Thrift server. README "Scaling out".
    dbt_target: str = "local"
    # Spark's folder on this machine: the Parquet exchange of raw tables (`exchange/`) and, for `spark_ci`,
    # the tables dbt builds (`warehouse/`). Blank: `spark/` beside the warehouse.
    spark_dir: "Path | None" = None
    # Where Spark's executors read the exchange folder (hdfs://, s3a://, a shared mount); blank: its file: URI.
    spark_exchange_uri: str = ""

    @property
    def is_spark(self) -> bool:
        return self.dbt_target.startswith("spark")

    @property
    def spark_work_dir(self) -> Path:
        return self.spark_dir or self.warehouse.parent / "spark"

    @property
    def spark_exchange_dir(self) -> Path:
        """The folder the raw tables are exported to as Parquet, one folder per table."""
        return self.spark_work_dir / "exchange"

    def spark_exchange_location(self) -> str:
        """The exchange folder as Spark's executors see it (no trailing slash)."""
        return (self.spark_exchange_uri or self.spark_exchange_dir.as_uri()).rstrip("/")

    def ocds_base(self, out_dir: Path | None = None) -> str:
        """The URL of the ``ocds/`` folder of the output root, ending in ``/``."""
        base = self.ocds_base_uri or (Path(out_dir or self.out_dir) / "ocds").as_uri()
        return base if base.endswith("/") else base + "/"
    # Retire vanished files even when a family would lose every file or more than
    # ``retire_max_drop`` of its rows (a mistyped or half-mounted raw root otherwise stops the run).
    allow_retire: bool = False
    retire_max_drop: float = DEFAULT_RETIRE_MAX_DROP
    # Rebuild every incremental dbt model from the raw rows (dbt build --full-refresh) instead of only the
    # partitions the loads touched. Dagster also does so by itself when the dbt code or seeds changed.
    dbt_full_refresh: bool = False
    # dbt invocation folders (dbt/target/<op>-<run>-<uuid>) kept after a build; older ones are removed
    # (transform/invocation_folders.py).
    dbt_invocations_kept: int = 10

    @property
    def tmp_dir(self) -> Path:
        """Scratch space beside the warehouse (transcoded CSVs, staging of releases)."""
        return self.warehouse.parent / "tmp"

    @property
    def parse_cache_dir(self) -> Path:
        """Parses of budget/debt files by SHA-256 (GONGKAI_PARSE_CACHE; default beside the warehouse). Keyed by
        content and parser version, so several warehouses on one machine may share one."""
        value = os.environ.get("GONGKAI_PARSE_CACHE", "").strip()
        return Path(value).expanduser().resolve() if value else self.tmp_dir / "parse_cache"

    def env_for_subprocess(self) -> dict[str, str]:
        """Environment handed to dbt and other child processes so they see the same paths."""
        env = dict(os.environ)
        env.update(
            GONGKAI_RAW_DIR=str(self.raw_dir),
            GONGKAI_WAREHOUSE=str(self.warehouse),
            GONGKAI_OUT_DIR=str(self.out_dir),
            GONGKAI_AS_OF=self.as_of.isoformat(),
            GONGKAI_OCDS_OCID_PREFIX=self.ocds_ocid_prefix,
            GONGKAI_OCDS_BASE_URI=self.ocds_base_uri,
            GONGKAI_ALLOW_RETIRE="1" if self.allow_retire else "0",
            GONGKAI_RETIRE_MAX_DROP=str(self.retire_max_drop),
            GONGKAI_DBT_FULL_REFRESH="1" if self.dbt_full_refresh else "0",
            GONGKAI_DBT_TARGET=self.dbt_target,
            GONGKAI_SPARK_DIR=str(self.spark_work_dir),
            GONGKAI_SPARK_EXCHANGE_URI=self.spark_exchange_location(),
        )
        return env


def _path_from_env(name: str, default: "Path | None") -> "Path | None":
    value = os.environ.get(name, "").strip()
    return Path(value).expanduser().resolve() if value else default


def _flag_from_env(name: str) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    raise SettingError(f"{name}={value!r}: 应为 1/0 expected 1 or 0 (true/false, yes/no)")


def _share_from_env(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        share = float(value.rstrip("%")) / (100 if value.endswith("%") else 1)
    except ValueError:
        share = -1.0
    if not 0 <= share <= 1:
        raise SettingError(f"{name}={value!r}: 应为 0 到 1 之间的比例 expected a share between 0 and 1 (e.g. 0.5 or 50%)")
    return share


def _count_from_env(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit() or int(value) < 1:
        raise SettingError(f"{name}={value!r}: 应为正整数 expected a whole number of at least 1")
    return int(value)


def settings() -> Settings:
    """Read the current settings (re-read on each call so tests can point at temp dirs)."""
    as_of_text = os.environ.get("GONGKAI_AS_OF", "").strip()
    as_of = _dt.date.fromisoformat(as_of_text) if as_of_text else _dt.date.today()
    return Settings(
        raw_dir=_path_from_env("GONGKAI_RAW_DIR", REPO_ROOT / "data" / "raw"),
        warehouse=_path_from_env("GONGKAI_WAREHOUSE", REPO_ROOT / "data" / "gongkai.duckdb"),
        out_dir=_path_from_env("GONGKAI_OUT_DIR", REPO_ROOT / "data" / "out"),
        as_of=as_of,
        ocds_ocid_prefix=os.environ.get("GONGKAI_OCDS_OCID_PREFIX", "").strip() or DEFAULT_OCDS_OCID_PREFIX,
        ocds_base_uri=os.environ.get("GONGKAI_OCDS_BASE_URI", "").strip(),
        allow_retire=_flag_from_env("GONGKAI_ALLOW_RETIRE"),
        retire_max_drop=_share_from_env("GONGKAI_RETIRE_MAX_DROP", DEFAULT_RETIRE_MAX_DROP),
        dbt_full_refresh=_flag_from_env("GONGKAI_DBT_FULL_REFRESH"),
        dbt_invocations_kept=_count_from_env("GONGKAI_DBT_INVOCATIONS_KEPT", 10),
        dbt_target=os.environ.get("GONGKAI_DBT_TARGET", "").strip() or "local",
        spark_dir=_path_from_env("GONGKAI_SPARK_DIR", None),
        spark_exchange_uri=os.environ.get("GONGKAI_SPARK_EXCHANGE_URI", "").strip(),
    )


def carrying_disabled() -> bool:
    """``GONGKAI_NO_CARRY=1``: the stages after dbt do all their work — every GX suite runs, every OCDS and release
    part and every dashboard page is written — whatever their inputs' fingerprints say. What a carried run must
    equal is measured against this."""
    return _flag_from_env("GONGKAI_NO_CARRY")


def dbt_unit_tests_in_whole_builds() -> bool:
    """``GONGKAI_DBT_UNIT_TESTS=0``: a whole (or full-refresh) build leaves dbt's unit tests out. They test the dbt
    code with fixed inputs, not the data, so one run of them per code version says all they can; the test suite runs
    them in its sample build and on Spark and turns them off in its other pipeline runs (≈ 8 s of each whole build).
    Selected builds never run them (``selection.BuildPlan.exclude_args``)."""
    value = os.environ.get("GONGKAI_DBT_UNIT_TESTS", "").strip()
    return True if not value else _flag_from_env("GONGKAI_DBT_UNIT_TESTS")


def dagster_instance_dir() -> "Path | None":
    """``DAGSTER_HOME``: the local Dagster instance's folder (None when unset)."""
    return _path_from_env("DAGSTER_HOME", None)


def dagster_sync_full() -> bool:
    """``GONGKAI_DAGSTER_SYNC=full``: Dagster's SQLite storage keeps SQLite's default disk sync on every commit
    (``dagster_storage.py``)."""
    return os.environ.get("GONGKAI_DAGSTER_SYNC", "").strip().lower() == "full"
