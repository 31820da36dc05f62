"""The sample's publishers: regions, provincial departments, units, local bureaus and the extra publishers
that send the other forms (PDF, .xls), with their 统一社会信用代码 drawn from the generator's random stream.

Kept apart from ``generate`` so the order of random draws stays in one place: ``build_publishers`` draws from the
generator's main stream first, ``build_extra_publishers`` from its own stream (the rest of the sample does not move
when an extra publisher is added).
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from .. import identifiers
from . import refdata

# Publishers in the other forms real departments send (own random stream, so the rest of the sample is
# unchanged by them): slot, name, form, spending profile key.
EXTRA_PUBLISHERS = [
    ("P0", "宁夏回族自治区机关事务管理局", "pdf", "office"),
    ("X0", "宁夏回族自治区统计局", "xls", "congress"),
]


@dataclass
class Publisher:
    code: str              # region code or USCC
    kind: str              # government | department | unit
    region_code: str
    names: dict[int, str]  # first year -> name
    level: str             # province | city | county | department | unit
    profile: dict = field(default_factory=dict)
    parent: "Publisher | None" = None
    has_gfb: bool = False
    has_scb: bool = False
    slot: str = ""

    def name(self, year: int) -> str:
        return [n for y, n in sorted(self.names.items()) if y <= year][-1] if any(y <= year for y in self.names) \
            else sorted(self.names.items())[0][1]


def org_code(rng: random.Random) -> str:
    """GB 11714 organisation code: 8 digits and its check character."""
    body = f"{rng.randint(10000000, 99999999)}"
    c = 11 - sum(int(d) * w for d, w in zip(body, (3, 7, 9, 10, 5, 8, 4, 2))) % 11
    return body + {10: "X", 11: "0"}.get(c, str(c))


def make_entity_uscc(rng: random.Random, kind_prefix: str, region_code: str) -> str:
    return identifiers.make_uscc(kind_prefix + region_code + org_code(rng))


def budget_size(scale: float) -> tuple[int, int]:
    """(regions, departments) for a scale: sub-linear, capped so workbook writing stays short."""
    n_regions = min(28, 2 + math.ceil(math.sqrt(scale)))
    n_depts = min(150, max(4, round(4 * math.sqrt(scale))))
    return n_regions, n_depts


def build_publishers(rng: random.Random, scale: float) -> tuple[list[Publisher], list[Publisher]]:
    regs = refdata.regions()
    n_regions, n_depts = budget_size(scale)
    order = ["640000", "640100", "640122"] + [c for c in sorted(regs) if c not in ("640000", "640100", "640122")]
    regions = [Publisher(c, "government", c, {2015: regs[c]["region_name"]}, regs[c]["level"]) for c in order[:n_regions]]
    for i, r in enumerate(regions[:3]):
        r.slot = f"R{i}"
    spec = refdata.spec()
    prov_profiles = spec["departments"]
    entities: list[Publisher] = []
    by_key = {}
    for i, p in enumerate(prov_profiles[: min(len(prov_profiles), n_depts)]):
        names = {int(y): "宁夏回族自治区" + n for y, n in p["names"].items()}
        e = Publisher(make_entity_uscc(rng, "11", "640000"), "department", "640000", names, "department", p,
                      has_gfb=bool(p.get("gfb")), has_scb=bool(p.get("scb")))
        by_key[p["key"]] = e
        entities.append(e)
    for i, e in enumerate(entities[:4]):
        e.slot = f"D{i}"
    n_units = min(len(spec["units"]), max(1, n_depts // 4))
    for i, u in enumerate(spec["units"][:n_units]):
        parent = by_key[u["parent"]]
        e = Publisher(make_entity_uscc(rng, "12", "640000"), "unit", "640000", {2015: u["name"]}, "unit",
                      {"codes": u["codes"]}, parent=parent)
        e.slot = "U0" if i == 0 else ""
        entities.append(e)
    n_local = max(1, n_depts - len(entities) + n_units)
    local = []
    for r in regions[1:]:
        for b in spec["local_bureaus"]:
            local.append((r, b))
    profiles = {p["key"]: p for p in prov_profiles}
    for i, (r, b) in enumerate(local[:n_local]):
        base = profiles[b["key"]]
        names = {int(y): r.names[2015] + n for y, n in (b.get("names") or {2015: b["name"]}).items()}
        e = Publisher(make_entity_uscc(rng, "11", r.region_code), "department", r.region_code, names, "department",
                      {"codes": base["codes"], "gfb": base.get("gfb") or []}, has_gfb=bool(base.get("gfb")))
        e.slot = "C0" if i == 0 else ""
        entities.append(e)
    return regions, entities


def build_extra_publishers(seed: int) -> list[Publisher]:
    rng = random.Random(f"{seed}:extra-publishers")
    profiles = {p["key"]: p for p in refdata.spec()["departments"]}
    out = []
    for slot, name, form, profile in EXTRA_PUBLISHERS:
        base = profiles[profile]
        e = Publisher(make_entity_uscc(rng, "11", "640000"), "department", "640000", {2015: name}, "department",
                      {"codes": base["codes"], "form": form})
        e.slot = slot
        out.append(e)
    return out
