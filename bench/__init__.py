"""Benchmarks of Zhili's design choices, run with `make bench` (see bench/run.py).

Each benchmark is a module of this package whose name does not start with an underscore. It
exposes `TITLE` (the heading of its section in docs/benchmarks.md) and `run() -> Report`.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Report:
    """What a benchmark hands back to bench/run.py."""

    body: str  # Markdown; use ### and deeper headings only, ## belongs to bench/run.py
    software: list[str] = field(default_factory=list)  # versions/settings of what was measured
