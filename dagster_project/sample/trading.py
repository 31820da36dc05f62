"""Public-resource trading exports: deals → chains of bulletins, vectorised (numpy + polars), in chunks.

Deals are legal and consistent by construction (every threshold of ``ref_rule_catalogue.csv`` met) except
the planted ones: per scale unit one deal each of: result without announcement, 15-day tender period,
invalid winner credit code, ID + mobile number in a notice, single bidder outside the 3-bidder rule.
The first ``VARIETY_DEALS`` deals go to six files that exercise every export format; the rest go to
UTF-8 CSV chunks. A seventh file repeats 20 rows of the first (a duplicated export).
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import polars as pl

from .. import identifiers
from . import refdata, trading_forms

ROWS_PER_SCALE = 800
VARIETY_DEALS = 240
CHUNK_DEALS = 150_000

AREAS = ["工程建设项目招标投标", "政府采购", "保障性安居工程", "国有土地使用权出让", "矿业权出让", "国有产权交易"]
AREA_CODES = ["GC", "CG", "AJ", "TD", "KY", "CQ"]
AREA_WEIGHTS = np.array([0.33, 0.42, 0.05, 0.10, 0.03, 0.07])
WORKS, GP, HOUSING, LAND, MINING, PROPERTY = range(6)

PROJECTS = {
    WORKS: ["办公楼维修改造工程", "校舍抗震加固工程", "城市道路提升改造工程", "农村饮水安全巩固提升工程", "污水管网改造工程",
            "高标准农田建设项目", "医院门诊楼建设工程", "公路养护大修工程"],
    GP: ["教学设备采购项目", "信息化系统建设项目", "办公家具采购项目", "物业管理服务项目", "医疗设备采购项目",
         "公务用车定点维修服务项目", "图书采购项目", "安保服务项目"],
    HOUSING: ["公共租赁住房配套基础设施工程", "棚户区改造安置房建设工程", "老旧小区改造工程"],
    LAND: ["国有建设用地使用权挂牌出让", "商服用地使用权挂牌出让", "工业用地使用权挂牌出让"],
    MINING: ["建筑用砂石矿采矿权挂牌出让", "石灰岩矿采矿权挂牌出让"],
    PROPERTY: ["闲置办公用房租赁权转让", "国有企业股权转让", "报废车辆整体转让"],
}
SUPPLIER_WORDS = ["建设工程", "路桥工程", "水利水电", "建筑安装", "市政工程", "科技", "信息技术", "商贸", "医疗器械",
                  "物业服务", "置业", "矿业", "实业", "文化传媒", "环保科技", "电子科技"]
SUPPLIER_PLACES = ["宁夏", "银川", "宁夏天元", "宁夏恒信", "宁夏瑞丰", "宁夏嘉禾", "宁夏贺兰山", "宁夏黄河", "宁夏六盘山",
                   "宁夏塞上", "宁夏沙湖", "宁夏朔方", "宁夏凤城", "宁夏西夏", "宁夏金凤", "宁夏鑫源"]
BRANDS = ["天成", "华泰", "鑫盛", "博远", "恒通", "中正", "宏达", "新业", "嘉信", "瑞祥", "永安", "盛世", "明德", "兴源",
          "长城", "金诚", "德润", "众合", "佳和", "利民"]
SURNAMES = list("王李张刘陈杨马赵黄周吴徐孙胡朱高林何郭罗")
GIVEN = ["伟", "芳", "娜", "敏", "静", "强", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明", "超", "刚", "平", "辉", "鹏", "华"]
NX_COUNTIES = ["640104", "640105", "640106", "640121", "640122", "640181", "640202", "640205", "640221", "640302",
               "640323", "640324", "640381", "640402", "640422", "640502", "640521", "640522"]

NATIONAL = ["PROJECT_CODE", "TENDER_PROJECT_CODE", "BID_SECTION_CODE", "UNIFIED_DEAL_CODE", "BULLETIN_TYPE",
            "TRADE_AREA", "NOTICE_NAME", "NOTICE_SEND_TIME", "REGION_CODE", "TENDERER_NAME", "TENDERER_CODE",
            "TENDER_AGENCY_NAME", "TENDER_AGENCY_CODE", "BUDGET_AMOUNT", "DOC_GET_START_TIME", "DOC_GET_END_TIME",
            "BID_DOC_REFER_END_TIME", "BID_OPEN_TIME", "BIDDER_COUNT", "WIN_CANDIDATE_NAME", "WIN_CANDIDATE_CODE",
            "WIN_CANDIDATE_ORDER", "PUBLICITY_START_TIME", "PUBLICITY_END_TIME", "WIN_BIDDER_NAME", "WIN_BIDDER_CODE",
            "BID_AMOUNT", "CONTRACT_SIGN_TIME", "PM_NAME", "PM_CODE", "CONTACT_PHONE", "NOTICE_CONTENT", "URL"]
CHINESE = {"PROJECT_CODE": "项目编号", "TENDER_PROJECT_CODE": "招标项目编号", "BID_SECTION_CODE": "标段(包)编号",
           "UNIFIED_DEAL_CODE": "统一交易标识码", "BULLETIN_TYPE": "公告类型", "TRADE_AREA": "交易领域",
           "NOTICE_NAME": "公告标题", "NOTICE_SEND_TIME": "发布时间", "REGION_CODE": "行政区划",
           "TENDERER_NAME": "招标人/采购人", "TENDERER_CODE": "招标人统一社会信用代码", "TENDER_AGENCY_NAME": "代理机构",
           "TENDER_AGENCY_CODE": "代理机构统一社会信用代码", "BUDGET_AMOUNT": "预算金额/最高限价",
           "DOC_GET_START_TIME": "文件获取开始时间", "DOC_GET_END_TIME": "文件获取截止时间",
           "BID_DOC_REFER_END_TIME": "投标截止时间", "BID_OPEN_TIME": "开标时间", "BIDDER_COUNT": "投标人数",
           "WIN_CANDIDATE_NAME": "中标候选人", "WIN_CANDIDATE_CODE": "中标候选人统一社会信用代码",
           "WIN_CANDIDATE_ORDER": "排名", "PUBLICITY_START_TIME": "公示开始", "PUBLICITY_END_TIME": "公示结束",
           "WIN_BIDDER_NAME": "中标人/成交供应商", "WIN_BIDDER_CODE": "中标人统一社会信用代码", "BID_AMOUNT": "中标金额",
           "CONTRACT_SIGN_TIME": "合同签订时间", "PM_NAME": "项目负责人", "PM_CODE": "项目负责人证件号",
           "CONTACT_PHONE": "联系电话", "NOTICE_CONTENT": "公告内容", "URL": "URL"}
TIME_FIELDS = ["NOTICE_SEND_TIME", "DOC_GET_START_TIME", "DOC_GET_END_TIME", "BID_DOC_REFER_END_TIME", "BID_OPEN_TIME",
               "PUBLICITY_START_TIME", "PUBLICITY_END_TIME", "CONTRACT_SIGN_TIME"]
AMOUNT_FIELDS = ["BUDGET_AMOUNT", "BID_AMOUNT"]

# Export formats of the variety files: (file, container, encoding, header style, time format, amount style)
PROFILES = [
    ("trading/{y0}-{y1}_交易信息_导出.csv", "csv", "utf-8", "national", "iso", "yuan"),
    ("trading/ggzy_export_cn_labels.csv", "csv", "utf-8-sig", "chinese", "slash", "header_wan"),
    ("trading/ggzy_export_gbk.csv", "csv", "gb18030", "national", "chinese_date", "unit_column"),
    ("trading/ggzy_api_array.json", "json_array", "utf-8", "national", "compact", "yuan"),
    ("trading/ggzy_api_data.json", "json_data", "utf-8", "national", "excel_serial", "yuan"),
    ("trading/ggzy_stream.jsonl", "jsonl", "utf-8", "chinese", "iso", "yuan"),
]
TIME_VARIANT = {"iso": "time_iso", "slash": "time_slash", "chinese_date": "time_chinese_date", "compact": "time_compact",
                "excel_serial": "time_excel_serial"}

PLANT_KINDS = ["no_announcement", "short_tender", "bad_winner_code", "privacy", "single_bidder"]


def _names(rng: np.random.Generator, n: int) -> list[str]:
    s = rng.integers(0, len(SURNAMES), n)
    g1 = rng.integers(0, len(GIVEN), n)
    g2 = rng.integers(0, len(GIVEN), n)
    two = rng.random(n) < 0.5
    return [SURNAMES[a] + GIVEN[b] + ("" if t else GIVEN[c]) for a, b, c, t in zip(s, g1, g2, two)]


def _id_numbers(rng: np.random.Generator, n: int) -> np.ndarray:
    """Checksum-valid ID numbers (GB 11643), vectorised."""
    region = np.array(NX_COUNTIES)[rng.integers(0, len(NX_COUNTIES), n)]
    birth = np.datetime64("1965-01-01") + rng.integers(0, 365 * 25, n).astype("timedelta64[D]")
    seq = rng.integers(0, 1000, n)
    first17 = np.char.add(np.char.add(region, np.char.replace(birth.astype(str), "-", "")),
                          np.char.zfill(seq.astype(str), 3))
    digits = first17.astype("S17").view("u1").reshape(n, 17) - ord("0")
    weights = np.array((7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2))
    check = np.array(list("10X98765432"))[(digits * weights).sum(axis=1) % 11]
    return np.char.add(first17, check)


def _companies(rng: np.random.Generator, n: int, start: int) -> tuple[list[str], list[str]]:
    names, codes = [], []
    for i in range(n):
        k = start + i
        place = SUPPLIER_PLACES[k % len(SUPPLIER_PLACES)]
        word = SUPPLIER_WORDS[(k // len(SUPPLIER_PLACES)) % len(SUPPLIER_WORDS)]
        brand = BRANDS[(k // (len(SUPPLIER_PLACES) * len(SUPPLIER_WORDS))) % len(BRANDS)]
        gen = k // (len(SUPPLIER_PLACES) * len(SUPPLIER_WORDS) * len(BRANDS))
        names.append(f"{place}{brand}{word}有限公司" + (f"（{gen + 1}）" if gen else ""))
        region = NX_COUNTIES[k % len(NX_COUNTIES)][:4] + "00"
        body = f"{int(rng.integers(10_000_000, 99_999_999))}"
        c = 11 - sum(int(d) * w for d, w in zip(body, (3, 7, 9, 10, 5, 8, 4, 2))) % 11
        codes.append(identifiers.make_uscc("91" + region + body + {10: "X", 11: "0"}.get(c, str(c))))
    return names, codes


def corrupt_check_char(code: str) -> str:
    good = code[17]
    alphabet = identifiers.USCC_ALPHABET
    return code[:17] + alphabet[(alphabet.index(good) + 7) % len(alphabet)]


def generate_trading(out: Path, seed: int, scale: float, years: list[int], entity_buyers: list[tuple[str, str, str]],
                     writer) -> dict:
    rng = np.random.default_rng([seed, 97])
    n_deals = max(60, round(ROWS_PER_SCALE * scale / 3.55))
    # buyers: the registry's entities plus other public buyers (schools, hospitals, bureaus)
    extra = 12 * math.ceil(math.sqrt(scale))
    bnames = [b[1] for b in entity_buyers]
    bcodes = [b[0] for b in entity_buyers]
    bregions = [b[2] for b in entity_buyers]
    regs = refdata.regions()
    counties = [c for c in sorted(regs) if regs[c]["level"] == "county"]
    kinds = ["第一中学", "人民医院", "第二小学", "住房和城乡建设局", "自然资源局", "水务局", "农业农村局", "机关事务管理局"]
    for i in range(extra):
        rc = counties[i % len(counties)]
        bnames.append(regs[rc]["region_name"] + kinds[(i // len(counties)) % len(kinds)]
                      + (f"（{i // (len(counties) * len(kinds)) + 1}）" if i >= len(counties) * len(kinds) else ""))
        body = f"{int(rng.integers(10_000_000, 99_999_999))}"
        c = 11 - sum(int(d) * w for d, w in zip(body, (3, 7, 9, 10, 5, 8, 4, 2))) % 11
        bcodes.append(identifiers.make_uscc(("12" if i % 8 < 3 else "11") + rc + body + {10: "X", 11: "0"}.get(c, str(c))))
        bregions.append(rc)
    pool_n = 48
    pools = {}
    for a, key in ((WORKS, "works"), (GP, "gp"), (LAND, "land")):
        pools[key] = _companies(rng, pool_n, {"works": 0, "gp": 100, "land": 200}[key])
    agencies = _companies(rng, 12, 300)
    agencies = ([f"{SUPPLIER_PLACES[i]}{BRANDS[i]}招标代理有限公司" for i in range(len(agencies[0]))], agencies[1])

    variety = min(n_deals, VARIETY_DEALS)
    n_plant = max(1, round(scale))
    stats = {"rows": 0, "deals": 0}
    plan = _plant_plan(n_deals, n_plant, seed, len(bnames), len(years))
    written_variety: dict[int, list[pl.DataFrame]] = {i: [] for i in range(len(PROFILES))}
    chunk_starts = [0, variety] + list(range(variety + CHUNK_DEALS, n_deals, CHUNK_DEALS))
    chunk_starts = sorted(set(s for s in chunk_starts if s < n_deals))
    for ci, start in enumerate(chunk_starts):
        end = chunk_starts[ci + 1] if ci + 1 < len(chunk_starts) else n_deals
        crng = np.random.default_rng([seed, 11, start])
        deals = _deals(crng, start, end, years, bnames, bcodes, bregions, pools, agencies, plan, writer)
        rows = _bulletins(crng, deals)
        stats["deals"] += deals.height
        if start < variety:
            prof = (rows["deal_idx"] % len(PROFILES)).to_numpy()
            for p in range(len(PROFILES)):
                written_variety[p].append(rows.filter(pl.Series(prof == p)))
        else:
            rel = f"trading/bulk/ggzy_{years[0]}_{years[-1]}_part{ci:05d}.csv"
            n = _write(out, rel, rows, PROFILES[0], writer)
            stats["rows"] += n
    for p, frames in written_variety.items():
        if not frames:
            continue
        rows = pl.concat(frames, how="diagonal_relaxed")
        rel = PROFILES[p][0].format(y0=years[0], y1=years[-1])
        n = _write(out, rel, rows, PROFILES[p], writer)
        stats["rows"] += n
        if p == 0:
            stats["rows"] += _duplicated_export(out, rel, rows, years, writer)
            if rows.height > 40:
                picked = _standard_table_deals(rows)
                if picked:
                    forms = trading_forms.write_standard_tables(
                        out, writer, rel, rows, rows["NOTICE_SEND_TIME"].max(), *picked)
                    stats["rows"] += forms["rows"]
                    stats["deals"] += forms["deals"]
    api = trading_forms.write_search_api(out, writer, years[-1], pools["works"])
    stats["rows"] += api["rows"]
    stats["deals"] += api["deals"]
    return stats


def _duplicated_export(out: Path, rel: str, rows: pl.DataFrame, years: list[int], writer) -> int:
    """A second download overlapping the first (its rows 6..25), one of whose copies states another
    amount: TRADE_CONFLICTING_COPIES, naming both files. Returns the rows written."""
    dup_rel = f"trading/{years[0]}-{years[-1]}_交易信息_导出(1).csv"
    dup = rows.slice(5, 20).with_row_index("_i")
    results = dup.filter(pl.col("BULLETIN_TYPE").is_in(["中标结果公告", "成交结果公告"]) & pl.col("BID_AMOUNT").is_not_null()
                         & (pl.col("plant") == ""))
    changed = results.row(0, named=True) if results.height else None
    if changed is not None:
        dup = dup.with_columns(pl.when(pl.col("_i") == changed["_i"]).then(pl.col("BID_AMOUNT") + 1000)
                               .otherwise(pl.col("BID_AMOUNT")).alias("BID_AMOUNT"))
        first = rows.filter(pl.col("deal_idx") == changed["deal_idx"])["NOTICE_SEND_TIME"].min()
        writer.finding("TRADE_CONFLICTING_COPIES", changed["TENDERER_CODE"], first.year,
                       f"{changed['PROJECT_CODE']}/{changed['BID_SECTION_CODE']}",
                       f"planted: {dup_rel} row {changed['_i'] + 2} states BID_AMOUNT "
                       f"{changed['BID_AMOUNT'] + 1000}, {rel} row {changed['_i'] + 7} {changed['BID_AMOUNT']}")
        writer.conflicting_copies.append({"source_file": dup_rel, "source_row": int(changed["_i"]) + 2,
                                          "duplicate_of": rel, "duplicate_row": int(changed["_i"]) + 7,
                                          "fields": ["BID_AMOUNT"]})
    dup = dup.drop("_i")
    _write(out, dup_rel, dup, PROFILES[0], writer, variants=False)
    # which copy is canonical: the latest export, then file order (docs/CONTRACTS.md §2.2)
    times = {rel: rows["NOTICE_SEND_TIME"].max(), dup_rel: dup["NOTICE_SEND_TIME"].max()}
    for i in range(dup.height):
        keep = trading_forms.canonical_copy([(rel, 5 + i + 2, times[rel]), (dup_rel, i + 2, times[dup_rel])])
        other = (dup_rel, i + 2) if keep == (rel, 5 + i + 2) else (rel, 5 + i + 2)
        writer.duplicate_rows.append({"source_file": other[0], "source_row": other[1],
                                      "duplicate_of": keep[0], "duplicate_row": keep[1]})
    writer.variant("duplicated_export", dup_rel)
    return dup.height


def _standard_table_deals(rows: pl.DataFrame) -> tuple[int, int] | None:
    """A clean works deal (candidates in one row) and a clean open-tender procurement deal, each with its
    whole chain in this file and none of it in the duplicated export (rows 6..25)."""
    indexed = rows.with_row_index("_i")
    in_dup = set(indexed.filter((pl.col("_i") >= 5) & (pl.col("_i") < 25))["deal_idx"].to_list())
    by_deal = indexed.group_by("deal_idx").agg(pl.col("BULLETIN_TYPE"), pl.col("WIN_CANDIDATE_ORDER"),
                                               pl.col("plant").first(), pl.col("TRADE_AREA").first(),
                                               pl.col("NOTICE_NAME")).sort("deal_idx")
    works = gp = None
    for r in by_deal.iter_rows(named=True):
        if r["deal_idx"] in in_dup or r["plant"]:
            continue
        types = r["BULLETIN_TYPE"]
        if works is None and r["TRADE_AREA"] == AREAS[WORKS] and types.count("中标候选人公示") == 1 \
                and all(o is None for o in r["WIN_CANDIDATE_ORDER"]) and "合同公告" in types:
            works = r["deal_idx"]
        if gp is None and r["TRADE_AREA"] == AREAS[GP] and "中标结果公告" in types and "交易公告" in types:
            gp = r["deal_idx"]
    return (works, gp) if works is not None and gp is not None else None


def _plant_plan(n_deals: int, n_plant: int, seed: int, n_buyers: int, n_years: int) -> dict[int, str]:
    """deal index -> plant kind, spread over all deals; each plant on its own (buyer, year) while such pairs
    remain (buyer = index mod buyers, year = index mod years, as in _deals), so plants do not interact."""
    rng = np.random.default_rng([seed, 5])
    wanted = min(n_deals, n_plant * len(PLANT_KINDS))
    chosen, used, spare = [], set(), []
    for i in rng.permutation(n_deals)[: max(wanted * 4, 1000)].tolist():
        pair = (i % n_buyers, i % n_years)
        if pair in used:
            spare.append(i)
            continue
        used.add(pair)
        chosen.append(i)
        if len(chosen) == wanted:
            break
    chosen += spare[: wanted - len(chosen)]
    return {int(i): PLANT_KINDS[k % len(PLANT_KINDS)] for k, i in enumerate(sorted(chosen))}


def _deals(rng, start, end, years, bnames, bcodes, bregions, pools, agencies, plan, writer) -> pl.DataFrame:
    n = end - start
    idx = np.arange(start, end)
    area = rng.choice(6, size=n, p=AREA_WEIGHTS)
    plant = np.array([plan.get(int(i), "") for i in idx], dtype=object)
    # planted kinds need a particular area
    area = np.where(np.isin(plant, ["short_tender", "privacy"]), WORKS, area)
    area = np.where(np.isin(plant, ["no_announcement", "bad_winner_code"]), GP, area)
    area = np.where(plant == "single_bidder", PROPERTY, area)
    year = np.array(years)[idx % len(years)]
    n_buyers = len(bnames)
    buyer = idx % n_buyers
    seq = idx // n_buyers
    open_tender = (area == GP) & (rng.random(n) < 0.6) | (plant == "bad_winner_code")
    ann = ((year - 1970).astype("datetime64[Y]").astype("datetime64[D]") + rng.integers(4, 320, n).astype("timedelta64[D]"))
    cal = refdata.business_calendar()
    doc_days = np.where(area == WORKS, rng.integers(5, 11, n), rng.integers(10, 21, n))
    doc_end = ann + doc_days.astype("timedelta64[D]")
    gp_doc_end = np.busday_offset(ann, rng.integers(5, 8, n), roll="backward", busdaycal=cal)
    doc_end = np.where(area == GP, gp_doc_end, doc_end)
    period = np.where((area == WORKS) | (area == HOUSING) | open_tender, rng.integers(21, 31, n),
                      np.where(area == GP, rng.integers(10, 16, n), rng.integers(20, 26, n)))
    period = np.where(plant == "short_tender", 15, period)
    deadline = ann + period.astype("timedelta64[D]")
    deadline = np.maximum(deadline, doc_end + np.timedelta64(1, "D"))
    cand = deadline + rng.integers(1, 4, n).astype("timedelta64[D]")
    pub_end = cand + rng.integers(3, 6, n).astype("timedelta64[D]")
    result = np.where(area == WORKS, pub_end + rng.integers(1, 4, n).astype("timedelta64[D]"),
                      deadline + rng.integers(1, 8, n).astype("timedelta64[D]"))
    sign = result + rng.integers(3, 26, n).astype("timedelta64[D]")
    gp_notice = np.busday_offset(sign, rng.integers(1, 3, n), roll="backward", busdaycal=cal)
    contract_notice = np.where(area == GP, gp_notice, sign + rng.integers(1, 6, n).astype("timedelta64[D]"))
    lo = np.select([area == WORKS, area == GP, area == HOUSING], [500, 50, 1000], 1000)   # 千元
    hi = np.select([area == WORKS, area == GP, area == HOUSING], [50000, 5000, 80000], 100000)
    budget = (rng.integers(lo, hi) * 1000).astype(np.int64)          # 元, multiple of 1000
    bid = (budget * rng.integers(80, 100, n) // 100 // 100 * 100).astype(np.int64)
    has_budget = (area == WORKS) | (area == GP) | (area == HOUSING)
    bidders = np.where(plant == "single_bidder", 1, rng.integers(3, 13, n))
    pool_key = np.where((area == WORKS) | (area == HOUSING), "works", np.where(area == GP, "gp", "land"))
    w_i = (buyer * 7 + seq) % len(pools["works"][0])
    win_name = np.empty(n, dtype=object)
    win_code = np.empty(n, dtype=object)
    cand2 = np.empty(n, dtype=object)
    cand3 = np.empty(n, dtype=object)
    cand2c = np.empty(n, dtype=object)
    cand3c = np.empty(n, dtype=object)
    for key, (names, codes) in pools.items():
        m = pool_key == key
        names_a, codes_a = np.array(names, dtype=object), np.array(codes, dtype=object)
        win_name[m], win_code[m] = names_a[w_i[m]], codes_a[w_i[m]]
        cand2[m], cand2c[m] = names_a[(w_i[m] + 1) % len(names)], codes_a[(w_i[m] + 1) % len(names)]
        cand3[m], cand3c[m] = names_a[(w_i[m] + 2) % len(names)], codes_a[(w_i[m] + 2) % len(names)]
    agency_i = (buyer + seq) % len(agencies[0])
    project = np.array([PROJECTS[a][(i * 7 + s) % len(PROJECTS[a])] for a, i, s in zip(area, buyer, seq)], dtype=object)
    code_prefix = np.array(["NXGC", "NXCG", "NXAJ", "NXTD", "NXKY", "NXCQ"])[area]
    project_code = np.char.add(np.char.add(np.char.add(code_prefix, year.astype(str)), "-"),
                               np.char.zfill(idx.astype(str), 7)).astype(object)
    deals = pl.DataFrame({
        "deal_idx": idx, "area": area, "plant": plant.astype(str), "year": year, "open_tender": open_tender,
        "ann": ann, "doc_end": doc_end, "deadline": deadline, "cand": cand, "pub_end": pub_end, "result": result,
        "sign": sign, "contract_notice": contract_notice, "budget": np.where(has_budget, budget, -1),
        "bid": bid, "bidders": bidders, "buyer_name": np.array(bnames, dtype=object)[buyer].astype(str),
        "buyer_code": np.array(bcodes, dtype=object)[buyer].astype(str),
        "region": np.array(bregions, dtype=object)[buyer].astype(str),
        "agency_name": np.array(agencies[0], dtype=object)[agency_i].astype(str),
        "agency_code": np.array(agencies[1], dtype=object)[agency_i].astype(str),
        "win_name": win_name.astype(str), "win_code": win_code.astype(str), "cand2": cand2.astype(str),
        "cand2_code": cand2c.astype(str), "cand3": cand3.astype(str), "cand3_code": cand3c.astype(str),
        "project": project.astype(str), "project_code": project_code.astype(str),
        "pm_name": _names(rng, n), "pm_code": _id_numbers(rng, n),
        "phone": np.char.add("0951-", rng.integers(5000000, 6999999, n).astype(str)),
        "cand_rows": rng.random(n) < 0.5,
    }).with_columns(pl.col("budget").replace(-1, None))
    # planted defects → ground truth
    for r in deals.filter(pl.col("plant") != "").iter_rows(named=True):
        deal_id = f"{r['project_code']}/{r['project_code']}-001"
        kind = r["plant"]
        fy = int(r["year"]) if kind != "no_announcement" else int(str(r["result"])[:4])
        if kind == "no_announcement":
            writer.finding("TRADE_RESULT_WITHOUT_ANNOUNCEMENT", r["buyer_code"], fy, deal_id, "planted: no 交易公告")
        elif kind == "short_tender":
            writer.finding("TRADE_SHORT_TENDER_PERIOD", r["buyer_code"], fy, deal_id, "planted: 15-day tender period")
        elif kind == "bad_winner_code":
            writer.finding("IDENT_USCC_INVALID", r["buyer_code"], fy, corrupt_check_char(r["win_code"]),
                           f"planted: WIN_BIDDER_CODE with a wrong check character in deal {deal_id}")
        elif kind == "privacy":
            writer.finding("PRIV_ID_NUMBER", r["buyer_code"], fy, deal_id, "planted: ID number in NOTICE_CONTENT")
            writer.finding("PRIV_MOBILE", r["buyer_code"], fy, deal_id, "planted: mobile number in NOTICE_CONTENT")
        elif kind == "single_bidder":
            writer.finding("FLAG_SINGLE_BIDDER", r["buyer_code"], fy, deal_id, "planted: one bidder (国有产权交易)")
    bad = deals["plant"] == "bad_winner_code"
    if bad.any():
        fresh = [f"宁夏瑞丰达商贸有限公司（{i}）" for i in deals.filter(bad)["deal_idx"]]
        deals = deals.with_columns(
            pl.when(bad).then(pl.col("win_code").map_elements(corrupt_check_char, return_dtype=pl.String))
            .otherwise(pl.col("win_code")).alias("win_code"))
        deals = deals.with_columns(pl.when(bad).then(pl.lit("")).otherwise(pl.col("win_name")).alias("win_name"))
        names = deals["win_name"].to_list()
        it = iter(fresh)
        deals = deals.with_columns(pl.Series("win_name", [next(it) if b else nm for b, nm in zip(bad, names)]))
    return deals


def _dt(col: str, hour: int, minute: int = 0) -> pl.Expr:
    return (pl.col(col).cast(pl.Datetime("us")) + pl.duration(hours=hour, minutes=minute))


def _bulletins(rng, d: pl.DataFrame) -> pl.DataFrame:
    area_name = pl.col("area").replace_strict(list(range(6)), AREAS, return_dtype=pl.String)
    section = pl.concat_str([pl.col("project_code"), pl.lit("-001")])
    base = [
        pl.col("deal_idx"), pl.col("plant"), pl.col("project_code").alias("PROJECT_CODE"),
        pl.col("project_code").alias("TENDER_PROJECT_CODE"), section.alias("BID_SECTION_CODE"),
        pl.concat_str([pl.lit("N"), pl.col("region"), pl.col("project_code").str.slice(2)]).alias("UNIFIED_DEAL_CODE"),
        area_name.alias("TRADE_AREA"), pl.col("region").alias("REGION_CODE"), pl.col("buyer_name").alias("TENDERER_NAME"),
        pl.col("buyer_code").alias("TENDERER_CODE"), pl.col("agency_name").alias("TENDER_AGENCY_NAME"),
        pl.col("agency_code").alias("TENDER_AGENCY_CODE"), pl.col("phone").alias("CONTACT_PHONE"),
    ]
    # one title in eleven wraps after the buyer's name, as long titles in real exports do
    title = pl.concat_str([pl.col("buyer_name"),
                           pl.when(pl.col("deal_idx") % 11 == 3).then(pl.lit("\n")).otherwise(pl.lit("")),
                           pl.col("year").cast(pl.String), pl.lit("年"), pl.col("project")])
    url = lambda t: pl.concat_str([pl.lit("http://www.nxggzyjy.org/ningxiaweb/002/"), pl.col("project_code"),  # noqa: E731
                                   pl.lit(f"/{t}.html")])
    out = []
    # 交易公告 announcement
    ann_kind = (pl.when(pl.col("area") == WORKS).then(pl.lit("招标公告"))
                .when((pl.col("area") == GP) & pl.col("open_tender")).then(pl.lit("公开招标公告"))
                .when(pl.col("area") == GP).then(pl.lit("竞争性磋商公告"))
                .when(pl.col("area") == HOUSING).then(pl.lit("招标公告"))
                .otherwise(pl.lit("挂牌公告")))
    # notice text spans lines, as real 公告内容 does: exports quote it, line breaks and all
    budget_txt = pl.when(pl.col("budget").is_not_null()).then(
        pl.concat_str([pl.lit("预算金额（最高限价）："), pl.col("budget").cast(pl.String), pl.lit("元\n")])).otherwise(pl.lit(""))
    content = pl.concat_str([pl.lit("一、项目名称："), pl.col("project"), pl.lit("\n二、项目编号："), pl.col("project_code"),
                             pl.lit("\n"), budget_txt, pl.lit("三、采购人："), pl.col("buyer_name"),
                             pl.lit("\n联系人：") , pl.col("pm_name").str.slice(0, 1), pl.lit("工\r\n联系电话："), pl.col("phone"),
                             pl.lit("。")])
    privacy = pl.concat_str([pl.lit("项目负责人"), pl.col("pm_name"), pl.lit("，身份证号"), pl.col("pm_code"),
                             pl.lit("，手机1"), (pl.col("deal_idx") % 7 + 3).cast(pl.String),
                             (pl.col("deal_idx") % 100_000_000 + 900_000_000).cast(pl.String).str.slice(0, 9),
                             pl.lit("。")])
    content_ann = pl.when(pl.col("plant") == "privacy").then(pl.concat_str([content, privacy])).otherwise(content)
    a = d.filter(pl.col("plant") != "no_announcement").select(
        base + [pl.lit("交易公告").alias("BULLETIN_TYPE"), pl.concat_str([title, ann_kind]).alias("NOTICE_NAME"),
                _dt("ann", 9, 30).alias("NOTICE_SEND_TIME"), pl.col("budget").alias("BUDGET_AMOUNT"),
                _dt("ann", 9, 30).alias("DOC_GET_START_TIME"), _dt("doc_end", 17).alias("DOC_GET_END_TIME"),
                _dt("deadline", 9, 30).alias("BID_DOC_REFER_END_TIME"), _dt("deadline", 9, 30).alias("BID_OPEN_TIME"),
                content_ann.alias("NOTICE_CONTENT"), url("jygg").alias("URL"), pl.lit(0).alias("_order")])
    out.append(a)
    # 中标候选人公示 (works): one row per candidate, or one row listing them
    w = d.filter(pl.col("area") == WORKS)
    cand_common = base + [pl.lit("中标候选人公示").alias("BULLETIN_TYPE"),
                          pl.concat_str([title, pl.lit("中标候选人公示")]).alias("NOTICE_NAME"),
                          _dt("cand", 10).alias("NOTICE_SEND_TIME"), _dt("deadline", 9, 30).alias("BID_OPEN_TIME"),
                          pl.col("bidders").alias("BIDDER_COUNT"), _dt("cand", 10).alias("PUBLICITY_START_TIME"),
                          _dt("pub_end", 17).alias("PUBLICITY_END_TIME"), pl.col("pm_name").alias("PM_NAME"),
                          pl.col("pm_code").alias("PM_CODE"),
                          pl.concat_str([pl.lit("根据评标委员会的评审结果，现将"), pl.col("project"),
                                         pl.lit("中标候选人公示如下，公示期不少于3日。")]).alias("NOTICE_CONTENT"),
                          url("zbhxr").alias("URL")]
    per_cand = w.filter(pl.col("cand_rows"))
    for order, (nm, cd) in enumerate((("win_name", "win_code"), ("cand2", "cand2_code"), ("cand3", "cand3_code")), 1):
        out.append(per_cand.select(cand_common + [pl.col(nm).alias("WIN_CANDIDATE_NAME"), pl.col(cd).alias("WIN_CANDIDATE_CODE"),
                                                  pl.lit(order).alias("WIN_CANDIDATE_ORDER"), pl.lit(order).alias("_order")]))
    one_row = w.filter(~pl.col("cand_rows"))
    out.append(one_row.select(cand_common + [
        pl.concat_str([pl.col("win_name"), pl.col("cand2"), pl.col("cand3")], separator="；").alias("WIN_CANDIDATE_NAME"),
        pl.lit(4).alias("_order")]))
    # 中标结果公告 / 成交结果公告
    res_type = pl.when(pl.col("area").is_in([WORKS, HOUSING]) | ((pl.col("area") == GP) & pl.col("open_tender"))) \
        .then(pl.lit("中标结果公告")).otherwise(pl.lit("成交结果公告"))
    out.append(d.select(base + [
        res_type.alias("BULLETIN_TYPE"), pl.concat_str([title, res_type]).alias("NOTICE_NAME"),
        _dt("result", 10).alias("NOTICE_SEND_TIME"), pl.col("bidders").alias("BIDDER_COUNT"),
        pl.col("win_name").alias("WIN_BIDDER_NAME"), pl.col("win_code").alias("WIN_BIDDER_CODE"),
        pl.col("bid").alias("BID_AMOUNT"),
        pl.when(pl.col("area") == WORKS).then(pl.col("pm_name")).alias("PM_NAME"),
        pl.when(pl.col("area") == WORKS).then(pl.col("pm_code")).alias("PM_CODE"),
        pl.concat_str([pl.col("project"), pl.lit("已确定成交，成交人："), pl.col("win_name"), pl.lit("，成交金额："),
                       pl.col("bid").cast(pl.String), pl.lit("元。")]).alias("NOTICE_CONTENT"),
        url("zbjg").alias("URL"), pl.lit(5).alias("_order")]))
    # 合同公告 (not for land/mining/property)
    c = d.filter(pl.col("area").is_in([WORKS, GP, HOUSING]))
    out.append(c.select(base + [
        pl.lit("合同公告").alias("BULLETIN_TYPE"), pl.concat_str([title, pl.lit("合同公告")]).alias("NOTICE_NAME"),
        _dt("contract_notice", 15).alias("NOTICE_SEND_TIME"), pl.col("win_name").alias("WIN_BIDDER_NAME"),
        pl.col("win_code").alias("WIN_BIDDER_CODE"), pl.col("bid").alias("BID_AMOUNT"),
        _dt("sign", 10).alias("CONTRACT_SIGN_TIME"),
        pl.concat_str([pl.col("project"), pl.lit("合同已签订，合同金额"), pl.col("bid").cast(pl.String),
                       pl.lit("元。")]).alias("NOTICE_CONTENT"),
        url("htgg").alias("URL"), pl.lit(6).alias("_order")]))
    rows = pl.concat(out, how="diagonal_relaxed").sort(["deal_idx", "_order"])
    return rows


def _format_time(col: str, fmt: str) -> pl.Expr:
    c = pl.col(col)
    if fmt == "iso":
        return c.dt.strftime("%Y-%m-%d %H:%M:%S")
    if fmt == "slash":
        return c.dt.strftime("%Y/%-m/%-d %-H:%M")
    if fmt == "chinese_date":
        return c.dt.strftime("%Y年%-m月%-d日")
    if fmt == "compact":
        return c.dt.strftime("%Y%m%d")
    # Excel serial: days since 1899-12-30 with the time as a fraction
    return ((c - pl.datetime(1899, 12, 30)).dt.total_seconds() / 86400).round(6)


def _format_amount(col: str, style: str, wan: pl.Expr | None = None) -> pl.Expr:
    c = pl.col(col)
    if style == "header_wan" or style == "wan":
        return (c / 10000).round(4).cast(pl.String)   # multiples of 100 元 → ≤ 2 decimals in 万元
    return c.cast(pl.String)


def _write(out: Path, rel: str, rows: pl.DataFrame, profile, writer, variants: bool = True) -> int:
    _, container, encoding, header_style, time_fmt, amount_style = profile
    exprs = []
    for f in NATIONAL:
        if f not in rows.columns:
            exprs.append(pl.lit(None, dtype=pl.String).alias(f))
        elif f in TIME_FIELDS:
            exprs.append(_format_time(f, time_fmt).alias(f))
        elif f in AMOUNT_FIELDS:
            if amount_style == "unit_column":
                wan = (pl.col("deal_idx") % 2 == 0)
                exprs.append(pl.when(wan).then(_format_amount(f, "wan")).otherwise(_format_amount(f, "yuan")).alias(f))
            else:
                exprs.append(_format_amount(f, amount_style).alias(f))
        else:
            exprs.append(pl.col(f).cast(pl.String) if f not in ("BIDDER_COUNT", "WIN_CANDIDATE_ORDER")
                         else pl.col(f).cast(pl.Int64).alias(f))
    df = rows.select(exprs + ([pl.when(pl.col("deal_idx") % 2 == 0).then(pl.lit("万元")).otherwise(pl.lit("元"))
                               .alias("AMOUNT_UNIT")] if amount_style == "unit_column" else []))
    if header_style == "chinese":
        df = df.rename({k: CHINESE[k] for k in NATIONAL})
    if amount_style == "header_wan":
        df = df.rename({CHINESE.get("BUDGET_AMOUNT") if header_style == "chinese" else "BUDGET_AMOUNT": "预算金额(万元)",
                        CHINESE.get("BID_AMOUNT") if header_style == "chinese" else "BID_AMOUNT": "中标金额(万元)"})
    path = out / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if container == "csv":
        if encoding == "utf-8":
            df.write_csv(path)
        elif encoding == "gb18030" and variants:
            # a GBK export into which another tool appended lines in UTF-8 (one physical line in 13)
            lines = df.write_csv().split("\n")
            path.write_bytes(b"\n".join(line.encode("utf-8" if i % 13 == 7 and not line.isascii() else encoding)
                                        for i, line in enumerate(lines)))
            writer.variant("gbk_with_utf8_lines", rel)
        else:
            text = df.write_csv()
            path.write_bytes(text.encode(encoding))
        if variants and df.select(pl.any_horizontal(pl.col(pl.String).str.contains("\n"))).to_series().any():
            writer.variant("quoted_line_breaks", rel)
    else:
        records = df.to_dicts()
        records = [{k: v for k, v in r.items() if v is not None} for r in records]
        if container == "json_array":
            path.write_text(json.dumps(records, ensure_ascii=False, indent=0), encoding="utf-8")
        elif container == "json_data":
            path.write_text(json.dumps({"total": len(records), "data": records}, ensure_ascii=False), encoding="utf-8")
        else:
            lines = [json.dumps(r, ensure_ascii=False) for r in records]
            if variants and len(lines) > 2:
                # one line cut short, as a crashed export leaves it: line 3 of the file, a row reject
                broken = lines[1][: len(lines[1]) // 2]
                lines.insert(2, broken)
                writer.rejected_rows.append({"source_file": rel, "sheet": None, "source_row": 3,
                                             "source_column": None, "raw_value": broken})
                writer.variant("jsonl_malformed_line", rel)
            path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    if variants:
        writer.variant({"csv": {"utf-8": "utf8_csv", "utf-8-sig": "utf8_bom_csv", "gb18030": "gbk_csv"}.get(encoding),
                        "json_array": "json_array", "json_data": "json_data_object", "jsonl": "jsonl"}[container], rel)
        writer.variant("trading_national_names" if header_style == "national" else "trading_chinese_labels", rel)
        writer.variant(TIME_VARIANT[time_fmt], rel)
        if amount_style == "header_wan":
            writer.variant("amount_header_unit_wan", rel)
        if amount_style == "unit_column":
            writer.variant("amount_unit_column", rel)
        if (rows["WIN_CANDIDATE_ORDER"].is_null() & (rows["BULLETIN_TYPE"] == "中标候选人公示")).any():
            writer.variant("candidates_in_one_row", rel)
    return df.height
