"""``generate`` on real music: music21 chorales written to MIDI at a known tempo, rendered
by fluidsynth, and the generated MIDI measured against the source (short clips)."""

from __future__ import annotations

import pytest

from kelly_runtime.generate import GenerateOptions, generate
from tests.music_checks import Measures, Source, corpus_piece, have_fluidsynth, measure, render_wav

pytest.importorskip("music21")
pytest.importorskip("mir_eval")
pytest.importorskip("pretty_midi")

if not have_fluidsynth():
    pytest.skip(
        "fluidsynth or the FluidR3 GM SoundFont is missing (apt-get install fluidsynth "
        "fluid-soundfont-gm)",
        allow_module_level=True,
    )

PIECES = [("bach/bwv66.6", 96.0), ("bach/bwv269", 132.0)]


@pytest.fixture(scope="module", params=PIECES, ids=[p[0] for p in PIECES])
def measured(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Source, Measures]:
    name, tempo = request.param
    folder = tmp_path_factory.mktemp("music")
    source = corpus_piece(name, folder, tempo=tempo, seconds=20.0)
    wav = render_wav(source.midi, folder / "song.wav")
    result = generate(wav, options=GenerateOptions(seed=3))
    out = result.write(folder / "out.mid")
    return source, measure(out, source, result.tempo, result.key)


class TestOnRenderedChorales:
    def test_tempo_within_4_percent(self, measured: tuple[Source, Measures]) -> None:
        source, m = measured
        assert m.tempo == pytest.approx(source.tempo, rel=0.04)

    def test_beats_follow_the_audio(self, measured: tuple[Source, Measures]) -> None:
        """Beat F-measure (70 ms) of the MIDI's tempo map against the source's beats."""
        assert measured[1].f_measure >= 0.9

    def test_in_key_and_no_clashes(self, measured: tuple[Source, Measures]) -> None:
        _, m = measured
        assert m.chord_in_scale >= 0.9
        assert m.melody_in_scale >= 0.9
        assert m.clash_rate <= 0.05

    def test_no_quiet_drums_no_short_notes(self, measured: tuple[Source, Measures]) -> None:
        _, m = measured
        assert m.quiet_drums == 0
        assert m.short_notes == 0
