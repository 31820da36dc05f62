"""dbt invocation folders: the newest kept, older quiet ones removed, anything else under target/ left alone."""
import os

from dagster_project.transform import invocation_folders


def _folder(root, name, written):
    folder = root / name
    folder.mkdir()
    log = folder / "dbt.log"
    log.write_text("x")
    os.utime(log, (written, written))
    os.utime(folder, (written, written))
    return folder


def test_keeps_the_newest_and_what_is_still_written(tmp_path, monkeypatch):
    now = 1_000_000_000.0
    hour = invocation_folders.QUIET_SECONDS
    old = [_folder(tmp_path, f"gongkai_dbt-{i:07x}-abcdef{i}", now - (10 - i) * hour) for i in range(5)]
    busy = _folder(tmp_path, "gongkai_dbt-0000009-1234567", now - 5 * hour)
    os.utime(busy / "dbt.log", (now - 60, now - 60))  # an invocation still logging: its folder is old, its log is not
    bare = _folder(tmp_path, "89abcde", now - 20 * hour)  # an invocation without a run (dagster-dbt's bare uuid)
    (tmp_path / "manifest.json").write_text("{}")  # the project's own files under target/ are not invocations
    other = _folder(tmp_path, "compiled", now - 30 * hour)

    removed = invocation_folders.prune(tmp_path, keep=2, now=now)

    # newest two by last write: busy (a minute ago) and old[4]; the rest are quiet for over an hour
    assert removed == [bare, *old[:4]]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["compiled", "manifest.json", busy.name, old[4].name])
    assert other.is_dir()

    monkeypatch.setenv("GONGKAI_DBT_INVOCATIONS_KEPT", "1")
    # busy was written a minute ago: beyond the newest one now, but not quiet, so still kept
    assert invocation_folders.prune(tmp_path, now=now) == [old[4]]
    assert busy.is_dir()


def test_a_count_that_is_not_one_or_more_is_refused(monkeypatch):
    import pytest
    from dagster_project.paths import SettingError, settings

    for value in ("0", "-3", "ten"):
        monkeypatch.setenv("GONGKAI_DBT_INVOCATIONS_KEPT", value)
        with pytest.raises(SettingError):
            settings()
