// kelly_pipeline: stream a WAV file through Kelly's five models with RTNeural and print,
// per beat, what `kelly generate` computes for it (one JSON object per line).
//
//   kelly_pipeline MODELS_DIR AUDIO.wav [--tempo BPM] [--beats N] [--bench STEPS] [--parity 1]
//
// The same steps as Kelly's Python pipeline (kelly_runtime.pipeline and
// kelly_runtime.generate.stages):
//   - log-mel frames streamed from the audio (StreamingLogMel), averaged per 0.5 s window
//     (WindowAverager); the EmotionRecognizer steps once per window;
//   - per beat at the tempo: every window starting at or before the beat's start time has
//     been pushed; MelodyTransformer(emotion) -> 128 note probabilities;
//     HarmonyPredictor([emotion | previous chords]) -> 64 chord probabilities (fed back as
//     the next beat's previous chords; one-hot N before the first beat);
//     DynamicsEngine([coarse emotion | beat in bar | pitch classes of notes >= 0.5]) -> 16
//     expression values; GroovePredictor(emotion) -> 32 on the first beat of each bar;
//   - before the first window the emotion is the neutral code; beats = round(duration *
//     tempo / 60), at least 1 (or --beats);
//   - a model file that is missing or fails the checks of kelly_models.h runs that stage
//     on the companion's fallback output (stderr says why).
// The audio must be 22050 Hz (PCM 16/24/32-bit or float32 WAV; channels are averaged):
// resample first (Kelly's Python resamples with soxr). --bench prints each model's step
// time (median and p99 over STEPS steps) to stderr; --parity 1 checks each loaded model
// against the <stem>.parity.json vectors beside its file and prints the largest absolute
// difference to stderr (exit status 3 when one is over the file's tolerance).
#include "kelly_models.h"
#include "kelly_companion.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

namespace {

struct Audio {
    std::vector<float> samples;
    int sample_rate = 0;
};

std::uint32_t u32(const unsigned char* p) { return p[0] | (p[1] << 8) | (p[2] << 16) | (std::uint32_t(p[3]) << 24); }
std::uint16_t u16(const unsigned char* p) { return static_cast<std::uint16_t>(p[0] | (p[1] << 8)); }

/// Read a RIFF/WAVE file: PCM 16, 24, 32-bit or IEEE float32, any channel count (averaged).
bool read_wav(const std::string& path, Audio& audio, std::string& error) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return error = path + ": cannot open the file", false;
    std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (bytes.size() < 12 || std::memcmp(bytes.data(), "RIFF", 4) || std::memcmp(bytes.data() + 8, "WAVE", 4))
        return error = path + ": not a RIFF/WAVE file", false;
    int format = 0, channels = 0, bits = 0;
    std::size_t pos = 12;
    while (pos + 8 <= bytes.size()) {
        const std::uint32_t size = u32(&bytes[pos + 4]);
        const unsigned char* body = &bytes[pos + 8];
        if (pos + 8 + size > bytes.size()) return error = path + ": truncated chunk", false;
        if (!std::memcmp(&bytes[pos], "fmt ", 4) && size >= 16) {
            format = u16(body);
            channels = u16(body + 2);
            audio.sample_rate = static_cast<int>(u32(body + 4));
            bits = u16(body + 14);
            if (format == 0xFFFE && size >= 26) format = u16(body + 24);  // WAVE_FORMAT_EXTENSIBLE
        } else if (!std::memcmp(&bytes[pos], "data", 4)) {
            if (channels <= 0) return error = path + ": data before fmt chunk", false;
            const bool pcm = format == 1 && (bits == 16 || bits == 24 || bits == 32);
            const bool fl = format == 3 && bits == 32;
            if (!pcm && !fl) return error = path + ": fmt: expected PCM 16/24/32-bit or float32", false;
            const int width = bits / 8;
            const std::size_t frames = size / (width * channels);
            audio.samples.resize(frames);
            for (std::size_t f = 0; f < frames; ++f) {
                double sum = 0.0;
                for (int c = 0; c < channels; ++c) {
                    const unsigned char* p = body + (f * channels + c) * width;
                    float x;
                    if (fl) std::memcpy(&x, p, 4);
                    else if (bits == 16) x = static_cast<std::int16_t>(u16(p)) / 32768.0f;
                    else if (bits == 24) x = static_cast<float>(static_cast<std::int32_t>(u32(p - 1) & 0xFFFFFF00u) / 2147483648.0);
                    else x = static_cast<float>(static_cast<std::int32_t>(u32(p)) / 2147483648.0);
                    sum += x;
                }
                audio.samples[f] = channels == 1 ? static_cast<float>(sum) : static_cast<float>(sum / channels);
            }
            return true;
        }
        pos += 8 + size + (size & 1);
    }
    return error = path + ": no data chunk", false;
}

/// One stage: a model when its file loaded, else the companion's fallback.
template <typename Spec>
struct Stage {
    std::unique_ptr<typename Spec::Model> model = std::make_unique<typename Spec::Model>();
    bool fallback = false;
    alignas(RTNEURAL_DEFAULT_ALIGNMENT) float in[Spec::input_size] = {};
    float out[Spec::output_size] = {};
    void (*fallback_fn)(float*) = nullptr;

    void load(const std::string& dir, void (*fb)(float*)) {
        fallback_fn = fb;
        const auto info = kelly::models::load<Spec>(dir + "/" + Spec::file_stem + ".json", *model);
        if (!info.ok()) {
            std::cerr << Spec::name << ": " << info.error << "; this stage runs on the fallback\n";
            fallback = true;
        }
    }
    const float* step() {
        if (fallback) fallback_fn(out);
        else std::copy(model->getOutputs(), model->getOutputs() + Spec::output_size, (model->forward(in), out));
        return out;
    }
};

void json_floats(const float* v, int n) {
    std::printf("[");
    for (int i = 0; i < n; ++i) std::printf(i ? ",%.9g" : "%.9g", static_cast<double>(v[i]));
    std::printf("]");
}

template <typename Spec>
bool parity(Stage<Spec>& stage, const std::string& dir) {
    if (stage.fallback) return true;
    double max_diff = 0.0;
    const std::string problem = kelly::models::check_parity<Spec>(
        dir + "/" + Spec::file_stem + ".parity.json", *stage.model, max_diff);
    std::fprintf(stderr, "parity %s max_abs_diff %.3g %s\n", Spec::name, max_diff,
                 problem.empty() ? "ok" : problem.c_str());
    return problem.empty();
}

template <typename Spec>
void bench(Stage<Spec>& stage, int steps) {
    if (stage.fallback) return;
    std::vector<double> us(steps);
    for (int i = 0; i < Spec::input_size; ++i) stage.in[i] = 0.01f * static_cast<float>(i % 7);
    for (int s = 0; s < steps; ++s) {
        const auto t0 = std::chrono::steady_clock::now();
        stage.model->forward(stage.in);
        us[s] = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
    }
    std::sort(us.begin(), us.end());
    std::fprintf(stderr, "bench %s median_us %.2f p99_us %.2f steps %d\n", Spec::name,
                 us[us.size() / 2], us[std::min(us.size() - 1, us.size() * 99 / 100)], steps);
    stage.model->reset();
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::cerr << "usage: kelly_pipeline MODELS_DIR AUDIO.wav [--tempo BPM] [--beats N] "
                     "[--bench STEPS] [--parity 1]\n";
        return 2;
    }
    const std::string models = argv[1], wav = argv[2];
    double tempo = 120.0;
    long beats = -1;
    int bench_steps = 0;
    bool check = false;
    for (int i = 3; i + 1 < argc; i += 2) {
        const std::string flag = argv[i];
        if (flag == "--tempo") tempo = std::stod(argv[i + 1]);
        else if (flag == "--beats") beats = std::stol(argv[i + 1]);
        else if (flag == "--bench") bench_steps = std::stoi(argv[i + 1]);
        else if (flag == "--parity") check = std::string(argv[i + 1]) == "1";
        else return std::cerr << "unknown option " << flag << "\n", 2;
    }
    if (!(tempo > 0)) return std::cerr << "--tempo: expected a positive BPM\n", 2;
    Audio audio;
    std::string error;
    if (!read_wav(wav, audio, error)) return std::cerr << error << "\n", 1;
    if (audio.sample_rate != kelly::kSampleRate)
        return std::cerr << wav << ": expected 22050 Hz audio, got " << audio.sample_rate
                         << " Hz; resample first\n", 1;

    namespace km = kelly::models;
    Stage<km::EmotionRecognizer> emotion_stage;
    Stage<km::MelodyTransformer> melody;
    Stage<km::HarmonyPredictor> harmony;
    Stage<km::DynamicsEngine> dynamics;
    Stage<km::GroovePredictor> groove;
    emotion_stage.load(models, kelly::fallback_emotion);
    melody.load(models, kelly::fallback_melody);
    harmony.load(models, kelly::fallback_harmony);
    dynamics.load(models, kelly::fallback_expression);
    groove.load(models, kelly::fallback_groove);
    if (check) {
        bool ok = parity(emotion_stage, models);
        ok = parity(melody, models) && ok;
        ok = parity(harmony, models) && ok;
        ok = parity(dynamics, models) && ok;
        ok = parity(groove, models) && ok;
        if (!ok) return 3;
    }
    if (bench_steps > 0) {
        bench(emotion_stage, bench_steps);
        bench(melody, bench_steps);
        bench(harmony, bench_steps);
        bench(dynamics, bench_steps);
        bench(groove, bench_steps);
    }

    // features: every 0.5 s window of the audio (a plugin would push as audio arrives)
    kelly::StreamingLogMel extractor;
    kelly::WindowAverager<> averager;
    std::vector<std::array<float, kelly::kMels>> windows;
    std::array<float, kelly::kMels> mean{};
    extractor.push(audio.samples.data(), audio.samples.size(), [&](const float* frame) {
        if (averager.push(frame, mean.data())) windows.push_back(mean);
    });

    const double duration = static_cast<double>(audio.samples.size()) / kelly::kSampleRate;
    if (beats < 0) beats = std::max(1L, static_cast<long>(std::nearbyint(duration * tempo / 60.0)));
    const double beat_s = 60.0 / tempo;
    float emotion[kelly::kEmotionSize], previous[kelly::kNumChords] = {}, profile[12];
    kelly::fallback_emotion(emotion);  // the neutral code before the first window
    previous[kelly::kNoChord] = 1.0f;
    std::size_t pushed = 0;
    for (long beat = 0; beat < beats; ++beat) {
        const double start = beat * beat_s;
        while (pushed < windows.size() && pushed * kelly::kWindowSeconds <= start + 1e-9) {
            std::copy(windows[pushed].begin(), windows[pushed].end(), emotion_stage.in);
            std::copy_n(emotion_stage.step(), kelly::kEmotionSize, emotion);
            ++pushed;
        }
        const int beat_in_bar = static_cast<int>(beat % kelly::kBeatsPerBar);
        std::copy_n(emotion, 64, melody.in);
        const float* notes = melody.step();
        kelly::harmony_context(emotion, previous, harmony.in);
        const float* chords = harmony.step();
        kelly::melody_pitch_classes(notes, profile, 0.5);
        kelly::compact_context(emotion, beat_in_bar, profile, dynamics.in);
        const float* expression = dynamics.step();
        const kelly::Emotion va = kelly::decode_emotion(emotion);
        const int chord = kelly::argmax(chords, kelly::kNumChords);
        std::printf("{\"beat\":%ld,\"beat_in_bar\":%d,\"time\":%.9g,\"valence\":%.9g,\"arousal\":%.9g,"
                    "\"chord\":%d,\"chord_label\":\"%s\",\"notes\":[",
                    beat, beat_in_bar, start, static_cast<double>(va.valence),
                    static_cast<double>(va.arousal), chord, kelly::chord_label(chord).c_str());
        bool first = true;
        for (int p = 0; p < kelly::kNumPitches; ++p)
            if (notes[p] >= 0.5f) std::printf(first ? "%d" : ",%d", p), first = false;
        std::printf("],\"note_probs\":");
        json_floats(notes, kelly::kNumPitches);
        std::printf(",\"chord_probs\":");
        json_floats(chords, kelly::kNumChords);
        std::printf(",\"expression\":");
        json_floats(expression, kelly::kExpressionSize);
        std::printf(",\"groove\":");
        if (beat_in_bar == 0) {
            std::copy_n(emotion, 64, groove.in);
            json_floats(groove.step(), kelly::kGrooveSize);
        } else {
            std::printf("null");
        }
        std::printf("}\n");
        std::copy_n(chords, kelly::kNumChords, previous);
    }
    return 0;
}
