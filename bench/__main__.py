"""`python -m bench [which…] [--quick] [--rooms N]`: run the benchmarks, print the table,
write bench/results.json; exit status 1 when a correctness check failed (targets missed are
reported, not fatal)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import shutil
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from bench import (
    burst,
    dbgrowth,
    directory,
    inprocess,
    latency,
    learning,
    photos,
    scale,
    scanner,
    tagger,
)
from bench.report import BenchResult, baselines, describe_machine, table, write_json
from bot.homeserver import LocalSynapse

RESULTS = Path(__file__).resolve().parent / "results.json"
LIVE = ("latency", "burst", "scale")
LOCAL = ("inprocess", "db", "scanner", "tagger", "learning", "directory", "photos")
ALL = (*LOCAL, *LIVE)
"""In-process ones first: they run before Synapse starts, on a quiet machine."""


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("which", nargs="*",
                        help=f"benchmarks to run, among {', '.join(ALL)} (default: all)")
    parser.add_argument("--quick", action="store_true",
                        help="small sizes (about 1-2 minutes): a smoke run, not the numbers")
    parser.add_argument("--rooms", type=int, help="scale: rooms the bots are in (1000)")
    parser.add_argument("--restarts", type=int,
                        help="scale: restarts of each bot, alternated, medians given (3)")
    parser.add_argument("--before", type=Path, metavar="TREE",
                        help="scale: also restart casebot from this source tree (another "
                             "commit's, e.g. `git archive` of it), alternated with this one")
    parser.add_argument("--cases", type=int,
                        help="latency: sequential commands (200); burst: cases (500)")
    parser.add_argument("--db-cases", type=int, help="db: cases in the room's history (100000)")
    parser.add_argument("--profile", type=Path, metavar="DIR",
                        help="in-process and db: write cProfile statistics into DIR")
    parser.add_argument("--output", type=Path, default=RESULTS, help="results file (JSON)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the temporary directory (logs of the bots and Synapse)")
    args = parser.parse_args(argv)
    unknown = set(args.which) - set(ALL)
    if unknown:
        parser.error(f"unknown benchmark {', '.join(sorted(unknown))}; choose among "
                     f"{', '.join(ALL)}")
    args.which = [w for w in ALL if w in args.which] if args.which else list(ALL)
    return args


async def _run_all(args: argparse.Namespace, base: Path) -> list[BenchResult]:
    local: dict[str, Callable[[], Awaitable[BenchResult]]] = {
        "inprocess": lambda: inprocess.run(base / "inprocess", args.quick, profile=args.profile),
        "db": lambda: dbgrowth.run(base / "db", args.quick, cases=args.db_cases,
                                   profile=args.profile),
        "scanner": lambda: scanner.run(base / "scanner", args.quick),
        "tagger": lambda: tagger.run(base / "tagger", args.quick),
        "learning": lambda: learning.run(base / "learning", args.quick),
        "directory": lambda: directory.run(base / "directory", args.quick),
        "photos": lambda: photos.run(base / "photos", args.quick),
    }
    results: list[BenchResult] = []
    for name in args.which:
        if name in local:
            results.append(await _timed(name, local[name]))
    live = [name for name in args.which if name in LIVE]
    if not live:
        return results
    hs = LocalSynapse(base / "synapse")
    (base / "synapse").mkdir()
    print("starting a throwaway Synapse…", file=sys.stderr, flush=True)
    await asyncio.to_thread(hs.start)
    runners: dict[str, Callable[[], Awaitable[BenchResult]]] = {
        "latency": lambda: latency.run(hs, base / "latency", args.quick, cases=args.cases),
        "burst": lambda: burst.run(hs, base / "burst", args.quick, cases=args.cases),
        "scale": lambda: scale.run(hs, base / "scale", args.quick, rooms=args.rooms,
                                   restarts=args.restarts, before=args.before),
    }
    try:
        for name in live:
            results.append(await _timed(name, runners[name]))
    finally:
        await asyncio.to_thread(hs.stop)
    return results


async def _timed(name: str, run: Callable[[], Awaitable[BenchResult]]) -> BenchResult:
    print(f"running {name}…", file=sys.stderr, flush=True)
    began = time.monotonic()
    try:
        result = await run()
    except Exception as exc:
        logging.getLogger("bench").exception("%s failed", name)
        result = BenchResult(name, name, "", error=f"{type(exc).__name__}: {exc}")
    result.seconds = time.monotonic() - began
    print(f"  {name}: {result.seconds:.0f} s", file=sys.stderr, flush=True)
    return result


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("nio").setLevel(logging.ERROR)
    base = Path(tempfile.mkdtemp(prefix="casebot-bench-"))
    started = datetime.now(UTC)
    began = time.monotonic()
    try:
        results = asyncio.run(_run_all(args, base))
    finally:
        if args.keep:
            print(f"kept {base}", file=sys.stderr)
        else:
            shutil.rmtree(base, ignore_errors=True)
    total = time.monotonic() - began
    print()
    print(table(results))
    print()
    print(baselines(results))
    for result in results:
        if result.notes:
            print()
            print("\n".join(result.notes))
    print(f"\nMachine: {describe_machine()}. Total {total:.0f} s"
          f"{' (--quick: small sizes, not the reference numbers)' if args.quick else ''}.")
    write_json(args.output, results, {
        "started": started.isoformat(timespec="seconds"), "quick": args.quick,
        "seconds": round(total, 1), "which": args.which})
    print(f"Written to {args.output}.")
    failed = [r.name for r in results if not r.correct]
    if failed:
        print(f"CORRECTNESS FAILED: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
