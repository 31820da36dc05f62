"""What every run pays before it does any work (issue 16, 16U: an unchanged re-run must cost little).

Every ``dagster job execute`` (and every run worker of the UI) is a new process that imports the code location, and
each ingest step imports its family's loader even when no file of the family changed. Imports that only the work
itself needs are made where the work starts: plotly's express module when a dashboard figure is drawn, pyarrow when
a workbook's rows are inserted, openpyxl when a header is reported by its column letter; and dbt's graph selector
is not used to learn that ``@dbt_assets`` selects everything (tests/test_dbt_fixed_costs.py). A new process each
time, as a run is: sys.modules of this test process says nothing.
"""
from __future__ import annotations

import subprocess
import sys

HEAVY = ("plotly.express", "pandas", "numpy", "pyarrow", "openpyxl", "dbt.graph", "networkx")


def _imported_by(statement: str) -> list[str]:
    probe = f"import sys; {statement}; print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    return eval(out.strip().splitlines()[-1])  # noqa: S307 — our own probe's list of module names


def test_loading_the_code_location_and_the_loaders_imports_none_of_the_heavy_modules_a_step_may_never_use():
    assert _imported_by("import dagster_project.definitions") == []
    # what the ingest steps of a run import whether or not a file changed (ingest/assets.py resolve_loader)
    loaders = ("from dagster_project.ingest.assets import FAMILY_LOADERS, FAMILY_EXTRA_METADATA, resolve_loader; "
               "[resolve_loader(s) for s in (*FAMILY_LOADERS.values(), *FAMILY_EXTRA_METADATA.values())]")
    assert _imported_by(loaders) == []


def test_the_deferred_imports_still_serve_the_work():
    from dagster_project.ingest.header_band import get_column_letter
    from dagster_project.ingest.workbook import _schemas

    assert [get_column_letter(n) for n in (1, 26, 27, 703)] == ["A", "Z", "AA", "AAA"]
    schemas = _schemas()
    assert set(schemas) == {"sheet", "line", "reject", "section", "statement", "count"}
    assert str(schemas["line"].field("amount_yuan").type) == "decimal128(20, 2)"


def test_a_process_that_loaded_the_code_location_skips_the_final_collections_at_exit(tmp_path):
    """definitions.py freezes the objects alive at exit (gc.freeze), so Python's last collections do not walk them; the
    atexit handlers registered before it, and files written during the run, are still flushed and closed."""
    out = tmp_path / "written.txt"
    probe = (
        "import atexit, gc, sys\n"
        f"atexit.register(lambda: open({str(out)!r}, 'a').write(f'frozen={{gc.get_freeze_count() > 0}}\\n'))\n"
        "import dagster_project.definitions\n"
        f"fh = open({str(out)!r}, 'a'); fh.write('during the run\\n'); fh.close()\n"
    )
    subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True)
    assert out.read_text().splitlines() == ["during the run", "frozen=True"]
