"""CPU and memory sampler for benchmarks/step_cpu/report.py: put this folder on PYTHONPATH and set CPU_SAMPLES_DIR;
every Python process then records its CPU (``time.process_time``, all threads) and its resident set (``/proc/self/statm``,
DuckDB's buffers included: they live in the process) every 0.1 s and writes the samples at exit."""
import atexit
import json
import os
import sys
import threading
import time

_OUT = os.environ.get("CPU_SAMPLES_DIR")
if _OUT:
    _samples = []
    _started = time.time()
    _PAGE_MIB = os.sysconf("SC_PAGE_SIZE") / 2**20

    def _rss_mib() -> float:
        try:
            with open("/proc/self/statm") as statm:
                return int(statm.read().split()[1]) * _PAGE_MIB
        except OSError:  # not Linux: no memory column
            return float("nan")

    def _sample():
        while True:
            _samples.append((time.time(), time.process_time(), _rss_mib()))
            time.sleep(0.1)

    threading.Thread(target=_sample, daemon=True, name="cpu-sampler").start()

    @atexit.register
    def _dump():
        _samples.append((time.time(), time.process_time(), _rss_mib()))
        with open(os.path.join(_OUT, f"cpu-{os.getpid()}.json"), "w") as f:
            # whether the process imported dbt-core (the Dagster process need not: transform/dagster_dbt_import.py)
            json.dump({"argv": sys.argv[:4], "start": _started, "samples": _samples,
                       "dbt_core_imported": "dbt.version" in sys.modules}, f)
