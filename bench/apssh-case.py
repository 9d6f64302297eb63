"""
The apssh side of bench/ssh.mjs: one case, in its own process, the same shapes as
bench/ssh-case.mjs, written as an apssh user writes them (apssh's SshNode, SshJob, Run; the
scheduler's run and the connections' close inside one asyncio run, as apssh's own figures do).

Usage: PYTHONPATH=<apssh source>:<asynciojobs source> python3 bench/apssh-case.py <case> [args]
  sequential <commands=200>            one SshJob of that many `true` on one node
  fanout <nodes=50>                    that many nodes (one connection each), `true` on each
  gateway <targets=3> <commands=20>    targets behind the bed's gateway (t1, t2, t1 again…),
                                       each that many `true` one after the other, all at once
  concurrent <commands=12> <seconds=1> that many `sleep <seconds>` at once on one node
  cat <hosts=200> <file>               that many nodes, `cat <file>` on each, lines counted
Env: BENCH_BED_INFO (the bed's TestbedInfo JSON), BENCH_KEY (rsa | ed25519).
Prints one JSON line: {"case", "runMs", "ok", "failures", "maxRssKb", ...}.

apssh and asynciojobs are not installed here, only put on PYTHONPATH: their version.py asks
importlib.metadata for the installed version, which fails without the packages' metadata; that
call is answered with "source". Host keys are not checked (apssh's default, known_hosts=None).
"""

import asyncio
import importlib.metadata
import json
import os
import resource
import sys
import time

_version = importlib.metadata.version


def _version_or_source(name):
    try:
        return _version(name)
    except importlib.metadata.PackageNotFoundError:
        if name in ("apssh", "asynciojobs"):
            return "source"
        raise


importlib.metadata.version = _version_or_source
from asynciojobs import Scheduler  # noqa: E402
from apssh import Run, SshJob, SshNode, load_private_keys  # noqa: E402
from apssh.formatters import Formatter  # noqa: E402
from apssh.topology import co_close_ssh_in_scheduler  # noqa: E402

importlib.metadata.version = _version

bed = json.load(open(os.environ.get("BENCH_BED_INFO", "/tmp/jobgraph-testbed/info.json")))
key_path = bed["keys"][os.environ.get("BENCH_KEY", "rsa")]
keys = load_private_keys([key_path])


class CountingFormatter(Formatter):
    """Reads the output line by line, counting the lines (nothing printed)."""

    lines = 0

    def __init__(self):
        super().__init__("{linenl}")

    def line(self, line, datatype, hostname):
        CountingFormatter.lines += 1

    def connection_made(self, *args):
        pass

    def connection_lost(self, *args):
        pass

    def auth_failed(self, *args):
        pass

    def session_start(self, *args):
        pass

    def session_stop(self, *args):
        pass

    def sftp_start(self, *args):
        pass

    def sftp_stop(self, *args):
        pass


def node(host, **kwds):
    return SshNode(host["hostname"], username="root", keys=keys, port=host["port"],
                   formatter=CountingFormatter(), **kwds)


kind = sys.argv[1]
args = sys.argv[2:]
scheduler = Scheduler(critical=False)
result = {"case": kind}
jobs = []
if kind == "sequential":
    count = int(args[0]) if args else 200
    jobs.append(SshJob(node(bed["loopback"]), commands=[Run("true") for _ in range(count)],
                       scheduler=scheduler))
elif kind == "fanout":
    count = int(args[0]) if args else 50
    jobs = [SshJob(node(bed["loopback"]), command="true", scheduler=scheduler) for _ in range(count)]
elif kind == "gateway":
    targets = int(args[0]) if args else 3
    count = int(args[1]) if len(args) > 1 else 20
    gateway = node(bed["gateway"])
    for index in range(targets):
        target = node(bed["targets"][index % len(bed["targets"])], gateway=gateway)
        jobs.append(SshJob(target, commands=[Run("true") for _ in range(count)], scheduler=scheduler))
elif kind == "concurrent":
    count = int(args[0]) if args else 12
    seconds = args[1] if len(args) > 1 else "1"
    one = node(bed["loopback"])
    jobs = [SshJob(one, command=f"sleep {seconds}", scheduler=scheduler, critical=False)
            for _ in range(count)]
elif kind == "cat":
    count = int(args[0]) if args else 200
    jobs = [SshJob(node(bed["loopback"]), command=f"cat {args[1]}", scheduler=scheduler,
                   critical=False) for _ in range(count)]
else:
    raise SystemExit(f"unknown case {kind}")


async def main():
    ok = await scheduler.co_run()
    await co_close_ssh_in_scheduler(scheduler)
    return ok


t1 = time.perf_counter()
ok = asyncio.run(main())
result["runMs"] = (time.perf_counter() - t1) * 1000
result["failures"] = sum(1 for job in jobs if job.result() != 0)
result["lines"] = CountingFormatter.lines
result["ok"] = bool(ok) and result["failures"] == 0
result["maxRssKb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps(result))
