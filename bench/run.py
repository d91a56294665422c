"""Run the benchmarks and record their results in docs/benchmarks.md.

    make bench                        # every benchmark module of this package
    .venv/bin/python -m bench.run subtree   # only the named ones

Each module owns one section of docs/benchmarks.md, delimited by HTML comment markers. A run
rewrites the sections of the modules it ran, in place, and leaves every other section (and any
hand-written text outside the markers) alone. A module that fails keeps its previous section.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import platform
import re
import signal
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

import bench

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
COMMAND = "make bench"

PREAMBLE = """\
# Benchmarks

Measurements of design choices that Zhili's code relies on. Every section below is written by
one module of `bench/` and rewritten in place each time `make bench` runs; text outside the
`<!-- bench:… -->` markers is left alone. Absolute times depend on the machine, so each section
also states its results as ratios against a baseline measured in the same run.
"""


# Modules of the package that are not benchmarks: this runner, and the Django settings and URLs
# of the server bench/events.py starts.
NOT_BENCHMARKS = {"run", "settings", "urls"}


def discover() -> list[str]:
    """Names of the benchmark modules: every module of the package but NOT_BENCHMARKS and
    _private ones."""
    return sorted(
        info.name
        for info in pkgutil.iter_modules(bench.__path__)
        if not info.name.startswith("_") and info.name not in NOT_BENCHMARKS
    )


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def machine() -> list[str]:
    """CPU, cores, RAM, OS and Python of this machine (best effort outside Linux).

    Benchmarks add the versions of what they measure (Report.software).
    """
    cpu = re.search(r"^model name\s*:\s*(.+)$", _read("/proc/cpuinfo"), re.MULTILINE)
    mem = re.search(r"^MemTotal:\s*(\d+) kB", _read("/proc/meminfo"), re.MULTILINE)
    return [
        f"CPU: {cpu.group(1).strip() if cpu else platform.processor() or 'unknown'}, "
        f"{os.cpu_count()} logical cores",
        f"RAM: {int(mem.group(1)) / 1024**2:.1f} GiB" if mem else "RAM: unknown",
        f"OS: {platform.system()} {platform.release()}",
        f"Python {platform.python_version()}",
    ]


def load_average() -> str:
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "?"


def markers(name: str) -> tuple[str, str]:
    return f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"


def render(
    name: str, title: str, report: bench.Report, started: datetime, seconds: float, load: str
) -> str:
    start, end = markers(name)
    lines = [
        start,
        f"## {title} (bench/{name}.py)",
        "",
        f"- Date: {started:%Y-%m-%d %H:%M} UTC",
        f"- Command: `{COMMAND}` (this module took {seconds:.0f} s)",
        *(f"- {line}" for line in machine() + report.software),
        # Other work on the machine skews every figure; this makes a disturbed run visible.
        f"- Load average (1 min) before / after the run: {load} / {load_average()}",
        "",
        report.body.strip(),
        end,
    ]
    return "\n".join(lines) + "\n"


def update(text: str, name: str, section: str) -> str:
    """Replace the section of `name` in the document text, or append it."""
    if not text.strip():
        text = PREAMBLE
    start, end = markers(name)
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end) + r"\n?", re.DOTALL)
    if pattern.search(text):
        # A function replacement, so that backslashes in the section are taken literally.
        return pattern.sub(lambda _match: section, text, count=1)
    return text.rstrip("\n") + "\n\n" + section


def main(argv: list[str]) -> int:
    # Let `kill` unwind like Ctrl-C, so benchmarks drop their throwaway databases.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    available = discover()
    names = argv or available
    unknown = sorted(set(names) - set(available))
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(available)}")
        return 2
    failed = []
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        print(f"== {name}: {module.TITLE}", flush=True)
        started, load = datetime.now(UTC), load_average()
        clock = time.perf_counter()
        try:
            report = module.run()
        except Exception:
            traceback.print_exc()
            print(f"== {name} failed; its section of {DOC.relative_to(ROOT)} is unchanged")
            failed.append(name)
            continue
        section = render(name, module.TITLE, report, started, time.perf_counter() - clock, load)
        # Write after each module, so one failing later does not lose earlier results.
        DOC.parent.mkdir(exist_ok=True)
        DOC.write_text(update(DOC.read_text() if DOC.exists() else "", name, section))
        print(f"== {name} written to {DOC.relative_to(ROOT)}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
