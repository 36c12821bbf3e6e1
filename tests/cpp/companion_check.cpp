// Runs one function of kelly_companion.h over float32 rows read from a file and writes
// the float32 results; tests/integration/test_cpp_companion.py compares them to Python.
//
//   companion_check MODE IN.f32 OUT.f32 [CHUNK]
//   companion_check bench-playalong STEPS   (PlayAlong::step's time per call, stdout)
//
// Files are raw little-endian float32, rows of a fixed width per mode.
#include "kelly_companion.h"
#include "float_io.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

namespace {
using check_io::read_floats;
using check_io::write_floats;

template <typename F>
std::vector<float> rows(const std::vector<float>& in, int width, int out_width, F&& f) {
    const std::size_t n = in.size() / width;
    std::vector<float> out(n * out_width);
    for (std::size_t r = 0; r < n; ++r) f(in.data() + r * width, out.data() + r * out_width);
    return out;
}

int spsc_check() {
    kelly::SpscQueue<kelly::BeatVector, 8> queue;
    constexpr int kCount = 20000;
    std::thread producer([&] {
        kelly::BeatVector beat{};
        for (int i = 0; i < kCount; ++i) {
            beat[0] = static_cast<float>(i);
            beat[kelly::kBeatVectorSize - 1] = static_cast<float>(-i);
            while (!queue.try_push(beat)) std::this_thread::yield();
        }
    });
    kelly::BeatVector got{};
    int expected = 0, bad = 0;
    while (expected < kCount) {
        if (!queue.try_pop(got)) {
            std::this_thread::yield();
            continue;
        }
        if (got[0] != static_cast<float>(expected) ||
            got[kelly::kBeatVectorSize - 1] != static_cast<float>(-expected))
            ++bad;
        ++expected;
    }
    producer.join();
    std::cout << "spsc " << expected << " items, " << bad << " out of order, empty "
              << queue.empty() << "\n";
    return bad == 0 && queue.empty() ? 0 : 1;
}
/// Per-call time (ns) of f over steps calls: median and p99.
template <typename F>
std::pair<double, double> time_calls(int steps, F&& f) {
    std::vector<double> ns(static_cast<std::size_t>(steps));
    for (int s = 0; s < steps; ++s) {
        const auto t0 = std::chrono::steady_clock::now();
        f(s);
        ns[s] = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
    }
    std::sort(ns.begin(), ns.end());
    return {ns[ns.size() / 2], ns[std::min(ns.size() - 1, ns.size() * 99 / 100)]};
}

/// PlayAlong::step (both modes) against harmony_context (the Emotion overload), timed in
/// the same process over the same 64 varied beats (random chroma, 1 in 8 silent; the key
/// turns from E major to E minor and back every 64 beats).
int playalong_bench(int steps) {
    std::vector<float> chroma(64 * 24), chords(64 * 64);
    std::uint32_t state = 12345u;
    const auto next = [&] { return (state = state * 1664525u + 1013904223u) / 4294967296.0f; };
    for (float& v : chroma) v = next();
    for (int b = 0; b < 64; ++b) {
        float sum = 0.0f;
        for (int c = 0; c < 64; ++c) sum += chords[b * 64 + c] = next() * next() * next();
        for (int c = 0; c < 64; ++c) chords[b * 64 + c] /= sum;
    }
    const auto heard = [&](int s) { return s % 8 == 7 ? nullptr : chroma.data() + (s % 64) * 24; };
    kelly::PlayAlong offline, streaming(true);
    kelly::SongHistory song;
    float context[kelly::kHarmonyContextSize];
    int sink = 0;
    const auto base = time_calls(steps, [&](int s) {
        kelly::harmony_context(kelly::Emotion{0.3f, -0.2f}, s % 4, heard(s), song, 4,
                               chords.data() + (s % 64) * 64, context);
        sink += context[s % 128] > 0.5f;
    });
    const auto own = time_calls(steps, [&](int s) {
        sink += offline.step(chords.data() + (s % 64) * 64, heard(s), 4, (s / 64) % 2 == 1, s % 4).chord;
    });
    const auto lag = time_calls(steps, [&](int s) {
        sink += streaming.step(chords.data() + (s % 64) * 64, heard(s), 4, (s / 64) % 2 == 1, s % 4).chord;
    });
    std::printf("harmony_context median_ns %.1f p99_ns %.1f\n", base.first, base.second);
    std::printf("PlayAlong median_ns %.1f p99_ns %.1f ratio %.2f\n", own.first, own.second,
                own.first / base.first);
    std::printf("PlayAlong(zero_latency) median_ns %.1f p99_ns %.1f ratio %.2f\n", lag.first,
                lag.second, lag.first / base.first);
    std::printf("steps %d (sink %d)\n", steps, sink);
    return 0;
}
}  // namespace

int main(int argc, char** argv) {
    if (argc >= 2 && std::string(argv[1]) == "spsc") return spsc_check();
    if (argc >= 3 && std::string(argv[1]) == "bench-playalong")
        return playalong_bench(std::stoi(argv[2]));
    if (argc >= 2 && std::string(argv[1]) == "labels") {
        for (int i = 0; i < kelly::kNumChords; ++i) {
            int pcs[4];
            const int n = kelly::chord_pitch_classes(i, pcs);
            std::cout << kelly::chord_label(i);
            for (int k = 0; k < n; ++k) std::cout << " " << pcs[k];
            std::cout << "\n";
        }
        return 0;
    }
    if (argc < 4) {
        std::cerr << "usage: companion_check MODE IN.f32 OUT.f32 [CHUNK]\n";
        return 2;
    }
    const std::string mode = argv[1];
    const std::vector<float> in = read_floats(argv[2]);
    std::vector<float> out;
    if (mode == "logmel") {
        const std::size_t chunk = argc > 4 ? std::stoul(argv[4]) : 512;
        kelly::StreamingLogMel extractor;
        for (std::size_t start = 0; start < in.size(); start += chunk) {
            const std::size_t n = std::min(chunk, in.size() - start);
            extractor.push(in.data() + start, n,
                           [&](const float* frame) { out.insert(out.end(), frame, frame + 128); });
        }
    } else if (mode == "windows") {
        kelly::WindowAverager<> averager;
        float mean[128];
        for (std::size_t r = 0; r + 128 <= in.size(); r += 128)
            if (averager.push(in.data() + r, mean)) out.insert(out.end(), mean, mean + 128);
    } else if (mode == "encode") {
        out = rows(in, 2, 64, [](const float* x, float* y) { kelly::encode_emotion(x[0], x[1], y); });
    } else if (mode == "coarse") {
        out = rows(in, 2, 16, [](const float* x, float* y) { kelly::coarse_emotion(x[0], x[1], y); });
    } else if (mode == "decode") {
        out = rows(in, 64, 2, [](const float* x, float* y) {
            const kelly::Emotion e = kelly::decode_emotion(x);
            y[0] = e.valence;
            y[1] = e.arousal;
        });
    } else if (mode == "song") {  // chroma 24 | tonic 1 | heard 1 (0: nullptr)
        out = rows(in, 24 + 2, 24, [](const float* x, float* y) {
            kelly::song_harmony(x[25] != 0.0f ? x : nullptr, static_cast<int>(x[24]), y);
        });
    } else if (mode == "harmony") {  // coarse 16 | beat 1 | heard 24 | earlier 24 | held 1 | chords 64
        out = rows(in, 16 + 1 + 24 + 24 + 1 + 64, 128, [](const float* x, float* y) {
            kelly::harmony_context(x, static_cast<int>(x[16]), x + 17, x + 41,
                                   static_cast<int>(x[65]), x + 66, y);
        });
    } else if (mode == "song-stream") {
        // reset 1 | valence, arousal | beat 1 | tonic 1 | melody relative 1 | harmony
        // relative 1 | heard 1 | chroma 24 | raw chords 64 | raw notes 128; per row
        // [melody context 64 | harmony context 128], stepped as Pipeline.step_beat steps
        kelly::MelodyHistory history;
        kelly::SongHistory song;
        float previous[kelly::kNumChords] = {}, turned[kelly::kNumChords], chords[kelly::kNumChords];
        float played[kelly::kNumPitches];
        out = rows(in, 8 + 24 + 64 + 128, 64 + 128, [&](const float* x, float* y) {
            if (x[0] != 0.0f) {
                history.reset();
                song.reset();
                std::fill(previous, previous + kelly::kNumChords, 0.0f);
                previous[kelly::kNoChord] = 1.0f;
            }
            const kelly::Emotion e{x[1], x[2]};
            const int beat = static_cast<int>(x[3]), tonic = static_cast<int>(x[4]);
            const bool melody_relative = x[5] != 0.0f, harmony_relative = x[6] != 0.0f;
            const float* chroma = x[7] != 0.0f ? x + 8 : nullptr;
            const float* raw_chords = x + 32;
            const float* raw_notes = x + 96;
            const int shift = kelly::tonic_shift(tonic);
            kelly::melody_context(e, beat, history, chroma, melody_relative ? tonic : 0, y);
            if (harmony_relative) kelly::transpose_chords(previous, turned, -shift);
            else std::copy_n(previous, kelly::kNumChords, turned);
            kelly::harmony_context(e, beat, chroma, song, harmony_relative ? tonic : 0, turned,
                                   y + 64);
            if (harmony_relative) kelly::transpose_chords(raw_chords, chords, shift);
            else std::copy_n(raw_chords, kelly::kNumChords, chords);
            song.advance(chroma, chords);
            std::copy_n(chords, kelly::kNumChords, previous);
            kelly::melody_feedback(raw_notes, played);
            history.push(played);
        });
    } else if (mode == "playalong") {
        // extra: ZERO_LATENCY [NO_CHORD_ABOVE]; rows: reset 1 | tonic 1 | minor 1 | beat in
        // bar 1 | has chroma 1 | chroma 24 | chords 64; per row: chord 1 | tone count 1 |
        // tones 4 (-1 past the count) | strong 12 | avoid 12 | song_safe of pitches 0..127
        // (1: kept) 128 | song_prior of pitches 0..127 with the voiced tones 128
        const bool zero_latency = argc > 4 && std::string(argv[4]) == "1";
        kelly::PlayAlong player = argc > 5 ? kelly::PlayAlong(zero_latency, std::stod(argv[5]))
                                           : kelly::PlayAlong(zero_latency);
        int pitches[kelly::kNumPitches], safe[kelly::kNumPitches];
        for (int p = 0; p < kelly::kNumPitches; ++p) pitches[p] = p;
        out = rows(in, 5 + 24 + 64, 30 + 2 * kelly::kNumPitches, [&](const float* x, float* y) {
            if (x[0] != 0.0f) player.reset();
            const kelly::PlayedBeat beat =
                player.step(x + 29, x[4] != 0.0f ? x + 5 : nullptr, static_cast<int>(x[1]),
                            x[2] != 0.0f, static_cast<int>(x[3]));
            y[0] = static_cast<float>(beat.chord);
            y[1] = static_cast<float>(beat.tone_count);
            for (int k = 0; k < kelly::kMaxChordTones; ++k)
                y[2 + k] = k < beat.tone_count ? static_cast<float>(beat.tones[k]) : -1.0f;
            for (int pc = 0; pc < 12; ++pc) {
                y[6 + pc] = kelly::has_pitch_class(beat.hearing.strong, pc) ? 1.0f : 0.0f;
                y[18 + pc] = kelly::has_pitch_class(beat.hearing.avoid, pc) ? 1.0f : 0.0f;
            }
            float* kept = y + 30;
            std::fill(kept, kept + kelly::kNumPitches, 0.0f);
            const int n = kelly::song_safe(pitches, kelly::kNumPitches, beat.hearing, safe);
            for (int k = 0; k < n; ++k) kept[safe[k]] = 1.0f;
            kelly::song_prior(pitches, kelly::kNumPitches, beat.tones, beat.tone_count,
                              beat.hearing, y + 30 + kelly::kNumPitches);
        });
    } else if (mode == "fit") {  // chroma 24 -> chord_fit 64
        out = rows(in, 24, 64, [](const float* x, float* y) { kelly::chord_fit(x, y); });
    } else if (mode == "compact") {  // emotion 64 | beat 1 | pitch classes 12
        out = rows(in, 77, 32, [](const float* x, float* y) {
            kelly::compact_context(x, static_cast<int>(x[64]), x + 65, y);
        });
    } else if (mode == "melody") {  // coarse 16 | beat 1 | previous 128 | heard 24 | has heard 1
        out = rows(in, 16 + 1 + 128 + 24 + 1, 64, [](const float* x, float* y) {
            kelly::melody_context(x, static_cast<int>(x[16]), x + 17, x[169] != 0.0f ? x + 145 : nullptr, y);
        });
    } else if (mode == "melody-emotion") {  // valence, arousal | beat 1 | previous 128 | chroma 24 | tonic 1
        out = rows(in, 2 + 1 + 128 + 24 + 1, 64, [](const float* x, float* y) {
            kelly::MelodyHistory history;
            history.push(x + 3);
            kelly::melody_context(kelly::Emotion{x[0], x[1]}, static_cast<int>(x[2]), history,
                                  x + 131, static_cast<int>(x[155]), y);
        });
    } else if (mode == "feedback") {  // probs 128 | threshold 1
        out = rows(in, 128 + 1, 128, [](const float* x, float* y) {
            kelly::melody_feedback(x, y, static_cast<double>(x[128]));
        });
    } else if (mode == "melody-stream") {  // reset 1 | valence, arousal | beat 1 | probs 128
        // per row: [melody context 64 | fed back 128], stepped as the pipeline steps a beat
        kelly::MelodyHistory history;
        // not a rest at first: only the first row's reset flag clears it (tests reset())
        history.push(std::vector<float>(128, 1.0f).data());
        out = rows(in, 1 + 2 + 1 + 128, 64 + 128, [&](const float* x, float* y) {
            if (x[0] != 0.0f) history.reset();
            kelly::melody_context(kelly::Emotion{x[1], x[2]}, static_cast<int>(x[3]), history,
                                  nullptr, 0, y);
            kelly::melody_feedback(x + 4, y + 64);
            history.push(y + 64);
        });
    } else if (mode == "pcs") {
        out = rows(in, 128, 12, [](const float* x, float* y) { kelly::melody_pitch_classes(x, y); });
    } else if (mode == "transpose") {  // notes 128 | pcs 12 | chords 64 | shift 1
        out = rows(in, 205, 205, [](const float* x, float* y) {
            const int s = static_cast<int>(x[204]);
            kelly::transpose_pitches(x, y, 128, s);
            kelly::transpose_pitch_classes(x + 128, y + 128, s);
            kelly::transpose_chords(x + 140, y + 140, s);
            y[204] = static_cast<float>(kelly::tonic_shift(s));
        });
    } else if (mode == "groove") {
        out = rows(in, 32, 32, [](const float* x, float* y) { kelly::decode_groove(x, y, y + 16); });
    } else if (mode == "expression") {
        out = rows(in, 16, 16, [](const float* x, float* y) {
            kelly::Expression::from_vector(x).to_vector(y);
        });
    } else if (mode == "fallback") {
        out.resize(64 + 128 + 64 + 16 + 32);
        kelly::fallback_emotion(out.data());
        kelly::fallback_melody(out.data() + 64);
        kelly::fallback_harmony(out.data() + 192);
        kelly::fallback_expression(out.data() + 256);
        kelly::fallback_groove(out.data() + 272);
    } else {
        std::cerr << "unknown mode " << mode << "\n";
        return 2;
    }
    write_floats(argv[3], out);
    return 0;
}
