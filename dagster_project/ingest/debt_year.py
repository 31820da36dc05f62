"""Which budget a debt 1-1 belongs to when its title names the year of its figures.

The Ministry's template puts in a budget the limit and balance at the end of the year before (DOMAIN.md 2.3, 1-1:
"last year's limit and balance"): the 2024 budget's 1-1 shows 2023年债务限额 | 2023年末债务余额. Publishers title it
either with the budget's year (`石嘴山市2024年地方政府债务限额及余额情况表`) or with the figures' year
(`石嘴山市2023年地方政府债务限额及余额情况表`, the same table). Read by its title alone the second was the 2023 budget's
1-1: it counted for 2023 (published, its items present) and the 2024 budget lacked it. One file is one disclosure
(RAW_FORMATS.md): when its other tables agree on a year, a 1-1 titled the year before is that year's budget's. Alone (or
beside tables that do not agree), a budget 1-1 whose limit/balance headers (or, items as rows, whose limit/balance
items) name its title's year is the next year's budget's table: a budget cannot show the year-end balance of its own
year, which has not ended. Its ``fiscal_year`` is then the budget's, as for 1-2 … 1-4 of the same budget (their
``closing_balance`` is that year-end), and a note says so. A final account's 1-1 (决算) states its own year's figures,
a mid-year adjustment's (调整 in its title or its headers) its own year's adjusted limit: never re-dated.

A final's 1-1 is not always titled 决算 (`2024年宁夏回族自治区地方政府债务限额及余额情况表` in the 2024 final
accounts): read as a budget's, it was the 2025 budget's (its headers name its title's year). It is a final's table —
never re-dated — when the file's other tables are that year's finals (one file = one disclosure), or, the file's other
tables not all a budget's, when its limit/balance headers say 决算 / 执行 of its own year (2024年末债务余额执行数; a
budget's 1-1 shows last year's executed balance, 2023年末…执行数 in 2024's, and stays the budget's).

执行数 alone does not settle it: the Ministry's budget template says 执行数 of last year's balance too (五、2023年末一般
债务余额执行数 in 2024's 1-2), so a 1-1 titled 2023 over 2023年末债务余额执行数 is either 2023's final or the 2024 budget's
titled with its figures' year. The document says which: its cover (a PDF's first lines, a workbook's 封面 sheet) naming
2024's 预算 makes it the 2024 budget's (re-dated), 2023's 决算 the final's. With neither cover nor other tables the
headers' 执行 still reads it as the final's, as before (a guess either way; the note says what was read).
"""
from __future__ import annotations

import re

from dagster_project.ingest.item_years import with_digit_years
from dagster_project.ingest.parsed import ParsedSheet, nfkc, years_in
from dagster_project.ingest.workbook_spec import vocabulary

BUDGET_1_1 = "debt_1_1"
FINAL_1_1 = "debtf_1_1"
_LIMIT_OR_BALANCE = re.compile("限额|余额")
_CLOSED = re.compile("决算|执行")  # a final's words in a header: 决算数, 执行数, 年末余额执行数
# a mid-year budget adjustment (预算调整方案) states its own year's limit after the adjustment: never the next budget's
_ADJUSTMENT = re.compile("调整")
_FIGURE_ITEMS = ("limit_total", "balance_total")
NOTE = ("表题年度 {title} 年是表中数字的年度（{title}年限额、年末余额）；按部委模板，预算公开上年末的限额和余额，"
        "此表为 {budget} 年预算的表1-1 (the title's year {title} is the year of the figures: a budget shows the limit "
        "and balance at the end of the year before, so this is the {budget} budget's 1-1)")


def figures_year(sheet: ParsedSheet, header_texts: list[str]) -> int | None:
    """The one year the 1-1's limit/balance headers name, else its limit/balance items' labels (items as rows)."""
    cells = (cell for header in header_texts for cell in header.split("/"))  # a header path, top cell first
    years = years_in(cell for cell in cells if _LIMIT_OR_BALANCE.search(cell))  # not 2018年预算数 over 2017年债务限额
    if not years:
        years = years_in(line.line_label for line in sheet.lines if line.row_key in _FIGURE_ITEMS)
    return next(iter(years)) if len(years) == 1 else None


FINAL_NOTE = ("表题未写「决算」，但{why}：此表为 {year} 年决算的表1-1，不移年度 (the title does not say 决算, but {why_en}: "
              "this is the {year} final accounts' 1-1, its year as titled)")
_WHY = {"file": ("本文件其他表为 {year} 年决算", "the file's other tables are the {year} final accounts'"),
        "headers": ("表头写明决算/执行数", "its headers say 决算 / 执行"),
        "cover": ("本文件封面为 {year} 年决算", "the file's cover says the {year} final accounts")}


def closed_headers(header_texts: list[str], fiscal_year: int | None) -> bool:
    """Whether a 1-1's header names a final's figures of its title's year (决算数, 2024年末债务余额执行数): a header path
    saying 决算 / 执行 in any cell and naming no other year (上年 / 本年 read as the years they name). A budget's 1-1
    shows last year's executed figures (2023年执行数 or 上年执行数 over 债务限额 | 债务余额, 2023年末债务余额执行数 beside
    2024年债务限额 in 2024's): its 执行 is another year's, not its own (before, any 执行 made it the final's); a final's
    may show last year's 决算数 beside its own."""
    closed = [cells for cells in (header.split("/") for header in header_texts)
              if any(_CLOSED.search(nfkc(cell)) for cell in cells)]
    return any(years_in(with_digit_years(nfkc(cell), fiscal_year) for cell in cells) <= {fiscal_year}
               for cells in closed)


PUBLISHED_NOTE = ("表题年度 {title} 年是公开之年：本文件其他表为 {year} 年决算，表头未写他年，此表为 {year} 年决算的表1-1，按 {year} 年读取 "
                  "(the title's year {title} is the year of publication: the file's other tables are the {year} final "
                  "accounts' and its headers name no other year, so this is the {year} final accounts' 1-1, read as "
                  "{year}'s)")


def as_final(sheet: ParsedSheet, why: str) -> None:
    table = next(t for t in vocabulary().tables if FINAL_1_1 in t.table_keys)
    sheet.table_name, sheet.table_keys, sheet.phase = table.table_name, (FINAL_1_1,), "final"
    if why == "published":  # titled with the year after the file's finals: the year it was published in
        sheet.warnings.append(PUBLISHED_NOTE.format(title=sheet.fiscal_year, year=sheet.fiscal_year - 1))
        sheet.fiscal_year -= 1
    else:
        zh, en = (text.format(year=sheet.fiscal_year) for text in _WHY[why])
        sheet.warnings.append(FINAL_NOTE.format(why=zh, why_en=en, year=sheet.fiscal_year))
    sheet.reason = "; ".join(sheet.warnings)


def adjusted_headers(header_texts: list[str]) -> bool:
    """Whether a 1-1's header says 调整 (调整后债务限额, 债务限额调整数): a mid-year adjustment's, as when its title does."""
    return any(_ADJUSTMENT.search(nfkc(header)) for header in header_texts)


def is_budget_1_1(sheet: ParsedSheet) -> bool:
    return (sheet.phase == "budget" and BUDGET_1_1 in sheet.table_keys and not _ADJUSTMENT.search(sheet.title or "")
            and not sheet.adjusted)


NEXT_TABLES = ("debt_1_2", "debt_1_3", "debt_1_4")
NEXT_NOTE = ("表题年度 {title} 年是表中数字的年度，表头列名所示 {budget} 年是其所属预算：此表为 {budget} 年预算的表，"
             "按 {budget} 年读取 (the title's year {title} is the year of the figures; the header names {budget}, the "
             "budget it serves: read as the {budget} budget's table, its {budget} columns its own)")


def next_year_tables(sheets: list[ParsedSheet]) -> dict[int, int]:
    """{index: year} of a file's budget 1-2 … 1-4 titled with their figures' year: a header naming the year after the
    title's (2023年执行数 | 2024年预算数 under 石嘴山市2023年…) names the budget the table serves, which a budget of the
    title's year could not show — unless the file's other tables agree on another year. Read as that year's, its
    columns naming it are its own (before, 2024年预算数 was another year's column, unread, and the table the 2023
    budget's)."""
    candidates = {i: sheet.fiscal_year + 1 for i, sheet in enumerate(sheets)
                  if sheet.status == "parsed" and sheet.phase == "budget" and sheet.fiscal_year is not None
                  and not sheet.year_choices and set(sheet.table_keys) & set(NEXT_TABLES)
                  and not _ADJUSTMENT.search(sheet.title or "")
                  and sheet.fiscal_year + 1 in sheet.header_years and max(sheet.header_years) == sheet.fiscal_year + 1}
    # the other tables' years, but of none whose year is itself in question (a 1-1, another such table)
    others = {s.fiscal_year for i, s in enumerate(sheets) if i not in candidates and s.status == "parsed"
              and s.fiscal_year is not None and not s.year_choices and not is_budget_1_1(s)}
    return {i: after for i, after in candidates.items() if others in (set(), {after})}


def redate(sheet: ParsedSheet, budget_year: int) -> None:
    sheet.warnings.append(NOTE.format(title=sheet.fiscal_year, budget=budget_year))
    sheet.reason = "; ".join(sheet.warnings)
    sheet.fiscal_year = budget_year


def budget_of_1_1(sheets: list[ParsedSheet], cover: tuple[int | None, str | None] = (None, None)) -> dict[int, int]:
    """Each budget 1-1 of a file to the budget it serves. The file's other tables decide when they agree on a year Y
    (one file = one disclosure): a 1-1 titled Y − 1 is Y's (its title names its figures' year) unless its headers name
    Y − 2 (it is then the Y − 1 budget's own, as titled), one titled Y stays Y's
    whatever its headers say. Without them, its limit/balance headers (items) naming its title's year make it the next
    year's budget's. A final's 1-1 (its file's other tables, or its cover (``cover``: a PDF's (year, phase)), that
    year's finals, or its headers saying 决算 / 执行) is never re-dated: it is the final's table — unless the cover
    names the next year's budget (预算): then it is that budget's, whatever its headers' 执行 say."""
    other_tables = [s for s in sheets if s.status == "parsed" and s.fiscal_year is not None and not s.year_choices
                    and not is_budget_1_1(s)]
    others = {s.fiscal_year for s in other_tables}
    phases = {s.phase for s in other_tables}
    moved = {}
    for i, sheet in enumerate(sheets):
        if sheet.status != "parsed" or not is_budget_1_1(sheet) or sheet.fiscal_year is None:
            continue
        if phases == {"final"} and others == {sheet.fiscal_year}:
            as_final(sheet, "file")  # in a final accounts file of its year: the final's, whatever its headers say
        elif phases == {"final"} and others == {sheet.fiscal_year - 1} and sheet.figures_year in (
                None, sheet.fiscal_year - 1):
            # 2025年… in the 2024 final accounts (published in 2025), its headers 2024年债务限额 or no year: the final's
            # 1-1 of the file's year (before, the 2025 budget's — a budget the file is not)
            as_final(sheet, "published")
        elif cover == (sheet.fiscal_year, "final") and phases <= {"final"}:
            as_final(sheet, "cover")  # its PDF's cover says 2024年度…决算
        elif cover == (sheet.fiscal_year + 1, "budget") and phases <= {"budget"} and sheet.figures_year in (
                None, sheet.fiscal_year):
            # its PDF's cover says 2024年政府预算: titled 2023, over 2023年债务限额 | 2023年末债务余额执行数, it is the 2024
            # budget's 1-1 — a budget shows last year's limit and executed balance (DOMAIN.md 2.3), the Ministry's
            # own wording (五、2023年末一般债务余额执行数 in 2024's 1-2). Its headers' 执行 alone made it 2023's final
            redate(sheet, sheet.fiscal_year + 1)
            moved[i] = sheet.fiscal_year
        elif phases != {"budget"} and sheet.closed_headers and sheet.figures_year in (None, sheet.fiscal_year):
            as_final(sheet, "headers")  # 2024年末债务余额执行数 under a 2024 title: that year's executed figures
        elif len(others) == 1:
            (year,) = others
            # (unless its headers name the year before its title's: 2022年末余额 under 2023年…, the 2023 budget's own)
            if sheet.fiscal_year == year - 1 and sheet.figures_year in (None, sheet.fiscal_year):
                redate(sheet, year)
                moved[i] = year
        elif sheet.figures_year == sheet.fiscal_year:
            redate(sheet, sheet.fiscal_year + 1)
            moved[i] = sheet.fiscal_year
    return moved
