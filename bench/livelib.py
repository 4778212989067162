"""Shared helpers of bench/collector, bench/proxy-latency and bench/hook-latency.

Standard library only. Everything a benchmark starts goes through `Procs`,
which puts each child in a process group of its own and kills every group
at exit, on Ctrl-C, on SIGTERM and on failure.
"""
import json
import math
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)


class CannotRun(Exception):
    """The benchmark cannot run (exit status 2), as opposed to a missed target."""


def find_binary(given):
    """--agentwatch PATH, else $AGENTWATCH_BIN, else target/release/agentwatch."""
    for cand in (given, os.environ.get("AGENTWATCH_BIN"), os.path.join(ROOT, "target/release/agentwatch")):
        if cand:
            if os.access(cand, os.X_OK):
                return os.path.abspath(cand)
            if cand == given:
                raise CannotRun(f"{cand} is not an executable")
    raise CannotRun("no agentwatch binary: run `cargo build --release -p agentwatch-cli` or pass --agentwatch PATH")


def binary_info(path):
    """Version line and mtime of the binary, for the record."""
    try:
        v = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10).stdout.strip()
    except Exception:  # noqa: BLE001
        v = "?"
    mt = time.strftime("%Y-%m-%d %H:%M", time.localtime(os.stat(path).st_mtime))
    return f"{v} ({path}, built {mt})"


def git_head():
    try:
        r = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        return r.stdout.strip() + (" (the working tree has uncommitted changes)" if dirty else "")
    except Exception:  # noqa: BLE001
        return "?"


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def count_procs():
    return sum(1 for n in os.listdir("/proc") if n.isdigit())


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(sorted_vals, p):
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_vals:
        return float("nan")
    k = max(0, min(len(sorted_vals) - 1, math.ceil(p / 100.0 * len(sorted_vals)) - 1))
    return sorted_vals[k]


def summary(vals):
    """n, median, p95, p99, max, mean, min of a list of numbers."""
    s = sorted(vals)
    if not s:
        return {"n": 0, "min": math.nan, "median": math.nan, "p95": math.nan, "p99": math.nan, "max": math.nan,
                "mean": math.nan}
    return {"n": len(s), "min": s[0], "median": statistics.median(s), "p95": pct(s, 95), "p99": pct(s, 99),
            "max": s[-1], "mean": statistics.fmean(s)}


def fmt_ms(x, digits=2):
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def clean_env(home, data, config, extra=None):
    """A clean environment for agentwatch: temp HOME, data and config dirs, UTC."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "HOME": home,
        "TZ": "UTC",
        "LANG": "C.UTF-8",
        "AGENTWATCH_DATA_DIR": data,
        "AGENTWATCH_CONFIG_DIR": config,
    }
    env.update(extra or {})
    return env


class Procs:
    """Children in process groups of their own, all killed at the end.

    Use as a context manager; SIGINT, SIGTERM and SIGHUP turn into
    KeyboardInterrupt/SystemExit so that the `finally` cleanup always runs.
    """

    def __init__(self):
        self.children = []

    def __enter__(self):
        # Ctrl-C even when started in the background, where SIGINT comes in ignored.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        for sig in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, self._on_signal)
        return self

    def _on_signal(self, signum, _frame):
        raise SystemExit(128 + signum)

    def spawn(self, args, **kw):
        kw.setdefault("start_new_session", True)  # own session and process group
        p = subprocess.Popen(args, **kw)
        self.children.append(p)
        return p

    def stop(self, p, sig=signal.SIGTERM, timeout=10):
        """Stops one child's group: `sig` first, SIGKILL after `timeout` s."""
        if p.poll() is None:
            try:
                os.killpg(p.pid, sig)
            except ProcessLookupError:
                pass
            try:
                p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(p.pid, signal.SIGKILL)  # whatever else is left in the group
        except (ProcessLookupError, PermissionError):
            pass
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass

    def __exit__(self, *exc):
        for p in reversed(self.children):
            self.stop(p, timeout=3)
        self.children.clear()
        return False


def make_workdir(prefix, keep):
    d = tempfile.mkdtemp(prefix=prefix)
    os.chmod(d, 0o700)
    return d


def remove_workdir(d, keep):
    if keep:
        print(f"kept {d}")
    else:
        shutil.rmtree(d, ignore_errors=True)


def run_json(args, env, cwd=None, timeout=60):
    r = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({r.returncode}): {r.stderr.strip()}")
    return json.loads(r.stdout)


def main_wrapper(main):
    """Runs main(); CannotRun and unexpected errors exit 2, Ctrl-C 130."""
    sys.dont_write_bytecode = True
    try:
        sys.exit(main() or 0)
    except CannotRun as e:
        print(f"cannot run: {e}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
