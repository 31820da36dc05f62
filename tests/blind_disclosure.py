"""A department's budget disclosure written from the contract (RAW_FORMATS.md "Real disclosures", DOMAIN.md 2.2), not
from the sample or its generator: 宁夏回族自治区卫生健康委员会's 2025 budget with a cover, 目录, the required explanations,
then the current Ministry template's nine tables under their ``部门`` names (财务收支预算总表 two-sided, 收入预算总表,
支出预算总表 with ``类 | 款 | 项`` codes over several pages, 财政拨款收支预算总表, 一般公共预算支出功能分类预算表,
政府性基金 empty with its note, 国有资本经营 a blank template's ``…`` rows under ``XX（部门）``, 基本支出 by economic
类|款, the 三公 table's two-level header in 万元 while the rest is in 元), amounts with thousands separators, ``-`` and
blank for nothing.

``disclosure_html()`` is the document as HTML (a browser prints it); ``write_workbook()`` writes the same tables as
an .xlsx the way a finance system's export does (openpyxl: a merged title, the publisher and unit line, merged header
cells, numbers formatted ``#,##0``), so a print can be compared with the workbook it must read like.
"""
from __future__ import annotations

import html
from pathlib import Path

ENTITY = "宁夏回族自治区卫生健康委员会"
YEAR = 2025
# function classification 2025: code, name, basic, project (元); parents (None) are the sums of their children
_FUNCTIONS = [
    ("208", "社会保障和就业支出", None, None), ("20805", "行政事业单位养老支出", None, None),
    ("2080505", "机关事业单位基本养老保险缴费支出", 3_456_789, 0), ("2080506", "机关事业单位职业年金缴费支出", 1_234_567, 0),
    ("210", "卫生健康支出", None, None), ("21001", "卫生健康管理事务", None, None),
    ("2100101", "行政运行", 12_345_678, 0), ("2100102", "一般行政管理事务", 0, 2_500_000),
    ("2100103", "机关服务", 800_000, 0), ("2100199", "其他卫生健康管理事务支出", 0, 1_200_000),
    ("21002", "公立医院", None, None), ("2100201", "综合医院", 0, 45_000_000), ("2100202", "中医（民族）医院", 0, 12_000_000),
    ("2100203", "传染病医院", 0, 6_000_000), ("2100204", "职业病防治医院", 0, 1_500_000), ("2100205", "精神病医院", 0, 3_200_000),
    ("2100206", "妇幼保健医院", 0, 2_800_000), ("2100207", "儿童医院", 0, 4_100_000), ("2100208", "其他专科医院", 0, 900_000),
    ("2100209", "福利医院", 0, 300_000), ("2100210", "行业医院", 0, 200_000), ("2100211", "处理医疗欠费", 0, 100_000),
    ("2100212", "康复医院", 0, 700_000), ("2100213", "优抚医院", 0, 150_000), ("2100299", "其他公立医院支出", 0, 650_000),
    ("21004", "公共卫生", None, None), ("2100401", "疾病预防控制机构", 9_876_543, 3_000_000),
    ("2100402", "卫生监督机构", 2_100_000, 400_000), ("2100403", "妇幼保健机构", 0, 1_000_000),
    ("2100404", "精神卫生机构", 0, 500_000), ("2100405", "应急救治机构", 1_100_000, 600_000),
    ("2100406", "采供血机构", 1_500_000, 200_000), ("2100407", "其他专业公共卫生机构", 0, 300_000),
    ("2100408", "基本公共卫生服务", 0, 80_000_000), ("2100409", "重大公共卫生服务", 0, 25_000_000),
    ("2100410", "突发公共卫生事件应急处理", 0, 2_000_000), ("2100499", "其他公共卫生支出", 0, 1_800_000),
    ("21007", "计划生育事务", None, None), ("2100716", "计划生育机构", 600_000, 0), ("2100717", "计划生育服务", 0, 3_300_000),
    ("2100799", "其他计划生育事务支出", 0, 700_000),
    ("21011", "行政事业单位医疗", None, None), ("2101101", "行政单位医疗", 1_800_000, 0), ("2101102", "事业单位医疗", 900_000, 0),
    ("2101103", "公务员医疗补助", 400_000, 0),
    ("221", "住房保障支出", None, None), ("22102", "住房改革支出", None, None), ("2210201", "住房公积金", 2_600_000, 0),
    ("2210203", "购房补贴", 300_000, 0),
]
_ECONOMIC = [("301", "工资福利支出"), ("30101", "基本工资"), ("30102", "津贴补贴"), ("30103", "奖金"), ("30107", "绩效工资"),
             ("30108", "机关事业单位基本养老保险缴费"), ("30109", "职业年金缴费"), ("30110", "职工基本医疗保险缴费"),
             ("30112", "其他社会保障缴费"), ("30113", "住房公积金"), ("30199", "其他工资福利支出"),
             ("302", "商品和服务支出"), ("30201", "办公费"), ("30202", "印刷费"), ("30205", "水费"), ("30206", "电费"),
             ("30207", "邮电费"), ("30211", "差旅费"), ("30213", "维修（护）费"), ("30215", "会议费"), ("30216", "培训费"),
             ("30217", "公务接待费"), ("30228", "工会经费"), ("30229", "福利费"), ("30231", "公务用车运行维护费"),
             ("30239", "其他交通费用"), ("30299", "其他商品和服务支出"),
             ("303", "对个人和家庭的补助"), ("30302", "退休费"), ("30305", "生活补助"), ("30309", "奖励金"),
             ("30399", "其他对个人和家庭的补助")]
EXPLANATIONS = [
    ("第一部分　部门概况", None),
    ("一、部门主要职能", "组织拟订国民健康政策，拟订卫生健康事业发展法规、规划，组织制定并实施地方卫生健康政策、标准和技术规范。"),
    ("二、机构设置", "本部门内设机构18个，所属预算单位12个，纳入2025年部门预算编制范围的单位包括本级及所属事业单位。"),
    ("三、名词解释", "基本支出：指为保障机构正常运转、完成日常工作任务而发生的人员支出和公用支出。项目支出：指在基本支出之外为完成"
                   "特定行政任务和事业发展目标所发生的支出。"),
    ("第二部分　2025年部门预算情况说明", None),
    ("一、收支预算总体情况", "2025年收入预算总计{total}元，支出预算总计{total}元，与2024年相比增加3.2%，主要原因是公共卫生项目增加。"),
    ("二、机关运行经费", "2025年机关运行经费预算1,234.57万元，主要用于办公费、水电费、差旅费等。"),
    ("三、“三公”经费预算情况说明", "2025年“三公”经费预算58.36万元，其中：因公出国(境)费12.00万元，公务接待费8.56万元，"
                              "公务用车购置及运行费37.80万元。"),
    ("四、政府采购情况", "2025年政府采购预算总额3,500.00万元，其中：货物类2,000.00万元，工程类500.00万元，服务类1,000.00万元。"),
    ("五、国有资产占用情况", "截至2024年12月31日，本部门共有车辆25辆，单位价值50万元以上通用设备12台（套）。"),
    ("六、绩效目标设置情况", "2025年本部门实行绩效目标管理的项目42个。"),
]


def _money(value) -> str:
    return value if isinstance(value, str) else f"{value:,}"


def _functions() -> list[tuple[str, str, int, int, int]]:
    leaves = {c: (b, p) for c, _, b, p in _FUNCTIONS if b is not None}
    rows = []
    for code, name, basic, project in _FUNCTIONS:
        if basic is None:
            basic = sum(b for c, (b, _) in leaves.items() if c.startswith(code))
            project = sum(p for c, (_, p) in leaves.items() if c.startswith(code))
        rows.append((code, name, basic + project, basic, project))
    return rows


def tables() -> list[dict]:
    """The nine tables: name, publisher line, unit, header rows [(text, colspan, rowspan)], data rows (text), note."""
    functions = _functions()
    basic = sum(r[3] for r in functions if len(r[0]) == 7)
    project = sum(r[4] for r in functions if len(r[0]) == 7)
    total = basic + project
    by_class = {"301": basic * 7 // 10, "303": basic // 20}
    by_class["302"] = basic - by_class["301"] - by_class["303"]
    economic = []
    for code, name in _ECONOMIC:
        parts = [c for c, _ in _ECONOMIC if len(c) == 5 and c.startswith(code[:3])]
        share = by_class[code[:3]] // len(parts)
        value = by_class[code] if len(code) == 3 else share + (by_class[code[:3]] - share * len(parts)
                                                               if code == parts[0] else 0)
        economic.append((code, name, value))
    personnel = by_class["301"] + by_class["303"]
    publisher, yuan = f"编制部门：{ENTITY}", "单位：元"
    income = [("一、一般公共预算拨款收入", total), ("二、政府性基金预算拨款收入", 0), ("三、国有资本经营预算拨款收入", 0),
              ("四、财政专户管理资金收入", "-"), ("五、事业收入", 0), ("六、上级补助收入", ""), ("七、其他收入", 0)]
    spending = [(f"{'一二三四五'[i]}、{r[1]}", r[2]) for i, r in enumerate(r for r in functions if len(r[0]) == 3)]
    summary = [[a[0], _money(a[1]), b[0], _money(b[1])] for a, b in
               zip(income, spending + [("", "")] * (len(income) - len(spending)))]
    summary += [["本年收入合计", _money(total), "本年支出合计", _money(total)], ["上年结转", "-", "年末结转", "-"],
                ["收入总计", _money(total), "支出总计", _money(total)]]
    five = [("科目编码", 1, 1), ("科目名称", 1, 1), ("合计", 1, 1), ("基本支出", 1, 1), ("项目支出", 1, 1)]
    y = f"{YEAR}年部门"
    return [
        dict(name=f"{y}财务收支预算总表", publisher=publisher, unit=yuan, rows=summary,
             head=[[("收　　入", 2, 1), ("支　　出", 2, 1)], [("项　　目", 1, 1), ("预算数", 1, 1)] * 2]),
        dict(name=f"{y}收入预算总表", publisher=publisher, unit=yuan,
             head=[[(h, 1, 1) for h in ("科目编码", "科目名称", "合计", "上年结转", "一般公共预算拨款", "政府性基金预算拨款",
                                        "事业收入", "其他收入")]],
             rows=[["", "合　　计", _money(total), "-", _money(total), "0", "0", "0"]]
             + [[c, "　" * (len(c) // 2 - 1) + n, _money(t), "", _money(t), "", "", ""] for c, n, t, _, _ in functions
                if len(c) <= 5]),
        dict(name=f"{y}支出预算总表", publisher=publisher, unit=yuan,
             head=[[("功能分类科目编码", 3, 1), ("功能分类科目名称", 1, 2), ("合计", 1, 2), ("基本支出", 1, 2), ("项目支出", 1, 2)],
                   [("类", 1, 1), ("款", 1, 1), ("项", 1, 1)]],
             rows=[["", "", "", "合　　计", _money(total), _money(basic), _money(project)]]
             + [[c[:3], c[3:5], c[5:7], n, _money(t), _money(b) if b else "", _money(p) if p else ""]
                for c, n, t, b, p in functions]),
        dict(name=f"{y}财政拨款收支预算总表", publisher=publisher, unit=yuan,
             head=[[("收　　入", 2, 1), ("支　　出", 5, 1)],
                   [(h, 1, 1) for h in ("项　　目", "预算数", "项　　目", "合计", "一般公共预算", "政府性基金预算", "国有资本经营预算")]],
             rows=[["一、本年收入", _money(total), "一、本年支出", _money(total), _money(total), "0", "0"],
                   ["（一）一般公共预算拨款", _money(total), "（一）一般公共预算支出", _money(total), _money(total), "", ""],
                   ["（二）政府性基金预算拨款", "0", "（二）政府性基金预算支出", "0", "", "0", ""],
                   ["（三）国有资本经营预算拨款", "0", "（三）国有资本经营预算支出", "0", "", "", "0"],
                   ["二、上年结转", "-", "二、年末结转", "-", "", "", ""],
                   ["收入总计", _money(total), "支出总计", _money(total), _money(total), "0", "0"]]),
        dict(name=f"{y}一般公共预算支出功能分类预算表", publisher=publisher, unit=yuan, head=[five],
             rows=[["", "合　　计", _money(total), _money(basic), _money(project)]]
             + [[c, n, _money(t), _money(b), _money(p)] for c, n, t, b, p in functions]),
        dict(name=f"{y}政府性基金预算支出功能分类预算表", publisher=publisher, unit=yuan, head=[five],
             rows=[["", "合　　计", "", "", ""]], note="注：本部门2025年无政府性基金预算拨款安排的支出，故本表为空表。"),
        dict(name=f"{y}国有资本经营预算支出功能分类预算表", publisher="编制部门：XX（部门）", unit=yuan, head=[five],
             rows=[["…", "…", "", "", ""], ["…", "…", "", "", ""], ["", "合　　计", "", "", ""]]),
        dict(name=f"{y}一般公共预算基本支出部门预算经济分类预算表", publisher=publisher, unit=yuan,
             head=[[("部门预算支出经济分类科目", 3, 1), ("本年一般公共预算基本支出", 3, 1)],
                   [(h, 1, 1) for h in ("类", "款", "名称", "合计", "人员经费", "公用经费")]],
             rows=[["", "", "合　　计", _money(basic), _money(personnel), _money(by_class["302"])]]
             + [[c[:3], c[3:5], n, _money(v), _money(v) if c[:3] != "302" else "", _money(v) if c[:3] == "302" else ""]
                for c, n, v in economic]),
        dict(name=f"{y}“三公”经费和机关运行经费预算表", publisher=publisher, unit="单位：万元",
             head=[[("“三公”经费预算数", 6, 1), ("机关运行经费预算数", 1, 3)],
                   [("合计", 1, 2), ("因公出国(境)费", 1, 2), ("公务接待费", 1, 2), ("公务用车购置及运行费", 3, 1)],
                   [("小计", 1, 1), ("购置费", 1, 1), ("运行费", 1, 1)]],
             rows=[["58.36", "12.00", "8.56", "37.80", "25.00", "12.80", "1,234.57"]]),
    ]


_CSS = """@page { size: A4 portrait; margin: 18mm 15mm; }
body { font-family: 'Noto Serif CJK SC', serif; font-size: 12pt; }
.cover { text-align: center; padding-top: 70mm; font-size: 24pt; page-break-after: always; }
.toc { page-break-after: always; } .toc p { margin: 4pt 0; }
p.body { text-indent: 2em; line-height: 1.8; text-align: justify; }
.table { page-break-before: always; } .title { text-align: center; font-size: 15pt; font-weight: bold; }
.unit { display: flex; justify-content: space-between; font-size: 10.5pt; margin-bottom: 4pt; }
table { border-collapse: collapse; width: 100%; } th, td { border: 0.75pt solid #000; padding: 6pt 4pt; font-size: 10pt; }
th { font-weight: normal; } td.n { text-align: right; } thead { display: table-header-group; }
tr { page-break-inside: avoid; } .note { font-size: 10pt; }
"""


def _numeric(text: str) -> bool:
    return bool(text) and (text == "-" or text.replace(",", "").replace(".", "").isdigit())


def _table_html(t: dict) -> str:
    head = "".join("<tr>" + "".join(f"<th colspan='{c}' rowspan='{r}'>{html.escape(x)}</th>" for x, c, r in row) + "</tr>"
                   for row in t["head"])
    body = "".join("<tr>" + "".join(f"<td class='n'>{html.escape(x)}</td>" if _numeric(x) else f"<td>{html.escape(x)}</td>"
                                    for x in row) + "</tr>" for row in t["rows"])
    note = f"<p class='note'>{html.escape(t['note'])}</p>" if t.get("note") else ""
    return (f"<section class='table'><p class='title'>{html.escape(t['name'])}</p><div class='unit'><span>"
            f"{html.escape(t['publisher'])}</span><span>{html.escape(t['unit'])}</span></div>"
            f"<table><thead>{head}</thead><tbody>{body}</tbody></table>{note}</section>")


def disclosure_html(of: list[dict] | None = None, explanations: list | None = None, entity: str = ENTITY,
                    document: str = f"{YEAR}年部门预算") -> str:
    """The document: cover, 目录, the explanations (heading, text; text None for a part's heading), then the tables."""
    all_tables = of or tables()
    total = all_tables[0]["rows"][-1][1]
    parts = [f"<html><head><meta charset='utf-8'><title>{entity}{document}</title><style>{_CSS}</style></head><body>",
             f"<div class='cover'><p>{entity}</p><p>{document}</p></div><div class='toc'><h2>目　　录</h2>"]
    explanations = explanations or EXPLANATIONS
    parts += [f"<p>{html.escape(h)}{'…' * 20}{i + 3}</p>" for i, (h, body) in enumerate(explanations) if body is None]
    parts += [f"<p>{i + 1}. {html.escape(t['name'])}</p>" for i, t in enumerate(all_tables)] + ["</div>"]
    for heading, body in explanations:
        parts.append(f"<h2>{html.escape(heading)}</h2>" if body is None else
                     f"<h3>{html.escape(heading)}</h3><p class='body'>{html.escape(body.format(total=total))}</p>")
    parts += [_table_html(t) for t in all_tables] + ["</body></html>"]
    return "\n".join(parts)


def write_workbook(path: Path, of: list[dict] | None = None) -> None:
    """The tables (``tables()`` unless given) as an .xlsx, one sheet each."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment

    book = Workbook()
    book.remove(book.active)
    for index, t in enumerate(of or tables()):
        sheet = book.create_sheet(f"表{index + 1}")
        width = max(len(r) for r in t["rows"])
        sheet.cell(1, 1, t["name"])
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
        sheet.cell(2, 1, t["publisher"])
        sheet.cell(2, width, t["unit"])
        taken: set[tuple[int, int]] = set()
        for r, row in enumerate(t["head"]):
            c = 0
            for text, span, down in row:
                while (r, c) in taken:
                    c += 1
                sheet.cell(3 + r, 1 + c, text).alignment = Alignment(horizontal="center")
                if span > 1 or down > 1:
                    sheet.merge_cells(start_row=3 + r, start_column=1 + c, end_row=2 + r + down, end_column=c + span)
                taken |= {(r + i, c + j) for i in range(down) for j in range(span)}
                c += span
        first = 3 + len(t["head"])
        for r, row in enumerate(t["rows"]):
            for c, text in enumerate(row):
                number = text.replace(",", "")
                value = (float(number) if "." in number else int(number)) if _numeric(text) and text != "-" else text or None
                cell = sheet.cell(first + r, 1 + c, value)
                if isinstance(value, (int, float)):
                    cell.number_format = "#,##0.00" if isinstance(value, float) else "#,##0"
        if t.get("note"):
            sheet.cell(first + len(t["rows"]), 1, t["note"])
    book.save(path)
