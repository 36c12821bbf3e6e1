"""Mutated model files, checkpoints and dataset indexes: the readers raise only KellyErrors.

Each example starts from a valid file, applies one to three random mutations (a value
replaced anywhere in the document by any JSON value, a key dropped, the text cut, bytes
flipped), and feeds the result to the reader. A reader may accept the file or raise a
``KellyError``; any other exception (RecursionError, OverflowError, ValueError from a
parser, TypeError, ...) fails the test.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kelly_core.catalog import MODEL_SPECS
from kelly_core.errors import KellyError
from kelly_export.legacy import read_legacy
from kelly_export.rtneural import RTNeuralExporter
from kelly_export.validate import validate_file
from kelly_models.build import build_model
from kelly_models.checkpoint_format import read_checkpoint, save_checkpoint
from kelly_models.datasets.groove_midi import open_groove
from kelly_models.datasets.maestro import open_maestro
from tests.unit.kelly_export.helpers import legacy_document, random_arrays, small_document

_SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**500), max_value=10**500)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from([32.0, 0, -1, 1e39, 3.5e38, "", "dense", "lstm", "linear", "tanh"])
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=12,
)


@st.composite
def _mutated(draw: st.DrawFn, document: object) -> object:
    """``document`` with one value somewhere replaced, or one key or item removed."""
    doc = copy.deepcopy(document)
    holder: object = None
    key: object = None
    node = doc
    for _ in range(draw(st.integers(min_value=0, max_value=6))):
        if isinstance(node, dict) and node:
            k = draw(st.sampled_from(sorted(node)))
        elif isinstance(node, list) and node:
            k = draw(st.integers(min_value=0, max_value=len(node) - 1))
        else:
            break
        holder, key, node = node, k, node[k]
    if holder is None:
        return draw(_json_values) if draw(st.booleans()) else doc
    action = draw(st.sampled_from(["replace", "delete", "wrap"]))
    if action == "delete":
        del holder[key]  # type: ignore[attr-defined]
    elif action == "wrap":
        holder[key] = [node] * draw(st.integers(min_value=1, max_value=2))  # type: ignore[index]
    else:
        holder[key] = draw(_json_values)  # type: ignore[index]
    return doc


@st.composite
def _text(draw: st.DrawFn, document: object) -> str:
    doc = document
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        doc = draw(_mutated(doc))
    text = json.dumps(doc)
    if draw(st.booleans()):
        return text
    cut = draw(st.integers(min_value=0, max_value=len(text)))
    junk = draw(st.sampled_from(["", "[" * 3000, "{", "NaN", "\x00", "1" * 5000, "]]"]))
    return text[:cut] + junk + text[cut:] if draw(st.booleans()) else text[:cut] + junk


_GROOVE = small_document("GroovePredictor")
_LEGACY = legacy_document(
    MODEL_SPECS["GroovePredictor"], random_arrays(MODEL_SPECS["GroovePredictor"])
)


@_SETTINGS
@given(text=_text(_GROOVE))
def test_rtneural_readers_raise_only_kelly_errors(tmp_path_factory: object, text: str) -> None:
    path = Path(str(tmp_path_factory.mktemp("m"))) / "m.json"  # type: ignore[attr-defined]
    path.write_text(text, encoding="utf-8")
    problems = validate_file(path)
    assert all(str(p) for p in problems)
    assert all(len(str(p)) < 2000 for p in problems)  # never the whole document
    error: KellyError | None = None
    try:
        loaded = RTNeuralExporter().read(path)
    except KellyError as exc:
        error = exc
    if error is not None:
        assert problems, f"read refused a file validate passed: {error}"
    else:
        assert not problems
        assert all(np.isfinite(a).all() for a in loaded.arrays.values())


@_SETTINGS
@given(text=_text(_LEGACY))
def test_legacy_reader_raises_only_kelly_errors(tmp_path_factory: object, text: str) -> None:
    path = Path(str(tmp_path_factory.mktemp("l"))) / "l.json"  # type: ignore[attr-defined]
    path.write_text(text, encoding="utf-8")
    error: KellyError | None = None
    try:
        loaded = read_legacy(path)
    except KellyError as exc:
        error = exc
    if error is not None:
        assert str(error).startswith(str(path))  # names the file
    else:
        assert all(np.isfinite(a).all() for a in loaded.arrays.values())


_CHECKPOINT: list[bytes] = []


def _checkpoint_bytes(folder: Path) -> bytes:
    if not _CHECKPOINT:
        path = save_checkpoint(build_model("DynamicsEngine", seed=0), folder / "c.pt")
        _CHECKPOINT.append(path.read_bytes())
    return _CHECKPOINT[0]


@_SETTINGS
@given(
    flips=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(1, 255)), max_size=8),
    cut=st.one_of(st.none(), st.floats(0, 1)),
)
def test_checkpoint_reader_raises_only_kelly_errors(
    tmp_path_factory: object, flips: list[tuple[float, int]], cut: float | None
) -> None:
    folder = Path(str(tmp_path_factory.mktemp("c")))  # type: ignore[attr-defined]
    data = bytearray(_checkpoint_bytes(folder))
    for where, mask in flips:
        data[int(where * len(data))] ^= mask
    if cut is not None:
        data = data[: int(cut * len(data))]
    path = folder / "damaged.pt"
    path.write_bytes(bytes(data))
    try:
        loaded = read_checkpoint(path)
    except KellyError:
        return
    # accepted only if nothing that matters changed: the weights equal the original's
    (folder / "c.pt").write_bytes(_checkpoint_bytes(folder))
    original = read_checkpoint(folder / "c.pt")
    for name, array in original.arrays.items():
        assert np.array_equal(loaded.arrays[name], array)


_cells = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        ["/etc/passwd", "../../outside/secret.mid", "2018/\x00x.midi", "", "..", "/", "~",
         "2018/MIDI-Unprocessed_0.midi", "a" * 300, "2018/../2018/MIDI-Unprocessed_0.midi"]
    ),
)  # fmt: skip


@_SETTINGS
@given(
    names=st.lists(_cells, min_size=1, max_size=4),
    splits=st.lists(
        st.sampled_from(["train", "test", "validation", "bogus", ""]), min_size=4, max_size=4
    ),
    header=st.booleans(),
)
def test_maestro_index_rows_raise_only_kelly_errors(
    tmp_path_factory: object, names: list[str], splits: list[str], header: bool
) -> None:
    from tests.unit.kelly_models.datasets.helpers import write_maestro

    root = Path(str(tmp_path_factory.mktemp("maestro")))  # type: ignore[attr-defined]
    index = write_maestro(root)
    text = index.read_text(encoding="utf-8")
    if not header:
        text = text.split("\n", 1)[1]
    for name, split in zip(names, splits, strict=False):
        quoted = '"' + name.replace('"', '""') + '"'
        text += f"C,T,{split},2018,{quoted},x.wav,1.0\n"
    index.write_text(text, encoding="utf-8")
    try:
        ds = open_maestro(root, use_cache=False, workers=1)
    except KellyError:
        return
    real_root = root.resolve()
    for i in range(len(ds)):
        assert Path(ds[i].source).resolve().is_relative_to(real_root)
    assert all(s.reason for s in ds.skipped)


@_SETTINGS
@given(rows=st.lists(st.lists(st.text(max_size=10), min_size=0, max_size=13), max_size=4))
def test_groove_index_rows_raise_only_kelly_errors(
    tmp_path_factory: object, rows: list[list[str]]
) -> None:
    from tests.unit.kelly_models.datasets.helpers import write_groove

    root = Path(str(tmp_path_factory.mktemp("groove")))  # type: ignore[attr-defined]
    index = write_groove(root)
    lines = [",".join('"' + c.replace('"', '""') + '"' for c in row) for row in rows]
    index.write_text(index.read_text(encoding="utf-8") + "\n".join(lines) + "\n", encoding="utf-8")
    try:
        ds = open_groove(root, use_cache=False, workers=1)
    except KellyError:
        return
    for i in range(len(ds)):
        assert Path(ds[i].source).resolve().is_relative_to(root.resolve())
