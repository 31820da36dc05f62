"""The recogniser's compare-form of a cell (workbook_spec.normalise) is kept per text: the same answer as computed
afresh, numbers never keyed together with their text (1 and 1.0 hash alike), and the memo bounded."""
from decimal import Decimal

from dagster_project.ingest import workbook_spec
from dagster_project.ingest.workbook_spec import normalise


def test_a_text_is_normalised_once_and_read_back_the_same():
    text = "（一）  一般公共预算\u3000支出“合计”"
    first = normalise(text)
    assert first == "(一)一般公共预算支出合计" and workbook_spec._NORMALISED[text] == first
    workbook_spec._NORMALISED[text] = "kept"  # the second call reads the memo …
    try:
        assert normalise(text) == "kept"
    finally:
        workbook_spec._NORMALISED.pop(text)
    assert normalise(text) == first  # … and a text it no longer holds is computed again


def test_numbers_and_other_values_are_not_keyed_with_text():
    assert [normalise(v) for v in (1, 1.0, True, Decimal("1.00"), None, "1")] == ["1", "1.0", "True", "1.00", "", "1"]
    assert not any(key.__class__ is not str for key in workbook_spec._NORMALISED)


def test_the_memo_is_bounded(monkeypatch):
    monkeypatch.setattr(workbook_spec, "_NORMALISED_MAX", 4)
    monkeypatch.setattr(workbook_spec, "_NORMALISED", {})
    for n in range(10):
        assert normalise(f"第 {n} 项") == f"第{n}项"
    assert 0 < len(workbook_spec._NORMALISED) <= 4
