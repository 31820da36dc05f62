"""The OCDS extract's settings (``ocds.yaml``) and the package files they name.

Apart from ``ocds.py`` because every OCDS module needs them: the writer (``ocds.py``), the Python mapping
(``ocds_reference.py``), the same mapping in SQL (``ocds_sql.py``, whose record links name the release package
files) and the validator (``ocds_validation.py``, which finds and opens those files). Kept here, the
SQL and the validator never import ``ocds.py``, which imports them.
"""
from __future__ import annotations

import gzip
import re
from pathlib import Path

import yaml

# What a name cell holds when it names no party (代理机构 无, 暂无, /, -, null …): the trading spec's blank placeholders,
# one list for the OCDS mapping and for dbt (ingest/trading_fillers generates dbt's party_name from it)
from dagster_project.ingest.trading_fillers import FILLER_MAX_LENGTH, is_party_filler, party_fillers  # noqa: F401

CONFIG_PATH = Path(__file__).with_name("ocds.yaml")


# One 中标候选人公示 may name its candidates one per row (WIN_CANDIDATE_ORDER) or in one cell (CONTRACTS.md §2.2)
CANDIDATE_SEPARATORS = "；;、"
# …but a piece between ；/; holding a consortium mark is ONE candidate, its members joined by 、 (甲公司、乙公司联合体,
# 甲公司（牵头人）、乙公司（成员）, 联合体：甲、乙). 联合体 marks a consortium where it ends the name or a role/separator
# follows (联合体（牵头人）, 联合体：, 组成的联合体, 联合体成员), never where a firm's name goes on (联合体检中心, 联合体系认证,
# 联合体育, 联合体验馆). The same mark as dbt's consortium_mark (macros/trading_candidates.sql; a test keeps them equal). OCDS 1.1.5 core has no consortium member field: the consortium is one party, named as written.
CANDIDATE_LIST_SEPARATORS = "；;"
# 、 after a trailing 联合体 ends that consortium (甲、乙联合体、丙: the consortium and 丙, review R4b): read as ；. A bracket
# after 联合体 marks a consortium where a role follows in it (联合体（牵头人）) or the name ends after it (联合体（甲、乙）),
# not where 有限公司/集团/公司/股份 continues a firm's name (宁夏联合体（集团）有限公司, review R4b).
CONSORTIUM_END, CONSORTIUM_END_AS = "联合体、", "联合体；"
CONSORTIUM_MARK = "联合体($|[ 　：:)）—-]|[（(](牵头|成员)|[（(][^)）]*[)）]($|[^有集公股])|成员|牵头)|牵头(人|方|单位)|[（(]成员(单位|方)?[)）]"


# A consortium party (review R4) has no one organisation's identifier: its members' codes (a code cell listing several,
# 91…1A、91…2B) are its additionalIdentifiers (OCDS 1.1.5 Organization; its identifier stays unset) and its id is
# built from them sorted — the same on the candidate publicity and on the result notice however either writes its name.
# Codes listed in one cell split alike at 、/；/，, at / and at spaces (91…1A、91…2B, 91…1A/91…2B, 91…1A 91…2B: one id);
# a code listed twice is one member (review R4b: 91A、91A gave additionalIdentifiers a duplicate, schema uniqueItems).
CODE_LIST_SEPARATORS = "；;、，,/／ 　"


def consortium_codes(name: str | None, code: str | None, bidder: bool = True) -> list[str] | None:
    """The member codes of a party that is a consortium (several codes, or a name holding the mark), else None: sorted,
    each once. A party whose code cell lists several codes without the mark (a buyer, say) keeps this reading — the
    cell is no one organisation's identifier, so its codes are additionalIdentifiers and none is claimed as its own."""
    codes = sorted({c.strip() for c in re.split(f"[{CODE_LIST_SEPARATORS}]", code or "") if c.strip()})
    # the consortium mark in the name makes a group of a bidder only: a buyer named …医疗联合体 with one code is one
    # organisation with its identifier (review V1 item 11: it was joint-<code>, no identifier)
    return codes if len(codes) > 1 or (bidder and name and re.search(CONSORTIUM_MARK, name)) else None


def is_bidder(roles) -> bool:
    """A bidder's role (tenderer, supplier): its several codes, or its name's consortium mark, make a consortium."""
    return bool({"tenderer", "supplier"} & set(roles))


def group_id_prefix(roles: list[str]) -> str:
    """The id prefix of a party that is several organisations: a bidder's is a consortium (招标投标法 §31: two or more
    bid jointly only as a consortium, whether or not the cell says 联合体); a buyer's or agency's several codes are
    joint tendering (the standard's 501 ISUNION 是否联合招标), no consortium."""
    return "consortium-" if is_bidder(roles) else "joint-"


def candidate_items(name: str) -> list[str]:
    """The candidates a candidate-list cell names, in its order: a consortium is one."""
    pieces = re.split(f"[{CANDIDATE_LIST_SEPARATORS}]", name.replace(CONSORTIUM_END, CONSORTIUM_END_AS))
    return [item for piece in pieces
            for item in ([piece] if re.search(CONSORTIUM_MARK, piece) else re.split("、", piece))]


def load_config(path: Path = CONFIG_PATH) -> dict:
    """``ocds.yaml`` with the ocid prefix of the settings (``GONGKAI_OCDS_OCID_PREFIX``)."""
    from dagster_project.paths import settings

    with open(path, encoding="utf-8") as fh:
        cfg = yaml.safe_load(fh)
    cfg["ocid_prefix"] = settings().ocds_ocid_prefix  # a setting, never data (paths.py)
    return cfg


def package_suffix(cfg: dict) -> str:
    """``.json.gz`` (the default: OCDS bulk files are usually gzipped; JSON text compresses ~20×, so at
    10 M bulletins 27 GB become ~1.4 GB, written faster than the plain text) or ``.json``."""
    compression = str(cfg.get("package_compression", "gzip")).lower()
    if compression not in {"gzip", "none"}:
        raise ValueError(f"ocds.yaml package_compression must be gzip or none, not {compression!r}")
    return ".json.gz" if compression == "gzip" else ".json"


def open_package_text(path: Path):
    """A package file as text, gzipped or not."""
    if path.name.endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, encoding="utf-8")


def release_stem(cfg: dict) -> str:
    """``release-package`` or, for one fiscal-year part, ``release-package-<part>`` (``parts.py``)."""
    return "release-package" + (f"-{cfg['part']}" if cfg.get("part") else "")


def package_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*-package-*") if p.name.endswith((".json", ".json.gz")))
