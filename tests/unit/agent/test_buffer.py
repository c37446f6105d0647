"""The agent's disk buffer: order kept, nothing lost across a restart, the oldest dropped
and counted when full, acknowledged batches forgotten."""

from __future__ import annotations

from pathlib import Path

import pytest

from infradex.agent.buffer import ResultBuffer


def results(start: int, n: int) -> list[dict[str, object]]:
    return [{"check": "service:www/home", "n": i} for i in range(start, start + n)]


def test_batches_come_out_in_order_and_acknowledged_ones_are_forgotten(tmp_path: Path) -> None:
    buf = ResultBuffer(tmp_path / "b.sqlite")
    buf.append(results(0, 5))
    first = buf.next_batch(3)
    assert first is not None and [r["n"] for r in first.results] == [0, 1, 2]
    # not acknowledged: the same batch again
    again = buf.next_batch(3)
    assert again is not None and again.results == first.results
    buf.acknowledge(first)
    rest = buf.next_batch(10)
    assert rest is not None and [r["n"] for r in rest.results] == [3, 4]
    buf.acknowledge(rest)
    assert buf.next_batch(10) is None and len(buf) == 0


def test_results_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "b.sqlite"
    buf = ResultBuffer(path)
    buf.append(results(0, 4))
    buf.close()
    reopened = ResultBuffer(path)
    batch = reopened.next_batch(10)
    assert batch is not None and [r["n"] for r in batch.results] == [0, 1, 2, 3]


def test_when_full_the_oldest_are_dropped_and_counted_until_reported(tmp_path: Path) -> None:
    path = tmp_path / "b.sqlite"
    buf = ResultBuffer(path, max_results=3)
    assert buf.append(results(0, 2)) == 0
    assert buf.append(results(2, 3)) == 2  # 5 kept would be 2 too many
    assert len(buf) == 3 and buf.dropped == 2
    buf.close()
    buf = ResultBuffer(path, max_results=3)  # the count survives a restart too
    batch = buf.next_batch(10)
    assert batch is not None
    assert [r["n"] for r in batch.results] == [2, 3, 4] and batch.dropped == 2
    buf.append(results(5, 1))  # one more dropped after the batch was taken
    buf.acknowledge(batch)
    assert buf.dropped == 1  # the drop after the batch is still to report
    last = buf.next_batch(10)
    assert last is not None and [r["n"] for r in last.results] == [5] and last.dropped == 1


def test_a_failed_append_writes_nothing(tmp_path: Path) -> None:
    buf = ResultBuffer(tmp_path / "b.sqlite")
    buf.append(results(0, 1))
    with pytest.raises(TypeError):
        buf.append([{"n": 1}, {"n": object()}])  # not JSON: refused before any row
    batch = buf.next_batch(10)
    assert batch is not None and len(batch.results) == 1


def test_a_zero_bound_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        ResultBuffer(tmp_path / "b.sqlite", max_results=0)
