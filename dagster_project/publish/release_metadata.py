"""What a release says about itself: ``datapackage.json``, ``manifest.json``, ``dcat.jsonld`` and the hash
and size of every resource they list.

``release.py`` decides what a release holds (new or carried parts, OCDS packages) and calls these to describe
it; the files themselves are written by ``release_datasets.py``.
"""
from __future__ import annotations

import hashlib
import json
import subprocess
from importlib import metadata
from pathlib import Path

import duckdb

from dagster_project.paths import REPO_ROOT
from dagster_project.publish.release_datasets import DatasetOutput, PartOutput
from dagster_project.publish.release_validation import sha256_file
from dagster_project.publish.warehouse import find_relation

MASKING_NOTE = ("PM_CODE 前6后4 first 6 + last 4; 文本中身份证号/银行卡号 前6后4, 手机号 前3后4 "
                "ID/card numbers in text first 6 + last 4, mobiles first 3 + last 4")


def pipeline_version() -> dict[str, str | None]:
    try:
        version = metadata.version("gongkai")
    except metadata.PackageNotFoundError:
        version = None
    try:
        commit = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10
        ).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        commit = None
    return {"name": "gongkai", "version": version, "git_commit": commit}


def source_files(con: duckdb.DuckDBPyConnection) -> list[dict]:
    rel = find_relation(con, "load_files", schema="raw")
    if rel is None:
        return []
    rows = con.execute(
        f"SELECT source_file, family, source_sha256, bytes, status, CAST(loaded_at AS VARCHAR) "
        f"FROM {rel} WHERE is_current ORDER BY source_file"
    ).fetchall()
    keys = ("source_file", "family", "sha256", "bytes", "status", "loaded_at")
    return [dict(zip(keys, r)) for r in rows]


# Files hashed at once by add_hash_and_bytes (hashlib releases the GIL: two cores read two files).
HASH_WORKERS = 2


def add_hash_and_bytes(staging: Path, resources: list[dict], known: dict[str, str] | None = None) -> dict[str, str]:
    """Hash and size of every resource; returns the sha256 by relative path for SHA256SUMS.
    ``known``: digests already verified in this build (carried parts), not read again. The others are read
    ``HASH_WORKERS`` at a time (the same digests, set in resource order)."""
    from concurrent.futures import ThreadPoolExecutor

    known = known or {}
    to_read = list(dict.fromkeys(r["path"] for r in resources if r["path"] not in known))
    with ThreadPoolExecutor(max_workers=HASH_WORKERS) as pool:
        read = dict(zip(to_read, pool.map(lambda rel: sha256_file(staging / rel), to_read)))
    hashes = {}
    for res in resources:
        digest = known.get(res["path"]) or read[res["path"]]
        hashes[res["path"]] = digest
        res["hash"] = "sha256:" + digest
        res["bytes"] = (staging / res["path"]).stat().st_size
    return hashes


def datapackage(spec: dict, release_id: str, now: str, resources: list[dict], coverage) -> dict:
    """``datapackage.json`` (Frictionless Data Package v2) of the release's ``resources``."""
    rel = spec["release"]
    package = {
        "$schema": "https://datapackage.org/profiles/2.0/datapackage.json",
        "name": rel["name"], "id": f"{rel['name']}/{release_id}", "version": release_id,
        "title": f"{rel['title_zh']} {rel['title_en']}",
        "description": f"{rel['description_zh']}\n\n{rel['description_en']}",
        "licenses": [rel["licence"]], "sources": rel.get("sources", []), "keywords": rel.get("keywords", []),
        "contributors": [{"title": rel["publisher"]["name"], "path": rel["publisher"].get("url"), "roles": ["publisher"]}],
        "created": now,
        "temporal": {"start": f"{coverage[0]}-01-01", "end": f"{coverage[1]}-12-31"} if coverage[0] is not None else None,
        "resources": resources,
    }
    return {k: v for k, v in package.items() if v is not None}


# What a release says that is not its content: its own id and times, the run, the pipeline that wrote it (a readers fix
# is a new commit: re-reading the same bytes with it must not make a release of the same data), how each part came to be
# (written or carried) and when the sources were loaded (a re-read loads the same bytes again).
CONTENT_MANIFEST_KEYS = ("coverage_years", "skipped_datasets", "xlsx_not_written", "quarantined", "ocds", "masking")


def content_digest(package: dict, manifest: dict, release_id: str, now: str,
                   content_parts: dict[str, dict[str, str]] | None = None,
                   file_contents: dict[str, str] | None = None) -> str:
    """The release's content, by digest: every resource with its hash and description (``datapackage.json`` with the
    release's id and time taken out), what was left out or quarantined, and the sources by name, status and SHA-256.
    Two releases with one digest publish the same thing (``release.build_release(skip_identical=True)``).
    ``content_parts``: datasets compared by their parts' content less bookkeeping columns (datasets.yaml
    ``content_ignores``), not by their files' hashes. ``file_contents``: files compared by a content digest, not by
    their hash (the OCDS packages, by ``ocds_packages.content_digest``: without the envelope's ``publishedDate`` and
    build folder, which a rebuild of the same records changes)."""
    content_parts = content_parts or {}
    file_contents = file_contents or {}

    def resource(r: dict) -> dict:
        name = r["path"].split("/")[1] if r["path"].startswith("data/") else None
        by_content = name in content_parts or r["path"] in file_contents
        return {k: v for k, v in r.items() if k not in ("hash", "bytes")} if by_content else r
    # resources by path: a carried part lists its workbook beside its CSV, a written one after all CSVs — same content
    package = {**package, "resources": sorted((resource(r) for r in package.get("resources") or []),
                                              key=lambda r: r["path"]), "content_parts": content_parts,
               **({"content_files": dict(sorted(file_contents.items()))} if file_contents else {})}
    described = json.dumps(package, sort_keys=True, ensure_ascii=False).replace(release_id, "<release>") \
        .replace(now, "<now>")
    said = {k: manifest.get(k) for k in CONTENT_MANIFEST_KEYS}
    said["source_files"] = [{k: v for k, v in src.items() if k != "loaded_at"}
                            for src in manifest.get("source_files") or []]
    text = described + "\n" + json.dumps(said, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def part_record(p: PartOutput) -> dict:
    record = {"status": p.status, "built_in": p.built_in, "rows": p.rows, "fingerprint": p.fingerprint,
              "coverage_years": {"from": p.year_from, "to": p.year_to}, "files": p.files}
    if p.quarantined:
        record["quarantined"] = p.quarantined
    if p.content_fingerprint:
        record["content_fingerprint"] = p.content_fingerprint
    if p.reason:
        record["rebuilt_because"] = p.reason
    return record


def manifest(*, release_id: str, run_id: str | None, issued: str, now: str, coverage,
             fiscal_years: set[int] | None, previous_release: str | None, parts_new: list[str],
             parts_carried: list[str], datasets: dict[str, DatasetOutput], skipped: list[str],
             xlsx_skipped: dict[str, str], ocds_quarantine: dict | None, ocds_files: list[str],
             ocds_record: dict | None, sources: list[dict]) -> dict:
    """``manifest.json``: what the release holds and where it came from (CONTRACTS §9)."""
    return {
        "release_id": release_id, "run_id": run_id, "issued": issued, "modified": now,
        "pipeline": pipeline_version(),
        "coverage_years": {"from": coverage[0], "to": coverage[1]},
        # publication by fiscal year (parts.py): which parts this release wrote and which it carried
        "fiscal_years_requested": sorted(fiscal_years) if fiscal_years is not None else None,
        "previous_release": previous_release,
        "parts": {"new": parts_new, "carried": parts_carried},
        "datasets": {
            name: {"rows": d.rows, "coverage_years": {"from": d.year_from, "to": d.year_to},
                   "parts": {k: part_record(p) for k, p in sorted(d.parts.items())}}
            for name, d in datasets.items()
        },
        "skipped_datasets": skipped,
        "xlsx_not_written": xlsx_skipped,
        # rows kept in the warehouse but left out of a dataset or package they would break
        "quarantined": {
            **{name: {"rows": d.quarantined, "reason": "主键不完整 primary key incomplete"}
               for name, d in datasets.items() if d.quarantined},
            **({"ocds": ocds_quarantine} if ocds_quarantine else {}),
        },
        "ocds": ocds_files,
        # the OCDS build's fiscal-year parts: new in that build or carried into it (ocds.build_ocds)
        "ocds_parts": {k: {"status": v.get("status"), "built_in": v.get("built_in"), "files": v.get("files")}
                       for k, v in ((ocds_record or {}).get("parts") or {}).items()},
        "source_files": sources,
        "masking": MASKING_NOTE,
    }


def dcat(spec: dict, release_id: str, issued: str, modified: str, resources: list[dict], years) -> dict:
    rel = spec["release"]
    doc = {
        "@context": {"dcat": "http://www.w3.org/ns/dcat#", "dct": "http://purl.org/dc/terms/",
                     "foaf": "http://xmlns.com/foaf/0.1/", "spdx": "http://spdx.org/rdf/terms#"},
        "@type": "dcat:Dataset",
        "@id": f"{rel['name']}/{release_id}",
        "dct:identifier": f"{rel['name']}/{release_id}",
        "dct:title": [{"@language": "zh", "@value": rel["title_zh"]}, {"@language": "en", "@value": rel["title_en"]}],
        "dct:description": [{"@language": "zh", "@value": rel["description_zh"]},
                            {"@language": "en", "@value": rel["description_en"]}],
        "dct:issued": issued,
        "dct:modified": modified,
        "dct:publisher": {"@type": "foaf:Agent", "foaf:name": rel["publisher"]["name"],
                          "foaf:homepage": rel["publisher"].get("url")},
        "dct:license": rel["licence"]["path"],
        "dct:language": rel.get("language", []),
        "dcat:keyword": rel.get("keywords", []),
        "dcat:distribution": [
            {"@type": "dcat:Distribution", "dct:title": r.get("title", r["name"]), "dcat:downloadURL": r["path"],
             "dcat:mediaType": r.get("mediatype"), "dcat:byteSize": r["bytes"], "dct:license": rel["licence"]["path"],
             "spdx:checksum": {"spdx:algorithm": "spdx:checksumAlgorithm_sha256",
                               "spdx:checksumValue": r["hash"].split(":", 1)[1]}}
            for r in resources
        ],
    }
    if years[0] is not None:
        doc["dct:temporal"] = {"@type": "dct:PeriodOfTime", "dcat:startDate": f"{years[0]}-01-01",
                               "dcat:endDate": f"{years[1]}-12-31"}
    return doc
