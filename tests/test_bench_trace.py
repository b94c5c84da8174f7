"""bench.trace, issue 23's measure of a `!case`: it counts what it says it counts."""

from __future__ import annotations

from bench.trace import Trace, trace_second_case


async def test_a_second_case_sends_its_card_once_and_the_trace_counts_its_files() -> None:
    trace, cards = await trace_second_case()
    assert cards == 1  # posted once, listing who is paged: no "(edited)" in Element
    entered = {path.rsplit("/", 2)[-2] + "/" + path.rsplit("/", 1)[-1] for path in trace.entered}
    assert {"cases/plugin.py", "volunteers/paging.py", "bot/app.py"} <= entered
    assert not any(path.endswith("bot/testing.py") for path in trace.entered)
    assert sum(trace.entered.values()) == trace.calls
    assert 0 < trace.back_crossings <= trace.crossings < trace.calls


def test_only_covered_files_are_counted_and_an_uncovered_caller_is_no_crossing() -> None:
    import sys

    from bot import text  # a core module the trace covers, called from here (not covered)

    trace = Trace()
    sys.setprofile(trace.profile)
    try:
        text.shorten("a" * 50, 10)
        text.shorten("b" * 50, 10)
    finally:
        sys.setprofile(None)
    assert trace.calls >= 2
    assert trace.crossings == 0  # the test file is not traced: no traced caller
    assert list(trace.entered) == [text.__file__]
