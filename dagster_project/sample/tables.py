"""Table contents for the sample workbooks: one generic builder per *shape* of ``tables.yaml``.

Amounts are integer cents *in the table's unit* (so sums are exact; written with 2 decimals).
A builder returns a ``Table``; planted defects are generic mutations named in ``defect``.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field

from . import refdata

PHASE_ZH = {"budget": "预算", "final": "决算"}
PHASE_AMOUNT_ZH = {"budget": "预算数", "final": "决算数"}


@dataclass
class Row:
    label: str
    values: dict[str, int | str | None]
    code: str | None = None
    level: int = 0            # 0 = total / item row, 1 类, 2 款, 3 项
    is_total: bool = False
    row_key: str | None = None


@dataclass
class Table:
    table_key: str
    table_name: str
    shape: str
    columns: list[str]                     # amount (or text) column keys, in order
    rows: list[Row] = field(default_factory=list)
    label_header: str = "项目"
    classification: str | None = None      # coded tables: function | revenue | economic_*
    note: str | None = None                # footnote (注：…)
    right_columns: list[str] = field(default_factory=list)   # two-sided: expenditure side
    right_rows: list[Row] = field(default_factory=list)
    text_columns: frozenset[str] = frozenset()
    headers: dict[str, tuple[str, ...]] = field(default_factory=dict)  # column key -> header path
    unit_multiplier: int = 1               # 元 per unit of the table (set by build_table)

    @property
    def is_empty(self) -> bool:
        details = [r for r in self.rows + self.right_rows if not r.is_total]
        return not any(isinstance(v, int) and v != 0 for r in details for v in r.values.values())


def table_spec(table_key: str) -> dict:
    tables = refdata.spec()["tables"]
    spec = tables[table_key]
    return tables[spec["same_as"]] if "same_as" in spec else spec


def rand_cents(rng: random.Random, lo_wan: float, hi_wan: float, multiplier: int) -> int:
    """A random amount between lo and hi 万元, as cents of the table's unit (at least 0.01)."""
    lo = max(1, int(lo_wan * 10000 * 100 / multiplier))
    hi = max(lo + 1, int(hi_wan * 10000 * 100 / multiplier))
    return rng.randint(lo, hi)


def partition(rng: random.Random, total: int, n: int) -> list[int]:
    """Split ``total`` cents into ``n`` non-negative parts that sum exactly to it."""
    if n <= 0:
        return []
    weights = [rng.random() + 0.2 for _ in range(n)]
    s = sum(weights)
    parts = [int(total * w / s) for w in weights]
    parts[0] += total - sum(parts)
    return parts


def header_for(key: str, phase: str) -> str:
    h = refdata.spec()["column_headers"][key]
    return h[phase] if isinstance(h, dict) else h


def group_for(key: str, phase: str) -> str | None:
    g = refdata.spec()["column_groups"].get(key)
    return (g[phase] if isinstance(g, dict) else g) if g else None


def _ancestors(code: str) -> list[str]:
    return [code[:n] for n in (3, 5, 7) if n <= len(code)]


def coded_rows(classification: str, year: int, leaves: dict[str, dict[str, int]], columns: list[str],
               total_label: str, total_first: bool) -> list[Row]:
    """Rows 类 → 款 → 项 from leaf values, each parent the exact sum of its children, plus a total row."""
    sums: dict[str, dict[str, int]] = {}
    for code, vals in leaves.items():
        for anc in _ancestors(code):
            bucket = sums.setdefault(anc, {c: 0 for c in columns})
            for c in columns:
                bucket[c] += vals.get(c, 0)
    rows = [Row(refdata.class_name(classification, code, year), dict(sums[code]), code=code,
                level={3: 1, 5: 2, 7: 3}[len(code)]) for code in sorted(sums)]
    total = {c: sum(sums[code][c] for code in sums if len(code) == 3) for c in columns}
    total_row = Row(total_label, total, is_total=True)
    return [total_row] + rows if total_first else rows + [total_row]


def leaf_values(rng: random.Random, code: str, columns: list[str], mult: int, scale: float) -> dict[str, int]:
    """Values of one classification leaf that satisfy the row identities of its columns."""
    if set(columns) >= {"total", "basic", "project"}:
        basic_only = code.endswith("01") or code[:5] in {"20805", "21011", "22102"}
        basic = rand_cents(rng, 20 * scale, 900 * scale, mult) if basic_only or rng.random() < 0.3 else 0
        project = 0 if basic_only else rand_cents(rng, 10 * scale, 600 * scale, mult)
        return {"total": basic + project, "basic": basic, "project": project}
    return {c: rand_cents(rng, 50 * scale, 5000 * scale, mult) for c in columns}


@dataclass
class DeptModel:
    """The money of one department/unit in one year and phase, in the workbook's unit (cents)."""
    gpb: dict[str, dict[str, int]]
    gfb: dict[str, dict[str, int]]
    scb: dict[str, dict[str, int]]
    economic: dict[str, int]
    business_income: int
    operating_income: int
    other_income: int
    carryover: int
    sangong: dict[str, int]
    prior_sangong: dict[str, int]

    @staticmethod
    def fund_total(leaves: dict[str, dict[str, int]]) -> int:
        return sum(v["total"] for v in leaves.values())

    def all_funds(self) -> dict[str, dict[str, int]]:
        merged: dict[str, dict[str, int]] = {}
        for leaves in (self.gpb, self.gfb, self.scb):
            for code, vals in leaves.items():
                m = merged.setdefault(code, {"total": 0, "basic": 0, "project": 0})
                for k in m:
                    m[k] += vals[k]
        extra = self.business_income + self.operating_income + self.other_income + self.carryover
        target = next((c for c, v in sorted(merged.items()) if v["project"] > 0), sorted(merged)[0])
        merged[target]["project"] += extra
        merged[target]["total"] += extra
        return merged

    def grand_total(self) -> int:
        return (self.fund_total(self.gpb) + self.fund_total(self.gfb) + self.fund_total(self.scb)
                + self.business_income + self.operating_income + self.other_income + self.carryover)


def _sangong(rng: random.Random, mult: int, scale: float) -> dict[str, int]:
    overseas = rand_cents(rng, 0, 30 * scale, mult) if rng.random() < 0.6 else 0
    purchase = rand_cents(rng, 10 * scale, 60 * scale, mult) if rng.random() < 0.4 else 0
    running = rand_cents(rng, 5 * scale, 40 * scale, mult)
    reception = rand_cents(rng, 1 * scale, 20 * scale, mult)
    vehicle = purchase + running
    return {"total": overseas + vehicle + reception, "overseas": overseas, "vehicle": vehicle,
            "vehicle_purchase": purchase, "vehicle_running": running, "reception": reception}


def build_dept_model(rng: random.Random, profile: dict, year: int, mult: int, is_unit: bool,
                     has_gfb: bool, has_scb: bool) -> DeptModel:
    scale = 0.3 if is_unit else 1.0
    cols = ["total", "basic", "project"]
    gpb = {c: leaf_values(rng, c, cols, mult, scale) for c in profile["codes"]}

    def project_only(codes):
        out = {}
        for c in codes:
            p = rand_cents(rng, 50 * scale, 2000 * scale, mult)
            out[c] = {"total": p, "basic": 0, "project": p}
        return out

    gfb = project_only(profile.get("gfb") or []) if has_gfb else {}
    scb = project_only(profile.get("scb") or []) if has_scb else {}
    basic_total = sum(v["basic"] for v in gpb.values())
    econ_codes = refdata.spec()["dept_economic_codes"]
    economic = dict(zip(econ_codes, partition(rng, basic_total, len(econ_codes))))
    return DeptModel(
        gpb=gpb, gfb=gfb, scb=scb, economic=economic,
        business_income=rand_cents(rng, 20, 300, mult) if is_unit else 0,
        operating_income=0,
        other_income=rand_cents(rng, 1 * scale, 50 * scale, mult) if rng.random() < 0.5 else 0,
        carryover=rand_cents(rng, 5 * scale, 200 * scale, mult),
        sangong=_sangong(rng, mult, scale), prior_sangong=_sangong(rng, mult, scale),
    )


# --------------------------------------------------------------------------------------------------
# builders by shape


def build_table(table_key: str, table_name: str, ctx: dict, rng: random.Random, defect: str | None) -> Table:
    spec = table_spec(table_key)
    builder = BUILDERS[spec["shape"]]
    table = builder(table_key, table_name, spec, ctx, rng)
    table.unit_multiplier = ctx["multiplier"]
    if defect:
        MUTATIONS[defect](table, rng)
    return table


def _amount_headers(columns, phase):
    return {c: ((group_for(c, phase),) if group_for(c, phase) else ()) + (header_for(c, phase),) for c in columns}


def build_coded(table_key, table_name, spec, ctx, rng) -> Table:
    year, phase, mult = ctx["year"], ctx["phase"], ctx["multiplier"]
    classification = spec["classification"]
    if classification == "economic_by_year":
        classification = refdata.economic_scheme(year)
    columns = list(spec["columns"])
    source = spec.get("source")
    model: DeptModel | None = ctx.get("model")
    if source == "gpb":
        leaves = model.gpb
    elif source == "gfb":
        leaves = model.gfb
    elif source == "scb":
        leaves = model.scb
    elif source == "all_funds":
        leaves = model.all_funds()
    elif source == "economic":
        pers, pub = set(refdata.spec()["personnel_classes"]), set(refdata.spec()["public_classes"])
        leaves = {c: {"total": v, "personnel": v if c[:3] in pers else 0, "public": v if c[:3] in pub else 0}
                  for c, v in model.economic.items()}
    else:
        codes = spec["codes_by_scheme"][classification] if "codes_by_scheme" in spec else spec["codes"]
        leaves = {c: leaf_values(rng, c, columns, mult, ctx["region_scale"]) for c in codes}
    if ctx.get("detail_to_kuan"):   # planted: function table published only down to 款
        kuan: dict[str, dict[str, int]] = {}
        for code, vals in leaves.items():
            k = kuan.setdefault(code[:5], {c: 0 for c in columns})
            for c in columns:
                k[c] += vals.get(c, 0)
        leaves = kuan
    headers = {c: h for c, h in _amount_headers(columns, phase).items()}
    table = Table(table_key, table_name, "coded", columns, classification=classification, headers=headers,
                  label_header="科目名称")
    # planted: names of the year before (a table written with last year's code list: renamed codes keep old names)
    name_year = year - 1 if ctx.get("old_names") else year
    table.rows = coded_rows(classification, name_year, leaves, columns, ctx["total_label"], ctx["total_first"])
    if not leaves and spec.get("empty_note"):
        table.rows = [Row(ctx["total_label"], {c: 0 for c in columns}, is_total=True)]
        table.note = spec["empty_note"].format(year=year)
    return table


def build_items(table_key, table_name, spec, ctx, rng) -> Table:
    columns = list(spec["columns"])
    rows = [Row(item, {c: rand_cents(rng, 100, 20000 * ctx["region_scale"], ctx["multiplier"]) for c in columns})
            for item in spec["items"]]
    total = Row(ctx["total_label"], {c: sum(r.values[c] for r in rows) for c in columns}, is_total=True)
    rows = [total] + rows if ctx["total_first"] else rows + [total]
    return Table(table_key, table_name, "items", columns, rows, headers=_amount_headers(columns, ctx["phase"]))


def build_two_sided(table_key, table_name, spec, ctx, rng) -> Table:
    model: DeptModel = ctx["model"]
    year, phase = ctx["year"], ctx["phase"]
    fiscal = spec["fiscal"]
    amount_h = PHASE_AMOUNT_ZH[phase]
    funds = {"gpb": model.gpb, "gfb": model.gfb, "scb": model.scb}
    income_values = {"gpb": model.fund_total(model.gpb), "gfb": model.fund_total(model.gfb),
                     "scb": model.fund_total(model.scb), "business_income": model.business_income,
                     "operating_income": model.operating_income, "other_income": model.other_income,
                     "carryover": model.carryover}
    items = refdata.spec()["income_items"]["fiscal" if fiscal else "plain"]
    left = [Row(label, {"amount": income_values[key]}) for key, label in items
            if not (key == "scb" and year < 2019 and income_values["scb"] == 0)]
    # expenditure side: function 类 totals
    if fiscal:
        right_cols = ["amount", "gpb", "gfb", "scb"]
        by_lei: dict[str, dict[str, int]] = {}
        for fund, leaves in funds.items():
            for code, v in leaves.items():
                b = by_lei.setdefault(code[:3], {c: 0 for c in right_cols})
                b[fund] += v["total"]
                b["amount"] += v["total"]
    else:
        right_cols = ["amount"]
        by_lei = {}
        for code, v in model.all_funds().items():
            by_lei.setdefault(code[:3], {"amount": 0})["amount"] += v["total"]
    right = [Row(refdata.class_name("function", lei, year), vals) for lei, vals in sorted(by_lei.items())]
    income_total = sum(r.values["amount"] for r in left)
    right_total = {c: sum(r.values[c] for r in right) for c in right_cols}
    n = max(len(left), len(right))
    left += [Row("", {"amount": None}) for _ in range(n - len(left))]
    right += [Row("", {c: None for c in right_cols}) for _ in range(n - len(right))]
    left.append(Row("收入总计", {"amount": income_total}, is_total=True))
    right.append(Row("支出总计", right_total, is_total=True))
    headers = {"amount": ("收入", amount_h)}
    right_headers = {"amount": ("支出", "合计" if fiscal else amount_h), "gpb": ("支出", "一般公共预算"),
                     "gfb": ("支出", "政府性基金预算"), "scb": ("支出", "国有资本经营预算")}
    t = Table(table_key, table_name, "two_sided", ["amount"], left, right_columns=right_cols, right_rows=right,
              headers=headers)
    t.right_headers = right_headers  # type: ignore[attr-defined]
    return t


def build_income_sources(table_key, table_name, spec, ctx, rng) -> Table:
    model: DeptModel = ctx["model"]
    year = ctx["year"]
    cols = ["total", "carryover", "gpb_appropriation", "gfb_appropriation"]
    if year >= 2019:
        cols.append("scb_appropriation")
    cols += ["business_income", "operating_income", "other_income"]
    vals = {"carryover": model.carryover, "gpb_appropriation": model.fund_total(model.gpb),
            "gfb_appropriation": model.fund_total(model.gfb), "scb_appropriation": model.fund_total(model.scb),
            "business_income": model.business_income, "operating_income": model.operating_income,
            "other_income": model.other_income}
    vals = {c: vals[c] for c in cols if c != "total"}
    vals["total"] = sum(vals.values())
    detail = Row(ctx["entity_name"], dict(vals))
    total = Row(ctx["income_total_label"], dict(vals), is_total=True)
    rows = [total, detail] if ctx["total_first"] else [detail, total]
    headers = {c: (header_for(c, ctx["phase"]),) for c in cols}
    return Table(table_key, table_name, "income_sources", cols, rows, label_header="单位名称", headers=headers)


def build_sangong(table_key, table_name, spec, ctx, rng) -> Table:
    model: DeptModel | None = ctx.get("model")
    mult, phase, year = ctx["multiplier"], ctx["phase"], ctx["year"]
    cur = model.sangong if model else _sangong(rng, mult, 20 * ctx["region_scale"])
    prev = model.prior_sangong if model else _sangong(rng, mult, 20 * ctx["region_scale"])
    cols = ["total", "overseas", "vehicle", "vehicle_purchase", "vehicle_running", "reception"]
    rows = [Row(f"{year}年{PHASE_AMOUNT_ZH[phase]}", dict(cur)), Row(f"{year - 1}年{PHASE_AMOUNT_ZH[phase]}", dict(prev))]
    headers = {c: ((group_for(c, phase),) if group_for(c, phase) else ()) + (header_for(c, phase),) for c in cols}
    return Table(table_key, table_name, "sangong", cols, rows, headers=headers)


def debt_region_rows(rng, ctx) -> list[Row]:
    mult = ctx["multiplier"]
    lower = ctx["lower_regions"]
    names = ["本级"] + lower

    def one():
        lg = rand_cents(rng, 5000, 40000 * ctx["region_scale"], mult)
        ls = rand_cents(rng, 5000, 60000 * ctx["region_scale"], mult)
        bg = lg * rng.randint(55, 97) // 100
        bs = ls * rng.randint(55, 97) // 100
        return {"limit_total": lg + ls, "limit_general": lg, "limit_special": ls,
                "balance_total": bg + bs, "balance_general": bg, "balance_special": bs}

    parts = [Row(n if n == "本级" else n, one()) for n in names]
    parts[0].label = "  本级"
    total = {c: sum(r.values[c] for r in parts) for c in parts[0].values}
    return [Row("本地区", total, is_total=True)] + parts


def build_debt_regions(table_key, table_name, spec, ctx, rng) -> Table:
    cols = ["limit_total", "limit_general", "limit_special", "balance_total", "balance_general", "balance_special"]
    prior = ctx["year"] - 1
    headers = {c: (f"{prior}年" + group_for(c, ctx["phase"]), header_for(c, ctx["phase"])) for c in cols}
    rows = ctx["debt"]["regions"]
    return Table(table_key, table_name, "debt_regions", cols, [Row(r.label, dict(r.values), is_total=r.is_total) for r in rows],
                 label_header="地区", headers=headers)


def debt_item_values(rng, ctx) -> dict[str, dict[str, int]]:
    """Item values of the region's 1-2/1-3/1-4 and limit tables, consistent with 1-1's 本地区 row."""
    region_total = ctx["debt"]["regions"][0].values
    mult = ctx["multiplier"]
    out = {}
    for kind, lim, bal in (("general", "limit_general", "balance_general"), ("special", "limit_special", "balance_special")):
        closing = region_total[bal]
        issued = closing * rng.randint(8, 25) // 100
        repaid = closing * rng.randint(3, 12) // 100
        opening = closing - issued + repaid
        foreign = issued * rng.randint(0, 5) // 100 if kind == "general" else 0
        limit = region_total[lim] + region_total[lim] * rng.randint(3, 12) // 100
        roll = {"opening_balance": opening, "prior_limit": region_total[lim], "issued": issued,
                "issued_bonds": issued - foreign, "repaid": repaid, "closing_balance": closing, "limit": limit}
        if kind == "general":
            roll["issued_foreign_onlent"] = foreign
            roll["deficit"] = rand_cents(rng, 1000, 50000 * ctx["region_scale"], mult)
        else:
            roll["new_limit"] = limit - region_total[lim]
        out[f"{kind}_roll"] = roll
        out[f"{kind}_limit"] = {"prior_limit": region_total[lim], "prior_balance": closing, "limit": limit}
    g, s = out["general_roll"], out["special_roll"]
    refin = (g["issued"] + s["issued"]) * rng.randint(10, 40) // 100
    ig = g["repaid"] * rng.randint(20, 40) // 100 + 1
    isp = s["repaid"] * rng.randint(20, 40) // 100 + 1
    bpr = rand_cents(rng, 1000, 40000 * ctx["region_scale"], mult)
    bpf = rand_cents(rng, 1000, 20000 * ctx["region_scale"], mult)
    out["service"] = {
        "issued_total": g["issued_bonds"] + s["issued_bonds"], "issued_general": g["issued_bonds"],
        "issued_special": s["issued_bonds"], "issued_refinancing": min(refin, g["issued_bonds"] + s["issued_bonds"]),
        "principal_total": g["repaid"] + s["repaid"], "principal_general": g["repaid"], "principal_special": s["repaid"],
        "interest_total": ig + isp, "interest_general": ig, "interest_special": isp,
        "budget_principal_total": bpr + bpf, "budget_principal_refinancing": bpr, "budget_principal_funded": bpf,
        "budget_interest_total": rand_cents(rng, 500, 10000 * ctx["region_scale"], mult),
    }
    return out


def build_debt_items(table_key, table_name, spec, ctx, rng) -> Table:
    year = ctx["year"]
    kind = spec["kind"]
    values = ctx["debt"]["items"][kind]
    rows = [Row(label.format(y=year, p=year - 1, pp=year - 2), {"amount": values[key]}, row_key=key)
            for key, label in refdata.spec()["debt_items"][kind]]
    return Table(table_key, table_name, "debt_items", ["amount"], rows,
                 headers={"amount": (PHASE_AMOUNT_ZH[ctx["phase"]],)})


def build_bond_use(table_key, table_name, spec, ctx, rng) -> Table:
    year, region_code = ctx["year"], ctx["region_code"]
    cols = ["project_name", "project_code", "project_area", "competent_department", "implementing_unit",
            "bond_type", "bond_amount", "issue_date"]
    heads = ["项目名称", "项目编号", "项目领域", "主管部门", "实施单位", "债券性质", "债券规模", "发行时间"]
    areas = [("市政建设", "住房和城乡建设局", "城市道路改造工程"), ("教育", "教育局", "中小学校舍改扩建项目"),
             ("交通基础设施", "交通运输局", "农村公路提升工程"), ("医疗卫生", "卫生健康局", "县级医院综合能力提升项目"),
             ("农林水利", "水务局", "农田水利配套工程")]
    rows = []
    for i in range(rng.randint(3, 5)):
        area, dept, proj = areas[(i + year) % len(areas)]
        rows.append(Row(f"{ctx['region_name']}{proj}", {
            "project_name": f"{ctx['region_name']}{proj}", "project_code": f"P{str(year)[2:]}{region_code}-{i + 1:04d}",
            "project_area": area, "competent_department": f"{ctx['region_name']}{dept}",
            "implementing_unit": f"{ctx['region_name']}{dept}", "bond_type": "专项债券" if i % 2 == 0 else "一般债券",
            "bond_amount": rand_cents(rng, 500, 20000, ctx["multiplier"]),
            "issue_date": f"{year}-{rng.randint(3, 11):02d}-{rng.randint(1, 28):02d}"}))
    t = Table(table_key, table_name, "bond_use", cols, rows, label_header="序号",
              text_columns=frozenset(c for c in cols if c != "bond_amount"),
              headers={c: (h,) for c, h in zip(cols, heads)})
    return t


BUILDERS = {
    "coded": build_coded, "items": build_items, "two_sided": build_two_sided, "income_sources": build_income_sources,
    "sangong": build_sangong, "debt_regions": build_debt_regions, "debt_items": build_debt_items,
    "bond_use": build_bond_use,
}


# --------------------------------------------------------------------------------------------------
# planted defects: generic mutations of a built table


def _break_summary_balance(t: Table, rng):
    """Income side total no longer equals expenditure side (one income item and its total raised)."""
    delta = 10000  # 100.00 in the table's unit
    item = next(r for r in t.rows if not r.is_total and isinstance(r.values.get("amount"), int) and r.values["amount"] > 0)
    item.values["amount"] += delta
    t.rows[-1].values["amount"] += delta


def _break_hierarchy(t: Table, rng):
    """One 款 row no longer equals the sum of its 项 in every column, its own total = basic + project kept."""
    kuan = next(r for r in t.rows if r.level == 2 and any(x.level == 3 and x.code.startswith(r.code) for x in t.rows))
    kuan.values["basic"] += 5000
    kuan.values["project"] += 3000
    kuan.values["total"] += 8000


def _unsplit_sangong(t: Table, rng):
    """Vehicle costs published as one figure: the purchase/running columns are dropped."""
    t.columns = [c for c in t.columns if c not in ("vehicle_purchase", "vehicle_running")]
    t.headers = {c: (h[-1] if c != "vehicle" else "公务用车购置及运行费",) for c, h in t.headers.items() if c in t.columns}
    for r in t.rows:
        r.values.pop("vehicle_purchase", None)
        r.values.pop("vehicle_running", None)


def _balance_over_limit(t: Table, rng):
    """A lower-level row's general balance above its limit; totals and 本地区 sums kept consistent."""
    row = t.rows[-1]
    over = row.values["limit_general"] // 20 + 100
    delta = row.values["limit_general"] + over - row.values["balance_general"]
    for r in (row, t.rows[0]):
        r.values["balance_general"] += delta
        r.values["balance_total"] += delta


def _break_roll_forward(t: Table, rng):
    """Closing balance 5 units off: beyond the rounding tolerance of four figures (4 × half a unit)."""
    row = next(r for r in t.rows if r.row_key == "closing_balance")
    row.values["amount"] += 500


def _raise_coded_leaf(t: Table, column: str, delta: int) -> None:
    """Raise one leaf code's `column` (and `total` where the table has one) by delta cents, with every ancestor
    and the total row: the table stays internally consistent, its totals move against its sibling tables."""
    codes = {r.code for r in t.rows if r.code}
    leaf = next(r for r in t.rows if r.code and not any(c != r.code and c.startswith(r.code) for c in codes))
    cols = {column, "total"} & set(t.columns) if column != "total" else {"total"}
    for r in t.rows:
        if r.is_total or (r.code and leaf.code.startswith(r.code)):
            for c in cols:
                r.values[c] += delta


def _expenditure_gap(t: Table, rng):
    """支出总表 12.34 万元 (in the table's unit) above the summary's 支出总计, each table consistent in itself."""
    _raise_coded_leaf(t, "project", round(123400 * 100 / t.unit_multiplier))


def _basic_gap(t: Table, rng):
    """基本支出表 whose total (one 301 款, its 类 and the total row, personnel column too) is 12.34 万元 above the
    expenditure tables' 基本支出 column."""
    _raise_coded_leaf(t, "personnel", round(123400 * 100 / t.unit_multiplier))


def _gpb_gap(t: Table, rng):
    """一般公共预算支出表 whose project spending (and totals) is 12.34 万元 above the fiscal summary's 一般公共预算 line."""
    _raise_coded_leaf(t, "project", round(123400 * 100 / t.unit_multiplier))


def _rounding(t: Table, rng):
    """The total row's 合计 one unit of the table above its parts (a 1-yuan gap in a 元 table): rounding, not a
    failure, against its own parts and against the summary's 支出总计."""
    next(r for r in t.rows if r.is_total).values["total"] += 100


def _empty_without_note(t: Table, rng):
    t.note = None


MUTATIONS = {
    "summary_imbalance": _break_summary_balance,
    "hierarchy_break": _break_hierarchy,
    "sangong_unsplit": _unsplit_sangong,
    "balance_over_limit": _balance_over_limit,
    "roll_forward_break": _break_roll_forward,
    "empty_no_note": _empty_without_note,
    "expenditure_gap": _expenditure_gap,
    "basic_gap": _basic_gap,
    "gpb_gap": _gpb_gap,
    "rounding": _rounding,
}
