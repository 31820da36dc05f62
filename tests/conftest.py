"""Shared pytest fixtures: every test gets its own raw root, warehouse and output root."""
from __future__ import annotations

from pathlib import Path

import pytest

from dagster_project.paths import REPO_ROOT

SAMPLE_RAW = REPO_ROOT / "data" / "raw"


@pytest.fixture
def gongkai_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Point GONGKAI_* at fresh temp dirs; returns the settings object."""
    from dagster_project.paths import settings

    raw = tmp_path / "raw"
    raw.mkdir()
    monkeypatch.setenv("GONGKAI_RAW_DIR", str(raw))
    monkeypatch.setenv("GONGKAI_WAREHOUSE", str(tmp_path / "warehouse.duckdb"))
    monkeypatch.setenv("GONGKAI_OUT_DIR", str(tmp_path / "out"))
    return settings()
