"""Registry CSVs and trading exports of the contract root: regions / entities / approvals registers, and the
public-resource trading exports (GBK / UTF-8-BOM CSV, JSON ``{"data": …}``, JSONL, forms) with their planted
duplicates and personal data. A mixin of ``contract_raw.Builder``, which supplies ``root``, ``out`` and
``rel``.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path

from contract_raw_catalogue import (CIVIL, D, ENTITIES, FIRST_YEAR, REGIONS, WATER, YEARS, budget_approval,
    final_approval, finance_reply, id_number, uscc)


class RegistryAndTrading:
    # registry ---------------------------------------------------------------------------------------------------
    def registry(self) -> None:
        folder = self.root / "registry"
        folder.mkdir(parents=True)
        with (folder / "regions.csv").open("w", encoding="utf-8-sig", newline="") as h:
            wr = csv.writer(h)
            wr.writerow(["parent_code", "level", "region_name", "region_code"])
            for code, name, level, parent in REGIONS:
                wr.writerow([parent, level, name, code])
        for year in YEARS:
            encoding = "gbk" if year == 2016 else "utf-8"   # as Excel on Chinese Windows saves it
            with (folder / f"entities_{year}.csv").open("w", encoding=encoding, newline="") as h:
                wr = csv.writer(h)
                wr.writerow(["entity_name", "entity_kind", "entity_code", "parent_entity_code", "region_code",
                             "final_approved_on", "budget_approved_on", "has_state_capital", "has_government_fund"])
                for name, code, kind, parent in ENTITIES:
                    if year < FIRST_YEAR.get(code, 0):
                        continue
                    b = finance_reply(code, year, "budget")
                    f = finance_reply(code, year, "final")
                    wr.writerow([name, kind, code, parent, "640000", f.isoformat(), b.isoformat() if b else "",
                                 "true" if year >= 2019 else "false", "true"])
        with (folder / "approvals.csv").open("w", encoding="utf-8", newline="") as h:
            wr = csv.writer(h)
            wr.writerow(["fiscal_year", "document", "approved_on", "region_code"])
            for year in YEARS:
                for code, *_ in REGIONS:
                    wr.writerow([year, "budget", budget_approval(code, year).isoformat(), code])
                    wr.writerow([year, "final", final_approval(code, year).isoformat(), code])
                    if code == "640400" and year == 2016:   # a budget adjustment: owes no tables of its own here
                        wr.writerow([year, "adjustment", dt.date(2016, 10, 28).isoformat(), code])
        for p in folder.iterdir():
            self.out.files[self.rel(p)] = "registry"

    # trading --------------------------------------------------------------------------------------------------
    def trading(self) -> None:
        folder = self.root / "trading"
        folder.mkdir(parents=True)
        buyers = {
            "water": (WATER[0], WATER[1]), "civil": (CIVIL[0], CIVIL[1]),
            "xiji_water": ("西吉县水务局", uscc("11", "640422", 2_000_101)),
            "guyuan_housing": ("固原市住房和城乡建设局", uscc("11", "640400", 2_000_201)),
            "xiji_civil": ("西吉县民政局", uscc("11", "640422", 2_000_301)),
            "guyuan_transport": ("固原市交通运输局", uscc("11", "640400", 2_000_401)),
            "guyuan_land": ("固原市自然资源局", uscc("11", "640400", 2_000_501)),
        }
        agency = ("宁夏恒信招标代理有限公司", uscc("91", "640100", 3_000_101))
        firms = [(f"宁夏{n}建设工程有限公司", uscc("91", "640400", 4_000_000 + 97 * i))
                 for i, n in enumerate(["六盘山", "清水河", "须弥山", "火石寨", "葫芦河", "月亮山"])]
        bad_code = firms[4][1][:-1] + ("0" if firms[4][1][-1] != "0" else "1")   # wrong check character
        pm_id = id_number("640402", "19830417", 21)
        leaked_id = id_number("640422", "19790302", 35)
        works, gp = "工程建设项目招标投标", "政府采购"
        bulletins: list[dict] = []

        def b(deal: str, section: str, btype: str, area: str, buyer: str, sent: dt.datetime, **fields) -> dict:
            name, code = buyers[buyer]
            row = {"PROJECT_CODE": deal, "BID_SECTION_CODE": section, "BULLETIN_TYPE": btype, "TRADE_AREA": area,
                   "NOTICE_NAME": fields.pop("NOTICE_NAME", f"{name}{deal}{btype}"), "NOTICE_SEND_TIME": sent,
                   "REGION_CODE": fields.pop("REGION_CODE", "640400"), "TENDERER_NAME": name,
                   "TENDERER_CODE": code, "TENDER_AGENCY_NAME": agency[0], "TENDER_AGENCY_CODE": agency[1],
                   "CONTACT_PHONE": "0954-2031234", "URL": f"http://ggzyjy.nx.gov.cn/{deal}/{len(bulletins)}"}
            row.update(fields)
            bulletins.append(row)
            return row

        T = dt.datetime
        # D1 works, 水利厅 2016: complete and compliant; three candidates one row each (PM_CODE is an ID field)
        d1 = "NXSL-2016-001"
        b(d1, "001", "交易公告", works, "water", T(2016, 3, 1, 9), BUDGET_AMOUNT=D("1250.5"),
          DOC_GET_START_TIME=T(2016, 3, 2, 9), DOC_GET_END_TIME=T(2016, 3, 9, 17),
          BID_DOC_REFER_END_TIME=T(2016, 3, 28, 9, 30), BID_OPEN_TIME=T(2016, 3, 28, 9, 30))
        for order, firm in enumerate(firms[:3], start=1):
            b(d1, "001", "中标候选人公示", works, "water", T(2016, 3, 30, 10), WIN_CANDIDATE_NAME=firm[0],
              WIN_CANDIDATE_CODE=firm[1], WIN_CANDIDATE_ORDER=order, PUBLICITY_START_TIME=T(2016, 3, 30),
              PUBLICITY_END_TIME=T(2016, 4, 2), BID_PRICE=None, PM_NAME="马建国", PM_CODE=pm_id)
        b(d1, "001", "中标结果公告", works, "water", T(2016, 4, 5, 10), WIN_BIDDER_NAME=firms[0][0],
          WIN_BIDDER_CODE=firms[0][1], BID_AMOUNT=D("1198.3"), BIDDER_COUNT=5, CONTRACT_SIGN_TIME=T(2016, 4, 25))
        # D2 GP open tender, 民政厅 2016: compliant, result and contract notices
        d2 = "NXMZ-2016-GK-07"
        b(d2, "1", "交易公告", gp, "civil", T(2016, 5, 3, 9), NOTICE_NAME="宁夏回族自治区民政厅\n养老服务设备公开招标公告",
          NOTICE_CONTENT="一、采购需求：养老服务设备一批\r\n二、获取文件：网上下载\n\n三、联系电话：0951-5012345",
          BUDGET_AMOUNT=D("86.4"), DOC_GET_START_TIME=T(2016, 5, 4, 8, 30), DOC_GET_END_TIME=T(2016, 5, 11, 17),
          BID_DOC_REFER_END_TIME=T(2016, 5, 26, 9), BID_OPEN_TIME=T(2016, 5, 26, 9))
        b(d2, "1", "更正公告", gp, "civil", T(2016, 5, 10, 9), NOTICE_CONTENT="采购需求第3项数量由20台更正为24台。")
        b(d2, "1", "中标结果公告", gp, "civil", T(2016, 5, 31, 15), WIN_BIDDER_NAME=firms[1][0],
          WIN_BIDDER_CODE=firms[1][1], BID_AMOUNT=D("80.15"), BIDDER_COUNT=4)
        b(d2, "1", "合同公告", gp, "civil", T(2016, 6, 14, 11), WIN_BIDDER_NAME=firms[1][0],
          WIN_BIDDER_CODE=firms[1][1], BID_AMOUNT=D("80.15"), CONTRACT_SIGN_TIME=T(2016, 6, 13))
        # D3 works, 西吉县水务局 2020: submission period 15 days < 20 (planted)
        d3 = "XJSW-2020-015"
        b(d3, "A", "交易公告", works, "xiji_water", T(2020, 5, 6, 9), REGION_CODE="640422", BUDGET_AMOUNT=D("480"),
          DOC_GET_START_TIME=T(2020, 5, 6, 9), DOC_GET_END_TIME=T(2020, 5, 12, 17),
          BID_DOC_REFER_END_TIME=T(2020, 5, 21, 9), BID_OPEN_TIME=T(2020, 5, 21, 9))
        b(d3, "A", "中标候选人公示", works, "xiji_water", T(2020, 5, 23, 9), REGION_CODE="640422",
          WIN_CANDIDATE_NAME="；".join(f[0] for f in (firms[2], firms[0], firms[5])),
          PUBLICITY_START_TIME=T(2020, 5, 23), PUBLICITY_END_TIME=T(2020, 5, 26))
        b(d3, "A", "中标结果公告", works, "xiji_water", T(2020, 5, 29, 9), REGION_CODE="640422",
          WIN_BIDDER_NAME=firms[2][0], WIN_BIDDER_CODE=firms[2][1], BID_AMOUNT=D("455.7"), BIDDER_COUNT=6)
        self.out.findings.add(("TRADE_SHORT_TENDER_PERIOD", buyers["xiji_water"][1], 2020, f"{d3}/A"))
        # D4 works, 固原市住建局 2016: a result with no announcement (planted)
        # (exported without PROJECT_CODE: the deal is its 统一交易标识码)
        d4 = "GYZJ-2016-044"
        unified = "A16640400GC0044001"
        row = b(d4, "01", "中标结果公告", works, "guyuan_housing", T(2016, 9, 12, 10), WIN_BIDDER_NAME=firms[3][0],
                WIN_BIDDER_CODE=firms[3][1], BID_AMOUNT=D("230"), BIDDER_COUNT=4, UNIFIED_DEAL_CODE=unified)
        row["WIN_BIDDER_NAME"] = "宁夏𡈽原建设工程有限公司"   # a character outside GBK: the export is GB18030
        row["PROJECT_CODE"] = row["BID_SECTION_CODE"] = None
        self.out.findings.add(("TRADE_RESULT_WITHOUT_ANNOUNCEMENT", buyers["guyuan_housing"][1], 2016, unified))
        # D5 GP, 西吉县民政局 2020: winner's credit code fails its check character (planted)
        d5 = "XJMZ-2020-CG-03"
        b(d5, "1", "交易公告", gp, "xiji_civil", T(2020, 7, 1, 9), REGION_CODE="640422",
          NOTICE_NAME="西吉县民政局敬老院物资竞争性磋商公告", BUDGET_AMOUNT=D("35"),
          DOC_GET_START_TIME=T(2020, 7, 2, 9), DOC_GET_END_TIME=T(2020, 7, 9, 17),
          BID_DOC_REFER_END_TIME=T(2020, 7, 15, 9), BID_OPEN_TIME=T(2020, 7, 15, 9))
        b(d5, "1", "成交结果公告", gp, "xiji_civil", T(2020, 7, 17, 9), REGION_CODE="640422",
          WIN_BIDDER_NAME=firms[4][0], WIN_BIDDER_CODE=bad_code, BID_AMOUNT=D("33.6"), BIDDER_COUNT=3)
        self.out.findings.add(("IDENT_USCC_INVALID", buyers["xiji_civil"][1], 2020, bad_code))
        # D6 works, 固原市交通运输局 2015: an ID number and a mobile number in the notice text (planted)
        d6 = "GYJT-2015-009"
        b(d6, "1", "交易公告", works, "guyuan_transport", T(2015, 8, 3, 9), BUDGET_AMOUNT=D("760"),
          DOC_GET_START_TIME=T(2015, 8, 4, 9), DOC_GET_END_TIME=T(2015, 8, 10, 17),
          BID_DOC_REFER_END_TIME=T(2015, 8, 26, 9), BID_OPEN_TIME=T(2015, 8, 26, 9),
          NOTICE_CONTENT=f"联系人：李明，身份证号{leaked_id}，手机13995041234，请于规定时间内获取招标文件。")
        b(d6, "1", "中标结果公告", works, "guyuan_transport", T(2015, 9, 2, 9), WIN_BIDDER_NAME=firms[5][0],
          WIN_BIDDER_CODE=firms[5][1], BID_AMOUNT=D("702.4"), BIDDER_COUNT=5)
        self.out.findings.add(("PRIV_ID_NUMBER", buyers["guyuan_transport"][1], 2015, f"{d6}/1"))
        self.out.findings.add(("PRIV_MOBILE", buyers["guyuan_transport"][1], 2015, f"{d6}/1"))
        self.out.personal_data += [pm_id, leaked_id, "13995041234"]
        # D7 land use rights, 固原市自然资源局 2020: a 20-day listing with two bidders (no tender rules apply)
        d7 = "GYZR-2020-GP-11"
        b(d7, "1", "交易公告", "国有土地使用权出让", "guyuan_land", T(2020, 8, 3, 9),
          NOTICE_NAME="固原市国有建设用地使用权挂牌出让公告",
          DOC_GET_START_TIME=T(2020, 8, 4, 9), DOC_GET_END_TIME=T(2020, 8, 24, 17),
          BID_DOC_REFER_END_TIME=T(2020, 8, 24, 17), BID_OPEN_TIME=T(2020, 8, 25, 10))
        b(d7, "1", "成交结果公告", "国有土地使用权出让", "guyuan_land", T(2020, 8, 27, 9),
          WIN_BIDDER_NAME=firms[1][0], WIN_BIDDER_CODE=firms[1][1], BID_AMOUNT=D("1610"), BIDDER_COUNT=2)

        for row in bulletins:
            deal = (f"{row['PROJECT_CODE']}/{row['BID_SECTION_CODE']}" if row.get("PROJECT_CODE")
                    else row["UNIFIED_DEAL_CODE"])
            year, candidates, announced = self.out.deals.get(deal, (9999, 0, False))
            names = row.get("WIN_CANDIDATE_NAME")
            self.out.deals[deal] = (min(year, row["NOTICE_SEND_TIME"].year),
                                    candidates + (len(names.split("；")) if names else 0),
                                    announced or row["BULLETIN_TYPE"] == "交易公告")
        # expected amounts in 元 (exports state 万元)
        for row in bulletins:
            deal = (f"{row['PROJECT_CODE']}/{row['BID_SECTION_CODE']}" if row.get("PROJECT_CODE")
                    else row["UNIFIED_DEAL_CODE"])
            bid = f"{deal}|{row['BULLETIN_TYPE']}|{row.get('WIN_CANDIDATE_ORDER') or ''}"
            for fld in ("BUDGET_AMOUNT", "BID_AMOUNT"):
                if row.get(fld) is not None:
                    self.out.trading_amounts[(bid, fld)] = row[fld] * 10000

        # --- write the exports: each bulletin once, D1 twice (two overlapping exports) ------------------
        by_deal = {}
        for row in bulletins:
            by_deal.setdefault(row["PROJECT_CODE"] or row["UNIFIED_DEAL_CODE"], []).append(row)
        by_deal[d4] = by_deal.pop(unified)
        cn_labels = {  # Chinese labels, in an order of their own
            "NOTICE_NAME": "公告标题", "BULLETIN_TYPE": "公告类型", "TRADE_AREA": "交易领域",
            "PROJECT_CODE": "项目编号", "BID_SECTION_CODE": "标段(包)编号", "UNIFIED_DEAL_CODE": "统一交易标识码",
            "NOTICE_SEND_TIME": "发布时间",
            "TENDERER_NAME": "招标人/采购人", "TENDERER_CODE": "招标人代码", "REGION_CODE": "行政区划",
            "TENDER_AGENCY_NAME": "代理机构", "TENDER_AGENCY_CODE": "代理机构代码",
            "BUDGET_AMOUNT": "预算金额（万元）", "DOC_GET_START_TIME": "文件获取开始时间",
            "DOC_GET_END_TIME": "文件获取截止时间", "BID_DOC_REFER_END_TIME": "投标截止时间",
            "BID_OPEN_TIME": "开标时间", "BIDDER_COUNT": "投标人数", "WIN_CANDIDATE_NAME": "中标候选人",
            "WIN_CANDIDATE_CODE": "中标候选人代码", "WIN_CANDIDATE_ORDER": "排名", "PUBLICITY_START_TIME": "公示开始",
            "PUBLICITY_END_TIME": "公示结束", "WIN_BIDDER_NAME": "中标人/成交供应商", "WIN_BIDDER_CODE": "中标人代码",
            "BID_AMOUNT": "中标金额（万元）", "CONTRACT_SIGN_TIME": "合同签订时间", "PM_NAME": "项目负责人",
            "PM_CODE": "项目负责人证件号", "CONTACT_PHONE": "联系电话", "NOTICE_CONTENT": "公告内容", "URL": "公告链接",
        }
        national = ["URL", "NOTICE_CONTENT", "CONTACT_PHONE", "PM_CODE", "PM_NAME", "CONTRACT_SIGN_TIME", "AMOUNT_UNIT",
                    "BID_AMOUNT", "WIN_BIDDER_CODE", "WIN_BIDDER_NAME", "PUBLICITY_END_TIME", "PUBLICITY_START_TIME",
                    "WIN_CANDIDATE_ORDER", "WIN_CANDIDATE_CODE", "WIN_CANDIDATE_NAME", "BIDDER_COUNT", "BID_OPEN_TIME",
                    "BID_DOC_REFER_END_TIME", "DOC_GET_END_TIME", "DOC_GET_START_TIME", "BUDGET_AMOUNT",
                    "TENDER_AGENCY_CODE", "TENDER_AGENCY_NAME", "TENDERER_CODE", "TENDERER_NAME", "REGION_CODE",
                    "NOTICE_SEND_TIME", "NOTICE_NAME", "TRADE_AREA", "BULLETIN_TYPE", "BID_SECTION_CODE",
                    "PROJECT_CODE"]

        def text_time(value, style: str):
            if not isinstance(value, dt.datetime):
                return value
            if style == "slash":
                return f"{value.year}/{value.month}/{value.day} {value.hour}:{value.minute:02d}"
            if style == "chinese":
                return f"{value.year}年{value.month}月{value.day}日"
            if style == "compact":
                return value.strftime("%Y%m%d")
            if style == "serial":
                delta = value - dt.datetime(1899, 12, 30)
                return round(delta.days + delta.seconds / 86400, 6)
            return value.strftime("%Y-%m-%d %H:%M:%S")

        def cell(row: dict, key: str, style: str, unit_in_header: bool):
            value = row.get(key)
            if value is None:
                return None
            if isinstance(value, Decimal):
                return str(value) if unit_in_header else str(value)
            return text_time(value, style)

        # GBK CSV, Chinese labels, slash times, amounts in 万元 by header: D1 (+ D4)
        gbk_rows = by_deal[d1] + by_deal[d4]
        keys = list(cn_labels)
        buf = io.StringIO()
        wr = csv.writer(buf)
        wr.writerow([cn_labels[k] for k in keys])
        for row in gbk_rows:
            wr.writerow([cell(row, k, "slash", True) or "" for k in keys])
        # a GBK export into which another tool appended a line in UTF-8 (D1's result): decided per line
        gbk_lines = buf.getvalue().split("\r\n")
        result_line = next(i for i, line in enumerate(gbk_lines) if "中标结果公告" in line and d1 in line)
        (folder / "宁夏公共资源交易_导出_gbk.csv").write_bytes(b"\r\n".join(
            line.encode("utf-8" if i == result_line else "gb18030") for i, line in enumerate(gbk_lines)))
        # UTF-8 with BOM, national names, AMOUNT_UNIT column (万元), ISO times: D2, D3
        buf = io.StringIO()
        wr = csv.writer(buf)
        wr.writerow(national)
        for row in by_deal[d2] + by_deal[d3]:
            in_yuan = row["PROJECT_CODE"] == d3
            values = []
            for k in national:
                if k == "AMOUNT_UNIT":
                    values.append("元" if in_yuan else "万元")
                elif isinstance(row.get(k), Decimal) and in_yuan:
                    values.append(f"{row[k] * 10000:.2f}")
                elif k == "CONTRACT_SIGN_TIME" and row.get(k) is not None:
                    values.append(str(text_time(row[k], "serial")))
                else:
                    values.append(cell(row, k, "iso", False) or "")
            wr.writerow(values)
        (folder / "ggzy_export_bom.csv").write_bytes(b"\xef\xbb\xbf" + buf.getvalue().encode("utf-8"))
        # JSON {"data": [...]}, Chinese dates and compact dates, amounts in 万元 via AMOUNT_UNIT: D5, D7
        api = []
        # keys: the contract's Chinese label where it gives one, else the national name; the unit in the
        # amount keys with half-width brackets
        json_labels = {"PROJECT_CODE": "项目编号", "BID_SECTION_CODE": "标段(包)编号", "BULLETIN_TYPE": "公告类型",
                       "TRADE_AREA": "交易领域", "NOTICE_NAME": "公告标题", "NOTICE_SEND_TIME": "发布时间",
                       "REGION_CODE": "行政区划", "TENDERER_NAME": "招标人/采购人", "TENDER_AGENCY_NAME": "代理机构",
                       "BUDGET_AMOUNT": "预算金额/最高限价(万元)", "DOC_GET_START_TIME": "文件获取开始时间",
                       "BID_DOC_REFER_END_TIME": "投标截止时间", "BID_OPEN_TIME": "开标时间", "BIDDER_COUNT": "投标人数",
                       "WIN_BIDDER_NAME": "中标人/成交供应商", "BID_AMOUNT": "中标金额(万元)", "URL": "URL"}
        for j, row in enumerate(by_deal[d5]):
            rec = {json_labels.get(k, k): cell(row, k, ("chinese", "compact")[j % 2], False) for k in row}
            rec = {k: (str(v) if isinstance(v, int) and not isinstance(v, bool) else v) for k, v in rec.items()}
            api.append(rec)
        (folder / "api").mkdir()
        (folder / "api" / "xiji_2020.json").write_text(json.dumps({"data": api}, ensure_ascii=False),
                                                       encoding="utf-8")
        # a plain JSON array, ISO 'T' times, numbers as JSON numbers, amounts in 元 (no unit anywhere): D7
        land = [{k: (float(v * 10000) if isinstance(v, Decimal)
                     else v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in row.items()}
                for row in by_deal[d7]]
        (folder / "api" / "guyuan_land_2020.json").write_text(json.dumps(land, ensure_ascii=False, indent=1),
                                                              encoding="utf-8")
        # JSON Lines with Excel serial times: D6 and, again, D1's bulletins (overlapping export)
        # … one line of it cut short (a row reject naming line 3), and D1's result there states 1198.8 万元
        # where the GBK export states 1198.3: the GBK export reaches later (D4, September), so its copy is
        # kept and the difference is TRADE_CONFLICTING_COPIES naming both files
        lines = []
        for row in by_deal[d6] + by_deal[d1]:
            rec = {k: (float(v) if isinstance(v, Decimal) else cell(row, k, "serial", False))
                   for k, v in row.items()}
            if row["PROJECT_CODE"] == d1 and row["BULLETIN_TYPE"] == "中标结果公告":
                rec["BID_AMOUNT"] = 1198.8
            rec["AMOUNT_UNIT"] = "万元"
            lines.append(json.dumps(rec, ensure_ascii=False))
        broken = lines[1][:40]
        lines.insert(2, broken)
        (folder / "ggzy_stream_2015_2016.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
        self.out.row_rejects.add(("trading/ggzy_stream_2015_2016.jsonl", None, 3, None, broken))
        self.out.findings.add(("TRADE_CONFLICTING_COPIES", buyers["water"][1], 2016, f"{d1}/001"))
        self.out.trading_rows = len(bulletins) + len(by_deal[d1])
        self.out.trading_duplicates = len(by_deal[d1])
        self.trading_forms(folder, by_deal, buyers, agency, firms, d2, d3, gp)
        for p in folder.rglob("*"):
            if p.is_file():
                self.out.files[self.rel(p)] = "trading"

    def trading_forms(self, folder: Path, by_deal: dict, buyers: dict, agency: tuple, firms: list,
                      d2: str, d3: str, gp: str) -> None:
        """The national platform's search response and the national data standard's table files
        (RAW_FORMATS.md trading/; the standard's tables and fields as in reference_ggzy_v3_fields.csv)."""
        T = dt.datetime

        def ts(value: dt.datetime) -> str:
            return value.strftime("%Y%m%d%H%M%S")

        # --- the platform's search response: D8, a procurement of 固原市交通运输局 in 2020 -----------------
        d8 = "GYJT-2020-CG-21"
        buyer = buyers["guyuan_transport"]
        records = [
            {"id": "1", "title": "固原市交通运输局道路养护设备竞争性磋商公告", "publishTime": "2020-09-01 09:30:00",
             "informationType": "0201", "informationTypeText": "采购/资审公告", "businessType": "02",
             "businessTypeText": "政府采购", "tenderProjectCode": d8, "province": "640000", "provinceText": "宁夏",
             "url": "/information/html/b/640000/0201/202009/01/1.shtml", "tendererName": buyer[0],
             "tendererCode": buyer[1], "tenderAgencyName": agency[0], "tenderAgencyCode": agency[1],
             "budgetAmount": "86.500000（万元）"},
            {"id": "2", "title": "固原市交通运输局道路养护设备更正公告", "publishTime": "2020-09-04 09:30:00",
             "informationType": "0204", "informationTypeText": "更正事项", "businessType": "02",
             "businessTypeText": "政府采购", "tenderProjectCode": d8, "budgetAmount": "0元 人民币"},
            {"id": "3", "title": "固原市交通运输局道路养护设备成交公告", "publishTime": "2020-09-21 16:00:00",
             "informationType": "0202", "informationTypeText": "中标公告", "businessType": "02",
             "businessTypeText": "政府采购", "tenderProjectCode": d8, "tendererName": buyer[0], "tendererCode": buyer[1],
             "tenderAgencyName": agency[0], "tenderAgencyCode": agency[1], "winBidderName": firms[2][0],
             "winBidderCode": firms[2][1], "bidAmount": "812000.00 元"},
        ]
        (folder / "api" / "ggzy_search_2020.json").write_text(json.dumps(
            {"code": 200, "msg": "success", "data": {"records": records, "total": len(records)}},
            ensure_ascii=False, indent=2), encoding="utf-8")
        deal8 = f"{d8}/"
        self.out.deals[deal8] = (2020, 0, True)
        self.out.trading_amounts[(f"{deal8}|0201|", "BUDGET_AMOUNT")] = D(865000)
        self.out.trading_amounts[(f"{deal8}|0204|", "BUDGET_AMOUNT")] = D(0)
        self.out.trading_amounts[(f"{deal8}|0202|", "BID_AMOUNT")] = D(812000)
        self.out.trading_rows += len(records)

        # --- the national data standard: one table per file, all its fields, copies of D3 and D2 ---------
        fields: dict[str, list[str]] = {}
        reference = Path(__file__).resolve().parents[2].parent / "shared" / "reference_ggzy_v3_fields.csv"
        if not reference.is_file():   # a clone without the shared contract beside it: the seed is a verbatim copy
            reference = Path(__file__).resolve().parents[1] / "dbt" / "seeds" / "ingest" / "ref_ggzy_v3_fields.csv"
        with reference.open(encoding="utf-8") as handle:
            for r in csv.DictReader(handle):
                fields.setdefault(r["table_name"], []).append(r["field"])
        std = folder / "数据规范"
        std.mkdir()

        def table(name: str, recs: list[dict], gbk: bool = False) -> None:
            out = io.StringIO()
            w = csv.writer(out)
            w.writerow(fields[name])
            for rec in recs:
                assert set(rec) <= set(fields[name]), set(rec) - set(fields[name])
                w.writerow([rec.get(f, "") for f in fields[name]])
            data = out.getvalue()
            (std / f"{name.lower()}.csv").write_bytes(data.encode("gb18030") if gbk else data.encode("utf-8"))

        a3 = {r["BULLETIN_TYPE"]: r for r in by_deal[d3]}
        ann, res = a3["交易公告"], a3["中标结果公告"]
        # D3's announcement covers sections A and B: B is a deal of its own, with the same short period
        table("TENDER_ANN_QUA_INQUERY_ANN", [{
            "TENDER_PROJECT_CODE": d3, "NOTICE_BID_NUM": "2", "BID_SECTION_CODES": "A;B",
            "UNIFIED_DEAL_CODES": "A20640422GC0015001;A20640422GC0015002", "TENDER_SELF_CODE": d3,
            "NOTICE_NAME": ann["NOTICE_NAME"], "NOTICE_CONTENT": "详见招标文件", "NOTICE_SEND_TIME": ts(ann["NOTICE_SEND_TIME"]),
            "NOTICE_MEDIA": "全国公共资源交易平台（宁夏回族自治区·固原市）", "URL": ann["URL"], "NOTICE_NATURE": "1",
            "BULLETIN_TYPE": "1", "DOC_GET_START_TIME": ts(ann["DOC_GET_START_TIME"]),
            "DOC_GET_END_TIME": ts(ann["DOC_GET_END_TIME"]), "BID_DOC_REFER_END_TIME": ts(ann["BID_DOC_REFER_END_TIME"]),
            "BID_OPEN_TIME": ts(ann["BID_OPEN_TIME"]), "TENDERER_CODE": ann["TENDERER_CODE"],
            "TENDERER_NAME": ann["TENDERER_NAME"], "TENDERER_CONTACTOR": "何工", "TENDERER_PHONE_NUMBER": ann["CONTACT_PHONE"],
            "TENDER_AGENCY_CODE": agency[1], "TENDER_AGENCY_NAME": agency[0],
            "TENDER_AGENCY_PHONE_NUMBER": "0951-6028801",
        }])
        table("WIN_RESULT_ANNO", [{
            "TENDER_PROJECT_CODE": d3, "BID_SECTION_CODE": "A", "UNIFIED_DEAL_CODE": "A20640422GC0015001",
            "REGION_CODE": "640422", "TENDER_AGENCY_NAME": agency[0], "TENDER_AGENCY_CODE": agency[1],
            "NOTICE_NAME": res["NOTICE_NAME"], "NOTICE_SEND_TIME": ts(res["NOTICE_SEND_TIME"]), "URL": res["URL"],
            "NOTICE_NATURE": "1", "BULLETIN_TYPE": "1", "WIN_BIDDER_NAME": res["WIN_BIDDER_NAME"],
            "WIN_BIDDER_CODE": res["WIN_BIDDER_CODE"], "BID_AMOUNT": str(res["BID_AMOUNT"]), "PRICE_UNIT": "1",
        }], gbk=True)
        self.out.findings.add(("TRADE_SHORT_TENDER_PERIOD", buyers["xiji_water"][1], 2020, f"{d3}/B"))
        self.out.deals[f"{d3}/B"] = (2020, 0, True)
        # D2, government procurement's own names: announcement, correction, result (amount in 万元, code 1)
        a2 = {r["BULLETIN_TYPE"]: r for r in by_deal[d2]}
        table("PURCHASE_QUALI_INQUERY_ANN", [{
            "PURCHASE_PROJECT_CODE": d2, "PURCHASE_PROJECT_NAME": "养老服务设备", "BULLETIN_BID_NUM": "1",
            "PURCHASE_SECTION_CODE": "1", "UNIFIED_DEAL_CODE": "A16640000CG0007001",
            "BULLETIN_TITLE": a2["交易公告"]["NOTICE_NAME"], "BULLETIN_CONTENT": a2["交易公告"]["NOTICE_CONTENT"],
            "BULLETIN_START_TIME": ts(a2["交易公告"]["NOTICE_SEND_TIME"]), "BULLETIN_MEDIA": "中国政府采购网",
            "URL": a2["交易公告"]["URL"], "BID_CLOSING_TIME": ts(a2["交易公告"]["BID_DOC_REFER_END_TIME"]),
        }])
        table("CORRECTION_ITEM", [{
            "PURCHASE_PROJECT_CODE": d2, "PURCHASE_PROJECT_NAME": "养老服务设备", "PURCHASE_SECTION_CODE": "1",
            "UNIFIED_DEAL_CODE": "A16640000CG0007001", "TERMINATION_BULLETIN_TITLE": a2["更正公告"]["NOTICE_NAME"],
            "TERMINATION_BULLETIN_CONTENT": a2["更正公告"]["NOTICE_CONTENT"],
            "MODIFICATION_START_TIME": ts(a2["更正公告"]["NOTICE_SEND_TIME"]), "IS_POSTPONE": "0",
            "URL": a2["更正公告"]["URL"],
        }])
        table("BID_DEAL_ANNOUNCE", [{
            "PURCHASE_PROJECT_CODE": d2, "PURCHASE_PROJECT_NAME": "养老服务设备", "PURCHASE_SECTION_CODE": "1",
            "UNIFIED_DEAL_CODE": "A16640000CG0007001", "REGION_CODE": "640400", "TRA_PLACE_CODE": "640000",
            "PURCHASER_AGENCY_NAME": agency[0], "PURCHASER_AGENCY_CODE": agency[1],
            "WIN_BID_BULLETIN_TITLE": a2["中标结果公告"]["NOTICE_NAME"],
            "WIN_BID_BULLETIN_START_TIME": ts(a2["中标结果公告"]["NOTICE_SEND_TIME"]), "URL": a2["中标结果公告"]["URL"],
            "WINNINGBIDDER_NAME": a2["中标结果公告"]["WIN_BIDDER_NAME"], "WINNINGBIDDER_TYPE": "1",
            "WINNINGBIDDER_CODE": a2["中标结果公告"]["WIN_BIDDER_CODE"], "PRICE_FORM_CODE": "0",
            "WIN_BID_PRICE": str(a2["中标结果公告"]["BID_AMOUNT"]), "CURRENCY_CODE": "156", "PRICE_UNIT": "1",
        }])
        # 6 bulletins (the announcement is two); 5 copy a bulletin of the flat exports, which are the later exports
        self.out.trading_rows += 6
        self.out.trading_duplicates += 5
