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

    @property
    def tmp_dir(self) -> Path:
        """Scratch space beside the warehouse (transcoded CSVs, staging of releases)."""
        return self.warehouse.parent / "tmp"

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
            GONGKAI_DBT_TARGET=self.dbt_target,
            GONGKAI_SPARK_DIR=str(self.spark_work_dir),
            GONGKAI_SPARK_EXCHANGE_URI=self.spark_exchange_location(),
        )
        return env


def _path_from_env(name: str, default: "Path | None") -> "Path | None":
    value = os.environ.get(name, "").strip()
    return Path(value).expanduser().resolve() if value else default


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
        dbt_target=os.environ.get("GONGKAI_DBT_TARGET", "").strip() or "local",
        spark_dir=_path_from_env("GONGKAI_SPARK_DIR", None),
        spark_exchange_uri=os.environ.get("GONGKAI_SPARK_EXCHANGE_URI", "").strip(),
    )
