"""``kelly generate AUDIO --models DIR -o OUT.mid``: the command-line face of :func:`generate`."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import final

from kelly_runtime.generate.api import generate
from kelly_runtime.generate.errors import GenerateOptionError
from kelly_runtime.generate.options import DEFAULT_RANGE, DEFAULT_TEMPO, GenerateOptions

__all__ = ["GenerateCommand"]

logger = logging.getLogger("kelly.generate")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from exc
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


@final
class GenerateCommand:
    """Reads an audio file, runs the five-model pipeline and writes a MIDI file."""

    def configure(self, parser: argparse.ArgumentParser) -> None:
        """Add the arguments of ``kelly generate``."""
        parser.add_argument("audio", type=Path, help="input audio: WAV, FLAC, OGG or MP3")
        parser.add_argument(
            "-o", "--output", type=Path, required=True, help="MIDI file to write (atomically)"
        )
        parser.add_argument(
            "--models",
            type=Path,
            default=None,
            help="folder of exported models (<name>.json); missing ones run on fallback",
        )
        parser.add_argument(
            "--tempo", type=float, default=DEFAULT_TEMPO, help=f"BPM (default {DEFAULT_TEMPO:g})"
        )
        parser.add_argument(
            "--bars",
            type=_positive_int,
            default=None,
            help="length in 4/4 bars (default: the audio's)",
        )
        parser.add_argument("--backend", default=None, help="inference backend (default: numpy)")
        parser.add_argument("--seed", type=int, default=0, help="sampling seed (default 0)")
        parser.add_argument(
            "--key", default=None, help="melody key, e.g. C, Am, 'F# minor' (default: estimated)"
        )
        parser.add_argument(
            "--temperature", type=float, default=1.0, help="melody sampling temperature > 0"
        )
        parser.add_argument(
            "--range",
            dest="pitch_range",
            default=str(DEFAULT_RANGE),
            help=f"melody range LOW-HIGH, MIDI numbers or names (default {DEFAULT_RANGE})",
        )
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

    def run(self, args: argparse.Namespace) -> int:
        """Generate and write the files; return 0.

        :raises KellyError: On unreadable audio or bad options (the CLI prints one line).
        """
        options = GenerateOptions(
            tempo=args.tempo,
            bars=args.bars,
            backend=args.backend,
            seed=args.seed,
            key=args.key,
            temperature=args.temperature,
            pitch_range=args.pitch_range,
        )
        output: Path = args.output
        if output.suffix.lower() not in (".mid", ".midi"):
            raise GenerateOptionError(
                "expected a .mid or .midi output file",
                path=output,
                field="output",
                got=output.suffix,
            )
        result = generate(args.audio, models_dir=args.models, options=options)
        if result.fallback_stages:
            # a notice the user must see whatever the log level: written like cli.py's errors
            sys.stderr.write(
                f"kelly generate: running on fallback for {len(result.fallback_stages)} of 5 "
                f"stages: {', '.join(result.fallback_stages)}"
                f"{'' if args.models is not None else ' (no --models folder given)'}\n"
            )
        result.write(output)
        if args.emotion_csv is not None:
            result.write_csv(args.emotion_csv)
        if args.emotion_json is not None:
            result.write_json(args.emotion_json)
        if args.plot is not None:
            result.plot(args.plot)
        notes = sum(len(i.notes) for i in result.midi.instruments)
        logger.info(
            "wrote %s: %d beats at %g BPM in %s, %.1f s, %d notes",
            output,
            len(result.chords),
            result.tempo,
            result.key,
            result.midi.get_end_time(),
            notes,
        )
        return 0
