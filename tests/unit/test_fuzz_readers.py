"""Mutated model files, checkpoints and dataset indexes: the readers raise only KellyErrors.

Each example starts from a valid file, applies one to three random mutations (a value
replaced anywhere in the document by any JSON value, a key dropped, the text cut, bytes
flipped), and feeds the result to the reader. A reader may accept the file or raise a
``KellyError``; any other exception (RecursionError, OverflowError, ValueError from a
parser, TypeError, ...) fails the test.

The dataset index readers are fuzzed further: MAESTRO and Groove MIDI rows naming the same
file in any spelling and split (one item per file, the first row's split, every repeat
reported); DEAM ratings that are NaN, inf, out of range, text or repeated (labels finite
and in range, every row kept or reported); damaged MIDI bytes (skip reasons are
sentences, never a parser's own words).
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


_SPELLINGS = st.sampled_from(
    ["{n}", "./{n}", "{y}/./{f}", "{y}//{f}", "{y}/../{y}/{f}", "{y}/{f}", "./{y}//./{f}"]
)


@_SETTINGS
@given(
    rows=st.lists(
        st.tuples(st.integers(0, 1), _SPELLINGS, st.sampled_from(["train", "test", "validation"])),
        max_size=8,
    )
)
def test_maestro_duplicate_rows_count_once(
    tmp_path_factory: object, rows: list[tuple[int, str, str]]
) -> None:
    """Any number of rows naming the two good files, in any spelling and split: one item
    per file, split of its first row, and each file listed more than once is reported."""
    from tests.unit.kelly_models.datasets.helpers import write_maestro

    root = Path(str(tmp_path_factory.mktemp("maestro")))  # type: ignore[attr-defined]
    index = write_maestro(root)
    lines = index.read_text(encoding="utf-8").splitlines()
    header, body = lines[0], lines[1:]
    names = {0: ("2018", "MIDI-Unprocessed_0.midi"), 1: ("2017", "MIDI-Unprocessed_1.midi")}
    listed: list[tuple[int, str]] = [(0, "train"), (1, "test")]  # the fixture's own rows
    for file, spelling, split in rows:
        year, name = names[file]
        text = spelling.format(n=f"{year}/{name}", y=year, f=name)
        body.append(f"C,T,{split},{year},{text},x.wav,1.0")
        listed.append((file, split))
    index.write_text("\n".join([header, *body]) + "\n", encoding="utf-8")
    ds = open_maestro(root, use_cache=False, workers=1)
    sources = [Path(ds[i].source).resolve() for i in range(len(ds))]
    assert len(sources) == len(set(sources)) == 2
    first_split = {f: next(s for g, s in listed if g == f) for f in (0, 1)}
    assert [ds[i].split for i in range(2)] == [first_split[0], first_split[1]]
    repeats = [s.reason for s in ds.skipped if "is listed" in s.reason]
    counts = {f: sum(1 for g, _ in listed if g == f) for f in (0, 1)}
    assert len(repeats) == sum(1 for c in counts.values() if c > 1)
    for count in counts.values():
        if count > 1:
            assert any(f"is listed {count} times" in r for r in repeats)


@_SETTINGS
@given(
    splits=st.lists(st.sampled_from(["train", "test", "validation"]), min_size=1, max_size=6),
    spellings=st.lists(_SPELLINGS, min_size=6, max_size=6),
)
def test_groove_duplicate_rows_count_once(
    tmp_path_factory: object, splits: list[str], spellings: list[str]
) -> None:
    from tests.unit.kelly_models.datasets.helpers import write_groove

    root = Path(str(tmp_path_factory.mktemp("groove")))  # type: ignore[attr-defined]
    index = write_groove(root)
    extra = ""
    for split, spelling in zip(splits, spellings, strict=False):
        name = spelling.format(
            n="drummer1/session1/1_funk_100_beat_4-4.mid", y="drummer1",
            f="session1/1_funk_100_beat_4-4.mid",
        )  # fmt: skip
        extra += f"d,s,9,funk,100,beat,4-4,{name},,9.6,{split}\n"
    index.write_text(index.read_text(encoding="utf-8") + extra, encoding="utf-8")
    ds = open_groove(root, use_cache=False, workers=1)
    assert len(ds) == 1
    assert ds[0].split == "train"  # the fixture's row comes first
    (repeat,) = [s.reason for s in ds.skipped]
    assert f"is listed {len(splits) + 1} times" in repeat
    assert repeat.endswith("kept line 2 (train)")


_LABELS = st.one_of(
    st.sampled_from(["nan", "NaN", "inf", "-inf", "Infinity", "1e999", "", "abc", "0", "10"]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.floats(min_value=1, max_value=9).map(str),
)


@_SETTINGS
@given(
    rows=st.lists(
        st.tuples(st.sampled_from(["1", "2", "02", "2.0", "3"]), _LABELS, _LABELS), max_size=8
    )
)
def test_deam_static_labels_are_finite_and_every_row_is_accounted_for(
    tmp_path_factory: object, rows: list[tuple[str, str, str]]
) -> None:
    """Non-finite, out-of-range and duplicate ratings: never in the labels, each reported."""
    from kelly_models.datasets.deam import read_static

    folder = Path(str(tmp_path_factory.mktemp("deam")))  # type: ignore[attr-defined]
    path = folder / "static.csv"
    body = "".join(f"{song}, {v}, 1, {a}, 1\n" for song, v, a in rows)
    path.write_text("song_id, valence_mean, valence_std, arousal_mean, arousal_std\n" + body)
    labels, skipped = read_static(path)
    assert all(np.isfinite(v).all() and np.all(np.abs(v) <= 1) for v in labels.values())
    assert len(labels) + len(skipped) == len(rows)
    assert all(s.reason.startswith("static.csv line ") for s in skipped)
    assert not any("could not convert" in s.reason for s in skipped)


@_SETTINGS
@given(
    rows=st.lists(
        st.tuples(st.sampled_from(["1", "2", "2.0"]), st.lists(_LABELS, min_size=3, max_size=3)),
        max_size=6,
    )
)
def test_deam_dynamic_series_are_finite_and_every_row_is_accounted_for(
    tmp_path_factory: object, rows: list[tuple[str, list[str]]]
) -> None:
    from kelly_models.datasets.deam import read_dynamic

    folder = Path(str(tmp_path_factory.mktemp("deam")))  # type: ignore[attr-defined]
    path = folder / "arousal.csv"
    body = "".join(f"{song},{','.join(cells)}\n" for song, cells in rows)
    path.write_text("song_id,sample_15000ms,sample_15500ms,sample_16000ms\n" + body)
    series, skipped = read_dynamic(path)
    values = [v for s in series.values() for v in s.values()]
    assert all(np.isfinite(v) and -1 <= v <= 1 for v in values)
    assert len(series) + len(skipped) == len(rows)


_RAW_TEXT = (
    "Error", "()", "NoneType", "list index", "arg is an empty", "division by zero",
    "has no attribute", "not subscriptable", "codec can't", "[Errno", "no detail",
)  # fmt: skip
_MIDI: list[bytes] = []


@_SETTINGS
@given(
    edits=st.lists(
        st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255), st.booleans()),
        min_size=1,
        max_size=6,
    ),
    cut=st.one_of(st.none(), st.floats(0, 1)),
)
def test_midi_skip_reasons_are_sentences(
    tmp_path_factory: object, edits: list[tuple[float, int, bool]], cut: float | None
) -> None:
    """Damaged MIDI files are skipped with a sentence, never a parser's raw words."""
    from kelly_models.datasets.cache import _run_one
    from kelly_models.datasets.common import Unusable
    from kelly_models.datasets.lakh import read_lakh_file
    from tests.unit.kelly_models.datasets.helpers import write_lakh

    folder = Path(str(tmp_path_factory.mktemp("midi")))  # type: ignore[attr-defined]
    if not _MIDI:
        _MIDI.append(write_lakh(folder / "lakh")["full"].read_bytes())
    data = bytearray(_MIDI[0])
    for where, value, insert in edits:
        at = int(where * len(data))
        if insert:
            data[at:at] = bytes([value])
        elif at < len(data):
            data[at] = value
    if cut is not None:
        data = data[: int(cut * len(data))]
    path = folder / "damaged.mid"
    path.write_bytes(bytes(data))
    reason: str | None = None
    try:
        _run_one(read_lakh_file, path, {"min_notes": 16})
    except Unusable as exc:
        reason = exc.reason
    if reason is not None:
        assert reason
        assert not any(raw in reason for raw in _RAW_TEXT), reason
