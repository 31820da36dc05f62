"""dbt calls on Spark, one after another, in ONE Python process: one JVM and one Spark session for all of them.

dbt-spark's ``session`` method takes the process's Spark session (``SparkSession.builder.getOrCreate()`` at every
query) and never stops it, so dbt calls made through dbt's programmatic entry (``dbtRunner``) in one process share
it: the JVM starts once, its classes are loaded and compiled once, and the in-memory catalog of ``spark_ci`` keeps
what one call built for the next (as ``spark_local``'s Derby metastore does across processes, without Derby).
Each ``dbt`` CLI call of a test started a JVM of its own: on test-sized data that start and the catalog's set-up
were most of a call's cost (benchmarks/RESULTS.md, "Wave 15 S1").

``SparkDbtSession(env, cwd)`` starts the process (this file run as a script) with ``env`` — JVM options must be
there before the JVM starts (``spark_parity.with_test_jvm``); ``run(args, env=…)`` sends one dbt call (a JSON line
on stdin; ``env`` entries are set in the process before the call, ``None`` removes one) and returns dbt's success
and its log (what dbt printed, up to the line that ends the call); ``close()`` ends the process and its JVM.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

CALL_ENDED = "@@spark-dbt-session call ended "


class SparkDbtSession:
    def __init__(self, env: dict[str, str], cwd: Path, stderr: Path) -> None:
        self._stderr_path = stderr
        self._stderr = stderr.open("w", encoding="utf-8")
        self._process = subprocess.Popen([sys.executable, "-u", __file__], env=env, cwd=cwd, text=True,
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr)

    def run(self, args: list[str], env: "dict[str, str | None] | None" = None) -> tuple[bool, str]:
        """(dbt's success, its log) of one dbt call in the session's process."""
        self._process.stdin.write(json.dumps({"args": args, "env": env or {}}) + "\n")
        self._process.stdin.flush()
        log = []
        for line in self._process.stdout:
            if line.startswith(CALL_ENDED):
                return json.loads(line[len(CALL_ENDED):])["success"], "".join(log)
            log.append(line)
        raise RuntimeError(f"the dbt session process ended (exit {self._process.wait()}): "
                           + "".join(log)[-3000:] + self._stderr_path.read_text(encoding="utf-8")[-3000:])

    def close(self) -> None:
        if self._process.poll() is None:
            self._process.stdin.close()   # the loop below ends; the JVM ends with its Python process
            self._process.wait()
        self._stderr.close()


def _serve() -> None:
    from dbt.cli.main import dbtRunner

    for line in sys.stdin:
        call = json.loads(line)
        for key, value in call["env"].items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        result = dbtRunner().invoke(call["args"])
        sys.stdout.write("\n" + CALL_ENDED + json.dumps({"success": bool(result.success)}) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    _serve()
