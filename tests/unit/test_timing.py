import re

from inngest._timing import ServerTimings, now


def test_spans_are_whole_milliseconds_rounded_as_round_does() -> None:
    timings = ServerTimings()
    start = timings.started = now() - 10.0  # comm_handler encloses every span
    ends = [0.0, 0.0004, 0.0005, 0.0006, 0.0015, 0.0025, 0.0123456, 2.5]
    timings.spans.extend((f"s{i}", start, start + end) for i, end in enumerate(ends))
    expected = ", ".join(
        f"s{i};dur={round((start + end - start) * 1000)}" for i, end in enumerate(ends)
    )
    assert re.fullmatch(r"comm_handler;dur=100\d\d, " + re.escape(expected), timings.header())
    assert expected.startswith("s0;dur=0, s1;dur=0, ") and expected.endswith(", s7;dur=2500")


def test_spans_under_half_a_millisecond_are_zero() -> None:
    timings = ServerTimings()
    timings.spans.append(("mw.transform_input", timings.started, timings.started))
    timings.spans.append(("function", timings.started, timings.started + 0.0001))
    # comm_handler is 0 too unless this thread was paused for half a millisecond just now.
    assert re.fullmatch(r"comm_handler;dur=\d+, mw.transform_input;dur=0, function;dur=0",
                        timings.header())
    assert re.fullmatch(r"comm_handler;dur=\d+", ServerTimings().header())
