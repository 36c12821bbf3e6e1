"""The reference backend: the model's own torch module, stepped under ``inference_mode``.

The only runtime module that imports torch; it is reached through the registry
(``default_registry().backend("torch")``), never imported by the rest of kelly_runtime.

When the spec equals a registered model's spec, the module is that model
(``registry.model(name, seed=0)``, its own ``step_with(frame, state)``), so the numpy
backend is checked against the code that trains. Any other spec gets plain
``nn.Linear``/``nn.LSTM`` layers built here. Either way the LSTM state ``(h, c)`` is
carried between steps by this backend and zeroed by :meth:`TorchBackend.reset`.

On CPU, :meth:`TorchBackend.step` runs :class:`_FastNet` instead of the module (same
weights, outputs within 1e-6 of the module's ``step``): no ``nn.Module`` call, weights
contiguous at load, ``torch.addmv(b, W, x, out=...)`` into preallocated buffers chained
layer to layer, activations in place, one ``addmv`` per LSTM over ``[W_ih | W_hh]`` and
``[x | h]``. ``nn.LSTM`` and ``nn.Linear`` calls cost far more than their arithmetic
for one frame (measured ~7x the fast path, see docs/benchmarks.md). On CUDA the module
path is used (``fast=False`` forces it on CPU too).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Final, TypeAlias, cast, final

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn import functional

from kelly_core.arrays import FloatArray, check_state_arrays
from kelly_core.errors import BackendError, KellyError, SpecError
from kelly_core.registry import Registry, default_registry
from kelly_core.specs import LayerSpec, ModelSpec
from kelly_runtime.backends._checks import check_frames, fast_check_frame, finite_probe

__all__ = ["TorchBackend"]

LayerState: TypeAlias = tuple[Tensor, Tensor] | None
State: TypeAlias = tuple[LayerState, ...] | None
StepWith: TypeAlias = Callable[[Tensor, State], tuple[Tensor, State]]
RunWith: TypeAlias = Callable[[Tensor, State], tuple[Tensor, State]]
"""The module's sequence forward: ``(batch, time, in)`` and a state to outputs and state."""
_Op: TypeAlias = Callable[[], object]


def _dense_ops(
    layer: LayerSpec, weight: Tensor, bias: Tensor, source: Tensor, target: Tensor
) -> list[_Op]:
    """``target = act(W @ source + b)``: one ``addmv`` and an in-place activation."""
    if layer.activation == "softmax":
        logits = torch.empty_like(target)  # softmax reads its input whole: no aliasing
        return [
            partial(torch.addmv, bias, weight, source, out=logits),
            partial(torch.softmax, logits, 0, out=target),
        ]
    ops: list[_Op] = [partial(torch.addmv, bias, weight, source, out=target)]
    if layer.activation == "tanh":
        ops.append(partial(torch.tanh_, target))
    elif layer.activation == "relu":
        ops.append(partial(torch.relu_, target))
    elif layer.activation == "sigmoid":
        ops.append(partial(torch.sigmoid_, target))
    elif layer.activation == "elu":
        ops.append(partial(functional.elu_, target))
    elif layer.activation != "":
        raise SpecError(f"unknown activation {layer.activation!r}", field="activation")
    return ops


@final
class _FastLstm:
    """One LSTM layer: input buffer ``xh = [x | h]``, state ``cg = [c | g | f | i | o]``.

    The stacked kernel ``[W_ih | W_hh]`` has its gate rows reordered to ``g, f, i, o``
    (torch's order is ``i, f, g, o``) so that ``[f, i] * [c, g]`` is one multiply and
    the three sigmoid gates are one contiguous slice.
    """

    def __init__(self, in_size: int, hidden: int, arrays: Mapping[str, Tensor]) -> None:
        h = hidden
        order = [2, 1, 0, 3]  # g, f, i, o from i, f, g, o
        stacked = torch.cat([arrays["weight_ih"], arrays["weight_hh"]], dim=1)
        bias = arrays["bias_ih"].double() + arrays["bias_hh"].double()
        self.kernel = torch.cat([stacked[k * h : (k + 1) * h] for k in order]).contiguous()
        self.bias = torch.cat([bias[k * h : (k + 1) * h] for k in order]).float().contiguous()
        self.xh = torch.zeros(in_size + hidden)
        self.h = self.xh[in_size:]
        self.cg = torch.zeros(5 * hidden)
        self._products = torch.empty(2 * hidden)
        self._cell_tanh = torch.empty(hidden)

    def ops(self) -> list[_Op]:
        h, cg, products = self.h.shape[0], self.cg, self._products
        return [
            partial(torch.addmv, self.bias, self.kernel, self.xh, out=cg[h:]),
            partial(torch.tanh_, cg[h : 2 * h]),
            partial(torch.sigmoid_, cg[2 * h :]),
            partial(torch.mul, cg[2 * h : 4 * h], cg[: 2 * h], out=products),
            partial(torch.add, products[:h], products[h:], out=cg[:h]),
            partial(torch.tanh, cg[:h], out=self._cell_tanh),
            partial(torch.mul, cg[4 * h :], self._cell_tanh, out=self.h),
        ]

    def reset(self) -> None:
        self.xh.zero_()
        self.cg.zero_()


@final
class _FastNet:
    """A CPU step with no ``nn.Module`` call: preallocated buffers chained in place.

    Each layer writes straight into the next layer's input buffer (an LSTM's ``x`` part);
    the frame is copied into the first buffer through a NumPy view of it and the result
    copied out of the last one, so a step allocates only the returned array.
    """

    def __init__(self, spec: ModelSpec, arrays: Mapping[str, FloatArray]) -> None:
        with torch.inference_mode():
            tensors = {
                k: torch.from_numpy(np.array(v, dtype=np.float32)) for k, v in arrays.items()
            }
            items: list[_FastLstm | tuple[Tensor, Tensor]] = []
            for index, (layer, in_size) in enumerate(
                zip(spec.layers, spec.layer_input_sizes, strict=True)
            ):
                prefix = f"layers.{index}."
                own = {k[len(prefix) :]: t for k, t in tensors.items() if k.startswith(prefix)}
                if layer.kind == "dense":
                    items.append((own["weight"].contiguous(), own["bias"].contiguous()))
                else:
                    items.append(_FastLstm(in_size, layer.size, own))
            inputs: list[Tensor] = []  # each layer's input; after an LSTM, its h (no copy)
            for index, (item, size) in enumerate(zip(items, spec.layer_input_sizes, strict=True)):
                previous = items[index - 1] if index > 0 else None
                if isinstance(item, _FastLstm):
                    inputs.append(item.xh)
                elif isinstance(previous, _FastLstm):
                    inputs.append(previous.h)
                else:
                    inputs.append(torch.zeros(size))
            output = torch.zeros(spec.output_size)
            ops: list[_Op] = []
            for index, (layer, item) in enumerate(zip(spec.layers, items, strict=True)):
                target = (inputs[index + 1] if index + 1 < len(items) else output)[: layer.size]
                if isinstance(item, _FastLstm):
                    ops.extend(item.ops())
                    if target.data_ptr() != item.h.data_ptr():  # next is an LSTM, or none
                        ops.append(partial(target.copy_, item.h))
                else:
                    ops.extend(_dense_ops(layer, item[0], item[1], inputs[index], target))
        self._lstms = [item for item in items if isinstance(item, _FastLstm)]
        self._kinds = tuple(layer.kind for layer in spec.layers)
        self._ops = ops
        self._input = inputs[0].numpy()[: spec.input_size]
        self._output = output.numpy()

    def step(self, frame: FloatArray) -> FloatArray:
        """One frame through every layer; returns a new array."""
        self._input[:] = frame
        with torch.inference_mode():
            for op in self._ops:
                op()
        return self._output.copy()

    def reset(self) -> None:
        """Zero every LSTM's ``h`` and ``c``."""
        with torch.inference_mode():  # the buffers are inference tensors
            for lstm in self._lstms:
                lstm.reset()

    def module_state(self) -> State:
        """The state in the module's format: per layer ``(h, c)`` ``(1, 1, H)`` or None."""
        lstms = iter(self._lstms)
        state: list[LayerState] = []
        for kind in self._kinds:
            if kind == "dense":
                state.append(None)
                continue
            lstm = next(lstms)
            hidden = lstm.h.shape[0]
            state.append(
                (lstm.h.clone().view(1, 1, hidden), lstm.cg[:hidden].clone().view(1, 1, hidden))
            )
        return tuple(state)

    def set_module_state(self, state: State) -> None:
        """Copy a state in the module's format (from :meth:`module_state`'s layout) in."""
        if state is None:
            self.reset()
            return
        lstms = iter(self._lstms)
        with torch.inference_mode():
            for kind, layer_state in zip(self._kinds, state, strict=True):
                if kind == "dense" or layer_state is None:
                    continue
                lstm = next(lstms)
                hidden = lstm.h.shape[0]
                lstm.h.copy_(layer_state[0].reshape(hidden))
                lstm.cg[:hidden].copy_(layer_state[1].reshape(hidden))


def _softmax(x: Tensor) -> Tensor:
    return torch.softmax(x, dim=-1)


def _identity(x: Tensor) -> Tensor:
    return x


_ACTIVATIONS: Final[Mapping[str, Callable[[Tensor], Tensor]]] = {
    "": _identity,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "sigmoid": torch.sigmoid,
    "softmax": _softmax,
    "elu": functional.elu,
}


class _GenericNet(nn.Module):
    """Dense and LSTM layers for a spec that no registered model provides."""

    def __init__(self, spec: ModelSpec) -> None:
        super().__init__()
        self.spec = spec
        layers: list[nn.Module] = []
        for layer, in_size in zip(spec.layers, spec.layer_input_sizes, strict=True):
            if layer.kind == "dense":
                layers.append(nn.Linear(in_size, layer.size))
            else:
                layers.append(nn.LSTM(in_size, layer.size, batch_first=True))
        self.layers = nn.ModuleList(layers)

    def load_state_arrays(self, arrays: Mapping[str, FloatArray]) -> None:
        state: dict[str, Tensor] = {}
        for name, array in arrays.items():
            key = name
            if isinstance(self.layers[int(name.split(".")[1])], nn.LSTM):
                key = f"{name}_l0"
            state[key] = torch.from_numpy(np.array(array, dtype=np.float32))
        self.load_state_dict(state, strict=True)

    def step_with(self, frame: Tensor, state: State) -> tuple[Tensor, State]:
        """Map ``(in,)`` to ``(out,)`` from ``state`` (``None``: zeros); return the new state."""
        x, new_state = self.run(frame.reshape(1, 1, -1), state)
        return x.reshape(-1), new_state

    def run(self, x: Tensor, state: State) -> tuple[Tensor, State]:
        """Map ``(batch, time, in)`` to ``(batch, time, out)`` from ``state``; the new state."""
        states: list[LayerState] = list(state) if state is not None else [None] * len(self.layers)
        for index, (layer, module) in enumerate(zip(self.spec.layers, self.layers, strict=True)):
            if layer.kind == "dense":
                x = _ACTIVATIONS[layer.activation](cast(nn.Linear, module)(x))
            else:
                x, hc = cast(nn.LSTM, module)(x, states[index])
                states[index] = (hc[0], hc[1])
        return x, tuple(states)


@final
class TorchBackend:
    """Runs one model with torch (CPU, or CUDA when present); the reference for parity.

    :param device: ``"cpu"``, ``"cuda"``, ``"cuda:1"``...; ``None`` picks CUDA if available.
    :param registry: Where to look up registered models (default: the installed plugins).
    :param threads: If given, ``torch.set_num_threads(threads)`` (process-wide); ``None``
        (default) leaves torch's thread count alone.
    :param fast: On CPU, step through :class:`_FastNet` (same numbers as the module,
        without ``nn.Module`` calls); ``False`` always steps the module. CUDA always
        steps the module.
    """

    def __init__(
        self,
        *,
        device: str | None = None,
        registry: Registry | None = None,
        threads: int | None = None,
        fast: bool = True,
    ) -> None:
        if threads is not None:
            torch.set_num_threads(threads)
        if device is None:
            device = "cuda" if torch.cuda.is_available() else "cpu"
        try:
            self._device = torch.device(device)
        except RuntimeError as exc:
            raise BackendError(f"invalid torch device {device!r}: {exc}", field="device") from exc
        self._registry = registry
        self._spec: ModelSpec | None = None
        self._module: nn.Module | None = None
        self._step_with: StepWith | None = None
        self._run_with: RunWith | None = None
        self._state: State = None
        self._in_shape: tuple[int] = (0,)
        self._probe: FloatArray = finite_probe(0)
        self._fast_enabled = fast
        self._fast: _FastNet | None = None
        self.uses_registered_model = False
        """Whether the loaded module came from the registry (else generic layers)."""

    @property
    def device(self) -> str:
        """The torch device the module runs on."""
        return str(self._device)

    @property
    def uses_fast_path(self) -> bool:
        """Whether :meth:`step` runs the CPU fast path (else the module's ``step_with``)."""
        return self._fast is not None

    @property
    def spec(self) -> ModelSpec:
        """The loaded model's spec; raises ``BackendError`` if nothing is loaded."""
        if self._spec is None:
            raise BackendError("no model loaded; call load(spec, arrays) first")
        return self._spec

    def _registered_module(self, spec: ModelSpec) -> nn.Module | None:
        registry = self._registry if self._registry is not None else default_registry()
        try:
            if spec.name not in registry.model_names() or registry.spec(spec.name) != spec:
                return None
            model = registry.model(spec.name, seed=0)
        except KellyError:
            return None
        if isinstance(model, nn.Module) and callable(getattr(model, "step_with", None)):
            return model
        return None

    def load(self, spec: ModelSpec, arrays: Mapping[str, FloatArray]) -> None:
        """Build the module, load the state arrays into it and reset the state.

        :raises SpecError: If names or shapes do not match ``spec`` or a value is not finite.
        """
        checked = check_state_arrays(spec, arrays)
        module = self._registered_module(spec)
        self.uses_registered_model = module is not None
        if module is None:
            module = _GenericNet(spec)
        loader = getattr(module, "load_state_arrays", None)
        if not callable(loader):
            raise SpecError(f"model {spec.name!r} has no load_state_arrays()", field="model")
        loader(checked)
        module = module.to(self._device).eval()
        self._module = module
        self._step_with = cast(StepWith, module.step_with)
        run_with = getattr(module, "run", None)
        if not callable(run_with):
            raise SpecError(f"model {spec.name!r} has no run(x, state)", field="model")
        self._run_with = cast(RunWith, run_with)
        self._in_shape = (spec.input_size,)
        self._probe = finite_probe(spec.input_size)
        use_fast = self._fast_enabled and self._device.type == "cpu"
        self._fast = _FastNet(spec, checked) if use_fast else None
        self._spec = spec
        self.reset()

    def step(self, frame: FloatArray) -> FloatArray:
        """Map one frame ``(in_size,)`` to a new output array ``(out_size,)``.

        :raises BackendError: On a wrong type, dtype, shape or a NaN/Inf value; the state
            is then unchanged.
        """
        if self._spec is None:
            raise BackendError("no model loaded; call load(spec, arrays) first")
        return self.step_unchecked(fast_check_frame(frame, self._in_shape, self._probe))

    def step_unchecked(self, frame: FloatArray) -> FloatArray:
        """:meth:`step` without the frame check: ``frame`` is float32, ``(in_size,)``, finite.

        See :func:`kelly_runtime.backends.step_unchecked`.
        """
        if self._fast is not None:
            return self._fast.step(frame)
        checked = frame
        step_with = cast(StepWith, self._step_with)
        with torch.inference_mode():
            x = torch.from_numpy(checked).to(self._device)
            y, self._state = step_with(x, self._state)
            return cast(FloatArray, y.to("cpu").numpy().astype(np.float32, copy=True))

    def run(self, frames: FloatArray) -> FloatArray:
        """Run ``frames`` ``(T, in_size)`` through the module's sequence forward (one
        ``nn.LSTM`` call over all frames, batched dense layers); return ``(T, out_size)``.

        Starts from the current state and keeps the final one, like calling :meth:`step`
        on each frame (same numbers within float32 rounding).

        :raises BackendError: On a wrong shape, dtype or a non-finite value (state unchanged).
        """
        checked = check_frames(frames, self.spec.input_size)
        if checked.shape[0] == 0:
            return np.zeros((0, self.spec.output_size), dtype=np.float32)
        run_with = cast(RunWith, self._run_with)
        state = self._fast.module_state() if self._fast is not None else self._state
        with torch.inference_mode():
            x = torch.from_numpy(checked).to(self._device).unsqueeze(0)
            y, new_state = run_with(x, state)
            out = y.squeeze(0).to("cpu").numpy().astype(np.float32, copy=True)
        if self._fast is not None:
            self._fast.set_module_state(new_state)
        else:
            self._state = new_state
        return out

    def reset(self) -> None:
        """Zero the recurrent state."""
        self._state = None
        if self._fast is not None:
            self._fast.reset()
