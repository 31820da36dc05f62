"""A workbook cell's number format: what a person reads where the file stores a bare number.

A cell stores what a formula computed or what was typed (``3.441395``, ``0.15``, ``45356``) and shows it through its
number format (``0.00`` → ``3.44``, ``0%`` → ``15%``, ``yyyy"年"m"月"d"日"`` → a date). The readers (``readers.py``,
``xlsx_cells.py``, ``spreadsheet_xml.py``) put the format code beside the value in the grid (``Grid.formats``); this
module renders a number through it the way Excel/WPS/Calc print it, so the recogniser records the figure as printed
(``value_text``: the printed decimals decide the rounding tolerance in ``int_reconciliation_checks``) and can tell a
percentage from an amount. PDF and HTML cells carry no format: their text is already what was printed.

The subset rendered is what finance workbooks use: sections (``pos;neg;zero;text``), ``0``/``#``/``?`` digits,
thousands separators, trailing ``,`` scaling by 1000, ``%``, quoted/escaped literals (``"万元"``, ``\\年``, ``!年``:
Excel and WPS print the character after ``!`` as they do after ``\\``; LibreOffice 7.4 prints the ``!``), ``_x``
padding, ``*x`` fill, ``[Red]``/``[$¥-804]`` brackets, ``General`` with literals (``General"万元"``, shown
in a Chinese Excel as ``G/通用格式"万元"``), and a literal ``.`` between the digit placeholders (``0\\.0,``,
``0!.0000``: the Chinese way of showing 元 as 万元): Excel then has no decimal point — it rounds the (scaled) value
to a whole number and fills the placeholders with its digits right to left, the leftmost taking the rest, the
literals staying where they stand, so 3204699 under ``0\\.0,`` prints ``320.5``; a reader sees a decimal point
there, and the figure printed is the stored value divided by 10 for each placeholder after it (``printed_shift``).
Conditions choose a section as Excel does, by the signed value (``[>=10000]0!.0,"万";0``: 1 万 and more printed in
万, the rest — negatives included — in 元; ``[<0]"减少"0.00;0.00``; the unit literal and percent sign are those of the
section the value prints through; the minus Excel adds or not: ``_conditional_section``); a single conditional section
a number fails prints it as General; a zero prints nothing a reader takes for a ratio or a scale (``0%`` in an amount
column is 0, not a percentage). A colour as a Chinese Excel/WPS writes it (``[红色]``) is a colour, as Excel takes it.
The text a section prints beside its figure is a unit word (万, 万元), a sign (``-``), a currency (a ``[$CNY]`` /
``[$¥-804]`` block, 人民币, RMB: no magnitude, the figure is in the table's unit; another currency is refused) or a direction word or mark (减少/增加,
▲/▼, ↑/↓, 增/减: ``literal_parts``); the unit is the unit word alone, and 减少/▼ make the figure a reader reads negative.
Anything else (a number no section takes — Excel
prints ``####`` —, scientific, fractions, ``[DBNum1]`` Chinese numerals, dates, other
literals between digits, two points — LibreOffice re-saves ``0!.0,"万"`` as ``0\\!.0,\\万``, which Excel and Calc
both print ``3204!.7万`` for 3204699: a literal ``!`` before a real point, no figure) is not rendered here:
``render`` gives ``None`` and ``printed_figure`` a ``Printed`` without text, which the recogniser refuses as a row
reject (数字格式无法解读) rather than reading the stored value under the table's unit.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from dagster_project.ingest.magnitudes import magnitude_stem

# ECMA-376 Part 1 §18.8.30: number formats a file names by id without defining them. openpyxl knows 0–22 and 37–49;
# 27–36 and 50–58 are the East-Asian built-ins (zh-CN, as Excel and WPS in Chinese write them: a date typed in a
# Chinese Excel is stored with numFmtId 31 and no <numFmt>), all dates or times.
EAST_ASIAN_BUILTIN = {
    27: 'yyyy"年"m"月"', 28: 'm"月"d"日"', 29: 'm"月"d"日"', 30: "m-d-yy", 31: 'yyyy"年"m"月"d"日"',
    32: 'h"时"mm"分"', 33: 'h"时"mm"分"ss"秒"', 34: '上午/下午h"时"mm"分"', 35: '上午/下午h"时"mm"分"ss"秒"',
    36: 'yyyy"年"m"月"', 50: 'yyyy"年"m"月"', 51: 'm"月"d"日"', 52: 'yyyy"年"m"月"', 53: 'm"月"d"日"',
    54: 'm"月"d"日"', 55: '上午/下午h"时"mm"分"', 56: '上午/下午h"时"mm"分"ss"秒"', 57: 'yyyy"年"m"月"',
    58: 'm"月"d"日"',
}

_GENERAL = {"", "general", "g/通用格式", "@"}
# General inside a section ('General"万元"', as Excel stores what a Chinese Excel shows as G/通用格式"万元"; WPS may
# store the Chinese name itself): the number as General prints it, literals around it
_GENERAL_WORDS = ("general", "g/通用格式")
_SPLIT = re.compile(r'"[^"]*"|[\\!].|\[[^\]]*\]|;')
# The colours a code can name: English ([Red], ECMA-376 §18.8.31) and as a Chinese Excel/WPS shows and writes them
# ([红色]: the dialog's code, which POI/NPOI/openpyxl code copies straight into files). Excel takes both as the colour;
# LibreOffice 7.4 does not take the Chinese names (it prints such a cell as General: tests/fixtures/number_formats/
# MAKE.md) — a reader of the file in Excel/WPS sees the sections, and so does gongkai
_BRACKET_OK = re.compile(
    r"\[(?:red|black|blue|cyan|green|magenta|white|yellow|color\s*\d+|\$[^\]]*"
    r"|黑色|蓝色|蓝绿色|青色|绿色|洋红色|洋红|红色|白色|黄色|颜色\s*\d+"
    r"|藍色|藍綠色|綠色|洋紅色|洋紅|紅色|黃色|顏色\s*\d+)\]", re.I)
_BRACKET = re.compile(r"\[")
_DATE_LETTERS = re.compile(r"[ymdhsYMDHSe]")
# a condition choosing a section: '[>=10000]0!.0,"万";0' prints 1 万 and more in 万, the rest as they are
_CONDITION_TOKEN = re.compile(r"\[(<=|>=|<>|=<|=>|<|>|=)\s*([+-]?\d+(?:\.\d*)?)\]")


def is_general(code: str | None) -> bool:
    return code is None or code.strip().lower() in _GENERAL


def _sections(code: str) -> list[str]:
    out, start = [], 0
    for m in _SPLIT.finditer(code):
        if m.group(0) == ";":
            out.append(code[start:m.start()])
            start = m.end()
    out.append(code[start:])
    return out


def _tokens(section: str):
    """(kind, text) tokens: 'lit' literal text, 'num' the number pattern's characters, 'gen' General, 'pct',
    'bad'."""
    i, n = 0, len(section)
    while i < n:
        ch = section[i]
        word = next((w for w in _GENERAL_WORDS if section[i:i + len(w)].lower() == w), None)
        if word:
            yield "gen", section[i:i + len(word)]
            i += len(word)
        elif ch == '"':
            end = section.find('"', i + 1)
            end = n if end < 0 else end
            yield "lit", section[i + 1:end]
            i = end + 1
        elif ch in "\\!" and i + 1 < n:  # Excel/WPS: \x and !x both print x
            yield "lit", section[i + 1]
            i += 2
        elif ch == "_" and i + 1 < n:
            yield "lit", " "  # the width of the next character: a space in text
            i += 2
        elif ch == "*" and i + 1 < n:
            i += 2  # fill to the column's width: nothing in text
        elif ch == "[":
            end = section.find("]", i)
            token = section[i:end + 1] if end >= 0 else section[i:]
            if _CONDITION_TOKEN.fullmatch(token):
                yield "cond", token  # chooses the section (_section_for); prints nothing
            elif not _BRACKET_OK.fullmatch(token):
                yield "bad", token
            elif token.startswith("[$"):
                # [$¥-804], [$CNY], [$CN¥-850]: a currency block (ECMA-376 §18.8.31) prints its symbol — a currency,
                # never a unit word: the yuan's (literal_parts) leaves the figure in the table's unit; another ([$USD],
                # [$€-407]) names no unit of the table and the cell is refused
                yield "cur", token[2:-1].split("-")[0]
            i = (end + 1) if end >= 0 else n
        elif ch in "0#?.,":
            yield "num", ch
            i += 1
        elif ch == "%":
            yield "pct", ch
            i += 1
        elif ch in "Ee/@" or _DATE_LETTERS.match(ch):
            yield "bad", ch
            i += 1
        else:
            yield "lit", ch  # $ - + ( ) : space and CJK characters print as themselves
            i += 1


def _condition_of(section: str) -> tuple[str, Decimal] | None | bool:
    """A section's condition (operator, bound); None without one; False for two (not rendered here)."""
    found = [text for kind, text in _tokens(section) if kind == "cond"]
    if len(found) > 1:
        return False
    if not found:
        return None
    op, bound = _CONDITION_TOKEN.fullmatch(found[0]).groups()
    return {"=<": "<=", "=>": ">="}.get(op, op), Decimal(bound)


_HOLDS = {"<": lambda v, b: v < b, "<=": lambda v, b: v <= b, ">": lambda v, b: v > b, ">=": lambda v, b: v >= b,
          "=": lambda v, b: v == b, "<>": lambda v, b: v != b}


def _only_negative(condition: tuple[str, Decimal]) -> bool:
    """The condition admits negative numbers only (``[<0]``, ``[<=-1]``, ``[=-5]``): Excel then prints no minus of its
    own before the section — the section says the sign, if at all (``[<0]-0.00``, ``[<0]"减少"0.00``)."""
    op, bound = condition
    return op == "<" and bound <= 0 or op in ("<=", "=") and bound < 0


def _conditional_section(sections: list[str], conditions: list, value: Decimal) -> tuple[str, bool] | None:
    """Excel's choice among conditional sections (ECMA-376 §18.8.31) by the signed value: the first if its condition
    holds, else the second if it has none or its own holds, else the third; a single conditional section a number fails
    prints it as General. With whether the section prints the sign itself: a section whose condition admits only
    negatives does, as does the second of two when the first's condition is ``<``, ``<=`` or ``<>``; any other section
    a negative number prints through gets a minus before it (Excel for Mac 16.35 as numfmt's tables record it —
    LibreOffice 7.4 leaves that minus out in a fallback section and after ``[<-6]``: the figure is the same, only its
    printed sign differs; tests/fixtures/number_formats/MAKE.md). None where the choice is not Excel's plain one (no
    condition on the first section, three sections whose second has none) or no section takes the number (Excel
    prints ``####``)."""
    numeric, conds = sections[:3], conditions[:3]
    if conds[0] is None:
        return None
    if _HOLDS[conds[0][0]](value, conds[0][1]):
        return numeric[0], _only_negative(conds[0])
    if len(numeric) == 1:
        return "General", False
    if conds[1] is None:
        if len(numeric) != 2:
            return None
        return numeric[1], conds[0][0] in ("<", "<=", "<>")
    if _HOLDS[conds[1][0]](value, conds[1][1]):
        return numeric[1], _only_negative(conds[1])
    return (numeric[2], False) if len(numeric) == 3 and conds[2] is None else None


def _section_for(code: str, value: Decimal) -> tuple[str, bool] | None:
    """The section a value prints through, and whether the section prints the sign itself (negative sections do)."""
    sections = _sections(code)
    if len(sections) > 4 or _BRACKET.search(code) and any(
            kind == "bad" and text.startswith("[") for section in sections for kind, text in _tokens(section)):
        return None  # a bracket no application knows ([紫色], [DBNum1]): not rendered here
    conditions = [_condition_of(section) for section in sections]
    if any(c is False for c in conditions):
        return None
    if any(conditions[:3]):
        return _conditional_section(sections, conditions, value)
    if value < 0 and len(sections) >= 2:
        return sections[1], True
    if value == 0 and len(sections) >= 3:
        return sections[2], False
    return sections[0], False


_PLACES = "0#?"


def _pattern(section: str):
    tokens = [token for token in _tokens(section) if token[0] != "cond"]  # the condition chose the section
    if any(kind == "bad" for kind, _ in tokens):
        return None
    number = "".join(text for kind, text in tokens if kind == "num")
    return tokens, number


@dataclass(frozen=True)
class _Split:
    """A number pattern whose digit placeholders have a literal between them (``0\\.0,``): no decimal point; the
    whole (scaled) value's digits fill the placeholders right to left. ``after_point`` placeholders follow the one
    literal ``.`` a reader takes for the decimal point."""
    places: tuple[int, ...]
    after_point: int
    thousands: int


def _split(tokens) -> _Split | None | bool:
    """False: no literal between the placeholders (the plain pattern); a ``_Split`` when the only such literal is one
    ``.`` with no real point and no grouping; None for any other arrangement (not rendered: its reading is a guess)."""
    places = tuple(i for i, (kind, text) in enumerate(tokens) if kind == "num" and text in _PLACES)
    if not places:
        return False
    first, last = places[0], places[-1]
    inner = [i for i in range(first, last) if tokens[i][0] in ("lit", "pct", "cur")]
    if not inner:
        return False
    if any(kind == "num" and text == "." for kind, text in tokens):
        return None  # a real point and a literal one: Excel prints both, a reader cannot tell
    commas = [i for i, (kind, text) in enumerate(tokens) if kind == "num" and text == ","]
    if any(i < last for i in commas):
        return None  # grouping digits that run across literals
    runs: dict[int, str] = {}  # the placeholder a literal run follows → the run's text
    for i in inner:
        if tokens[i][0] != "lit":
            return None
        after = max(p for p in places if p < i)
        runs[after] = runs.get(after, "") + tokens[i][1]
    if len(runs) != 1 or next(iter(runs.values())) != ".":
        return None
    (before,) = runs
    return _Split(places, sum(1 for p in places if p > before), len(commas))


def _shape(code: str | None, value: Decimal):
    """(tokens, number pattern, split, the section prints its sign) for the section ``value`` prints through; None
    where it is not rendered here."""
    chosen = _section_for(code, value)
    parsed = _pattern(chosen[0]) if chosen else None
    if parsed is None:
        return None
    split = _split(parsed[0])
    if split is None:
        return None
    return parsed[0], parsed[1], split, chosen[1]


def printed_decimals(code: str | None, value: float | int | Decimal = 1) -> int | None:
    """Digits after the decimal point a reader sees for ``value`` (None: General, or not rendered here)."""
    if is_general(code):
        return None
    shape = _shape(code, Decimal(str(value)))
    if shape is not None and any(kind == "gen" for kind, _ in shape[0]):
        text = render(value, code)  # General: the stored digits
        return None if text is None else len(re.sub(r"\D*$", "", text).partition(".")[2])
    if shape is None or not shape[1]:
        return None
    if shape[2]:
        return shape[2].after_point
    fraction = shape[1].partition(".")[2].rstrip(",")
    return sum(1 for ch in fraction if ch in _PLACES)


def _section_text(code: str, value) -> str | None:
    """The section ``value`` prints through (the first section when no value is given)."""
    if value is None:
        return _sections(code)[0]
    chosen = _section_for(code, Decimal(str(value)))
    return chosen[0] if chosen else None


def is_percent(code: str | None, value: float | int | Decimal | None = None) -> bool:
    """The format multiplies by 100 and prints ``%`` (``0%``, ``0.00%``): the cell shows a ratio, not an amount."""
    if is_general(code):
        return False
    section = _section_text(code, value)
    first = _pattern(section) if section is not None else None
    return bool(first) and any(kind == "pct" for kind, _ in first[0])


def printed_shift(code: str | None, value: float | int | Decimal = 1) -> int | None:
    """The power of ten the printed figure is the stored value divided by: 3 for each scaling ``,`` (``#,##0.00,,``
    prints 1234567.8 as 1.23: 6), plus the placeholders after a literal point (``0\\.0,`` prints 3204699 as 320.5: 4).
    0 for General; None where the format is not rendered here."""
    if is_general(code):
        return 0
    shape = _shape(code, Decimal(str(value)))
    if shape is None:
        return None
    tokens, pattern, split, _ = shape
    if split:
        return 3 * split.thousands + split.after_point
    integer_part, _, fraction = pattern.partition(".")
    return 3 * ((len(integer_part) - len(integer_part.rstrip(","))) + (len(fraction) - len(fraction.rstrip(","))))


def _split_digits(tokens, split: _Split, magnitude: Decimal) -> dict[int, str] | None:
    """Each placeholder's text: the whole value's digits right to left, the leftmost placeholder taking the rest;
    None where a placeholder after the point would print no digit ('#\\.##' on 5 prints '.5', a reader reads 0.5)."""
    digits = f"{magnitude.quantize(Decimal(1), rounding=ROUND_HALF_UP):f}".lstrip("0")
    out = {}
    for position, index in enumerate(reversed(split.places)):
        placeholder = tokens[index][1]
        if index == split.places[0]:
            piece, digits = digits, ""
        else:
            piece, digits = digits[-1:], digits[:-1]
        if not piece:
            if position < split.after_point and placeholder != "0":
                return None
            piece = {"0": "0", "#": "", "?": " "}[placeholder]
        out[index] = piece
    return out


def render(value: float | int | Decimal, code: str | None) -> str | None:
    """The text Excel/WPS/Calc print for a number under ``code``; None where the format is General or not rendered
    here."""
    if is_general(code) or isinstance(value, bool):
        return None
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except (InvalidOperation, ValueError, TypeError):
        return None
    if not number.is_finite():
        return None
    shape = _shape(code, number)
    if shape is None:
        return None
    tokens, pattern, split, signed_section = shape
    if any(kind == "gen" for kind, _ in tokens):
        return _render_general(tokens, pattern, number, signed_section)
    if not pattern:  # a section of literals only ("-" for zero)
        return "".join(text for kind, text in tokens if kind == "lit")
    percent = Decimal(100) ** sum(1 for kind, _ in tokens if kind == "pct")
    if split:
        magnitude = (abs(number) * percent).scaleb(-3 * split.thousands)
        pieces = _split_digits(tokens, split, magnitude)
        if pieces is None:
            return None
        rounded = magnitude.quantize(Decimal(1), rounding=ROUND_HALF_UP)
        out = [pieces.get(i, "") if kind == "num" else "%" if kind == "pct" else token
               for i, (kind, token) in enumerate(tokens)]
    else:
        integer_part, _, fraction = pattern.partition(".")
        scale = len(integer_part) - len(integer_part.rstrip(","))  # trailing commas: thousands each
        if "." in pattern:
            scale_fraction = len(fraction) - len(fraction.rstrip(","))
            scale += scale_fraction
            fraction = fraction.rstrip(",")
        integer_part = integer_part.rstrip(",")
        magnitude = (abs(number) * percent).scaleb(-3 * scale)
        decimals = sum(1 for ch in fraction if ch in _PLACES)
        rounded = magnitude.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
        whole, _, digits = f"{rounded:f}".partition(".")
        # optional fraction digits (#) drop trailing zeros; required ones (0) stay
        required = sum(1 for ch in fraction if ch == "0")
        digits = digits[:decimals]
        while len(digits) > required and digits.endswith("0"):
            digits = digits[:-1]
        min_whole = sum(1 for ch in integer_part if ch == "0")
        whole = whole.lstrip("0").rjust(min_whole, "0")
        if "," in integer_part and whole:
            whole = f"{int(whole):,}"
        text = whole + ("." + digits if "." in pattern else "")  # Excel prints '12.' for '0.##' on 12
        out, placed = [], False
        for kind, token in tokens:
            if kind == "num":
                if not placed:
                    out.append(text)
                    placed = True
            elif kind == "pct":
                out.append("%")
            else:
                out.append(token)
    printed = "".join(out)
    if number < 0 and not signed_section and rounded != 0:
        printed = "-" + printed
    return printed.strip()


def _render_general(tokens, pattern: str, number: Decimal, signed_section: bool) -> str | None:
    """'General"万元"': the number as General prints it (every stored digit, as a General cell's text) in its place."""
    if pattern or sum(1 for kind, _ in tokens if kind in ("gen", "pct")) != 1:
        return None
    magnitude = abs(number)
    text = str(int(magnitude)) if magnitude == magnitude.to_integral_value() else f"{magnitude.normalize():f}"
    printed = "".join(text if kind == "gen" else token for kind, token in tokens).strip()
    return "-" + printed if number < 0 and not signed_section else printed


@dataclass(frozen=True)
class Printed:
    """A numeric cell as its format prints it: the text (None: a format not rendered here, whose figure nobody can
    say), the power of ten it divides the stored value by, whether it shows a percent, the unit printed beside it."""
    text: str | None
    shift: int
    percent: bool
    unit: str | None = None  # the format's unit word ("万元" in '#,##0.00"万元"'), a unit if the caller knows it
    sign: int = 0  # -1/1: the figure a reader reads has this sign whatever the stored one (a direction word); 0: stored


def _beside(code: str, value) -> str | None:
    """The literal text a section prints beside (not between) its digits, spaces and brackets dropped."""
    section = _section_text(code, value)
    parsed = _pattern(section) if section is not None else None
    if parsed is None or not (parsed[1] or any(kind == "gen" for kind, _ in parsed[0])):
        return None
    places = [i for i, (kind, text) in enumerate(parsed[0]) if kind == "gen" or kind == "num" and text in _PLACES]
    beside = [token for i, (kind, token) in enumerate(parsed[0])
              if kind in ("lit", "cur") and not (places and places[0] < i < places[-1])]
    text = "".join(beside).strip(" \u3000()（）")
    return text or None


# Printed beside a figure and no unit: a sign (the minus a negative section writes itself, a currency sign or name:
# 人民币1,010.05 in a 万元 table is 1 010.05 万元 — a currency names no magnitude) or a word or mark saying the
# direction a reader reads the figure in (减少 3 204.70 万元 is −3 204.70 万元; ▼5.00, ↓5.00, 减5.00 as a negative
# section prints the stored −5: the mark states the sign the section already has, so the figure is the stored one)
_SIGNS = re.compile(r"[-+−－＋¥￥$\s\u3000()（）]|人民币|RMB|CNY|CN[¥￥]", re.I)
_DIRECTIONS = (("减少", -1), ("下降", -1), ("增加", 1), ("增长", 1), ("上升", 1),  # words first, then their marks
               ("减", -1), ("▼", -1), ("▽", -1), ("↓", -1), ("增", 1), ("▲", 1), ("△", 1), ("↑", 1))


def literal_parts(literal: str | None) -> tuple[str | None, int, bool]:
    """(the unit word, the direction a word states: -1 减少, 1 增加, 0 none, whether a minus is printed in it)."""
    if not literal:
        return None, 0, False
    direction = 0
    for word, sign in _DIRECTIONS:
        if word in literal:
            direction = sign if direction in (0, sign) else 2  # 增加 and 减少 both: no direction a reader can take
            literal = literal.replace(word, "")
    minus = any(ch in literal for ch in "-−－")
    return _SIGNS.sub("", literal) or None, direction, minus


def unit_literal(code: str | None, value: float | int | Decimal | None = None) -> str | None:
    """The unit word a format prints beside the number in its first section, or in the section ``value`` prints
    through ('#,##0.00"万元"' → 万元, '0!.0,"万"' → 万: not the point between its digits; '[>=10000]0!.0,"万";0' → 万
    for 32046, none for 5000; '-0!.0,"万"' and '"减少"0.00"万元"' → 万, 万元: the sign and direction are no unit); None
    when it prints none."""
    if is_general(code):
        return None
    if value is None and any(_condition_of(section) for section in _sections(code)[:3]):
        return None  # the unit depends on the figure: a table's unit is none of its sections' (each cell says its own)
    return literal_parts(_beside(code, value))[0]


def unit_of_literal(literal: str | None, units) -> str | None:
    """The unit label a printed literal names: itself ('万元'), or a magnitude with 元 understood ('万' printed beside
    a figure reads 万元); None when it names none of ``units`` — a currency name alone (人民币, though 人民币元 is a
    unit of the seed) names no magnitude."""
    if not literal:
        return None
    if literal in units:
        return literal
    label = f"{literal}元"
    return label if label in units and magnitude_stem(label, units[label]) else None


# What can make a printed figure another number than the stored one: a condition choosing a section ([>=10000]), a
# literal or escaped character (a unit, a point between digits), a comma after the last digit placeholder (scaling)
_CONDITION = re.compile(r"\[[<>=]")
_LITERAL = re.compile(r'"|\\|!')
_SCALING_COMMA = re.compile(r"[0#?],+(?![0#?,])")


# a literal sign before or after a section's figure (``\-0.00`` as a Chinese Excel writes its negative section):
# printed, scaling nothing — between digit placeholders it is no sign ('000\-0000' prints 101-0050 for 1010050, no
# figure a reader reads), nor a literal space there ('0" "000' groups digits: what the figure is becomes a guess)
_SIGN_AT_EDGES = re.compile(r'^(?:[\\!][-+() ]|"[-+() ]+"|[_*].)+|(?:[\\!][-+() ]|"[-+() ]+"|[_*].)+$')


def _magnitude_kept(code: str) -> bool:
    """A format this module cannot print whose figure is still the stored number (nothing that scales, moves a point
    or states a unit): the stored value is what a reader reads, in the table's unit."""
    bare = ";".join(_SIGN_AT_EDGES.sub("", section) for section in _sections(re.sub(r"\[[^\]]*\]", "", code)))
    return not (_CONDITION.search(code) or _LITERAL.search(bare) or _SCALING_COMMA.search(bare) or "%" in bare)


def printed_figure(value: object, code: str | None) -> Printed | None:
    """The cell as printed, where it has a number format; None for General, text and dates (the stored value's text
    stands). A format not rendered here gives ``Printed(text=None)``: the figure a reader sees is unknown."""
    if is_general(code) or isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return None
    text, shift = render(value, code), printed_shift(code, value)
    if (text is None or shift is None) and _magnitude_kept(code):
        return None  # scientific, fractions, [DBNum1] Chinese numerals: another look, the same number — as stored
    if text is None or shift is None:
        return Printed(None, 0, False, None)
    if value == 0:
        # nothing, whatever the format: '0%' (a percent format on an empty amount) or '0.0万' is a zero a reader reads
        # as such, not a ratio nor a figure of unknown scale that would cost the row
        return Printed(text, 0, False, None)
    unit, direction, minus = literal_parts(_beside(code, value))
    if direction and (minus or direction == 2 or text.startswith("-")):
        return Printed(None, 0, False, None)  # '-增加5', '-减少5': what a reader reads is a guess
    return Printed(text, shift, is_percent(code, value), unit, direction if direction in (-1, 1) else 0)


__all__ = ["Printed", "printed_figure", "EAST_ASIAN_BUILTIN", "is_general", "is_percent", "printed_decimals",
           "printed_shift", "render", "literal_parts", "unit_literal", "unit_of_literal"]
