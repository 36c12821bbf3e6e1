"""Audio in, MIDI out, in one call: :func:`generate`."""

from __future__ import annotations

import logging
from pathlib import Path

from kelly_runtime.generate.audio import AudioClip, read_audio
from kelly_runtime.generate.errors import GenerateOptionError
from kelly_runtime.generate.options import MAX_BEATS, GenerateOptions
from kelly_runtime.generate.render import render
from kelly_runtime.generate.result import GenerationResult
from kelly_runtime.generate.stages import run_stages

__all__ = ["generate"]

logger = logging.getLogger(__name__)


def generate(
    audio: str | Path | AudioClip,
    models_dir: str | Path | None = None,
    options: GenerateOptions | None = None,
) -> GenerationResult:
    """Listen to ``audio`` with the five models and return the MIDI they make.

    Steps: read and resample the audio (:func:`read_audio`), stream log-mel features,
    detect the beats and bars and estimate the key (unless given), step the
    EmotionRecognizer per 0.5 s window, the MelodyTransformer, HarmonyPredictor and
    DynamicsEngine per detected beat and the GroovePredictor per bar
    (:func:`run_stages`), then decode and arrange melody, chord and drum tracks on the
    detected beats, in the song's key (:func:`render`). Models missing from
    ``models_dir`` (or all five, without it) run on their rule-based fallback; the
    result lists them in ``fallback_stages``.

    :param audio: An audio file (WAV, FLAC, OGG, MP3) or an :class:`AudioClip`.
    :param models_dir: Folder of exported models; None runs every stage on fallback.
    :param options: Tempo, length, key, range, temperature, seed, backend.
    :returns: The result; ``result.write(path)`` writes the MIDI file atomically.
    :raises AudioError: If the audio file cannot be used (the error names the file), or
        is longer than :data:`~kelly_runtime.generate.audio.MAX_AUDIO_S`.
    :raises GenerateOptionError: If a steady ``tempo`` over the whole audio makes more
        beats than one MIDI file holds (:data:`~kelly_runtime.generate.options.MAX_BEATS`),
        checked before any analysis.
    :raises KellyError: On an invalid model file or an unknown backend.
    """
    options = options if options is not None else GenerateOptions()
    clip = audio if isinstance(audio, AudioClip) else read_audio(audio)
    options.check_length(clip.duration, source=clip.path)  # before any analysis
    outputs = run_stages(
        clip,
        models_dir=None if models_dir is None else Path(models_dir),
        backend=options.backend,
        bars=options.bars,
        meter=options.meter,
        tempo=options.tempo,
        tempo_hint=options.tempo_hint,
        key=options.key,
        zero_latency=options.zero_latency,
    )
    logger.debug("%d beats, %d windows", outputs.beats, len(outputs.window_emotion))
    result = render(outputs, options, audio_duration=clip.duration, source=clip.path)
    if len(result.beat_times) > MAX_BEATS:  # a guard: the checks above keep within it
        raise GenerateOptionError(
            f"{len(result.beat_times):,} beats do not fit one MIDI file (at most {MAX_BEATS:,})",
            path=clip.path,
            expected=MAX_BEATS,
            got=len(result.beat_times),
        )
    return result
