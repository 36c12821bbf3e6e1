"""Registers Kelly's dataset readers, synthetic datasets and the ``kelly data`` command.

Importing this module is cheap: factories are ``"module:attr"`` strings.
"""

from __future__ import annotations

from pathlib import Path

from kelly_core.entries import CommandEntry, DatasetEntry
from kelly_core.hookspecs import hookimpl

__all__ = ["guess_layout", "kelly_commands", "kelly_datasets", "kelly_guess_dataset"]

_P = "kelly_models.datasets"
_READ: dict[str, type] = {"limit": int, "cache_dir": Path, "use_cache": bool, "workers": int}
"""Options every built-in reader takes (docs/datasets.md)."""
_KEYED: dict[str, type] = {"key_relative": bool, **_READ}
_SYNTHETIC: dict[str, type] = {"seed": int, "items": int, "steps": int}
_EMOTION: dict[str, type] = {
    "sources": tuple, "pieces": int, "render_seed": int, "cache_dir": Path, "use_cache": bool,
    "workers": int,
}  # fmt: skip
"""synthetic-emotion's rendered music (:mod:`kelly_models.datasets.emotion_data`)."""


@hookimpl
def kelly_datasets() -> list[DatasetEntry]:
    """Return the built-in dataset readers and synthetic datasets."""
    data = ("pretty_midi", "mido")
    return [
        DatasetEntry(
            name="deam", model="EmotionRecognizer", factory=f"{_P}.deam:open_deam",
            requires=("librosa", "soundfile"), folder_names=("deam", "DEAM"),
            description="DEAM audio + static/dynamic valence-arousal annotations",
            options={"unannotated": str, **_READ},
        ),
        DatasetEntry(
            name="lakh", model="MelodyTransformer", factory=f"{_P}.lakh:open_lakh",
            requires=data, folder_names=("lakh", "lmd_full", "lmd_matched", "lmd_aligned"),
            description="Lakh MIDI: melody per beat, emotion from the labeller",
            options={"min_notes": int, **_KEYED},
        ),
        DatasetEntry(
            name="maestro", model="DynamicsEngine", factory=f"{_P}.maestro:open_maestro",
            requires=data, folder_names=("maestro", "maestro-v3.0.0"),
            description="MAESTRO piano performances: expression per beat",
            options={"splits": tuple, **_KEYED},
        ),
        DatasetEntry(
            name="groove", model="GroovePredictor", factory=f"{_P}.groove_midi:open_groove",
            requires=data, folder_names=("groove", "groove-midi", "groove-v1.0.0-midionly"),
            description="Groove MIDI 4-4 beats: groove per bar", options=_READ,
        ),
        DatasetEntry(
            name="chords", model="HarmonyPredictor", factory=f"{_P}.chords:open_chords",
            folder_names=("chords", "progressions"),
            description="chord progressions in Kelly's JSON format", options=_KEYED,
        ),
        DatasetEntry(
            name="music21-chords", model="HarmonyPredictor", factory=f"{_P}.rntxt:open_rntxt",
            requires=("music21",), folder_names=("rntxt",),
            description="Roman-numeral analyses (.rntxt; default: music21's corpus)",
            options=_KEYED,
        ),
        *(
            DatasetEntry(
                name=f"rendered-{kind}", model=model,
                factory=f"{_P}.rendered:open_rendered_{kind}",
                requires=("pretty_midi", "soundfile"), folder_names=("rendered",),
                description=f"rendered pieces (kelly train-beats --build): {model} hearing "
                "the song's beat chroma",
                options={"chroma_lag": int, **_READ},
            )
            for kind, model in (("harmony", "HarmonyPredictor"), ("melody", "MelodyTransformer"))
        ),
        DatasetEntry(
            name="synthetic-emotion", model="EmotionRecognizer",
            factory=f"{_P}.emotion_data:open_emotion",
            description="generated items and real music rendered with fluidsynth, labelled "
            "by the labeller (EmotionRecognizer)",
            options={**_SYNTHETIC, **_EMOTION},
        ),
        *(
            DatasetEntry(
                name=f"synthetic-{kind}", model=model,
                factory=f"{_P}.synthetic:synthetic_{kind}",
                description=f"structured synthetic data for {model}", options=_SYNTHETIC,
            )
            for kind, model in (
                ("melody", "MelodyTransformer"),
                ("harmony", "HarmonyPredictor"), ("dynamics", "DynamicsEngine"),
                ("groove", "GroovePredictor"),
            )
        ),
    ]  # fmt: skip


@hookimpl
def kelly_commands() -> list[CommandEntry]:
    """Return the ``kelly data`` command."""
    return [
        CommandEntry(
            name="data",
            factory=f"{_P}.inspect:DataCommand",
            help="inspect a dataset: items, skipped files, shapes, label ranges",
        )
    ]


def guess_layout(root: Path) -> str | None:
    """Recognise an official layout from its marker files; None if none matches."""
    if any(root.glob("maestro-v*.csv")):
        return "maestro"
    if (root / "info.csv").is_file():
        return "groove"
    if (
        root.name == "MEMD_audio"
        or (root / "MEMD_audio").is_dir()
        or any(root.glob("*/MEMD_audio"))
        or any(root.glob("**/static_annotations_averaged_songs_1_2000.csv"))
    ):
        return "deam"
    if root.name in ("lmd_full", "lmd_matched", "lmd_aligned") or any(
        (root / n).is_dir() for n in ("lmd_full", "lmd_matched", "lmd_aligned")
    ):
        return "lakh"
    if any(root.glob("*.rntxt")):
        return "music21-chords"
    if any(root.glob("*.json")):
        return "chords"
    return None


@hookimpl
def kelly_guess_dataset(root: Path) -> str | None:
    """Name the built-in reader for ``root`` from marker files, or None."""
    return guess_layout(Path(root))
