// Runs one function of kelly_companion.h over float32 rows read from a file and writes
// the float32 results; tests/integration/test_cpp_companion.py compares them to Python.
//
//   companion_check MODE IN.f32 OUT.f32 [CHUNK]
//
// Files are raw little-endian float32, rows of a fixed width per mode.
#include "kelly_companion.h"
#include "float_io.h"

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
}  // namespace

int main(int argc, char** argv) {
    if (argc >= 2 && std::string(argv[1]) == "spsc") return spsc_check();
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
