"""The magnitude characters a unit word is made of (万元 = 万 × 元).

One definition for the text readers' headers (``text_headers``) and the workbooks' number formats (``number_formats``),
kept in a module of its own so the workbook readers do not import the text files' staging code through
``text_headers``: a family's readers version is the import closure of its loader (``readers_version``), and a change to
the CSV staging must not make every budget and debt workbook be read again.
"""
from __future__ import annotations

MAGNITUDE_CHARS = "十百千万亿"
