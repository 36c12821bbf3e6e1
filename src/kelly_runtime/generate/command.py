"""``kelly generate AUDIO... --models DIR (-o OUT.mid | --output-dir DIR)``.

The command-line face of :func:`generate`. One input writes ``-o``; many inputs (or
``--output-dir``) write ``<output-dir>/<stem>.mid`` each, with a progress bar on a
terminal; inputs with the same stem get ``<stem>-2.mid``, ``<stem>-3.mid`` in the order
given (:mod:`.outputs`). A file that fails is reported on stderr with its reason (one
line) and the others go on; the exit status is 0 when every file succeeded, 1 otherwise.
For each file stderr says the tempo, beats, bars and key detected (or given).

Models: ``--models DIR``; without it the reference models shipped in the package
(:mod:`kelly_runtime.reference`), said once on stderr; ``--fallback`` runs every stage on
the rule-based fallback (as does an installation without the shipped files, with a
warning).

Before any work: every package the run needs is checked, all missing ones named in one
line with the extras that bring them (:func:`kelly_core._optional.require_all`); every
number is checked while the arguments are parsed
(:mod:`kelly_core.argtypes`; the ranges are in ``--help``), the options as a whole by
:class:`GenerateOptions`, the output paths (writable, distinct, none of them an input),
and per file, before decoding, the header's length (:func:`probe_audio`).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar, final

from kelly_core._optional import require_all
from kelly_core.argtypes import MAX_SEED, float_in, int_in
from kelly_core.errors import KellyError, SpecError
from kelly_core.fileio import check_output_path, input_problem
from kelly_core.flags import BACKEND_HELP
from kelly_core.registry import default_registry
from kelly_runtime.generate.api import generate
from kelly_runtime.generate.audio import probe_audio, read_audio
from kelly_runtime.generate.errors import GenerateOptionError
from kelly_runtime.generate.options import (
    DEFAULT_RANGE,
    MAX_BARS,
    MAX_METER,
    MAX_TEMPERATURE,
    MAX_TEMPO,
    MIN_METER,
    MIN_TEMPO,
    GenerateOptions,
)
from kelly_runtime.generate.outputs import check_distinct, unique_stems
from kelly_runtime.generate.plugin import REQUIRES
from kelly_runtime.generate.result import GenerationResult
from kelly_runtime.generate.stages import check_holds_models
from kelly_runtime.reference import reference_models_dir

__all__ = ["GenerateCommand"]

logger = logging.getLogger("kelly.generate")

_T = TypeVar("_T")


@final
class GenerateCommand:
    """Reads an audio file, runs the five-model pipeline and writes a MIDI file."""

    _told: tuple[str, ...] = ()
    """The fallback stages last warned about (the warning is given once per run)."""
    _models: Path | None = None
    """The models folder this run uses (None: every stage on fallback)."""
    _announce: str | None = None
    """Said on stderr after the first file written (so an error stays one line)."""

    def configure(self, parser: argparse.ArgumentParser) -> None:
        """Add the arguments of ``kelly generate``."""
        _add_files(parser)
        _add_music(parser)
        _add_extras(parser)

    def run(self, args: argparse.Namespace) -> int:
        """Generate and write the files; return 0 if all succeeded, else 1.

        :raises KellyError: On bad options (the CLI prints one line); a bad input file is
            reported and skipped when there are several.
        """
        plotting = ("matplotlib",) if args.plot is not None else ()
        require_all((*REQUIRES, *plotting), purpose="kelly generate")
        if args.models is not None:  # before any audio is read
            check_models_folder(args.models)
        self._models = _chosen_models(args)
        self._announce = None
        if args.models is None and self._models is not None:
            self._announce = (
                f"kelly generate: using Kelly's shipped reference models ({self._models}); "
                "--models DIR runs your own, --fallback the rules\n"
            )
        options = GenerateOptions(
            tempo=args.tempo,
            tempo_hint=args.tempo_hint,
            bars=args.bars,
            meter=args.meter,
            backend=args.backend,
            seed=args.seed,
            key=args.key,
            temperature=args.temperature,
            pitch_range=args.pitch_range,
            zero_latency=args.zero_latency,
        )
        inputs: list[Path] = list(args.audio)
        if args.output is not None:
            if len(inputs) != 1:
                raise GenerateOptionError(
                    f"-o names one MIDI file but {len(inputs)} inputs were given; use --output-dir",
                    field="output",
                    expected="one input",
                    got=len(inputs),
                )
            _check_midi_suffix(args.output)
            singles = (args.output, args.emotion_csv, args.emotion_json, args.plot, args.preview)
            for path in singles:
                if path is not None:
                    check_output_path(path)
            check_distinct(singles, inputs)
            return 0 if self._one(inputs[0], args.output, args, options, single=True) else 1
        folder: Path = args.output_dir
        check_output_path(folder, kind="folder")
        if args.preview is not None:
            check_output_path(args.preview, kind="folder")
        stems = unique_stems(inputs)
        check_distinct(_planned(folder, stems, args), inputs)
        folder.mkdir(parents=True, exist_ok=True)
        failed = 0
        for audio, stem in _progress(list(zip(inputs, stems, strict=True))):
            if not self._one(audio, folder / f"{stem}.mid", args, options, single=False):
                failed += 1
        if failed:
            sys.stderr.write(f"kelly generate: {failed} of {len(inputs)} files failed\n")
        return 0 if failed == 0 else 1

    def _one(
        self,
        audio: Path,
        output: Path,
        args: argparse.Namespace,
        options: GenerateOptions,
        *,
        single: bool,
    ) -> bool:
        """Generate one file; return whether it succeeded (raise if it is the only one)."""
        try:
            options.check_length(probe_audio(audio).duration, source=audio)  # before decoding
            clip = read_audio(audio)
            result = generate(clip, models_dir=self._models, options=options)
            result.write(output)
            self._side_outputs(result, args, output, single=single)
            if args.preview is not None:
                from kelly_runtime.generate.preview import write_preview

                preview = args.preview if single else args.preview / f"{output.stem}.mix.wav"
                if not single:
                    preview.parent.mkdir(parents=True, exist_ok=True)
                write_preview(clip, output, preview)
        except KellyError as exc:
            if single:
                raise
            sys.stderr.write(f"kelly: error: {exc}\n")  # the error names the file
            return False
        if result.fallback_stages and result.fallback_stages != self._told:
            # a warning shown whatever the log level (-q hides info only), once per run
            self._told = result.fallback_stages
            logger.warning(
                "kelly: warning: running on fallback for %d of 5 stages: %s%s",
                len(result.fallback_stages),
                ", ".join(result.fallback_stages),
                _why_fallback(args, self._models),
            )
        if self._announce is not None:
            sys.stderr.write(self._announce)
            self._announce = None
        sys.stderr.write(
            f"kelly generate: {audio}: {_detected(result, tempo_given=args.tempo is not None)}\n"
        )
        notes = sum(len(i.notes) for i in result.midi.instruments)
        logger.info(
            "wrote %s: %d beats at %.1f BPM in %s, %.1f s, %d notes",
            output,
            len(result.chords),
            result.tempo,
            result.key,
            result.midi.get_end_time(),
            notes,
        )
        return True

    @staticmethod
    def _side_outputs(
        result: GenerationResult, args: argparse.Namespace, output: Path, *, single: bool
    ) -> None:
        def place(path: Path | None, suffix: str) -> Path | None:
            if path is None or single:
                return path
            return output.with_suffix(suffix)  # beside each MIDI file

        csv_path = place(args.emotion_csv, ".csv")
        json_path = place(args.emotion_json, ".json")
        plot_path = place(args.plot, ".png")
        if csv_path is not None:
            result.write_csv(csv_path)
        if json_path is not None:
            result.write_json(json_path)
        if plot_path is not None:
            result.plot(plot_path)


def _chosen_models(args: argparse.Namespace) -> Path | None:
    """``--models``, else (without ``--fallback``) the shipped reference models; None runs
    every stage on fallback."""
    if args.models is not None or args.fallback:
        return args.models  # type: ignore[no-any-return]
    return reference_models_dir()


def _why_fallback(args: argparse.Namespace, models: Path | None) -> str:
    """The end of the fallback warning: why stages run on fallback."""
    if models is None:
        return " (--fallback)" if args.fallback else " (no --models, no shipped models)"
    return ""


def check_models_folder(folder: Path) -> None:
    """Refuse a ``--models`` path that is not a folder or holds no model file at all.

    :raises SpecError: Naming the path and what was expected.
    """
    problem = input_problem(folder, kind="folder", what="folder of model files")
    if problem is not None:
        raise SpecError(problem, path=folder, field="--models", expected="a folder of model files")
    check_holds_models(folder, default_registry())


def _check_midi_suffix(output: Path) -> None:
    if output.suffix.lower() not in (".mid", ".midi"):
        raise GenerateOptionError(
            "expected a .mid or .midi output file",
            path=output,
            field="output",
            got=output.suffix,
        )


def _planned(folder: Path, stems: list[str], args: argparse.Namespace) -> list[Path]:
    """Every file an ``--output-dir`` run writes: MIDI, side outputs, previews."""
    planned: list[Path] = []
    for stem in stems:
        planned.append(folder / f"{stem}.mid")
        for flag, suffix in ((args.emotion_csv, ".csv"), (args.emotion_json, ".json")):
            if flag is not None:
                planned.append(folder / f"{stem}{suffix}")
        if args.plot is not None:
            planned.append(folder / f"{stem}.png")
        if args.preview is not None:
            planned.append(args.preview / f"{stem}.mix.wav")
    return planned


def _detected(result: GenerationResult, *, tempo_given: bool) -> str:
    if result.beats_detected:
        beats = "detected"
    elif tempo_given:
        beats = "on a steady grid (--tempo)"
    else:
        beats = f"on a steady {result.tempo:g} BPM grid (no beats detected)"
    bars = len(result.downbeats)
    return (
        f"{result.tempo:.1f} BPM, {len(result.beat_times)} beats {beats}, "
        f"{bars} bar{'' if bars == 1 else 's'} of {result.beats_per_bar}, {result.key_report()}"
    )


def _progress(items: list[_T]) -> Iterator[_T]:
    """``items`` with a tqdm bar on a terminal (stderr), plainly otherwise."""
    if not sys.stderr.isatty():
        yield from items
        return
    try:
        from tqdm import tqdm
    except ImportError:
        yield from items
        return
    yield from tqdm(items, desc="kelly generate", unit="file", file=sys.stderr)


def _add_files(parser: argparse.ArgumentParser) -> None:
    """Add the input audio, where the MIDI goes, and the models folder."""
    parser.add_argument(
        "audio", type=Path, nargs="+", help="input audio files: WAV, FLAC, OGG or MP3"
    )
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument(
        "-o", "--output", type=Path, default=None, help="MIDI file to write (one input)"
    )
    where.add_argument(
        "--output-dir",
        type=Path,
        default=None,
        help="folder to write <stem>.mid into, one per input (created if missing)",
    )
    models = parser.add_mutually_exclusive_group()
    models.add_argument(
        "--models",
        type=Path,
        default=None,
        metavar="DIR",
        help="folder of model files (<name>.json): a run's output folder such as "
        "runs/quick; a missing file's stage runs on fallback, a folder with none is an "
        "error (default the reference models shipped with Kelly)",
    )
    models.add_argument(
        "--fallback",
        action="store_true",
        help="run every stage on the rule-based fallback instead of any models",
    )


def _add_music(parser: argparse.ArgumentParser) -> None:
    """Add what shapes the music: tempo, length, meter, backend, seed, key, melody."""
    tempo = parser.add_mutually_exclusive_group()
    tempo.add_argument(
        "--tempo",
        type=float_in("--tempo", MIN_TEMPO, MAX_TEMPO),
        default=None,
        help=f"a steady BPM ({MIN_TEMPO:g}..{MAX_TEMPO:g}) instead of the beats detected "
        "in the audio",
    )
    tempo.add_argument(
        "--tempo-hint",
        type=float_in("--tempo-hint", MIN_TEMPO, MAX_TEMPO),
        default=None,
        metavar="BPM",
        help=f"the song's beat is near this BPM ({MIN_TEMPO:g}..{MAX_TEMPO:g}): beats are "
        "still detected in the audio, within x1.3 of it (for when the reported tempo is "
        "double, half or 2/3 of the one you count)",
    )
    parser.add_argument(
        "--bars",
        type=int_in("--bars", 1, MAX_BARS),
        default=None,
        help=f"length in bars from the first downbeat, 1..{MAX_BARS} (default the audio's)",
    )
    parser.add_argument(
        "--meter",
        type=int_in("--meter", MIN_METER, MAX_METER),
        default=None,
        help="beats per bar, 2..7 (default detected: 2, 3 or 4)",
    )
    parser.add_argument(
        "--backend",
        default=None,
        help=BACKEND_HELP,
    )
    parser.add_argument(
        "--seed",
        type=int_in("--seed", 0, MAX_SEED),
        default=0,
        help="sampling seed, 0..2**64-1 (default 0)",
    )
    parser.add_argument(
        "--key",
        default=None,
        help="key of melody and chords, e.g. C, Am, 'F# minor' (default from the audio)",
    )
    parser.add_argument(
        "--temperature",
        type=float_in("--temperature", 0.0, MAX_TEMPERATURE, low_open=True),
        default=1.0,
        help=f"melody sampling temperature, > 0 and <= {MAX_TEMPERATURE:g} (default 1.0)",
    )
    parser.add_argument(
        "--range",
        dest="pitch_range",
        default=str(DEFAULT_RANGE),
        help=f"melody range LOW-HIGH, MIDI numbers or names (default {DEFAULT_RANGE})",
    )
    parser.add_argument(
        "--zero-latency",
        action="store_true",
        help="play as a zero-latency plugin would: each beat hears only the previous beat",
    )


def _add_extras(parser: argparse.ArgumentParser) -> None:
    """Add the files written beside the MIDI: emotion CSV or JSON, plot, audio preview."""
    side = parser.add_mutually_exclusive_group()
    side.add_argument(
        "--emotion-csv",
        type=Path,
        default=None,
        help="write per-beat emotion and chords as CSV",
    )
    side.add_argument(
        "--emotion-json",
        type=Path,
        default=None,
        help="write per-window emotion and per-beat chords as JSON",
    )
    parser.add_argument(
        "--plot", type=Path, default=None, help="write a PNG of the emotion trajectory"
    )
    parser.add_argument(
        "--preview",
        type=Path,
        default=None,
        help="write a WAV of the MIDI (fluidsynth + GM SoundFont) mixed with the input; "
        "with --output-dir, a folder for <stem>.mix.wav",
    )
