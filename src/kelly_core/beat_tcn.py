"""The convolutional beat tracker: its layout, its file and its forward pass in numpy.

A non-causal temporal convolutional network (Davies and Böck, "Temporal convolutional
networks for musical audio beat tracking", EUSIPCO 2019), written from the paper. It maps
the onset front end's frames (:func:`kelly_core.listening.network_input`, 104 values at
86 frames per second) to a beat and a downbeat activation per frame, like the LSTM
tracker (:data:`kelly_core.listening.BEAT_TRACKER_SPEC`), but it hears each frame with
about 24 s of music on either side, so it needs no look-ahead and no backward twin:

- a 1×1 convolution of the 104 values to :data:`CHANNELS` channels, then ELU;
- :data:`DILATIONS` residual blocks, each a convolution of kernel :data:`KERNEL` at
  its dilation (zero padding keeps the length; frame ``t`` hears ``t ± 2·dilation``),
  ELU, and a 1×1 convolution whose result is added to the block's input and to the sum
  of the blocks' results;
- ELU of that sum, then a 1×1 convolution to the 2 outputs and a sigmoid.

Training uses dropout (0.1) after the first ELU and inside each block; it is not part of
the forward pass here.

**The file** is JSON (:func:`to_document`, :func:`from_document`): ``"format":
"kelly-beat-tcn"``, ``"version": 1``, the layout (``input_size``, ``channels``,
``kernel_size``, ``dilations``), the weights as nested lists (``input``, ``blocks[i]``
with ``dilated`` and ``mix``, ``output``; each a ``weight`` and a ``bias``, convolution
weights ``[out][in][tap]`` as in PyTorch's ``Conv1d``, 1×1 ones ``[out][in]``) and a
``metadata`` object. RTNeural's JSON cannot hold it (its models are a chain of layers,
without residual connections); the C++ plugin does not track beats (it takes them from
the host's playhead), so the tracker is run here only, in numpy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import attrs
import numpy as np
import numpy.typing as npt

from kelly_core.arrays import FloatArray
from kelly_core.errors import SpecError, join_field
from kelly_core.listening import BEAT_OUTPUTS, BEAT_TRACKER_SPEC

__all__ = [
    "CHANNELS",
    "DILATIONS",
    "FORMAT",
    "INPUT_SIZE",
    "KERNEL",
    "VERSION",
    "TcnWeights",
    "from_document",
    "is_tcn_document",
    "receptive_field",
    "run_tcn",
    "to_document",
]

FORMAT: Final = "kelly-beat-tcn"
"""The file's ``format`` value."""
VERSION: Final = 1
INPUT_SIZE: Final = BEAT_TRACKER_SPEC.input_size
"""104: 52 band magnitudes and 52 band fluxes."""
CHANNELS: Final = 24
KERNEL: Final = 5
DILATIONS: Final = tuple(2**i for i in range(10))
"""1, 2, 4 … 512: a receptive field of 4093 frames (47.5 s), centred on the frame."""


@attrs.frozen(kw_only=True, eq=False)
class TcnWeights:
    """The network's weights (float32). :func:`from_document` checks a file's against the
    layout it declares; weights made in code are taken as given."""

    input_weight: FloatArray
    """``(channels, input_size)``."""
    input_bias: FloatArray
    dilated_weight: tuple[FloatArray, ...]
    """Per block, ``(channels, channels, kernel)``."""
    dilated_bias: tuple[FloatArray, ...]
    mix_weight: tuple[FloatArray, ...]
    """Per block, ``(channels, channels)``."""
    mix_bias: tuple[FloatArray, ...]
    output_weight: FloatArray
    """``(2, channels)``."""
    output_bias: FloatArray
    dilations: tuple[int, ...] = DILATIONS
    metadata: Mapping[str, Any] = attrs.field(factory=dict)

    @property
    def channels(self) -> int:
        """Channels between the blocks."""
        return int(self.input_weight.shape[0])

    @property
    def kernel(self) -> int:
        """Taps of each dilated convolution."""
        return int(self.dilated_weight[0].shape[2]) if self.dilated_weight else KERNEL

    def parameter_count(self) -> int:
        """Number of weights and biases."""
        arrays = [self.input_weight, self.input_bias, self.output_weight, self.output_bias]
        arrays += [*self.dilated_weight, *self.dilated_bias, *self.mix_weight, *self.mix_bias]
        return int(sum(a.size for a in arrays))


def _elu(x: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    out: npt.NDArray[np.float32] = np.where(x > 0, x, np.expm1(np.minimum(x, 0))).astype(np.float32)
    return out


def run_tcn(weights: TcnWeights, frames: FloatArray) -> FloatArray:
    """The ``(frames, 2)`` beat and downbeat activations of ``(frames, 104)`` inputs.

    Frame ``t`` of the output describes input frame ``t`` (no shift to undo). The
    convolutions are matrix products over the taps, one block at a time, in float32.
    """
    x = np.ascontiguousarray(frames, dtype=np.float32)
    if x.ndim != 2 or x.shape[1] != weights.input_weight.shape[1]:
        raise ValueError(
            f"expected frames of shape (n, {weights.input_weight.shape[1]}), got {x.shape}"
        )
    count = x.shape[0]
    if count == 0:
        return np.zeros((0, len(BEAT_OUTPUTS)), dtype=np.float32)
    h = _elu(x @ weights.input_weight.T + weights.input_bias)
    skip = np.zeros_like(h)
    centre = weights.kernel // 2
    for dilation, dw, db, mw, mb in zip(
        weights.dilations,
        weights.dilated_weight,
        weights.dilated_bias,
        weights.mix_weight,
        weights.mix_bias,
        strict=True,
    ):
        reach = centre * dilation
        padded = np.zeros((count + 2 * reach, h.shape[1]), dtype=np.float32)
        padded[reach : reach + count] = h
        conv = np.broadcast_to(db, h.shape).copy()
        for tap in range(weights.kernel):
            start = tap * dilation
            conv += padded[start : start + count] @ dw[:, :, tap].T
        block = _elu(conv) @ mw.T + mb
        h = h + block
        skip += block
    logits = _elu(skip) @ weights.output_weight.T + weights.output_bias
    out: FloatArray = (1.0 / (1.0 + np.exp(-np.clip(logits, -60.0, 60.0)))).astype(np.float32)
    return out


def _listed(array: FloatArray) -> list[Any]:
    listed: list[Any] = array.tolist()
    return listed


def to_document(weights: TcnWeights) -> dict[str, Any]:
    """The JSON document of ``weights`` (see the module docstring)."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "input_size": int(weights.input_weight.shape[1]),
        "channels": weights.channels,
        "kernel_size": weights.kernel,
        "dilations": list(weights.dilations),
        "outputs": list(BEAT_OUTPUTS),
        "input": {"weight": _listed(weights.input_weight), "bias": _listed(weights.input_bias)},
        "blocks": [
            {
                "dilated": {"weight": _listed(dw), "bias": _listed(db)},
                "mix": {"weight": _listed(mw), "bias": _listed(mb)},
            }
            for dw, db, mw, mb in zip(
                weights.dilated_weight,
                weights.dilated_bias,
                weights.mix_weight,
                weights.mix_bias,
                strict=True,
            )
        ],
        "output": {"weight": _listed(weights.output_weight), "bias": _listed(weights.output_bias)},
        "metadata": dict(weights.metadata),
    }


def is_tcn_document(document: object) -> bool:
    """Whether ``document`` says it is a convolutional tracker file."""
    return isinstance(document, Mapping) and document.get("format") == FORMAT


def _problem(
    reason: str, *, path: Path | None, field: str | None, expected: object, got: object = None
) -> SpecError:
    """A one-line error whose text says what was expected (and what was found)."""
    text = f"{reason}: expected {expected}" + ("" if got is None else f", got {got!r}")
    return SpecError(text, path=path, field=field, expected=expected, got=got)


def _array(
    value: object, shape: Sequence[int], field: str, path: Path | None
) -> npt.NDArray[np.float32]:
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise _problem(
            "not an array of numbers", path=path, field=field, expected=f"shape {tuple(shape)}"
        ) from None
    if array.shape != tuple(shape):
        raise _problem(
            "wrong shape", path=path, field=field, expected=tuple(shape), got=array.shape
        )
    if not np.all(np.isfinite(array)):
        raise _problem("not finite", path=path, field=field, expected="finite numbers")
    return array.astype(np.float32)


def _int(document: Mapping[str, Any], key: str, path: Path | None, *, low: int, high: int) -> int:
    value = document.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _problem(
            "out of range", path=path, field=key, expected=f"an integer {low}..{high}", got=value
        )
    return value


def _layer(
    document: Mapping[str, Any], key: str, path: Path | None, within: str | None = None
) -> Mapping[str, Any]:
    value = document.get(key)
    if not isinstance(value, Mapping):
        field = join_field(within, key)
        raise _problem("missing or not an object", path=path, field=field, expected="an object")
    return value


def from_document(document: object, *, path: Path | None = None) -> TcnWeights:
    """The weights of a parsed file, every field checked.

    :raises SpecError: Naming the file, the field and what was expected, if anything is
        missing, of the wrong shape or not finite, or the format is not this one.
    """
    if not isinstance(document, Mapping):
        raise _problem("not a JSON object", path=path, field=None, expected="a JSON object")
    for key, wanted, reason in (
        ("format", FORMAT, "not a convolutional beat tracker"),
        ("version", VERSION, "unknown version"),
    ):
        if document.get(key) != wanted:
            raise _problem(reason, path=path, field=key, expected=wanted, got=document.get(key))
    size = _int(document, "input_size", path, low=INPUT_SIZE, high=INPUT_SIZE)
    channels = _int(document, "channels", path, low=1, high=1024)
    kernel = _int(document, "kernel_size", path, low=1, high=63)
    if kernel % 2 == 0:
        raise _problem("even", path=path, field="kernel_size", expected="an odd number", got=kernel)
    raw = document.get("dilations")
    if (
        not isinstance(raw, list)
        or not 1 <= len(raw) <= 32
        or not all(isinstance(d, int) and not isinstance(d, bool) and 1 <= d <= 4096 for d in raw)
    ):
        raise _problem(
            "not a list of dilations",
            path=path,
            field="dilations",
            expected="1 to 32 integers 1..4096",
        )
    blocks = document.get("blocks")
    if not isinstance(blocks, list) or len(blocks) != len(raw):
        raise _problem(
            "wrong number of blocks",
            path=path,
            field="blocks",
            expected=f"{len(raw)} (one per dilation)",
            got=len(blocks) if isinstance(blocks, list) else type(blocks).__name__,
        )
    first = _layer(document, "input", path)
    last = _layer(document, "output", path)
    outputs = len(BEAT_OUTPUTS)
    dw, db, mw, mb = [], [], [], []
    for index, block in enumerate(blocks):
        where = f"blocks[{index}]"
        if not isinstance(block, Mapping):
            raise _problem("not an object", path=path, field=where, expected="an object")
        if "dilated" not in block or "mix" not in block:
            raise _problem(
                "missing a layer", path=path, field=where, expected="'dilated' and 'mix'"
            )
        dilated = _layer(block, "dilated", path, where)
        mix = _layer(block, "mix", path, where)
        dw.append(
            _array(
                dilated.get("weight"), (channels, channels, kernel), f"{where}.dilated.weight", path
            )
        )
        db.append(_array(dilated.get("bias"), (channels,), f"{where}.dilated.bias", path))
        mw.append(_array(mix.get("weight"), (channels, channels), f"{where}.mix.weight", path))
        mb.append(_array(mix.get("bias"), (channels,), f"{where}.mix.bias", path))
    metadata = document.get("metadata", {})
    if not isinstance(metadata, Mapping):
        raise _problem("not an object", path=path, field="metadata", expected="an object")
    return TcnWeights(
        input_weight=_array(first.get("weight"), (channels, size), "input.weight", path),
        input_bias=_array(first.get("bias"), (channels,), "input.bias", path),
        dilated_weight=tuple(dw),
        dilated_bias=tuple(db),
        mix_weight=tuple(mw),
        mix_bias=tuple(mb),
        output_weight=_array(last.get("weight"), (outputs, channels), "output.weight", path),
        output_bias=_array(last.get("bias"), (outputs,), "output.bias", path),
        dilations=tuple(int(d) for d in raw),
        metadata=dict(metadata),
    )


def receptive_field(dilations: Sequence[int] = DILATIONS, kernel: int = KERNEL) -> int:
    """Frames one output hears (centred on its own frame)."""
    return 1 + (kernel - 1) * int(sum(dilations))
