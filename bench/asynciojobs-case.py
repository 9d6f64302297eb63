"""
The asynciojobs side of bench/scheduler.mjs's start-up comparison: one case, in its own process.

Usage: PYTHONPATH=<asynciojobs source tree> python3 bench/asynciojobs-case.py <independent|chain> <size>
Prints one JSON line: {"case", "jobs", "edges", "importMs", "buildMs", "runMs", "ok", "maxRssKb"},
the same fields as bench/scheduler-case.mjs: `import asynciojobs`, then N no-op jobs
(`Job(noop())`) in a `Scheduler(critical=False)`, then `scheduler.run()` (its synchronous
wrapper: an asyncio.Runner around co_run(), numbering and shutdown included).

asynciojobs is not installed here, only put on PYTHONPATH: its version.py asks
importlib.metadata for the installed version, which fails without the package's metadata; that
one call is answered with "source" (after the real lookup has been tried, so the cost is the same).
"""

import importlib.metadata
import json
import resource
import sys
import time

t_import = time.perf_counter()

_version = importlib.metadata.version


def _version_or_source(name):
    try:
        return _version(name)
    except importlib.metadata.PackageNotFoundError:
        if name == "asynciojobs":
            return "source"
        raise


importlib.metadata.version = _version_or_source
from asynciojobs import Job, Scheduler  # noqa: E402  (after the shim above)

importlib.metadata.version = _version

kind, size = sys.argv[1], int(sys.argv[2])


async def noop():
    return None


t0 = time.perf_counter()
scheduler = Scheduler(critical=False)
edges = 0
if kind == "independent":
    for _ in range(size):
        scheduler.add(Job(noop()))
elif kind == "chain":
    previous = None
    for _ in range(size):
        job = Job(noop(), required=previous) if previous is not None else Job(noop())
        scheduler.add(job)
        previous = job
    edges = size - 1
else:
    raise SystemExit(f"unknown case {kind}")
t1 = time.perf_counter()
ok = scheduler.run()
t2 = time.perf_counter()

print(
    json.dumps(
        {
            "case": kind,
            "jobs": len(scheduler.jobs),
            "edges": edges,
            "importMs": (t0 - t_import) * 1000,
            "buildMs": (t1 - t0) * 1000,
            "runMs": (t2 - t1) * 1000,
            "ok": bool(ok),
            "maxRssKb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        }
    )
)
