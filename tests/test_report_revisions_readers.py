"""The report's revisions section after a readers' change (quality/report_revisions.py, rv2 #3).

A revision compares two readings made when the publisher replaced the file. When the later version was first read in
the load where the family's readers changed (``fct_revisions.readers_changed``), its difference may be the readers'
(a figure an older reader read 10 000× too large, then right) — or the publisher's, hidden by it: the section counts
it as a change without a correction note and marks it as needing review (never drops it). A version read again by changed readers shows what it reads as now beside the amount of
the time. Rows as ``marts.fct_revisions`` holds them (its columns); the end-to-end case is test_reread_revisions.py.
"""
from __future__ import annotations

import re
from decimal import Decimal

from dagster_project.quality.report_revisions import DataChanges, data_changes_section, data_changes_summary

BASE = dict(publisher_name="贺兰县", publisher_code="640122", fiscal_year=2019, new_source_file="debt/2019/贺兰县.xlsx",
            table_key="debt_1_2", item_key="一般债务余额", measure="amount", change_kind="changed",
            has_correction_note=False, old_source_sha256="a" * 64, new_source_sha256="b" * 64)
OLDER_READERS = 10_000


def _rows():
    figure = Decimal("320469900.00")
    across = dict(BASE, old_amount_yuan=figure * OLDER_READERS, new_amount_yuan=figure, new_amount_now_yuan=figure,
                  readers_changed=True)
    reread_since = dict(BASE, item_key="一般债务限额", old_amount_yuan=Decimal("4796919.00"),
                        new_amount_yuan=Decimal("4796920.00"), new_amount_now_yuan=Decimal("479692000.00"),
                        readers_changed=False)
    return across, reread_since


def test_a_revision_across_a_readers_change_is_counted_and_needs_review():
    across, reread_since = _rows()
    changes = DataChanges(None, [across, reread_since])
    assert changes.silent == 2 and changes.readers_changed == 1
    summary = data_changes_summary(changes)
    assert "without a correction note: 2" in summary and "needs review: 1" in summary and "须人工核对" in summary
    noted = dict(across, has_correction_note=True)  # announced: nothing to review
    assert DataChanges(None, [noted]).readers_changed == 0


def test_the_section_marks_it_and_shows_what_a_version_reads_as_now():
    across, reread_since = _rows()
    html = data_changes_section(DataChanges(None, [across, reread_since]))
    first, second = re.findall(r'<tr class="revision">(.*?)</tr>', html)
    assert "读取程序同时更新" in first and "须人工核对" in first and 'class="bad"' in first
    assert 'class="bad"' in second and "读取程序同时更新" not in second
    assert f"现读作 now read as {reread_since['new_amount_now_yuan']}" in second
    assert "现读作" not in first  # read once: nothing to add


def test_a_warehouse_built_before_the_columns_existed_still_reports():
    across, _ = _rows()
    legacy = {k: v for k, v in across.items() if k not in ("readers_changed", "new_amount_now_yuan")}
    changes = DataChanges(None, [legacy])
    assert changes.silent == 1 and 'class="bad"' in data_changes_section(changes)
