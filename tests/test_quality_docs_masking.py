"""Data Docs masking reads only the files written since it last masked them (``runner.mask_written_text`` and its
record): a recorded page is not read again, a page written or replaced since is masked, and without a complete
record (a run that stopped half-way) every page is masked."""
from __future__ import annotations

from dagster_project import personal_numbers
from dagster_project.quality.runner import MASKED_RECORD, mask_written_text, record_masked

ID_NUMBER = "11010519491231002X"  # a well-formed resident identity number (checksum valid)


def test_only_pages_written_since_the_record_are_masked(tmp_path, monkeypatch):
    read = []
    mask = personal_numbers.mask
    monkeypatch.setattr(personal_numbers, "mask", lambda text: read.append(text) or mask(text))
    kept, rewritten = tmp_path / "kept.html", tmp_path / "validations" / "new.json"
    rewritten.parent.mkdir()
    kept.write_text(f"<td>{ID_NUMBER}</td>", encoding="utf-8")
    rewritten.write_text("{}", encoding="utf-8")
    assert mask_written_text(tmp_path) == 1 and ID_NUMBER not in kept.read_text(encoding="utf-8") and len(read) == 2
    record_masked(tmp_path)

    read.clear()
    rewritten.write_text(f'{{"value": "{ID_NUMBER}"}}', encoding="utf-8")  # written since the record: masked
    assert mask_written_text(tmp_path) == 1 and len(read) == 1  # the recorded page was not read
    assert ID_NUMBER not in rewritten.read_text(encoding="utf-8")
    assert not (tmp_path / MASKED_RECORD).exists()  # removed until the run records again

    read.clear()  # no record (the run stopped before recording): every page is masked
    kept.write_text(f"<td>{ID_NUMBER}</td>", encoding="utf-8")
    assert mask_written_text(tmp_path) == 1 and len(read) == 2 and ID_NUMBER not in kept.read_text(encoding="utf-8")
