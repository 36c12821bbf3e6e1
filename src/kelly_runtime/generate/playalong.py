"""Playing along: chords and notes that fit what the song sounds in each beat.

``kelly generate`` hears the song's beat-synchronous chroma (per played beat 12 chroma
values, maximum about 1, and 12 bass values; absolute pitch classes, index 0 = C;
:func:`kelly_core.encodings.chroma.beat_chroma`). Here it is used twice
(docs/generate.md, "Playing along"):

**Chords.** Per beat every chord class ``c`` (the 60 triads and sevenths and the three
dim7 chords of the 64-class vocabulary) gets the score

    ``fit(c) + MODEL_WEIGHT · p(c) − OUTSIDE_KEY_COST · [c not diatonic]``
    ``+ KEEP_BONUS · [c = the previous beat's chord]``

- ``fit(c)``: the cosine of ``c``'s pitch-class template (1 on its tones) with the beat's
  chroma, plus ``BASS_WEIGHT`` times the bass chroma at ``c``'s root over the beat's
  largest bass value (0 where the bass is under ``BASS_FLOOR``);
- ``p(c)``: the HarmonyPredictor's probability of ``c`` (a tie-breaker where the chroma
  is ambiguous or silent; its fallback's one-hot tonic is a mild pull to the tonic that
  the song's chroma outweighs);
- a chord outside the key's diatonic chords must fit ``OUTSIDE_KEY_COST`` better;
- ``KEEP_BONUS`` for the previous beat's chord, so a chord does not flicker within a bar
  while a change in the song still changes it.

The best score wins; the chord track rests where the model gives "no chord" more than
:data:`NO_CHORD_ABOVE`. Every backend, the fallback
included, goes through this rule. Without chroma (none heard) the model alone chooses
among the diatonic chords, as before.

**Notes.** A pitch class **sounds strongly** in a beat when its chroma is at least
``STRONG_SHARE`` of the beat's largest (and that largest is at least ``SOUNDING_FLOOR``).
A pitch class a semitone from one that sounds strongly is **avoided** unless it sounds
strongly itself and at least as loud as that neighbour (of two strong neighbours the
weaker is more often the other's leakage than a dissonance the song plays): the melody
does not choose it, the chord voicing (its bass included) leaves it out, and the melody
favours (``SONG_TONE_BONUS``, in log units) the chord's tones that sound strongly and are
not avoided. The constants were chosen on the listening benchmark's ``dev`` pieces.

**Zero latency** (:class:`StreamHearing`). A streaming player hears a beat only once it
is over, so each beat is played over the previous beat's chroma, and the song's harmony
most often changes at a bar line, which the previous beat cannot tell. There a beat
avoids the union of what the last :data:`RECENT_BEATS` heard beats avoid, and a bar's
first beat the union over the last :data:`BAR_LINE_BEATS` (four bars of 4/4): a pitch
class a semitone from anything the song sounded strongly that recently is left out of
the melody and the voicing. The chord is still chosen from the last heard beat. The two
spans were chosen on the listening benchmark's ``dev`` pieces (docs/benchmarks.md,
"Zero-latency streaming").

**One beat at a time** (:class:`PlayAlong`). Every choice above is made beat by beat from
what came before, so a plugin makes them as it streams: per beat it passes the
HarmonyPredictor's output (:attr:`kelly_runtime.beat.BeatOutput.chords`), the chroma the
beat hears (its own, or at zero latency the previous beat's) and the key, and gets the
chord, the chord's tones to voice and the pitch classes its notes keep off and favour
(:class:`PlayedBeat`). ``kelly generate`` goes through the same class; the C++ companion
has its twin (``kelly::PlayAlong``, docs/cpp.md).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Final

import attrs
import numpy as np
import numpy.typing as npt

from kelly_core.arrays import FloatArray, check_frame, check_shape
from kelly_core.encodings.chords import NO_CHORD, NUM_CHORDS, chord_pitch_classes
from kelly_runtime.generate.keys import Key, diatonic_chords

__all__ = [
    "BAR_LINE_BEATS",
    "BASS_FLOOR",
    "BASS_WEIGHT",
    "KEEP_BONUS",
    "MODEL_WEIGHT",
    "NO_CHORD_ABOVE",
    "OUTSIDE_KEY_COST",
    "RECENT_BEATS",
    "SONG_TONE_BONUS",
    "SOUNDING_FLOOR",
    "STRONG_SHARE",
    "BeatHearing",
    "PlayAlong",
    "PlayedBeat",
    "StreamHearing",
    "choose_chord",
    "choose_chords",
    "chord_fit",
    "chord_tones",
    "hear_beat",
    "hear_stream",
    "song_prior",
    "song_safe",
    "strong_pitch_classes",
    "voice_for_song",
]

MODEL_WEIGHT: Final = 0.1
"""Weight of the HarmonyPredictor's probability beside the chroma fit (a cosine, 0..1)."""
BASS_WEIGHT: Final = 0.2
"""Weight of the bass chroma at a chord's root (relative to the beat's largest bass value)."""
BASS_FLOOR: Final = 0.05
"""Largest bass value under which a beat has no bass to favour a root with."""
OUTSIDE_KEY_COST: Final = 0.15
"""How much better a chord outside the key's diatonic chords must fit to be chosen."""
KEEP_BONUS: Final = 0.08
"""Bonus of the previous beat's chord (smoothing: no flicker within a bar)."""
STRONG_SHARE: Final = 0.2
"""A pitch class sounds strongly at this share of the beat's largest chroma value or more."""
SOUNDING_FLOOR: Final = 0.1
"""A beat whose largest chroma value is under this sounds nothing strongly (near silence)."""
SONG_TONE_BONUS: Final = 2.0
"""Melody prior (log units) for the chord's tones that the song sounds strongly."""
RECENT_BEATS: Final = 5
"""Zero latency: a beat inside a bar avoids what the last this many heard beats avoid."""
BAR_LINE_BEATS: Final = 16
"""Zero latency: a bar's first beat avoids what the last this many heard beats avoid."""
NO_CHORD_ABOVE: Final = 0.5
"""The chord track rests on a beat only when the model gives "no chord" more than this."""

_CANDIDATES: Final = tuple(i for i in range(NUM_CHORDS) if i != NO_CHORD)


def _templates() -> npt.NDArray[np.float64]:
    out = np.zeros((NUM_CHORDS, 12), dtype=np.float64)
    for index in _CANDIDATES:
        tones = list(chord_pitch_classes(index))
        out[index, tones] = 1.0 / np.sqrt(len(tones))
    return out


_TEMPLATES: Final = _templates()
_ROOTS: Final = np.array(
    [i // 5 if i < NO_CHORD else (0 if i == NO_CHORD else i - NO_CHORD - 1) for i in range(64)]
)


def chord_fit(chroma: FloatArray) -> FloatArray:
    """How well each of the 64 chord classes fits one beat's chroma ``(24,)``: ``(64,)``.

    The cosine of the class's template with the chroma, plus ``BASS_WEIGHT`` times the
    relative bass at its root; 0 for "no chord" and for a silent beat.
    """
    check_shape(chroma, (24,), name="beat chroma")
    values = np.clip(np.asarray(chroma, dtype=np.float64), 0.0, None)
    upper, bass = values[:12], values[12:]
    norm = float(np.linalg.norm(upper))
    fit = _TEMPLATES @ upper / norm if norm > 1e-9 else np.zeros(NUM_CHORDS)
    top = float(bass.max())
    if top >= BASS_FLOOR:
        fit = fit + BASS_WEIGHT * (bass / top)[_ROOTS]
    fit[NO_CHORD] = 0.0
    return np.asarray(fit, dtype=np.float32)


def _scores(distribution: FloatArray, chroma: FloatArray, key: Key) -> npt.NDArray[np.float64]:
    """Each candidate's score without the keep bonus; ``-inf`` for "no chord"."""
    scores = chord_fit(chroma).astype(np.float64) + MODEL_WEIGHT * distribution.astype(np.float64)
    outside = np.ones(NUM_CHORDS, dtype=bool)
    outside[sorted(diatonic_chords(key))] = False
    scores[outside] -= OUTSIDE_KEY_COST
    scores[NO_CHORD] = -np.inf
    return scores


def choose_chord(
    distribution: FloatArray, key: Key, *, no_chord_above: float = NO_CHORD_ABOVE
) -> int:
    """The model alone: the most likely chord of ``distribution`` ``(64,)`` among
    ``key``'s diatonic chords ("no chord" only above ``no_chord_above``)."""
    if float(distribution[NO_CHORD]) > no_chord_above:
        return NO_CHORD
    allowed = sorted(diatonic_chords(key))
    return int(allowed[int(np.argmax(distribution[allowed]))])


def choose_chords(
    distributions: FloatArray,
    chroma: FloatArray | None,
    keys: Sequence[Key],
    *,
    no_chord_above: float = NO_CHORD_ABOVE,
) -> list[int]:
    """One chord class per beat from the model's ``(B, 64)`` output and the song's chroma
    (:meth:`PlayAlong.step`'s chord over a whole piece).

    :param distributions: The HarmonyPredictor's output per beat, in the song's key.
    :param chroma: The song's chroma per beat ``(B, 24)``; None: the model alone chooses
        among each beat's diatonic chords.
    :param keys: The key of each beat.
    :param no_chord_above: "No chord" wins where the model gives it more than this.
    """
    beats = distributions.shape[0]
    check_shape(distributions, (beats, NUM_CHORDS), name="chords")
    if chroma is not None:
        check_shape(chroma, (beats, 24), name="beat chroma")
    if len(keys) != beats:
        raise ValueError(f"expected {beats} keys, got {len(keys)}")
    player = PlayAlong(no_chord_above=no_chord_above)
    return [
        player.step(distributions[i], None if chroma is None else chroma[i], keys[i]).chord
        for i in range(beats)
    ]


@attrs.frozen(kw_only=True)
class BeatHearing:
    """What the song sounds in one beat, for the notes played over it."""

    strong: frozenset[int] = frozenset()
    """Pitch classes that sound strongly."""
    avoid: frozenset[int] = frozenset()
    """Pitch classes a semitone from a strongly sounding one and weaker than it."""


def strong_pitch_classes(chroma: FloatArray) -> frozenset[int]:
    """Pitch classes that sound strongly in a beat's chroma ``(24,)`` or ``(12,)``."""
    upper = np.asarray(chroma[:12], dtype=np.float64)
    top = float(upper.max())
    if top < SOUNDING_FLOOR:
        return frozenset()
    return frozenset(int(pc) for pc in np.flatnonzero(upper >= STRONG_SHARE * top))


def hear_beat(chroma: FloatArray) -> BeatHearing:
    """The strongly sounding and the avoided pitch classes of a beat's chroma ``(24,)``.

    A pitch class is avoided when a semitone neighbour sounds strongly and louder than it:
    one that does not sound strongly is always avoided there; of two strong neighbours the
    weaker is taken for the other's leakage (a harmonic, or the previous beat's note in
    the chroma's 0.37 s frames) more often than for a dissonance the song plays.
    """
    upper = np.asarray(chroma[:12], dtype=np.float64)
    strong = strong_pitch_classes(chroma)
    avoid = frozenset(
        (pc + d) % 12 for pc in strong for d in (1, 11) if upper[(pc + d) % 12] < upper[pc]
    )
    return BeatHearing(strong=strong, avoid=avoid)


def hear_stream(chroma: FloatArray, beat_in_bar: Sequence[int]) -> list[BeatHearing]:
    """What a zero-latency player hears before each beat (:class:`StreamHearing` over a
    whole piece).

    :param chroma: ``(B, 24)``: row ``i`` is the last beat heard before beat ``i`` (the
        previous beat's chroma; zeros before the first beat).
    :param beat_in_bar: Each beat's place in its bar (0: the bar's first beat).
    :returns: Per beat, the last heard beat's strong pitch classes, and as avoided the
        union of the avoided pitch classes of the last :data:`RECENT_BEATS` heard beats
        (:data:`BAR_LINE_BEATS` on a bar's first beat).
    """
    check_shape(chroma, (None, 24), name="beat chroma")
    if len(beat_in_bar) != chroma.shape[0]:
        raise ValueError(f"expected {chroma.shape[0]} places in the bar, got {len(beat_in_bar)}")
    ear = StreamHearing()
    return [ear.hear(row, place) for row, place in zip(chroma, beat_in_bar, strict=True)]


class StreamHearing:
    """What a zero-latency player hears, one beat at a time (module docstring, "Zero
    latency"): it keeps the avoided sets of the last :data:`BAR_LINE_BEATS` heard beats."""

    def __init__(self) -> None:
        self._recent: deque[frozenset[int]] = deque(maxlen=BAR_LINE_BEATS)

    def hear(self, chroma: FloatArray | None, beat_in_bar: int) -> BeatHearing:
        """Hear the beat before this one and return what this beat keeps off.

        :param chroma: The last heard beat's chroma ``(24,)``; None: silence.
        :param beat_in_bar: This beat's place in its bar (0: the bar's first beat).
        """
        heard = BeatHearing() if chroma is None else hear_beat(chroma)
        self._recent.append(heard.avoid)
        span = BAR_LINE_BEATS if beat_in_bar == 0 else RECENT_BEATS
        recent = list(self._recent)[-span:]
        return BeatHearing(strong=heard.strong, avoid=frozenset().union(*recent))

    def reset(self) -> None:
        """Forget every beat heard (a new song, or the transport jumped)."""
        self._recent.clear()


@attrs.frozen(kw_only=True)
class PlayedBeat:
    """The play-along choices for one beat (:meth:`PlayAlong.step`)."""

    chord: int
    """The chord class played (64-class vocabulary, in the song's key); ``NO_CHORD``: the
    chord track rests."""
    tones: tuple[int, ...]
    """The chord's pitch classes to voice, root first (:func:`chord_tones`), without those
    ``hearing`` avoids; ``()`` for no chord."""
    hearing: BeatHearing
    """What the beat's notes keep off (``avoid``: :func:`song_safe`) and favour among the
    chord's tones (``strong``: :func:`song_prior`)."""


class PlayAlong:
    """The play-along choices one beat at a time, as a streaming player makes them.

    :param zero_latency: Whether each beat is given the previous beat's chroma (a plugin at
        zero latency): its notes then keep off what the recent beats avoid
        (:class:`StreamHearing`); else each beat's own chroma (``kelly generate``).
    :param no_chord_above: The chord track rests where the model gives "no chord" more.
    """

    def __init__(self, *, zero_latency: bool = False, no_chord_above: float = NO_CHORD_ABOVE):
        self.zero_latency = zero_latency
        self.no_chord_above = no_chord_above
        self._ear = StreamHearing()
        self._previous = NO_CHORD

    def step(
        self,
        chords: FloatArray,
        chroma: FloatArray | None,
        key: Key,
        beat_in_bar: int = 0,
    ) -> PlayedBeat:
        """Choose one beat's chord and what its notes keep off.

        :param chords: The HarmonyPredictor's output ``(64,)`` in the song's key
            (:attr:`kelly_runtime.beat.BeatOutput.chords`).
        :param chroma: The beat chroma heard ``(24,)`` (the beat's own, or the previous
            beat's at zero latency; absolute pitch classes); None: the song is silent, and
            the model alone chooses among the key's diatonic chords.
        :param key: The song's key at this beat.
        :param beat_in_bar: This beat's place in its bar (0: the bar's first beat).
        :raises BackendError: On an array of the wrong type, dtype or shape, or with NaN/Inf
            values; the player's state is then unchanged.
        """
        row = check_frame(chords, NUM_CHORDS, name="chords")
        if chroma is not None:
            chroma = check_frame(chroma, 24, name="beat chroma")
        if chroma is None or float(row[NO_CHORD]) > self.no_chord_above:
            chord = choose_chord(row, key, no_chord_above=self.no_chord_above)
        else:
            scores = _scores(row, chroma, key)
            if self._previous != NO_CHORD:
                scores[self._previous] += KEEP_BONUS
            chord = int(np.argmax(scores))
        self._previous = chord
        if self.zero_latency:
            hearing = self._ear.hear(chroma, beat_in_bar)
        else:
            hearing = BeatHearing() if chroma is None else hear_beat(chroma)
        return PlayedBeat(
            chord=chord, tones=voice_for_song(chord_tones(chord), hearing), hearing=hearing
        )

    def reset(self) -> None:
        """Forget the previous chord and every beat heard."""
        self._ear.reset()
        self._previous = NO_CHORD


def chord_tones(index: int) -> tuple[int, ...]:
    """Pitch classes of chord class ``index``, root first then upward; ``()`` for no chord."""
    pcs = chord_pitch_classes(index)
    if not pcs:
        return ()
    root = index // 5 if index < NO_CHORD else index - NO_CHORD - 1
    return tuple(sorted(pcs, key=lambda pc: (pc - root) % 12))


def voice_for_song(tones: Sequence[int], heard: BeatHearing) -> tuple[int, ...]:
    """``tones`` (root first) without the pitch classes ``heard`` avoids."""
    return tuple(pc for pc in tones if pc % 12 not in heard.avoid)


def song_safe(pitches: npt.NDArray[np.int64], heard: BeatHearing) -> npt.NDArray[np.int64]:
    """``pitches`` whose class is not avoided (all of them if none would be left)."""
    keep = pitches[[int(p) % 12 not in heard.avoid for p in pitches]]
    return keep if keep.size else pitches


def song_prior(
    pitches: npt.NDArray[np.int64], chord: Sequence[int], heard: BeatHearing
) -> FloatArray:
    """Melody prior per pitch (log units): ``SONG_TONE_BONUS`` on the chord's tones the
    song sounds strongly, 0 elsewhere."""
    favoured = ({pc % 12 for pc in chord} & heard.strong) - heard.avoid
    return np.asarray(
        [SONG_TONE_BONUS if int(p) % 12 in favoured else 0.0 for p in pitches], dtype=np.float32
    )
