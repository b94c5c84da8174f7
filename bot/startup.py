"""The phases of the bot's start, timed: wall clock and processor time at the end of each.

`casebot run` marks each step (imports, configuration, the device and its crypto store, key
upkeep, cross-signing, database, plugins, the first sync); the summary is logged at INFO once
the first sync is handled, and written as JSON to the file named by `CASEBOT_START_PHASES`
(the benchmark reads it to print where a restart's time goes).

`casebot run` also holds back the cyclic garbage collector while it starts
(`pause_collector`): the start builds long-lived objects (some 160,000: modules, the
specialty catalogue, every room's state) and little garbage, and the collections it
triggered traversed them again and again (two full ones and ~300 young ones: 50-80 ms of a
restart's processor time). Once the first batch is handled, one full collection frees what
the start left (~3,000 objects, import-time helpers) and `gc.freeze()` sets the survivors
aside, so that later full collections skip them.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import time
from pathlib import Path

log = logging.getLogger(__name__)

ENV = "CASEBOT_START_PHASES"
START_GC_THRESHOLD = 1_000_000
"""Allocations between two young collections while the collector is held back: none in a
restart (~170,000), but a very long start (a catch-up of much history, a homeserver down for
hours) still collects now and then."""


class StartPhases:
    """(name, wall seconds since the epoch, processor seconds of the process) per phase."""

    def __init__(self) -> None:
        self.marks: list[tuple[str, float, float]] = []
        self.done = False
        self._thresholds: tuple[int, int, int] | None = None

    def pause_collector(self) -> None:
        """Hold back the cyclic garbage collector until `finish` (see the module's doc)."""
        if not self.done and self._thresholds is None:
            self._thresholds = gc.get_threshold()
            gc.set_threshold(START_GC_THRESHOLD, *self._thresholds[1:])

    def mark(self, name: str) -> None:
        """The phase `name` ends now (a name already marked is kept at its first time)."""
        if not self.done and all(n != name for n, _, _ in self.marks):
            self.marks.append((name, time.time(), time.process_time()))

    def finish(self, name: str) -> None:
        """The last phase: log the summary and write it where `CASEBOT_START_PHASES` says."""
        if self.done:
            return
        self.mark(name)
        if self._thresholds is not None:
            gc.collect()
            gc.freeze()
            gc.set_threshold(*self._thresholds)
            self._thresholds = None
            self.mark("garbage collected, the start's objects set aside")
        self.done = True
        log.info("started: %s", self.summary())
        target = os.environ.get(ENV)
        if target:
            Path(target).write_text(json.dumps(
                [{"phase": n, "wall": w, "cpu": c} for n, w, c in self.marks]))

    def summary(self) -> str:
        """Each phase's processor time (the wall time in brackets), in order."""
        parts: list[str] = []
        prev_wall = prev_cpu = None
        for name, wall, cpu in self.marks:
            if prev_wall is None:
                parts.append(f"{name} at cpu {cpu:.2f} s")
            else:
                assert prev_cpu is not None
                parts.append(f"{name} +{cpu - prev_cpu:.2f} s ({wall - prev_wall:.2f} s)")
            prev_wall, prev_cpu = wall, cpu
        return ", ".join(parts)


phases = StartPhases()
"""The process's one start (a module global: the steps are spread over several layers)."""
