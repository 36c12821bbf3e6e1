"""The async pipeline: non-blocking submit, bounded drops, errors surfaced, shutdown."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from kelly_core.errors import BackendError
from kelly_runtime.async_pipeline import BEAT_INPUT_SIZE, AsyncPipeline, beat_frame, beat_processor
from kelly_runtime.beat import BEAT_VECTOR_SIZE, BeatOutput
from kelly_runtime.pipeline import Pipeline


class _Slow:
    """Doubles each frame after waiting until released (a deliberately slow backend)."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.started = threading.Event()
        self.seen: list[float] = []

    def __call__(self, frame: np.ndarray, out: np.ndarray) -> None:
        self.started.set()
        self.release.wait(5.0)
        self.seen.append(float(frame[0]))
        np.multiply(frame, 2.0, out=out)


def _wait_for(condition: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]  # a zero-argument callable
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.001)


class TestSubmit:
    def test_overload_drops_and_counts(self) -> None:
        """While the worker is stuck, submits return at once and drop the oldest frames."""
        slow = _Slow()
        with AsyncPipeline(slow, in_size=3, out_size=3, capacity=3) as worker:
            worker.submit(np.full(3, 0.0, dtype=np.float32))
            assert slow.started.wait(5.0)
            # The worker holds one slot; two frames can wait, each newer one drops the oldest.
            results = [worker.submit(np.full(3, float(i), dtype=np.float32)) for i in range(1, 51)]
            assert results[:2] == [True, True]
            assert not any(results[2:])
            assert worker.stats.dropped == 48
            assert worker.stats.submitted == 51
            slow.release.set()
            _wait_for(lambda: worker.stats.processed == 3)
        assert slow.seen == [0.0, 49.0, 50.0]

    def test_poll_returns_latest_once(self) -> None:
        """poll() gives the newest result once, then None until the next one."""
        slow = _Slow()
        slow.release.set()
        with AsyncPipeline(slow, in_size=2, out_size=2) as worker:
            assert worker.poll() is None
            worker.submit(np.array([1.0, 2.0], dtype=np.float32))
            _wait_for(lambda: worker.stats.processed == 1)
            out = np.empty(2, dtype=np.float32)
            result = worker.poll(out)
            assert result is out
            np.testing.assert_array_equal(out, [2.0, 4.0])
            assert worker.poll() is None

    def test_bad_frame_is_rejected(self) -> None:
        """A NaN or wrongly shaped frame raises at submit and nothing is queued."""
        slow = _Slow()
        slow.release.set()
        with AsyncPipeline(slow, in_size=2, out_size=2) as worker:
            with pytest.raises(BackendError, match="finite"):
                worker.submit(np.array([np.nan, 0.0], dtype=np.float32))
            with pytest.raises(BackendError, match="shape"):
                worker.submit(np.zeros(3, dtype=np.float32))
            assert worker.stats.submitted == 0

    def test_capacity_at_least_two(self) -> None:
        """capacity=1 cannot hold a frame while the worker runs another; rejected."""
        with pytest.raises(BackendError, match="capacity"):
            AsyncPipeline(_Slow(), in_size=1, out_size=1, capacity=1)


class TestErrors:
    def test_worker_error_reaches_caller(self) -> None:
        """An exception in the worker is raised by the next submit, with it as the cause."""

        def broken(frame: np.ndarray, out: np.ndarray) -> None:
            raise ZeroDivisionError("boom")

        worker = AsyncPipeline(broken, in_size=1, out_size=1)
        worker.submit(np.zeros(1, dtype=np.float32))
        _wait_for(lambda: not worker.running)
        with pytest.raises(BackendError, match="boom") as info:
            worker.submit(np.zeros(1, dtype=np.float32))
        assert isinstance(info.value.__cause__, ZeroDivisionError)
        with pytest.raises(BackendError, match="boom"):
            worker.poll()
        worker.close()  # already reported: close() does not raise it again

    def test_unreported_error_raised_by_close(self) -> None:
        """An error nobody polled for is raised by close()."""

        def broken(frame: np.ndarray, out: np.ndarray) -> None:
            raise ValueError("late")

        worker = AsyncPipeline(broken, in_size=1, out_size=1)
        worker.submit(np.zeros(1, dtype=np.float32))
        _wait_for(lambda: not worker.running)
        with pytest.raises(BackendError, match="late"):
            worker.close()


class TestShutdown:
    def test_close_stops_worker(self) -> None:
        """close() joins the worker; submit afterwards is an error; close is idempotent."""
        slow = _Slow()
        slow.release.set()
        worker = AsyncPipeline(slow, in_size=1, out_size=1)
        worker.close()
        assert not worker.running
        worker.close()
        with pytest.raises(BackendError, match="close"):
            worker.submit(np.zeros(1, dtype=np.float32))


class TestBeatProcessor:
    def test_fallback_pipeline_beats(self) -> None:
        """Each window submitted comes back as one beat vector of the pipeline."""
        processor = beat_processor(Pipeline.fallback())
        with AsyncPipeline(processor, in_size=128, out_size=BEAT_VECTOR_SIZE) as worker:
            worker.submit(np.zeros(128, dtype=np.float32))
            _wait_for(lambda: worker.stats.processed == 1)
            vector = worker.poll()
            assert vector is not None
            beat = BeatOutput.from_vector(vector)
        assert beat.beat == 0
        assert beat.groove is not None
        assert beat.chords.sum() == pytest.approx(1.0)

    def test_windows_and_beats_arrive_apart(self) -> None:
        """Window-only frames publish nothing; a beat frame publishes the beat, told its
        bar position by the host (beat 2: no groove), with the last window's emotion."""
        from kelly_core.encodings import encode_emotion

        pipeline = Pipeline.fallback()
        with AsyncPipeline(
            beat_processor(pipeline), in_size=BEAT_INPUT_SIZE, out_size=BEAT_VECTOR_SIZE
        ) as worker:
            worker.submit(beat_frame(np.zeros(128, dtype=np.float32), beat=False))
            _wait_for(lambda: worker.stats.processed == 1)
            assert worker.poll() is None
            worker.submit(beat_frame(beat_in_bar=2))
            _wait_for(lambda: worker.stats.processed == 2)
            vector = worker.poll()
            assert vector is not None
            beat = BeatOutput.from_vector(vector)
        assert beat.beat_in_bar == 2
        assert beat.groove is None
        np.testing.assert_allclose(beat.emotion, encode_emotion(0.0, 0.0), atol=1e-6)


class TestHostileFrames:
    @pytest.mark.parametrize(
        ("column", "value", "match"),
        [
            (129, 3.6, r"frame\[129\]: the beat column must be -1 \(no beat\), 0..3 .* got 3.6"),
            (129, 7.0, r"frame\[129\]"),
            (129, 2.5, r"frame\[129\]"),
            (129, -2.0, r"frame\[129\]"),
            (128, 0.7, r"frame\[128\]: the window flag must be 0 or 1, got 0.7"),
        ],
    )
    def test_out_of_range_beat_column_is_refused_and_the_worker_lives(
        self, column: int, value: float, match: str
    ) -> None:
        """submit() refuses the frame in one line; the worker then steps a valid beat."""
        with AsyncPipeline(
            beat_processor(Pipeline.fallback()),
            in_size=BEAT_INPUT_SIZE,
            out_size=BEAT_VECTOR_SIZE,
        ) as worker:
            frame = beat_frame(np.zeros(128, dtype=np.float32), beat_in_bar=1)
            frame[column] = value
            with pytest.raises(BackendError, match=match):
                worker.submit(frame)
            assert worker.stats.submitted == 0
            worker.submit(beat_frame(beat_in_bar=1))
            _wait_for(lambda: worker.stats.processed == 1)
            vector = worker.poll()
            assert vector is not None
            assert BeatOutput.from_vector(vector).beat_in_bar == 1
            assert worker.running

    def test_frame_size_the_processor_cannot_use(self) -> None:
        """A beat processor on 64-value frames refuses them at submit, not in the worker."""
        with AsyncPipeline(
            beat_processor(Pipeline.fallback()), in_size=64, out_size=BEAT_VECTOR_SIZE
        ) as worker:
            with pytest.raises(BackendError, match="window of 128 values or a beat frame of 154"):
                worker.submit(np.zeros(64, dtype=np.float32))
            assert worker.running


class TestLifetime:
    def test_unclosed_pipeline_does_not_keep_its_thread(self) -> None:
        """A pipeline dropped without close() stops its worker once collected."""
        import gc

        slow = _Slow()
        slow.release.set()
        worker = AsyncPipeline(slow, in_size=1, out_size=1, name="kelly-async-unclosed")
        thread = next(t for t in threading.enumerate() if t.name == "kelly-async-unclosed")
        assert thread.daemon
        del worker
        gc.collect()
        thread.join(5.0)
        assert not thread.is_alive()

    def test_close_counts_discarded_frames(self) -> None:
        """Frames queued when close() stops the worker are counted, so every accepted frame
        is processed, dropped or discarded."""
        slow = _Slow()
        worker = AsyncPipeline(slow, in_size=1, out_size=1, capacity=3)
        worker.submit(np.zeros(1, dtype=np.float32))
        assert slow.started.wait(5.0)
        worker.submit(np.ones(1, dtype=np.float32))
        worker.submit(np.ones(1, dtype=np.float32))
        timer = threading.Timer(0.2, slow.release.set)
        timer.start()
        worker.close()
        timer.join()
        stats = worker.stats
        assert (stats.submitted, stats.processed, stats.dropped, stats.discarded) == (3, 1, 0, 2)
        worker.close()  # idempotent: nothing counted twice
        assert worker.stats.discarded == 2

    def test_worker_that_stopped_is_reported(self) -> None:
        """A worker thread that ended without an exception is reported by the next call."""
        slow = _Slow()
        slow.release.set()
        worker = AsyncPipeline(slow, in_size=1, out_size=1)
        worker._shared.stop.set()  # as if the thread had ended on its own
        worker._shared.wake.set()
        _wait_for(lambda: not worker.running)
        with pytest.raises(BackendError, match="async worker stopped"):
            worker.submit(np.zeros(1, dtype=np.float32))
        with pytest.raises(BackendError, match="async worker stopped"):
            worker.poll()
        worker.close()


class TestSizes:
    @pytest.mark.parametrize(
        ("kwargs", "match"),
        [
            ({"capacity": 10**9}, r"capacity: expected an integer in 2\.\.4096, got 1000000000"),
            ({"in_size": -1}, r"in_size: expected an integer in 1\.\.1048576, got -1"),
            ({"out_size": 0}, r"out_size: expected an integer in 1\.\.1048576, got 0"),
            ({"capacity": 2.5}, r"capacity: expected an integer"),
        ],
    )
    def test_out_of_range_sizes_are_kelly_errors(
        self, kwargs: dict[str, object], match: str
    ) -> None:
        """Sizes out of range raise BackendError before anything is allocated or started."""
        arguments: dict[str, object] = {"in_size": 2, "out_size": 2, **kwargs}
        before = threading.active_count()
        with pytest.raises(BackendError, match=match):
            AsyncPipeline(_Slow(), **arguments)  # type: ignore[arg-type]  # hostile values
        assert threading.active_count() == before
