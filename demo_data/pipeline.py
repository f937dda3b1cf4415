"""Run the simulation here, or in a child process while this process writes the store.

Why a process and not a thread: the simulation is pure Python and so is much of the
store's append path; two threads would share one GIL (and `sqlite3` releases it per row,
which makes a writer thread queue behind the simulation -- measured slower than doing the
two one after the other). A child process simulates chunk N+1 on the other core while
this one stores chunk N. Chunks travel as tuples of plain values (cheap to pickle); the
pipe's small buffer keeps at most about one chunk in flight, so memory stays bounded.

The simulation *prepares* its events as it emits them (`store.native.appending.prepare_fields`:
validation and canonical JSON, the pure half of an append), so the writing process is
left with what needs the database: the hash chain and the inserts
(`EventStore.append_prepared`, which re-checks sizes and ids). Measured on 1M events, the
writer spent about a quarter of its CPU preparing, while the child had room to spare.

Small builds stay in-process: starting a child costs a few hundred milliseconds.
The history is the same either way (same code, same seed).
"""

from __future__ import annotations

import gc
import multiprocessing
import pickle
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from eventscope.demo_data import world as world_module
from eventscope.demo_data.interrupts import signals_held
from eventscope.demo_data.simulation import Simulation, group
from eventscope.store.native.appending import Prepared, PreparedBatch, as_prepared

PIPELINE_FROM = 100_000  # events; below this the child's start-up costs more than it saves

Snapshots = list[tuple[str, int, bytes, str, str]]
Sink = Callable[[list[PreparedBatch], int, Snapshots], None]


@dataclass
class SimulationSummary:
    """What the build needs from a finished simulation besides the events themselves."""

    count: int
    snapshot_every: int
    projection_rows: dict[str, list[tuple[str, dict[str, Any], int]]]
    anomalies: list[dict[str, Any]]
    stats: dict[str, int]
    money_v2_seconds: float
    address_v2_seconds: float
    type_counts: dict[tuple[str, int], int]
    stream_counts: dict[str, int]
    rejections: list[dict[str, Any]] = field(default_factory=list)


@contextmanager
def no_cyclic_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector for a build.

    A build keeps hundreds of thousands of small dicts alive (states, read-model rows) and
    allocates millions more; every full collection walks all of them, which made a
    1M-event simulation about twice as slow. Nothing here relies on collecting cycles
    (reference counting frees everything a build drops), so the collector is paused and
    restored afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def simulate(
    events: int, seed: int, snapshot_every: int | None, sink: Sink, *, in_child: bool | None = None
) -> SimulationSummary:
    """Simulate `events` events, handing each chunk to `sink(batches, event_count,
    snapshots)` in order: batches as `simulation.group` makes them, prepared for
    `EventStore.append_prepared`."""
    if in_child is None:
        in_child = events >= PIPELINE_FROM
    with no_cyclic_gc():
        if in_child:
            return _simulate_in_child(events, seed, snapshot_every, sink)
        return _simulate_here(events, seed, snapshot_every, lambda sim: _drain(sim, sink))


def _drain(sim: Simulation, sink: Sink) -> None:
    events, snapshots = sim.take_output()
    sink(group(events), len(events), snapshots)


def _simulate_here(
    events: int, seed: int, snapshot_every: int | None, drain: Callable[[Simulation], None]
) -> SimulationSummary:
    sim = Simulation(events, seed, snapshot_every)
    world = world_module.run(sim, drain)
    return SimulationSummary(
        count=sim.count,
        snapshot_every=sim.snapshot_every,
        projection_rows=sim.projection_rows(),
        anomalies=sim.anomalies,
        stats=dict(sim.stats),
        money_v2_seconds=world.money_v2_seconds,
        address_v2_seconds=world.address_v2_seconds,
        type_counts=sim.type_counts,
        stream_counts=sim.stream_counts,
        rejections=sim.rejections,
    )


# --- the child process ----------------------------------------------------------------------
_WIDTH = len(Prepared._fields)
Header = tuple[str, int, Any, str]  # stream_id, number of events, expected version, type


def _flatten(batches: list[PreparedBatch]) -> tuple[list[Header], list[Any]]:
    """A chunk as batch headers plus ONE flat list of every event's fields.

    Why: pickling a million small tuples (or `Prepared`s, which also carry their class)
    cost the child about a third more than one long list of the same values, and the
    child is the slower half of the pipeline."""
    headers = [
        (stream_id, len(items), expected, kind) for stream_id, items, expected, kind in batches
    ]
    fields = [value for _, items, _, _ in batches for event in items for value in event]
    return headers, fields


def _unflatten(headers: list[Header], fields: list[Any]) -> list[PreparedBatch]:
    """`_flatten` undone; `as_prepared` checks each event's width."""
    batches: list[PreparedBatch] = []
    start = 0
    for stream_id, count, expected, kind in headers:
        end = start + count * _WIDTH
        items = [as_prepared(fields[at : at + _WIDTH]) for at in range(start, end, _WIDTH)]
        batches.append((stream_id, items, expected, kind))
        start = end
    if start != len(fields):
        raise RuntimeError("the demo simulation sent a chunk whose fields do not add up")
    return batches


def _child_main(connection: Any, events: int, seed: int, snapshot_every: int | None) -> None:
    def send(sim: Simulation) -> None:
        out, snapshots = sim.take_output()
        message = ("chunk", *_flatten(group(out)), len(out), snapshots)
        connection.send_bytes(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))

    gc.disable()  # see no_cyclic_gc
    try:
        summary = _simulate_here(events, seed, snapshot_every, send)
        connection.send_bytes(pickle.dumps(("done", summary), protocol=pickle.HIGHEST_PROTOCOL))
    except BaseException as exc:  # reported in the parent, which raises it
        try:
            connection.send_bytes(pickle.dumps(("error", f"{type(exc).__name__}: {exc}")))
        except OSError:
            pass  # the parent stopped listening (it failed first and says why)
    finally:
        connection.close()


def _simulate_in_child(
    events: int, seed: int, snapshot_every: int | None, sink: Sink
) -> SimulationSummary:
    # "spawn", not "fork": the caller may be a threaded program (the explorer), and a
    # forked child could inherit a lock some other thread was holding.
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(
        target=_child_main,
        args=(sender, events, seed, snapshot_every),
        name="eventscope-demo-simulation",
        daemon=True,
    )
    with signals_held():
        child.start()
    sender.close()
    try:
        while True:
            try:
                kind, *rest = pickle.loads(receiver.recv_bytes())
            except EOFError:
                raise RuntimeError("the demo simulation process stopped unexpectedly") from None
            if kind == "chunk":
                headers, fields, count, snapshots = rest
                sink(_unflatten(headers, fields), count, snapshots)
            elif kind == "done":
                return rest[0]
            else:
                raise RuntimeError(f"the demo simulation failed: {rest[0]}")
    finally:
        receiver.close()
        child.join(timeout=10)
        if child.is_alive():
            child.terminate()
            child.join()
