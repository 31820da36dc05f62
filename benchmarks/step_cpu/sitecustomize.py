"""CPU sampler for benchmarks/step_cpu/report.py: put this folder on PYTHONPATH and set CPU_SAMPLES_DIR; every Python
process then records its CPU (``time.process_time``, all threads) every 0.1 s and writes the samples at exit."""
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

    def _sample():
        while True:
            _samples.append((time.time(), time.process_time()))
            time.sleep(0.1)

    threading.Thread(target=_sample, daemon=True, name="cpu-sampler").start()

    @atexit.register
    def _dump():
        _samples.append((time.time(), time.process_time()))
        with open(os.path.join(_OUT, f"cpu-{os.getpid()}.json"), "w") as f:
            # whether the process imported dbt-core (the Dagster process need not: transform/dagster_dbt_import.py)
            json.dump({"argv": sys.argv[:4], "start": _started, "samples": _samples,
                       "dbt_core_imported": "dbt.version" in sys.modules}, f)
