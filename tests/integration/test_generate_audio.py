"""End to end on real audio: MIDI -> fluidsynth -> WAV -> ``generate`` -> MIDI.

With fluidsynth and the FluidR3 GM SoundFont (Debian ``fluidsynth fluid-soundfont-gm``)
the input is a rendered piano piece; without them those cases skip and a synthesized
signal runs the same checks.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kelly_core.errors import SpecError
from kelly_runtime.generate import GenerateOptions, Key, PitchRange, generate, read_audio
from kelly_runtime.generate.arrange import DRUM_THRESHOLD, MIN_NOTE_S
from kelly_runtime.generate.midi import read_midi
from tests.music_checks import have_fluidsynth, render_wav
from tests.unit.kelly_runtime.generate.helpers import tone, write_wav

pretty_midi = pytest.importorskip("pretty_midi")
pytest.importorskip("soundfile")


def _render_with_fluidsynth(folder: Path) -> Path:
    """Write a short piano piece as MIDI and render it to a 44.1 kHz WAV."""
    if not have_fluidsynth():
        pytest.skip("fluidsynth or the FluidR3 GM SoundFont is not installed")
    midi = pretty_midi.PrettyMIDI(initial_tempo=100.0)
    piano = pretty_midi.Instrument(program=0)
    melody = [64, 62, 60, 62, 64, 64, 64, 62, 62, 62, 64, 67, 67]
    for i, pitch in enumerate(melody):
        piano.notes.append(
            pretty_midi.Note(
                velocity=80 + 3 * (i % 4), pitch=pitch, start=0.4 * i, end=0.4 * i + 0.38
            )
        )
    for i, root in enumerate((48, 43, 45, 41)):
        for offset in (0, 4, 7):
            piano.notes.append(
                pretty_midi.Note(
                    velocity=60, pitch=root + offset, start=1.3 * i, end=1.3 * i + 1.25
                )
            )
    midi.instruments.append(piano)
    mid = folder / "piece.mid"
    midi.write(str(mid))
    return render_wav(mid, folder / "piece.wav", sr=44100)


def _synthesized(folder: Path) -> Path:
    """A 5 s mono 22050 Hz signal: a tone with a tremolo over a second tone."""
    return write_wav(folder / "synth.wav", tone(5.0, freq=261.6) + tone(5.0, freq=392.0, amp=0.2))


@pytest.fixture(params=["fluidsynth", "synthesized"])
def audio(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """An audio file: rendered with fluidsynth (skips if absent) or synthesized."""
    if request.param == "fluidsynth":
        return _render_with_fluidsynth(tmp_path)
    return _synthesized(tmp_path)


class TestGenerateOnAudio:
    def test_tracks_velocities_duration(self, audio: Path, tmp_path: Path) -> None:
        """Melody, chord and drum tracks with notes, varying velocities, length within 15%."""
        duration = read_audio(audio).duration
        result = generate(audio, options=GenerateOptions(tempo=100.0, seed=1))
        path = result.write(tmp_path / "out.mid")
        midi = read_midi(path)
        tracks = {i.name: i for i in midi.instruments}
        assert set(tracks) == {"melody", "chords", "drums"}
        assert all(tracks[name].notes for name in tracks)
        assert tracks["drums"].is_drum
        assert not tracks["melody"].is_drum
        velocities = {n.velocity for i in midi.instruments for n in i.notes}
        assert len(velocities) > 3
        assert len({n.velocity for n in tracks["melody"].notes}) > 1
        assert midi.get_end_time() == pytest.approx(duration, rel=0.15)
        assert result.fallback_stages == (
            "EmotionRecognizer",
            "MelodyTransformer",
            "HarmonyPredictor",
            "DynamicsEngine",
            "GroovePredictor",
        )
        # frames are not centred: the last n_fft samples complete no further window
        assert int(duration / 0.5) - 1 <= len(result.emotion_trajectory) <= int(duration / 0.5)

    @pytest.mark.parametrize(("key", "low", "high"), [("Bb major", 58, 77), ("F# minor", 66, 90)])
    def test_melody_in_key_and_range(
        self, audio: Path, tmp_path: Path, key: str, low: int, high: int
    ) -> None:
        """Every melody note of the written file is in the key and the range asked for."""
        options = GenerateOptions(key=key, pitch_range=f"{low}-{high}", temperature=2.0, seed=4)
        midi = read_midi(generate(audio, options=options).write(tmp_path / "k.mid"))
        melody = next(i for i in midi.instruments if i.name == "melody")
        assert melody.notes
        scale = Key.parse(key)
        for note in melody.notes:
            assert scale.contains(note.pitch)
            assert note.pitch in PitchRange(low=low, high=high)

    def test_bars_override_length(self, audio: Path) -> None:
        """--bars sets the length from the first downbeat, whatever the audio's duration;
        --meter sets the beats in each of them."""
        for meter, seconds in ((4, 6.0), (3, 4.5)):
            result = generate(audio, options=GenerateOptions(tempo=120.0, bars=3, meter=meter))
            start = result.downbeats[0]
            assert result.midi.get_end_time() - start == pytest.approx(seconds, abs=0.05)
            assert len(result.chords) == 3 * meter
            assert result.beat_times[0] == pytest.approx(start)
            assert np.allclose(np.diff(result.beat_times), 0.5, atol=1e-6)
            assert np.allclose(np.diff(result.downbeats), 0.5 * meter, atol=1e-6)
            assert result.beats_per_bar == meter
            assert result.summary()["beats_per_bar"] == meter


class TestGenerateWithModels:
    def test_exported_models_run(self, tmp_path: Path) -> None:
        """With five exported (untrained) models nothing runs on fallback and MIDI is made."""
        from kelly_core.registry import default_registry

        registry = default_registry()
        exporter = registry.exporter("rtneural")
        models = tmp_path / "models"
        for name in registry.model_names():
            model = registry.model(name, seed=0)
            exporter.export(
                model.spec, model.state_arrays(), models / f"{model.spec.file_stem}.json"
            )
        wav = _synthesized(tmp_path)
        result = generate(wav, models_dir=models, options=GenerateOptions(backend="numpy", seed=2))
        assert result.fallback_stages == ()
        tracks = {i.name: i for i in result.midi.instruments}
        # untrained weights, yet every chord tone and melody note is in the song's key,
        # and no melody note is a semitone from a chord tone sounding with it
        scale = result.key.pitch_classes
        assert tracks["chords"].notes
        assert all(n.pitch % 12 in scale for n in tracks["chords"].notes)
        assert all(n.pitch % 12 in scale for n in tracks["melody"].notes)
        for note in tracks["melody"].notes:
            sounding = {
                c.pitch % 12
                for c in tracks["chords"].notes
                if c.start < note.end - 1e-3 and c.end > note.start + 1e-3
            }
            assert not any((note.pitch - c) % 12 in (1, 11) for c in sounding - {note.pitch % 12})
        assert all(n.velocity >= DRUM_THRESHOLD for n in tracks["drums"].notes)
        assert all(n.end - n.start >= MIN_NOTE_S - 1e-6 for i in tracks.values() for n in i.notes)

    def test_empty_models_folder_is_an_error(self, tmp_path: Path) -> None:
        """A folder holding no model file at all is an error (a typo, or a run's
        checkpoints folder), not five stages on the fallback."""
        (tmp_path / "models").mkdir()
        with pytest.raises(SpecError, match="no model file in the models folder"):
            generate(
                _synthesized(tmp_path),
                models_dir=tmp_path / "models",
                options=GenerateOptions(key="D"),
            )

    def test_partial_models_folder(self, tmp_path: Path) -> None:
        """Without a models folder every stage runs on fallback, without an error, and the
        chords follow what the song sounds (C and G: 261.6 and 392 Hz), not the key's
        tonic chord (D major) the fallback harmony alone would hold."""
        from kelly_core.encodings.chords import chord_pitch_classes

        result = generate(_synthesized(tmp_path), models_dir=None, options=GenerateOptions(key="D"))
        assert len(result.fallback_stages) == 5
        assert all({0, 7} <= set(chord_pitch_classes(c.index)) for c in result.chords)
        chords = next(i for i in result.midi.instruments if i.name == "chords")
        assert {0, 7} <= {n.pitch % 12 for n in chords.notes}
