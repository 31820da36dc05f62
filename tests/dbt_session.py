"""dbt calls, one after another, in ONE Python process that stays: dbt's imports paid once, not at every call.

A test's ``dbt`` CLI call starts a Python process that imports dbt and its adapter (≈ 1.5–2 CPU-s) before it
reads its partial-parse state and runs; the suite makes some fifty such calls. Here a process (this file run as a
script) takes the calls as JSON lines on stdin and runs each through dbt's programmatic entry (``dbtRunner``), as
the CLI would: dbt re-reads its flags, profile and partial-parse state at each call, so a call sees its own
arguments, environment and files. What it prints is its log, up to the line that ends the call.

- ``env``: entries set in the process before the call (``None`` removes one); with ``replace_env`` the process's
  environment becomes exactly ``env``, as a subprocess given ``env=`` would see it.
- ``cwd``: the folder the call runs in.
- After each call the DuckDB file dbt-duckdb opened is closed (its environment dropped: dbt-duckdb keeps it open
  between calls otherwise — test_dbt_session then fails on DuckDB's lock), so the test process and the next call
  open it as after a CLI call that ended.

``DbtSession(env, cwd, stderr)`` starts the process; ``run(args, env=…, cwd=…, replace_env=…)`` returns dbt's
success and its log, ``call(…)`` the exit code the CLI would have ended with (0, 1 a node failed, 2 dbt stopped on
an error) and the log; ``close()`` ends the process. tests/spark_dbt_session.py keeps one for a Spark session's JVM.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

CALL_ENDED = "@@dbt-session call ended "


class DbtSession:
    def __init__(self, env: dict[str, str], cwd: Path, stderr: Path) -> None:
        self._stderr_path = stderr
        self._stderr = stderr.open("w", encoding="utf-8")
        self._process = subprocess.Popen([sys.executable, "-u", __file__], env=env, cwd=cwd, text=True,
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr)

    def alive(self) -> bool:
        return self._process.poll() is None

    def run(self, args: list[str], env: "dict[str, str | None] | None" = None, cwd: "Path | None" = None,
            replace_env: bool = False) -> tuple[bool, str]:
        """(dbt's success, its log) of one dbt call in the session's process."""
        code, log = self.call(args, env, cwd, replace_env)
        return code == 0, log

    def call(self, args: list[str], env: "dict[str, str | None] | None" = None, cwd: "Path | None" = None,
             replace_env: bool = False) -> tuple[int, str]:
        """(the exit code a dbt CLI call would have ended with, dbt's log) of one dbt call in the session's process."""
        self._process.stdin.write(json.dumps({"args": args, "env": env or {}, "replace_env": replace_env,
                                              "cwd": str(cwd) if cwd else None}) + "\n")
        self._process.stdin.flush()
        log = []
        for line in self._process.stdout:
            if line.startswith(CALL_ENDED):
                return json.loads(line[len(CALL_ENDED):])["code"], "".join(log)
            log.append(line)
        raise RuntimeError(f"the dbt session process ended (exit {self._process.wait()}): "
                           + "".join(log)[-3000:] + self._stderr_path.read_text(encoding="utf-8")[-3000:])

    def close(self) -> None:
        if self._process.poll() is None:
            self._process.stdin.close()   # the loop below ends; a JVM it started ends with its Python process
            self._process.wait()
        self._stderr.close()


def _close_duckdb() -> None:
    """Close the DuckDB database dbt-duckdb keeps for its credentials (``keep_open`` would hold it between calls)."""
    connections = sys.modules.get("dbt.adapters.duckdb.connections")
    if connections is None:
        return
    manager = connections.DuckDBConnectionManager
    if manager._ENV is not None:
        manager._ENV.close()
        manager._ENV = None


def _serve() -> None:
    from dbt.cli.main import dbtRunner

    for line in sys.stdin:
        call = json.loads(line)
        if call.get("replace_env"):
            os.environ.clear()
        for key, value in call["env"].items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        if call.get("cwd"):
            os.chdir(call["cwd"])
        try:
            result = dbtRunner().invoke(call["args"])
            # the CLI's exit codes: 0 done, 1 a node failed, 2 dbt stopped on an error
            code = 0 if result.success else 2 if result.exception is not None else 1
        except Exception as exc:   # an error dbt did not catch ends the call as the CLI's would, with its message
            sys.stdout.write(f"\n{type(exc).__name__}: {exc}\n")
            code = 2
        finally:
            _close_duckdb()
        sys.stdout.write("\n" + CALL_ENDED + json.dumps({"success": code == 0, "code": code}) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    _serve()
