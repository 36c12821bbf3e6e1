"""Tests of kelly_core.beat_tcn: the convolutional tracker's forward pass and its file."""

from __future__ import annotations

import copy
import json
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kelly_core.beat_tcn import (
    FORMAT,
    INPUT_SIZE,
    TcnWeights,
    from_document,
    is_tcn_document,
    receptive_field,
    run_tcn,
    to_document,
)
from kelly_core.errors import SpecError


def _weights(
    channels: int, kernel: int, dilations: tuple[int, ...], rng: np.random.Generator | None
) -> TcnWeights:
    """Random weights (``rng``) or zeros, float32."""

    def make(*shape: int) -> np.ndarray:
        if rng is None:
            return np.zeros(shape, dtype=np.float32)
        return (rng.standard_normal(shape) * 0.3).astype(np.float32)

    n = len(dilations)
    return TcnWeights(
        input_weight=make(channels, INPUT_SIZE),
        input_bias=make(channels),
        dilated_weight=tuple(make(channels, channels, kernel) for _ in range(n)),
        dilated_bias=tuple(make(channels) for _ in range(n)),
        mix_weight=tuple(make(channels, channels) for _ in range(n)),
        mix_bias=tuple(make(channels) for _ in range(n)),
        output_weight=make(2, channels),
        output_bias=make(2),
        dilations=dilations,
        metadata={"note": "test"},
    )


def _impulse_net(tap: int) -> TcnWeights:
    """One channel: the input's feature 0; the first block (dilation 1) copies one tap of
    it; the second block (dilation 2) is silent; the beat output is the blocks' sum."""
    w = _weights(1, 5, (1, 2), None)
    w.input_weight[0, 0] = 1.0
    w.dilated_weight[0][0, 0, tap] = 1.0
    w.mix_weight[0][0, 0] = 1.0
    w.output_weight[0, 0] = 1.0
    return w


class TestForward:
    @pytest.mark.parametrize(("tap", "moved"), [(4, -2), (0, 2), (2, 0), (3, -1)])
    def test_a_tap_hears_the_frame_at_its_offset(self, tap: int, moved: int) -> None:
        """Tap k of a kernel of 5 at dilation d hears frame t + (k - 2)·d, as PyTorch's
        Conv1d with padding 2·d does: an impulse at frame 10 comes out at 10 - (k - 2),
        sigmoid(ELU(1)) = 0.731 there and sigmoid(0) = 0.5 elsewhere; the downbeat output,
        weighted 0, stays 0.5."""
        frames = np.zeros((20, INPUT_SIZE), dtype=np.float32)
        frames[10, 0] = 1.0
        out = run_tcn(_impulse_net(tap), frames)
        assert out.shape == (20, 2)
        where = 10 + moved
        assert out[where, 0] == pytest.approx(1 / (1 + np.exp(-1.0)), abs=1e-6)
        others = np.delete(out[:, 0], where)
        np.testing.assert_allclose(others, 0.5, atol=1e-6)
        np.testing.assert_allclose(out[:, 1], 0.5, atol=1e-6)

    def test_the_ends_are_zero_padded(self) -> None:
        """A tap that reaches past the clip's end hears silence, not a wrapped frame."""
        frames = np.zeros((6, INPUT_SIZE), dtype=np.float32)
        frames[0, 0] = 1.0
        out = run_tcn(_impulse_net(0), frames)  # frame t hears t - 2: frame 0 -> 2
        assert out[2, 0] > 0.7
        assert np.all(np.delete(out[:, 0], 2) == pytest.approx(0.5, abs=1e-6))

    def test_receptive_field_of_the_shipped_layout(self) -> None:
        """Kernel 5 at dilations 1 … 512: 4093 frames (47.5 s at 86 frames per second)."""
        assert receptive_field() == 4093
        assert receptive_field((1, 2), 3) == 7

    def test_empty_and_misshapen_input(self) -> None:
        w = _weights(3, 5, (1, 2), np.random.default_rng(0))
        assert run_tcn(w, np.zeros((0, INPUT_SIZE), np.float32)).shape == (0, 2)
        with pytest.raises(ValueError, match="104"):
            run_tcn(w, np.zeros((5, 10), np.float32))

    @settings(max_examples=25, deadline=None)
    @given(
        channels=st.integers(1, 6),
        kernel=st.sampled_from([1, 3, 5]),
        dilations=st.lists(st.integers(1, 8), min_size=1, max_size=4).map(tuple),
        frames=st.integers(1, 60),
        seed=st.integers(0, 2**16),
    )
    def test_round_trip_and_range(
        self, channels: int, kernel: int, dilations: tuple[int, ...], frames: int, seed: int
    ) -> None:
        """Through its JSON text a network gives the same activations, all in 0..1, and
        the file keeps every layout field."""
        rng = np.random.default_rng(seed)
        w = _weights(channels, kernel, dilations, rng)
        x = rng.standard_normal((frames, INPUT_SIZE)).astype(np.float32)
        document = json.loads(json.dumps(to_document(w)))
        assert is_tcn_document(document)
        assert (document["channels"], document["kernel_size"]) == (channels, kernel)
        back = from_document(document)
        assert back.dilations == dilations
        assert back.parameter_count() == w.parameter_count()
        assert back.metadata == {"note": "test"}
        out = run_tcn(w, x)
        np.testing.assert_array_equal(run_tcn(back, x), out)
        assert out.shape == (frames, 2)
        assert np.all((out >= 0.0) & (out <= 1.0))


def _document() -> dict[str, Any]:
    return to_document(_weights(2, 3, (1, 2), np.random.default_rng(1)))


def _set(document: dict[str, Any], path: tuple[Any, ...], value: object) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    target: Any = changed
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return changed


class TestFile:
    @pytest.mark.parametrize(
        ("path", "value", "field", "words"),
        [
            (("format",), "rtneural", "format", FORMAT),
            (("version",), 2, "version", "unknown version"),
            (("input_size",), 52, "input_size", "104..104"),
            (("channels",), 0, "channels", "1..1024"),
            (("kernel_size",), 4, "kernel_size", "odd"),
            (("dilations",), [1, 0], "dilations", "1..4096"),
            (("blocks",), [], "blocks", "one per dilation"),
            (("blocks", 1, "mix", "weight"), [[1.0, 2.0]], "blocks[1].mix.weight", "(2, 2)"),
            (
                ("blocks", 0, "dilated", "bias"),
                [1.0, float("nan")],
                "blocks[0].dilated.bias",
                "finite",
            ),
            (("input", "weight"), "weights", "input.weight", "shape"),
            (("output",), None, "output", "an object"),
            (("blocks", 0), {"mix": {}}, "blocks[0]", "'dilated' and 'mix'"),
            (("blocks", 0, "mix"), [1.0], "blocks[0].mix", "an object"),
            (("metadata",), [1], "metadata", "an object"),
        ],
    )
    def test_each_problem_is_one_line_naming_the_field(
        self, path: tuple[Any, ...], value: object, field: str, words: str, tmp_path: Any
    ) -> None:
        where = tmp_path / "tracker.json"
        with pytest.raises(SpecError) as caught:
            from_document(_set(_document(), path, value), path=where)
        message = str(caught.value)
        assert "\n" not in message
        assert caught.value.field == field
        assert str(where) in message
        assert field in message
        assert words in message

    def test_not_an_object(self) -> None:
        with pytest.raises(SpecError, match="JSON object"):
            from_document([1, 2])
        assert not is_tcn_document({"layers": []})
