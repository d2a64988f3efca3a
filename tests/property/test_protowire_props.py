"""The protocol buffer reader behind the Connect gateway and OTLP traces: well-formed
messages read back field for field, and any bytes at all (truncated, mutated, deeply
nested, wrong wire types) are either read or refused with ``WireError``, never another
exception (which the engine would answer with a 500)."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from inngest._engine.connect import messages
from inngest._engine.otel import otlp, protowire

FEW = 2_500
_numbers = st.integers(1, (1 << 29) - 1)
_scalar_fields = st.one_of(
    st.tuples(_numbers, st.just(protowire.VARINT), st.integers(0, (1 << 64) - 1)),
    st.tuples(_numbers, st.just(protowire.I64), st.integers(0, (1 << 64) - 1)),
    st.tuples(_numbers, st.just(protowire.I32), st.integers(0, (1 << 32) - 1)),
    st.tuples(_numbers, st.just(protowire.LEN), st.binary(max_size=16)),
)


def encode(fields: list[tuple[int, int, protowire.Value]]) -> bytes:
    return b"".join(protowire.field(number, wire, value) for number, wire, value in fields)


@st.composite
def messages_bytes(draw: st.DrawFn, depth: int = 3) -> bytes:
    """A message whose fields may hold nested messages, groups included."""
    out = bytearray()
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["scalar", "nested", "group"] if depth else ["scalar"]))
        if kind == "scalar":
            out += encode([draw(_scalar_fields)])
        elif kind == "nested":
            out += protowire.field(draw(_numbers), protowire.LEN,
                                   draw(messages_bytes(depth - 1)))
        else:
            number = draw(_numbers)
            out += protowire.field(number, protowire.START_GROUP, b"")[:-1]
            out += draw(messages_bytes(depth - 1))
            out += protowire.field(number, protowire.END_GROUP, b"")[:-1]
    return bytes(out)


@st.composite
def hostile(draw: st.DrawFn) -> bytes:
    """A well-formed message cut short, with bytes changed or inserted, or raw bytes."""
    data = bytearray(draw(messages_bytes()))
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(data)))
        change = draw(st.sampled_from(["flip", "insert", "cut"]))
        if change == "flip" and at < len(data):
            data[at] = draw(st.integers(0, 255))
        elif change == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=12))
        elif change == "cut":
            del data[at:]
    return bytes(data) if draw(st.booleans()) else draw(st.binary(max_size=64))


@settings(max_examples=FEW)
@given(st.lists(_scalar_fields, max_size=8))
def test_well_formed_fields_read_back(fields: list[tuple[int, int, protowire.Value]]) -> None:
    assert protowire.fields(encode(fields)) == fields


@settings(max_examples=FEW)
@given(messages_bytes())
def test_messages_with_groups_read_without_error(data: bytes) -> None:
    assert isinstance(protowire.fields(data), list)


@settings(max_examples=FEW)
@given(hostile())
def test_any_bytes_are_read_or_refused_as_wire_errors(data: bytes) -> None:
    for read in (protowire.fields, messages.read_start_request,
                 messages.SDKResponse.decode):
        try:
            read(data)
        except protowire.WireError:
            pass
    try:
        otlp.from_protobuf(data)
    except otlp.PayloadError:
        pass


def test_groups_nest_as_deep_as_the_real_servers_decoder_allows() -> None:
    deepest = protowire.MAX_GROUP_NESTING
    assert protowire.fields(b"[" * deepest + b"\\" * deepest) == [(11, 3, b"")]
    for data in (b"[" * (deepest + 1) + b"\\" * (deepest + 1), b"[" * 100_000):
        try:
            protowire.fields(data)
        except protowire.WireError:
            continue
        raise AssertionError("nesting past the limit was read")
