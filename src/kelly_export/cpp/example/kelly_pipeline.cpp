// kelly_pipeline: stream a WAV file through Kelly's five models with RTNeural and print,
// per beat, what `kelly generate` computes for it (one JSON object per line).
//
//   kelly_pipeline MODELS_DIR AUDIO.wav [--tempo BPM] [--beats N] [--beat-times FILE]
//                  [--key NAME | --tonic PC] [--chroma-lag 0|1] [--bench STEPS] [--parity 1]
//
// The same steps as Kelly's Python pipeline (kelly_runtime.pipeline.Pipeline and
// kelly_runtime.generate.stages.run_stages), given the beats and the key:
//   - the emotion frame of every 0.5 s window streamed from the audio
//     (StreamingEmotionFrames); the EmotionRecognizer steps once per window and its valence and
//     arousal are decoded once per window (before the first window: the neutral code);
//   - before each beat every window starting at or before the beat's start time has been
//     pushed, so a beat uses the emotion of the window it starts in;
//   - the song's chroma per beat: StreamingChroma frames averaged over each beat by a
//     BeatChromaAccumulator (a frame belongs to the beat its centre falls in; the last
//     beat ends one median beat interval after it starts, as Kelly's beat grid), the
//     beat's 24 absolute chroma and bass values. A beat hears its own beat's chroma, as
//     `kelly generate` does; --chroma-lag 1 gives it the previous beat's (the first beat
//     hears silence), as a zero-latency plugin hears the song (load models trained with
//     `kelly train -O chroma_lag=1`). Each context turns the chroma to its model's tonic
//     (song_harmony; tonic 0 for a file whose vectors are absolute);
//   - per beat: MelodyTransformer([coarse code of the decoded emotion | beat in bar |
//     its own previous beat's top pitch | the song's chroma and bass] = melody_context,
//     the previous beat read from a MelodyHistory, a rest at the start) -> 128 note
//     probabilities; after the beat the notes it played, melody_feedback(raw output, 0.5)
//     (in the model's own reference, before any key transposition), are pushed onto the
//     history;
//     HarmonyPredictor([coarse emotion | beat in bar | the song's chroma and bass | the
//     chroma heard the beat before | beats its previous chord lasted | previous chords] =
//     harmony_context with a SongHistory) -> 64 chord probabilities (fed back as the next
//     beat's previous chords; one-hot N before the first beat);
//     DynamicsEngine([coarse emotion | beat in bar | pitch classes of notes >= 0.5]) -> 16
//     expression values; GroovePredictor(emotion) on each beat whose place in its bar is 0;
//   - key: a file whose metadata.tonal_reference is "tonic" (MelodyTransformer,
//     HarmonyPredictor, DynamicsEngine) works relative to the key's tonic; its notes and
//     chords are moved up by tonic_shift(tonic) into the song's key, the previous chord fed
//     back and the DynamicsEngine's pitch classes are moved down by it first (the melody
//     history stays in the MelodyTransformer's reference, untouched by the key). "absolute"
//     (or no field) leaves that stage's vectors as they are. A stage on the fallback is
//     key-relative (its tonic chord is the song's tonic). The tonic comes from --key
//     ("C", "Am", "F# minor", "Bb major": the mode does not change the shift) or --tonic
//     (0..11, 0 = C, a major key); default C major. This example does not estimate the
//     key from the audio (Kelly's Python does, with librosa's chroma); pass the key Python
//     printed;
//   - playing along: after each beat's outputs, kelly::PlayAlong (zero latency with
//     --chroma-lag 1) chooses, as `kelly generate` does, the chord to play from the chord
//     probabilities, the chroma the beat heard and the key (tonic and mode), its tones to
//     voice, and the pitch classes the notes favour (strong) and keep off (avoid);
//   - beats: --beat-times FILE gives each beat's start time in seconds and, optionally,
//     its place in the bar (0..3), one beat per line ("TIME [BEAT_IN_BAR]"; without it
//     beats are counted in fours), e.g. the grid `kelly generate` detected. Otherwise a
//     steady grid at --tempo (default 120) from 0 s, round(duration * tempo / 60) beats
//     (at least 1); --beats N cuts either to N beats (or sets the steady grid's count).
//     This example does not detect beats (Kelly's Python uses librosa's beat tracker);
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
#include <cctype>
#include <cmath>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
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
    bool relative = false;  ///< vectors relative to the key's tonic (metadata.tonal_reference)
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
        relative = fallback || info.tonal_reference == "tonic";  // fallback outputs are key-relative
    }
    const float* step() {
        if (fallback) fallback_fn(out);
        else std::copy(model->getOutputs(), model->getOutputs() + Spec::output_size, (model->forward(in), out));
        return out;
    }
};

/// One beat to step: its start time (seconds) and place in its 4/4 bar (0..3).
struct Beat {
    double time = 0.0;
    int in_bar = 0;
};

/// Read "TIME [BEAT_IN_BAR]" lines (blank lines and '#' comments skipped); times increasing.
bool read_beat_times(const std::string& path, std::vector<Beat>& beats, std::string& error) {
    std::ifstream in(path);
    if (!in) return error = path + ": cannot open the file", false;
    std::string line;
    for (long number = 1; std::getline(in, line); ++number) {
        const std::size_t hash = line.find('#');
        if (hash != std::string::npos) line.resize(hash);
        std::istringstream fields(line);
        Beat beat;
        if (!(fields >> beat.time)) {
            if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
            return error = path + ":" + std::to_string(number) + ": expected a beat time in seconds", false;
        }
        int in_bar = -1;
        const bool given = static_cast<bool>(fields >> in_bar);
        std::string extra;
        if ((!given && !fields.eof()) || (fields >> extra) || (given && (in_bar < 0 || in_bar >= kelly::kBeatsPerBar)))
            return error = path + ":" + std::to_string(number) +
                           ": expected \"TIME [BEAT_IN_BAR]\" with BEAT_IN_BAR in 0..3", false;
        if (!std::isfinite(beat.time) || beat.time < 0.0 || (!beats.empty() && beat.time <= beats.back().time))
            return error = path + ":" + std::to_string(number) + ": expected increasing times >= 0", false;
        beat.in_bar = given ? in_bar : static_cast<int>(beats.size() % kelly::kBeatsPerBar);
        beats.push_back(beat);
    }
    if (beats.empty()) return error = path + ": no beat times", false;
    return true;
}

/// Tonic pitch class of "C", "Am", "F# minor", "Bb major", "eb:min" (and in minor whether
/// the key is minor); -1 if unreadable.
int parse_key(const std::string& text, bool& minor) {
    static const int letters[7] = {9, 11, 0, 2, 4, 5, 7};  // A..G
    std::size_t i = text.find_first_not_of(' ');
    if (i == std::string::npos) return -1;
    const char letter = static_cast<char>(std::toupper(static_cast<unsigned char>(text[i])));
    if (letter < 'A' || letter > 'G') return -1;
    int pc = letters[letter - 'A'];
    ++i;
    if (i < text.size() && (text[i] == '#' || text[i] == 'b')) pc += text[i++] == '#' ? 1 : -1;
    while (i < text.size() && (text[i] == ' ' || text[i] == ':' || text[i] == '_')) ++i;
    std::string mode;
    for (; i < text.size() && text[i] != ' '; ++i)
        mode += static_cast<char>(std::tolower(static_cast<unsigned char>(text[i])));
    if (text.find_first_not_of(' ', i) != std::string::npos) return -1;
    static const char* modes[6] = {"", "maj", "major", "m", "min", "minor"};
    const auto found = std::find_if(modes, modes + 6, [&](const char* m) { return mode == m; });
    if (found == modes + 6) return -1;
    minor = found - modes >= 3;
    return (pc + 12) % 12;
}

void json_floats(const float* v, int n) {
    std::printf("[");
    for (int i = 0; i < n; ++i) std::printf(i ? ",%.9g" : "%.9g", static_cast<double>(v[i]));
    std::printf("]");
}

/// Each beat's 24 chroma and bass values heard: StreamingChroma frames averaged per beat
/// (BeatChromaAccumulator); beat i ends where beat i + 1 starts, the last one median beat
/// interval after its start (Kelly's BeatGrid.end). lag 1: beat i hears beat i - 1's (the
/// first beat zeros). A plugin marks each beat as its first sample arrives and reads a
/// beat's chroma about 0.28 s after the next beat starts.
std::vector<std::array<float, kelly::kChromaFrameSize>> song_chroma(const std::vector<float>& samples,
                                                                    const std::vector<Beat>& beats,
                                                                    int lag) {
    std::vector<double> marks;
    for (const Beat& beat : beats) marks.push_back(beat.time);
    std::vector<double> steps;
    for (std::size_t i = 1; i < marks.size(); ++i) steps.push_back(marks[i] - marks[i - 1]);
    std::sort(steps.begin(), steps.end());
    const std::size_t half = steps.size() / 2;
    const double last = steps.empty() ? 0.5
                        : steps.size() % 2 ? steps[half]
                                           : (steps[half - 1] + steps[half]) / 2.0;
    marks.push_back(marks.back() + last);  // where the last beat ends
    std::vector<std::array<float, kelly::kChromaFrameSize>> out;
    const auto on_beat = [&](const float* mean) {
        if (out.size() >= beats.size()) return;  // the end mark's own "beat"
        out.emplace_back();
        std::copy(mean, mean + kelly::kChromaFrameSize, out.back().begin());
    };
    kelly::StreamingChroma chroma;
    kelly::BeatChromaAccumulator<> accumulator;
    std::size_t next = 0;
    long frame = 0;
    chroma.push(samples.data(), samples.size(), [&](const float* values) {
        const double centre = kelly::chroma_frame_time(frame++);
        while (next < marks.size() && marks[next] <= centre) accumulator.mark(marks[next++]);
        accumulator.push(values, on_beat);
    });
    accumulator.close(on_beat);
    out.resize(beats.size());  // beats past the audio (or past 16 waiting marks): zeros
    if (lag == 1) {
        for (std::size_t i = out.size(); i-- > 1;) out[i] = out[i - 1];
        if (!out.empty()) out[0].fill(0.0f);
    }
    return out;
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
    const char* usage = "usage: kelly_pipeline MODELS_DIR AUDIO.wav [--tempo BPM] [--beats N] "
                        "[--beat-times FILE] [--key NAME | --tonic PC] [--chroma-lag 0|1] "
                        "[--bench STEPS] [--parity 1]\n";
    if (argc < 3) return std::cerr << usage, 2;
    const std::string models = argv[1], wav = argv[2];
    double tempo = 120.0;
    long beat_count = -1;
    int bench_steps = 0, tonic = 0, chroma_lag = 0;
    bool check = false, minor = false;
    std::string beat_file;
    for (int i = 3; i < argc; i += 2) {
        const std::string flag = argv[i];
        if (i + 1 >= argc) return std::cerr << flag << ": expected a value\n" << usage, 2;
        const std::string value = argv[i + 1];
        try {
            if (flag == "--tempo") tempo = std::stod(value);
            else if (flag == "--beats") beat_count = std::stol(value);
            else if (flag == "--beat-times") beat_file = value;
            else if (flag == "--bench") bench_steps = std::stoi(value);
            else if (flag == "--parity") check = value == "1";
            else if (flag == "--tonic") {
                tonic = std::stoi(value);
                minor = false;
            }
            else if (flag == "--key") tonic = parse_key(value, minor);
            else if (flag == "--chroma-lag") chroma_lag = std::stoi(value);
            else return std::cerr << "unknown option " << flag << "\n" << usage, 2;
        } catch (const std::exception&) {
            return std::cerr << flag << ": expected a number, got \"" << value << "\"\n", 2;
        }
        if (flag == "--key" && tonic < 0)
            return std::cerr << "--key: expected a tonic and an optional mode, e.g. C, Am, "
                                "\"F# minor\", \"Bb major\"; got \"" << value << "\"\n", 2;
        if (flag == "--chroma-lag" && chroma_lag != 0 && chroma_lag != 1)
            return std::cerr << "--chroma-lag: expected 0 (a beat hears itself) or 1 (the previous "
                                "beat), got " << value << "\n", 2;
        if (flag == "--tonic" && (tonic < 0 || tonic > 11))
            return std::cerr << "--tonic: expected a pitch class 0..11, got " << value << "\n", 2;
    }
    if (!(tempo > 0) || !std::isfinite(tempo)) return std::cerr << "--tempo: expected a positive BPM\n", 2;
    if (beat_count == 0 || beat_count < -1) return std::cerr << "--beats: expected a positive count\n", 2;
    Audio audio;
    std::string error;
    if (!read_wav(wav, audio, error)) return std::cerr << error << "\n", 1;
    if (audio.sample_rate != kelly::kSampleRate)
        return std::cerr << wav << ": expected 22050 Hz audio, got " << audio.sample_rate
                         << " Hz; resample first\n", 1;
    std::vector<Beat> beats;
    const double duration = static_cast<double>(audio.samples.size()) / kelly::kSampleRate;
    if (!beat_file.empty()) {
        if (!read_beat_times(beat_file, beats, error)) return std::cerr << error << "\n", 1;
        if (beat_count >= 0 && static_cast<std::size_t>(beat_count) < beats.size()) beats.resize(beat_count);
    } else {
        if (beat_count < 0) beat_count = std::max(1L, static_cast<long>(std::nearbyint(duration * tempo / 60.0)));
        for (long b = 0; b < beat_count; ++b)
            beats.push_back({b * 60.0 / tempo, static_cast<int>(b % kelly::kBeatsPerBar)});
    }

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
    kelly::StreamingEmotionFrames extractor;
    std::vector<std::array<float, kelly::kEmotionFrameSize>> windows;
    extractor.push(audio.samples.data(), audio.samples.size(), [&](const float* frame) {
        windows.emplace_back();
        std::copy(frame, frame + kelly::kEmotionFrameSize, windows.back().begin());
    });

    const std::vector<std::array<float, kelly::kChromaFrameSize>> heard =
        song_chroma(audio.samples, beats, chroma_lag);

    const int shift = kelly::tonic_shift(tonic);
    float emotion[kelly::kEmotionSize], previous[kelly::kNumChords] = {}, profile[12];
    float notes[kelly::kNumPitches], chords[kelly::kNumChords], turned[kelly::kNumChords];
    float played[kelly::kNumPitches];
    kelly::MelodyHistory history;  // a rest: nothing has sounded yet
    kelly::SongHistory song;       // nothing heard before, no previous chord
    kelly::PlayAlong player(chroma_lag == 1);  // zero latency: the previous beat's chroma
    kelly::fallback_emotion(emotion);  // the neutral code before the first window
    kelly::Emotion va = kelly::decode_emotion(emotion);
    previous[kelly::kNoChord] = 1.0f;  // in the song's key
    std::size_t pushed = 0;
    for (std::size_t beat = 0; beat < beats.size(); ++beat) {
        const double start = beats[beat].time;
        const int beat_in_bar = beats[beat].in_bar;
        while (pushed < windows.size() && pushed * kelly::kWindowSeconds <= start + 1e-9) {
            std::copy(windows[pushed].begin(), windows[pushed].end(), emotion_stage.in);
            std::copy_n(emotion_stage.step(), kelly::kEmotionSize, emotion);
            va = kelly::decode_emotion(emotion);  // once per window, not per beat
            ++pushed;
        }
        const float* chroma = heard[beat].data();
        kelly::melody_context(va, beat_in_bar, history, chroma, melody.relative ? tonic : 0,
                              melody.in);
        const float* raw_notes = melody.step();
        kelly::melody_feedback(raw_notes, played, 0.5);  // the model's own reference
        if (melody.relative) kelly::transpose_pitches(raw_notes, notes, kelly::kNumPitches, shift);
        else std::copy_n(raw_notes, kelly::kNumPitches, notes);
        if (harmony.relative) kelly::transpose_chords(previous, turned, -shift);
        else std::copy_n(previous, kelly::kNumChords, turned);
        kelly::harmony_context(va, beat_in_bar, chroma, song, harmony.relative ? tonic : 0, turned,
                               harmony.in);
        const float* raw_chords = harmony.step();
        if (harmony.relative) kelly::transpose_chords(raw_chords, chords, shift);
        else std::copy_n(raw_chords, kelly::kNumChords, chords);
        kelly::melody_pitch_classes(notes, profile, 0.5);
        if (dynamics.relative) {
            float song[12];
            std::copy_n(profile, 12, song);
            kelly::transpose_pitch_classes(song, profile, -shift);
        }
        kelly::compact_context(va, beat_in_bar, profile, dynamics.in);
        const float* expression = dynamics.step();
        const int chord = kelly::argmax(chords, kelly::kNumChords);
        const kelly::PlayedBeat play = player.step(chords, chroma, tonic, minor, beat_in_bar);
        std::printf("{\"beat\":%zu,\"beat_in_bar\":%d,\"time\":%.17g,\"tonic\":%d,\"valence\":%.9g,"
                    "\"arousal\":%.9g,\"chord\":%d,\"chord_label\":\"%s\",\"notes\":[",
                    beat, beat_in_bar, start, tonic, static_cast<double>(va.valence),
                    static_cast<double>(va.arousal), chord, kelly::chord_label(chord).c_str());
        bool first = true;
        for (int p = 0; p < kelly::kNumPitches; ++p)
            if (notes[p] >= 0.5f) std::printf(first ? "%d" : ",%d", p), first = false;
        std::printf("],\"fed_back\":[");
        first = true;
        for (int p = 0; p < kelly::kNumPitches; ++p)
            if (played[p] != 0.0f) std::printf(first ? "%d" : ",%d", p), first = false;
        std::printf("],\"note_probs\":");
        json_floats(notes, kelly::kNumPitches);
        std::printf(",\"chord_probs\":");
        json_floats(chords, kelly::kNumChords);
        std::printf(",\"played_chord\":%d,\"played_label\":\"%s\",\"played_tones\":[",
                    play.chord, kelly::chord_label(play.chord).c_str());
        for (int k = 0; k < play.tone_count; ++k) std::printf(k ? ",%d" : "%d", play.tones[k]);
        for (const auto& [name, mask] : {std::make_pair("strong", play.hearing.strong),
                                         std::make_pair("avoid", play.hearing.avoid)}) {
            std::printf("],\"%s\":[", name);
            first = true;
            for (int pc = 0; pc < 12; ++pc)
                if (kelly::has_pitch_class(mask, pc)) std::printf(first ? "%d" : ",%d", pc), first = false;
        }
        std::printf("],\"heard\":");
        json_floats(chroma, kelly::kChromaFrameSize);
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
        song.advance(chroma, chords);
        history.push(played);
    }
    return 0;
}
