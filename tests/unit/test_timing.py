import re

from inngest._timing import ServerTimings


def test_spans_are_whole_milliseconds_rounded_as_round_does() -> None:
    timings = ServerTimings()
    ends = [0.0, 0.0004, 0.0005, 0.0006, 0.0015, 0.0025, 0.0123456, 2.5]
    timings.spans.extend((f"s{i}", 0.0, end) for i, end in enumerate(ends))
    timings.spans.append(("late", 10.0, 10.0005))
    expected = ", ".join(f"s{i};dur={round(end * 1000)}" for i, end in enumerate(ends))
    expected += f", late;dur={round((10.0005 - 10.0) * 1000)}"
    assert re.fullmatch(r"comm_handler;dur=\d+, " + re.escape(expected), timings.header())
    assert expected.startswith("s0;dur=0, s1;dur=0, s2;dur=0, s3;dur=1, s4;dur=2, s5;dur=2, ")
