"""OCDS 1.1.5 extract: one release per trading bulletin, one record (with a compiled release) per deal.

Rows come from the marts through ``masking.masked_select`` (the one de-identification point), are
fetched from DuckDB in chunks ordered by deal and time, and are written as they come: each release
(and each record) is one line of its package file, so memory stays flat at 10 M bulletins and a
large package can be checked line by line.

Validation is offline: the package schemas refer to the release schema by its canonical URL, which a
``referencing.Registry`` maps to the local file. Packages of at most ``full_validation_max_releases``
releases are validated whole; larger ones get a cheap structural check of every release (JSON
parses, required fields, tag codelist, ocid prefix, unique ids) and a full schema validation of a
sample (see ocds.yaml). Both are documented in docs/OPEN_DATA.md.
"""
from __future__ import annotations

import datetime as _dt
import json
import time
import urllib.parse
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import duckdb
import yaml
from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from dagster_project.paths import REPO_ROOT
from dagster_project.publish import atomic
from dagster_project.publish.masking import MaskingPolicy, masked_select
from dagster_project.publish.warehouse import describe, find_relation, open_read_only

CONFIG_PATH = Path(__file__).with_name("ocds.yaml")
SHARED_SCHEMA_DIR = REPO_ROOT.parent / "shared" / "ocds-1.1.5"
BUNDLED_SCHEMA_DIR = Path(__file__).with_name("ocds_schema")
RELEASE_SCHEMA_URL = "https://standard.open-contracting.org/schema/1__1__5/release-schema.json"
RELEASE_TAGS = frozenset([
    "planning", "planningUpdate", "tender", "tenderAmendment", "tenderUpdate", "tenderCancellation", "award",
    "awardUpdate", "awardCancellation", "contract", "contractUpdate", "contractAmendment", "implementation",
    "implementationUpdate", "contractTermination", "compiled",
])
FETCH_ROWS = 20_000

BULLETIN_COLUMNS = [
    "bulletin_key", "deal_key", "bulletin_type_code", "bulletin_type", "trade_area", "notice_name",
    "notice_send_time", "tenderer_name", "tenderer_code", "tender_agency_name", "tender_agency_code",
    "budget_amount_yuan", "bid_amount_yuan", "win_bidder_name", "win_bidder_code", "bidder_count", "url",
]
DEAL_COLUMNS = [
    "deal_key", "project_code", "doc_get_start_at", "bid_deadline_at", "contract_signed_at",
    "budget_amount_yuan", "bidder_count",
]


def load_config(path: Path = CONFIG_PATH) -> dict:
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def schema_dir(setting: str | Path | None = None) -> Path:
    """The OCDS schema folder: the setting, else ``<repo>/../shared/ocds-1.1.5``, else the bundled copy."""
    for candidate in (Path(setting) if setting else None, SHARED_SCHEMA_DIR, BUNDLED_SCHEMA_DIR):
        if candidate is not None and (candidate / "release-schema.json").exists():
            return candidate
    raise FileNotFoundError("OCDS 1.1.5 schema not found (setting, ../shared/ocds-1.1.5, bundled copy)")


@dataclass
class OcdsValidators:
    release_package: Draft4Validator
    record_package: Draft4Validator
    release: Draft4Validator


def validators(folder: Path | None = None) -> OcdsValidators:
    folder = schema_dir(folder)
    load = lambda name: json.loads((folder / name).read_text(encoding="utf-8"))  # noqa: E731
    release_schema = load("release-schema.json")
    registry = Registry().with_resource(RELEASE_SCHEMA_URL, Resource.from_contents(release_schema, default_specification=DRAFT4))
    return OcdsValidators(
        release_package=Draft4Validator(load("release-package-schema.json"), registry=registry),
        record_package=Draft4Validator(load("record-package-schema.json"), registry=registry),
        release=Draft4Validator(release_schema, registry=registry),
    )


# ---------------------------------------------------------------------------------- building releases

def _iso(value, tz: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, _dt.datetime):
        return value.replace(microsecond=0).isoformat() + (tz if value.tzinfo is None else "")
    if isinstance(value, _dt.date):
        return f"{value.isoformat()}T00:00:00{tz}"
    return str(value)


def _amount(value, currency: str) -> dict | None:
    if value is None:
        return None
    return {"amount": float(value) if isinstance(value, Decimal) else value, "currency": currency}


def _party(name: str | None, code: str | None, roles: list[str], scheme: str) -> dict | None:
    if not name and not code:
        return None
    party: dict = {"id": f"{scheme}-{code}" if code else f"name-{name}", "roles": roles}
    if name:
        party["name"] = name
    if code:
        party["identifier"] = {"scheme": scheme, "id": code}
        if name:
            party["identifier"]["legalName"] = name
    return party


def _drop_empty(obj):
    if isinstance(obj, dict):
        cleaned = {k: _drop_empty(v) for k, v in obj.items()}
        return {k: v for k, v in cleaned.items() if v not in (None, {}, [], "")}
    if isinstance(obj, list):
        return [x for x in (_drop_empty(v) for v in obj) if x not in (None, {}, [], "")]
    return obj


def bulletin_release(row: dict, cfg: dict) -> dict:
    """One OCDS release for one (masked) bulletin row joined with its deal."""
    tz, cur, scheme = cfg["timezone"], cfg["currency"], cfg["party_scheme"]
    types = cfg["bulletin_types"]
    kind = types.get(row.get("bulletin_type") or "") or types.get(row.get("bulletin_type_code") or "") \
        or cfg["default_bulletin_type"]
    tag = kind["tag"]
    deal_key = row["deal_key"]
    buyer = _party(row.get("tenderer_name"), row.get("tenderer_code"), ["buyer"], scheme)
    agency = _party(row.get("tender_agency_name"), row.get("tender_agency_code"), ["procuringEntity"], scheme)
    winner = None
    if tag in {"award", "contract", "implementation"}:
        winner = _party(row.get("win_bidder_name"), row.get("win_bidder_code"), ["supplier", "tenderer"], scheme)
    release: dict = {
        "ocid": cfg["ocid_prefix"] + deal_key,
        "id": row["bulletin_key"],
        "date": _iso(row.get("notice_send_time"), tz),
        "tag": [tag],
        "initiationType": "tender",
        "language": "zh",
        "parties": [p for p in (buyer, agency, winner) if p],
        "buyer": {"id": buyer["id"], "name": buyer.get("name")} if buyer else None,
        "tender": {
            "id": deal_key,
            "title": row.get("notice_name") if tag == "tender" else None,
            "value": _amount(row.get("deal_budget_amount_yuan") or row.get("budget_amount_yuan"), cur),
            "tenderPeriod": {"startDate": _iso(row.get("doc_get_start_at"), tz),
                             "endDate": _iso(row.get("bid_deadline_at"), tz)},
            "numberOfTenderers": row.get("bidder_count") if row.get("bidder_count") is not None
            else row.get("deal_bidder_count"),
            "procuringEntity": {"id": agency["id"], "name": agency.get("name")} if agency else None,
            "mainProcurementCategory": (cfg.get("trade_areas") or {}).get(row.get("trade_area") or ""),
            "status": "cancelled" if tag == "tenderCancellation" else None,
        },
    }
    if tag == "award":
        pending = kind.get("award_status") == "pending"
        release["awards"] = [{
            "id": f"{deal_key}-{'candidates' if pending else 'award'}",
            "title": row.get("notice_name"),
            "status": kind.get("award_status", "active"),
            "date": _iso(row.get("notice_send_time"), tz),
            "value": _amount(row.get("bid_amount_yuan"), cur),
            "suppliers": [{"id": winner["id"], "name": winner.get("name")}] if winner else None,
        }]
    if tag == "contract":
        release["contracts"] = [{
            "id": f"{deal_key}-contract",
            "awardID": f"{deal_key}-award",
            "title": row.get("notice_name"),
            "status": "active",
            "dateSigned": _iso(row.get("contract_signed_at"), tz),
            "value": _amount(row.get("bid_amount_yuan"), cur),
        }]
    if row.get("url"):
        release["tender"]["documents"] = [{"id": f"{row['bulletin_key']}-notice", "documentType": "tenderNotice"
                                            if tag == "tender" else None, "title": row.get("notice_name"),
                                            "url": row["url"], "language": "zh"}]
    return _drop_empty(release)


def merge_release(compiled: dict, release: dict) -> dict:
    """OCDS merge: later values win; arrays of objects with ``id`` merge by id; other arrays replace.

    Values are taken over without copying and may be changed by later merges: callers pass releases
    that are already written (copying cost half the OCDS build time at 400 k releases).
    """
    for key, value in release.items():
        if isinstance(value, dict) and isinstance(compiled.get(key), dict):
            merge_release(compiled[key], value)
        elif isinstance(value, list) and value and all(isinstance(v, dict) and "id" in v for v in value) \
                and isinstance(compiled.get(key), list):
            by_id = {item.get("id"): item for item in compiled[key]}
            for item in value:
                if item["id"] in by_id:
                    merge_release(by_id[item["id"]], item)
                else:
                    compiled[key].append(dict(item))
                    by_id[item["id"]] = compiled[key][-1]
        elif isinstance(value, dict):
            compiled[key] = dict(value)
        elif isinstance(value, list):
            compiled[key] = [dict(v) if isinstance(v, dict) else v for v in value]
        else:
            compiled[key] = value
    return compiled


def _compile(ocid: str, releases: list[dict]) -> dict:
    compiled: dict = {}
    for release in releases:
        merge_release(compiled, release)
    compiled["id"] = f"{ocid}-compiled"
    compiled["tag"] = ["compiled"]
    compiled["date"] = releases[-1]["date"]
    # a party that played several roles across releases keeps all of them
    roles: dict[str, list[str]] = {}
    for release in releases:
        for party in release.get("parties", []):
            for role in party.get("roles", []):
                roles.setdefault(party["id"], [])
                if role not in roles[party["id"]]:
                    roles[party["id"]].append(role)
    compiled["parties"] = [dict(p, roles=roles.get(p["id"], p.get("roles", []))) for p in compiled.get("parties", [])]
    return compiled


class _PackageWriter:
    """Writes packages as: envelope line, one item per line, closing line; rotates files by size."""

    def __init__(self, folder: Path, stem: str, list_key: str, envelope: dict, per_file: int):
        self.folder, self.stem, self.list_key, self.envelope, self.per_file = folder, stem, list_key, envelope, per_file
        self.files: list[str] = []
        self.count_in_file = 0
        self.total = 0
        self._fh = None

    def _open(self) -> None:
        name = f"{self.stem}-{len(self.files) + 1:04d}.json"
        self.files.append(name)
        env = dict(self.envelope, uri=self.envelope["uri"] + name)
        head = json.dumps(env, ensure_ascii=False)[:-1]
        self._fh = open(self.folder / name, "w", encoding="utf-8")
        self._fh.write(head + f', "{self.list_key}": [\n')
        self.count_in_file = 0

    def write(self, item: dict) -> str:
        if self._fh is None or self.count_in_file >= self.per_file:
            self.close()
            self._open()
        elif self.count_in_file:
            self._fh.write(",\n")
        self._fh.write(json.dumps(item, ensure_ascii=False, separators=(",", ":")))
        self.count_in_file += 1
        self.total += 1
        return self.files[-1]

    def close(self) -> None:
        if self._fh is not None:
            self._fh.write("\n]}\n")
            self._fh.close()
            self._fh = None


@dataclass
class OcdsResult:
    path: Path
    releases: int = 0
    records: int = 0
    files: list[str] = field(default_factory=list)
    bytes: int = 0
    validation: str = ""
    seconds: float = 0.0


def ocds_source_sql(con: duckdb.DuckDBPyConnection, policy: MaskingPolicy) -> str | None:
    bulletins = find_relation(con, "fct_trading_bulletins")
    deals = find_relation(con, "fct_deals")
    if bulletins is None:
        return None
    b_types = dict(describe(con, bulletins))
    b_sql = masked_select(bulletins, [(c, b_types[c]) for c in BULLETIN_COLUMNS if c in b_types], policy)
    if deals is None:
        return f"SELECT * FROM ({b_sql}) b ORDER BY deal_key, notice_send_time, bulletin_key"
    d_types = dict(describe(con, deals))
    d_sql = masked_select(deals, [(c, d_types[c]) for c in DEAL_COLUMNS if c in d_types], policy)
    return (
        f"SELECT b.*, d.doc_get_start_at, d.bid_deadline_at, d.contract_signed_at, "
        f"d.budget_amount_yuan AS deal_budget_amount_yuan, d.bidder_count AS deal_bidder_count "
        f"FROM ({b_sql}) b LEFT JOIN ({d_sql}) d USING (deal_key) "
        f"ORDER BY b.deal_key, b.notice_send_time, b.bulletin_key"
    )


def write_ocds(con: duckdb.DuckDBPyConnection, folder: Path, cfg: dict, policy: MaskingPolicy) -> OcdsResult:
    """Stream releases and records of every bulletin into ``folder`` (which must exist)."""
    result = OcdsResult(path=folder)
    sql = ocds_source_sql(con, policy)
    if sql is None:
        return result
    now = _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    common = {"uri": cfg["base_uri"], "version": "1.1", "publishedDate": now, "publisher": cfg["publisher"],
              "license": cfg["license"]}
    rel_writer = _PackageWriter(folder, "release-package", "releases", common, cfg["releases_per_package"])
    rec_writer = _PackageWriter(folder, "record-package", "records", common, cfg["records_per_package"])
    # Every release package file name is known from the count, so each record package can list them.
    bulletin_count = con.execute(f"SELECT count(*) FROM ({sql})").fetchone()[0]
    n_release_files = max(1, -(-bulletin_count // cfg["releases_per_package"]))
    all_packages = [f"{cfg['base_uri']}release-package-{i + 1:04d}.json" for i in range(n_release_files)]
    rec_writer.envelope = dict(common, packages=all_packages)
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    current_ocid, current_releases, links = None, [], []

    def flush_record():
        if current_ocid is None:
            return
        record = {"ocid": current_ocid, "releases": links, "compiledRelease": _compile(current_ocid, current_releases)}
        rec_writer.write(record)

    try:
        while True:
            chunk = cursor.fetchmany(FETCH_ROWS)
            if not chunk:
                break
            for values in chunk:
                release = bulletin_release(dict(zip(names, values)), cfg)
                if release["ocid"] != current_ocid:
                    flush_record()
                    current_ocid, current_releases, links = release["ocid"], [], []
                package_file = rel_writer.write(release)
                current_releases.append(release)
                links.append({"url": cfg["base_uri"] + package_file + "#" + urllib.parse.quote(release["id"], safe=""),
                              "date": release["date"], "tag": release["tag"]})
        flush_record()
    finally:
        rel_writer.close()
        rec_writer.close()
    result.releases, result.records = rel_writer.total, rec_writer.total
    result.files = rel_writer.files + rec_writer.files
    result.bytes = sum((folder / f).stat().st_size for f in result.files)
    return result


# ---------------------------------------------------------------------------------------- validation

def _errors(validator: Draft4Validator, instance, where: str, limit: int = 5) -> list[str]:
    out = []
    for err in validator.iter_errors(instance):
        out.append(f"{where}: {'/'.join(map(str, err.absolute_path))}: {err.message[:200]}")
        if len(out) >= limit:
            break
    return out


def validate_package_file(path: Path, v: OcdsValidators, cfg: dict) -> list[str]:
    """Problems in one package file written by ``_PackageWriter`` (empty list = valid)."""
    is_record = path.name.startswith("record-package")
    package_validator = v.record_package if is_record else v.release_package
    list_key = "records" if is_record else "releases"
    with open(path, encoding="utf-8") as fh:
        head = fh.readline()
        items_count = sum(1 for _ in fh) - 1
    if items_count <= cfg["full_validation_max_releases"]:
        return _errors(package_validator, json.loads(path.read_text(encoding="utf-8")), path.name)
    problems: list[str] = []
    envelope = json.loads(head + "]}")
    seen_ids: set[str] = set()
    with open(path, encoding="utf-8") as fh:
        fh.readline()
        for i, line in enumerate(fh):
            line = line.rstrip("\n").rstrip(",")
            if line == "]}":
                break
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                problems.append(f"{path.name} line {i + 2}: not JSON ({exc})")
                continue
            release = item.get("compiledRelease", item) if is_record else item
            key = item.get("ocid") if is_record else (release.get("ocid"), release.get("id"))
            if key in seen_ids:
                problems.append(f"{path.name} line {i + 2}: duplicate {key}")
            seen_ids.add(key)
            for required in ("ocid", "id", "date", "tag", "initiationType"):
                if not release.get(required):
                    problems.append(f"{path.name} line {i + 2}: missing {required}")
            if not set(release.get("tag") or []) <= RELEASE_TAGS:
                problems.append(f"{path.name} line {i + 2}: tag {release.get('tag')} not in the codelist")
            if not str(release.get("ocid", "")).startswith(cfg["ocid_prefix"]):
                problems.append(f"{path.name} line {i + 2}: ocid without prefix {cfg['ocid_prefix']}")
            if i == 0:
                problems += _errors(package_validator, dict(envelope, **{list_key: [item]}), path.name)
            elif i < cfg["sample_head"] or i % cfg["sample_every"] == 0:
                problems += _errors(v.release, release, f"{path.name} line {i + 2}")
            if len(problems) > 50:
                break
    return problems


def validate_ocds_folder(folder: Path, schema_setting: str | Path | None = None, cfg: dict | None = None) -> list[str]:
    cfg = cfg or load_config()
    v = validators(schema_setting)
    problems: list[str] = []
    for path in sorted(folder.glob("*-package-*.json")):
        problems += validate_package_file(path, v, cfg)
    return problems


def build_ocds(
    warehouse: Path, out_dir: Path, *, schema_setting: str | Path | None = None, fail_at: str | None = None,
) -> OcdsResult:
    """Build, validate and atomically publish the OCDS packages under ``<out_dir>/ocds/<build-id>/``."""
    from dagster_project.publish.release import load_spec, new_release_id

    started = time.monotonic()
    cfg = load_config()
    policy = MaskingPolicy.from_spec(load_spec().get("masking") or {})
    root = out_dir / "ocds"
    atomic.remove_stale_staging(root)
    build_id = new_release_id()
    staging = atomic.new_staging_dir(root, build_id)
    try:
        con = open_read_only(warehouse)
        try:
            result = write_ocds(con, staging, cfg, policy)
        finally:
            con.close()
        problems = validate_ocds_folder(staging, schema_setting, cfg)
        if problems:
            raise ValueError(f"OCDS 校验失败 OCDS packages invalid: {problems[:10]}")
        if fail_at == "after_validation":
            raise atomic.InjectedFailure("injected failure at after_validation")
        result.validation = "valid"
        result.path = atomic.promote(staging, root, build_id)
    except BaseException:
        import shutil

        shutil.rmtree(staging, ignore_errors=True)
        raise
    result.seconds = round(time.monotonic() - started, 2)
    return result
