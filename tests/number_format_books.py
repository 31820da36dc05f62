"""The number-format test workbooks (``fixtures/number_formats/books.py``, which the fixtures' remake script runs as a
script beside them), loaded once for the test modules: ``from number_format_books import books``."""
from __future__ import annotations

import importlib.util
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures" / "number_formats"


def _load():
    spec = importlib.util.spec_from_file_location("number_format_books", FIXTURES / "books.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


books = _load()
