// kelly_companion.h: everything around Kelly's five networks, for a C++17 plugin.
//
// Header-only, standard library only. It reproduces Kelly's Python reference
// (kelly_core.encodings and kelly_runtime.backends.fallback) so a plugin computes the
// same model inputs and reads the same outputs as `kelly generate`:
//
//   StreamingLogMel   22050 Hz, n_fft 2048, hop 512, periodic Hann, no centring, power 2,
//                     128 Slaney mel bands (librosa's filterbank), 10*log10(max(p, 1e-8)),
//                     then (dB + 20) / 60. Frame k covers samples [k*512, k*512 + 2048).
//                     FFT: an iterative radix-2 complex FFT in double precision written
//                     here (tables built in the constructor; no allocation afterwards).
//   WindowAverager    mean of the frames starting in each 0.5 s window (21.533 frames);
//                     frame k belongs to window floor(k / 21.533...).
//   StreamingChroma   22050 Hz, n_fft 8192, hop 2048, periodic Hann, no centring: 60
//                     triangular semitone bands C2..B6 (A4 = 440 Hz) of the power
//                     spectrum, sqrt, minus the mean of +-6 bands, rectified, folded to 12
//                     pitch classes, divided by max(largest, 0.001); then 12 bass values
//                     (bands C2..B3 folded, not normalised). Frame k covers samples
//                     [k*2048, k*2048 + 8192); its time is its centre.
//   BeatChromaAccumulator
//                     beat-synchronous chroma: the plugin gets its beats from the host's
//                     playhead (no beat tracking here); mark(t) each beat's start, push
//                     the chroma frames, get each beat's mean frame.
//   key_correlations / key_evidence / estimate_key / KeyTracker
//                     the 24 keys' profile correlations (six published profiles,
//                     Temperley's by default; + 0.5 x the bass's), the best key with its
//                     margin over the next, and the key of everything pushed since reset().
//   StreamingEmotionFrames
//                     the EmotionRecognizer's input: one 128-value emotion frame per 0.5 s
//                     window (spectral shape, level, onsets and tempo, key-independent
//                     mode evidence from a running chroma), from the two front ends above.
//   encode_emotion / decode_emotion / coarse_emotion
//                     the 8x8 (sigma 0.3) and 4x4 (sigma 0.6) Gaussian-bump codes; decode
//                     is the same 3x3 centroid start and 12 damped Gauss-Newton steps.
//   song_harmony      what the contexts hear of the song: a beat's 24 chroma and bass
//                     values turned to the key's tonic, chroma clipped to 1, bass divided
//                     by max(its largest value, 0.05). Offline (`kelly generate`) a beat
//                     hears its own beat chroma; a zero-latency plugin the previous beat's
//                     (models trained with `-O chroma_lag=1`).
//   harmony_context (128), the HarmonyPredictor's input: [coarse emotion (16) | beat in
//                     bar (4) | song chroma (12) | song bass (12) | chroma heard the step
//                     before (12) | beats the previous chord lasted, one-hot (8) | previous
//                     chord distribution (64)], with a SongHistory (the chroma heard at
//                     the previous step, the count of beats the chord lasted).
//   compact_context (32), melody_pitch_classes.
//   melody_context (64), the MelodyTransformer's input: [coarse emotion (16) | beat in
//                     bar (4) | previous beat's top pitch: pitch class (12) + octave (8) |
//                     song chroma (12) | song bass (12)], its previous beat read from a
//                     MelodyHistory (a rest after reset()); after each beat push
//                     melody_feedback(raw model output): the pitches >= threshold, else
//                     the most probable one if 1 - prod(1 - p) >= 0.5, else a rest.
//   PlayAlong         the play-along choices per beat, as `kelly generate` makes them
//                     (kelly_runtime.generate.playalong): from the HarmonyPredictor's 64
//                     probabilities, the beat chroma heard and the key, the chord (chroma
//                     fit + 0.1 x probability, diatonic chords favoured, the previous chord
//                     kept), its tones to voice and the pitch classes the notes keep off
//                     (a semitone from a strongly sounding one) and favour; at zero latency
//                     (StreamHearing) a beat keeps off what the last 5 heard beats avoided,
//                     the last 16 at a bar line. chord_fit, hear_beat, chord_tones,
//                     diatonic_chords, voice_for_song, song_safe, song_prior.
//   chord vocabulary  64 classes: 5*root + {maj, min, dim, aug, 7}, 60 = N, 61..63 dim7;
//                     chord_label(), chord_pitch_classes().
//   key-relative vectors: tonic_shift(), transpose_pitches(), transpose_pitch_classes(),
//                     transpose_chord(), transpose_chords() (melody, chord and pitch-class
//                     vectors of files whose metadata.tonal_reference is "tonic" are
//                     relative to the key's tonic; move them up by tonic_shift(tonic)).
//   Expression (16 named fields), decode_groove (offsets, velocities).
//   fallback_* outputs of the rule-based stand-ins for a model that failed to load.
//   SpscQueue         lock-free single-producer/single-consumer ring (atomics, fixed
//                     capacity, no allocation after construction) for the audio thread's
//                     handoff, and BeatVector, the 309-float beat layout of Kelly's Python
//                     async pipeline.
//
// Everything except the constructors of StreamingLogMel, StreamingChroma and
// StreamingEmotionFrames, mel_filterbank() and chord_label() (which return std::vector /
// std::string) is allocation-free and can run on the audio thread. The companion is
// checked against vectors Kelly's Python writes (tests/integration/test_cpp_companion.py,
// test_cpp_chroma.py, test_cpp_emotion_frame.py and test_cpp_playalong.py): log-mel and
// chroma within 1e-4, beat chroma within 1e-4, key correlations within 1e-6 and the keys
// chosen exactly, emotion frames within 1e-5, decode within 1e-5, contexts, melody
// feedback and the play-along choices exact. Kelly ships this file as package data; `kelly cpp`
// writes it out.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace kelly {

// ---------------------------------------------------------------- log-mel front end
constexpr int kSampleRate = 22050;
constexpr int kFftSize = 2048;
constexpr int kHop = 512;
constexpr int kMels = 128;
constexpr int kBins = kFftSize / 2 + 1;
constexpr double kAmin = 1e-8;
constexpr double kRefPower = 1.0;
constexpr double kDbCenter = -20.0;
constexpr double kDbHalfRange = 60.0;
constexpr double kWindowSeconds = 0.5;
/// Frames starting in one 0.5 s analysis window: 0.5 * 22050 / 512 = 21.533203125.
constexpr double kFramesPerWindow = kWindowSeconds * kSampleRate / kHop;

namespace detail {
constexpr double kPi = 3.14159265358979323846;

inline double hz_to_mel(double hz) {
    const double f_sp = 200.0 / 3.0, min_log_hz = 1000.0, min_log_mel = min_log_hz / f_sp;
    const double logstep = std::log(6.4) / 27.0;
    return hz >= min_log_hz ? min_log_mel + std::log(hz / min_log_hz) / logstep : hz / f_sp;
}

inline double mel_to_hz(double mel) {
    const double f_sp = 200.0 / 3.0, min_log_hz = 1000.0, min_log_mel = min_log_hz / f_sp;
    const double logstep = std::log(6.4) / 27.0;
    return mel >= min_log_mel ? min_log_hz * std::exp(logstep * (mel - min_log_mel)) : f_sp * mel;
}

/// numpy.linspace(start, stop, num)[i]
inline double linspace(double start, double stop, int num, int i) {
    if (i == num - 1) return stop;
    const double step = (stop - start) / (num - 1);
    return start + step * i;
}
}  // namespace detail

/// Radix-2 complex FFT of a fixed power-of-two size, double precision, in place.
/// Tables are built once; transform() allocates nothing.
class Fft {
public:
    explicit Fft(int n) : n_(n), cos_(n / 2), sin_(n / 2), rev_(n) {
        int bits = 0;
        while ((1 << bits) < n) ++bits;
        for (int i = 0; i < n; ++i) {
            int r = 0;
            for (int b = 0; b < bits; ++b) r |= ((i >> b) & 1) << (bits - 1 - b);
            rev_[i] = r;
        }
        for (int k = 0; k < n / 2; ++k) {
            cos_[k] = std::cos(2.0 * detail::kPi * k / n);
            sin_[k] = -std::sin(2.0 * detail::kPi * k / n);
        }
    }
    int size() const noexcept { return n_; }
    /// Forward DFT X[k] = sum_t x[t] exp(-2 pi i k t / n), in place on (re, im).
    void transform(double* re, double* im) const noexcept {
        for (int i = 0; i < n_; ++i) {
            const int j = rev_[i];
            if (j > i) {
                std::swap(re[i], re[j]);
                std::swap(im[i], im[j]);
            }
        }
        for (int len = 2; len <= n_; len <<= 1) {
            const int half = len / 2, stride = n_ / len;
            for (int start = 0; start < n_; start += len) {
                for (int k = 0; k < half; ++k) {
                    const double wr = cos_[k * stride], wi = sin_[k * stride];
                    const int a = start + k, b = a + half;
                    const double tr = re[b] * wr - im[b] * wi, ti = re[b] * wi + im[b] * wr;
                    re[b] = re[a] - tr;
                    im[b] = im[a] - ti;
                    re[a] += tr;
                    im[a] += ti;
                }
            }
        }
    }

private:
    int n_;
    std::vector<double> cos_, sin_;
    std::vector<int> rev_;
};

/// The (128, 1025) Slaney mel filterbank, as librosa.filters.mel(sr=22050, n_fft=2048,
/// n_mels=128, htk=False, norm="slaney"); row-major.
inline std::vector<double> mel_filterbank() {
    std::vector<double> weights(static_cast<std::size_t>(kMels) * kBins, 0.0);
    std::array<double, kMels + 2> hz{};
    const double mel_lo = detail::hz_to_mel(0.0), mel_hi = detail::hz_to_mel(kSampleRate / 2.0);
    for (int i = 0; i < kMels + 2; ++i)
        hz[i] = detail::mel_to_hz(detail::linspace(mel_lo, mel_hi, kMels + 2, i));
    for (int m = 0; m < kMels; ++m) {
        const double lower_d = hz[m + 1] - hz[m], upper_d = hz[m + 2] - hz[m + 1];
        const double enorm = 2.0 / (hz[m + 2] - hz[m]);
        for (int k = 0; k < kBins; ++k) {
            const double f = k * (1.0 / (kFftSize * (1.0 / kSampleRate)));  // numpy.fft.rfftfreq
            const double lower = -(hz[m] - f) / lower_d, upper = (hz[m + 2] - f) / upper_d;
            weights[static_cast<std::size_t>(m) * kBins + k] =
                std::max(0.0, std::min(lower, upper)) * enorm;
        }
    }
    return weights;
}

/// Streaming log-mel: push samples (22050 Hz mono, in [-1, 1]) in chunks of any size;
/// each completed frame is handed to a callback as 128 floats. Identical frames to
/// Kelly's offline_log_mel for the same audio, whatever the chunking.
class StreamingLogMel {
public:
    StreamingLogMel()
        : fft_(kFftSize), filters_(mel_filterbank()), window_(kFftSize), buffer_(kFftSize),
          re_(kFftSize), im_(kFftSize), power_(kBins) {
        for (int n = 0; n < kFftSize; ++n)
            window_[n] = 0.5 - 0.5 * std::cos(2.0 * detail::kPi * n / kFftSize);  // periodic
        // the first and last non-zero bin of each band, to skip the zeros
        for (int m = 0; m < kMels; ++m) {
            int lo = kBins, hi = 0;
            for (int k = 0; k < kBins; ++k)
                if (filters_[static_cast<std::size_t>(m) * kBins + k] != 0.0) {
                    lo = std::min(lo, k);
                    hi = k + 1;
                }
            band_[m] = {lo, std::max(lo, hi)};
        }
    }

    /// Append n samples; call on_frame(const float* frame /*128*/) per completed frame.
    template <typename OnFrame>
    void push(const float* samples, std::size_t n, OnFrame&& on_frame) {
        for (std::size_t i = 0; i < n; ++i) {
            buffer_[fill_++] = static_cast<double>(samples[i]);
            if (fill_ == kFftSize) {
                compute(frame_.data());
                on_frame(static_cast<const float*>(frame_.data()));
                std::copy(buffer_.begin() + kHop, buffer_.end(), buffer_.begin());
                fill_ = kFftSize - kHop;
            }
        }
    }

    /// Forget buffered samples (a new stream).
    void reset() noexcept { fill_ = 0; }

    /// Compute the features of one full frame of kFftSize samples (no streaming state).
    void frame_features(const double* samples, float* out) {
        std::copy(samples, samples + kFftSize, buffer_.begin());
        compute(out);
    }

private:
    void compute(float* out) {
        for (int n = 0; n < kFftSize; ++n) {
            re_[n] = buffer_[n] * window_[n];
            im_[n] = 0.0;
        }
        fft_.transform(re_.data(), im_.data());
        for (int k = 0; k < kBins; ++k) power_[k] = re_[k] * re_[k] + im_[k] * im_[k];
        for (int m = 0; m < kMels; ++m) {
            double mel = 0.0;
            const double* row = filters_.data() + static_cast<std::size_t>(m) * kBins;
            for (int k = band_[m].first; k < band_[m].second; ++k) mel += power_[k] * row[k];
            const double db = 10.0 * std::log10(std::max(mel, kAmin) / kRefPower);
            out[m] = static_cast<float>((db - kDbCenter) / kDbHalfRange);
        }
    }

    Fft fft_;
    std::vector<double> filters_, window_, buffer_, re_, im_, power_;
    std::array<std::pair<int, int>, kMels> band_{};
    std::array<float, kMels> frame_{};
    int fill_ = 0;
};

/// Streaming window means: push frames, get each completed 0.5 s window's mean.
template <int Width = kMels>
class WindowAverager {
public:
    explicit WindowAverager(double frames_per_window = kFramesPerWindow)
        : per_window_(frames_per_window) {}

    /// Add one frame; returns true and writes the window mean to out when it completes one.
    bool push(const float* frame, float* out) noexcept {
        for (int i = 0; i < Width; ++i) sum_[i] += static_cast<double>(frame[i]);
        ++count_;
        ++seen_;
        const long end = static_cast<long>(std::ceil((window_ + 1) * per_window_ - 1e-9));
        if (seen_ != end) return false;
        for (int i = 0; i < Width; ++i) out[i] = static_cast<float>(sum_[i] / count_);
        sum_.fill(0.0);
        count_ = 0;
        ++window_;
        return true;
    }
    void reset() noexcept {
        sum_.fill(0.0);
        count_ = 0;
        seen_ = 0;
        window_ = 0;
    }

private:
    double per_window_;
    std::array<double, Width> sum_{};
    long count_ = 0, seen_ = 0, window_ = 0;
};

// ---------------------------------------------------------------- chroma and key
// kelly_core.encodings.chroma and keyfinding. The plugin gets its beats from the host's
// playhead, so it needs no beat tracker: StreamingChroma -> BeatChromaAccumulator (told
// each beat's start) for beat-synchronous chroma, and KeyTracker / estimate_key for the key.
constexpr int kChromaFftSize = 8192;
constexpr int kChromaHop = 2048;
constexpr int kChromaLowPitch = 36;   // C2
constexpr int kChromaHighPitch = 95;  // B6
constexpr int kChromaPitches = kChromaHighPitch - kChromaLowPitch + 1;
constexpr double kChromaTuning = 440.0;  // A4
constexpr double kChromaWidth = 1.0;     // triangle half-width, semitones
constexpr int kChromaContrastRadius = 6;
constexpr double kChromaFloor = 1e-3;
constexpr int kBassHighPitch = 59;  // B3: the bass columns' highest band
constexpr int kChromaFrameSize = 24;  // chroma 12, then bass 12
constexpr double kBassWeight = 0.5;   // the bass's share of a key's evidence

/// Centre of chroma frame k in seconds: (k * 2048 + 4096) / 22050.
inline double chroma_frame_time(long k) {
    return (static_cast<double>(k) * kChromaHop + kChromaFftSize / 2.0) / kSampleRate;
}

/// Streaming chroma: push samples (22050 Hz mono) in chunks of any size; each completed
/// frame is handed to a callback as 24 floats. Frame k covers samples
/// [k*2048, k*2048 + 8192): periodic Hann, FFT / 2048, power, 60 triangular semitone
/// bands C2..B6 (A4 = 440 Hz), sqrt. Values 0..11 (index 0 = C): each band minus the mean
/// over +-6 bands (ends clamped), rectified, summed per pitch class, divided by
/// max(largest class, 0.001). Values 12..23: the bass, the bands C2..B3 summed per pitch
/// class, not normalised. Identical frames to Kelly's offline_chroma whatever the chunking.
class StreamingChroma {
public:
    StreamingChroma()
        : fft_(kChromaFftSize), window_(kChromaFftSize), buffer_(kChromaFftSize),
          re_(kChromaFftSize), im_(kChromaFftSize) {
        for (int n = 0; n < kChromaFftSize; ++n)
            window_[n] = 0.5 - 0.5 * std::cos(2.0 * detail::kPi * n / kChromaFftSize);
        const double bin_hz = static_cast<double>(kSampleRate) / kChromaFftSize;
        for (int p = 0; p < kChromaPitches; ++p) {
            Band& band = bands_[p];
            band.first = static_cast<int>(weights_.size());
            for (int k = 1; k <= kChromaFftSize / 2; ++k) {
                const double pitch = 69.0 + 12.0 * std::log2(k * bin_hz / kChromaTuning);
                const double w =
                    std::max(0.0, 1.0 - std::abs(pitch - (kChromaLowPitch + p)) / kChromaWidth);
                if (w <= 0.0) continue;
                if (band.count == 0) band.bin = k;
                weights_.push_back(w);  // bins of a band are consecutive
                ++band.count;
            }
        }
    }

    /// Append n samples; call on_frame(const float* frame /*24*/) per completed frame.
    template <typename OnFrame>
    void push(const float* samples, std::size_t n, OnFrame&& on_frame) {
        for (std::size_t i = 0; i < n; ++i) {
            buffer_[fill_++] = static_cast<double>(samples[i]);
            if (fill_ == kChromaFftSize) {
                compute(frame_.data());
                on_frame(static_cast<const float*>(frame_.data()));
                std::copy(buffer_.begin() + kChromaHop, buffer_.end(), buffer_.begin());
                fill_ = kChromaFftSize - kChromaHop;
            }
        }
    }

    /// Forget buffered samples (a new stream).
    void reset() noexcept { fill_ = 0; }

private:
    struct Band {
        int first = 0, bin = 0, count = 0;  // weights_[first .. first+count) on bins bin..
    };

    void compute(float* out) {
        for (int n = 0; n < kChromaFftSize; ++n) {
            re_[n] = buffer_[n] * window_[n];
            im_[n] = 0.0;
        }
        fft_.transform(re_.data(), im_.data());
        constexpr double scale = kChromaFftSize / 4.0;
        std::array<double, kChromaPitches> magnitude{};
        for (int p = 0; p < kChromaPitches; ++p) {
            const Band& band = bands_[p];
            double energy = 0.0;
            for (int j = 0; j < band.count; ++j) {
                const double r = re_[band.bin + j] / scale, i = im_[band.bin + j] / scale;
                energy += (r * r + i * i) * weights_[band.first + j];
            }
            magnitude[p] = std::sqrt(energy);
        }
        std::array<double, 12> chroma{}, bass{};
        for (int p = 0; p < kChromaPitches; ++p) {
            double sum = 0.0;
            for (int j = -kChromaContrastRadius; j <= kChromaContrastRadius; ++j)
                sum += magnitude[std::min(std::max(p + j, 0), kChromaPitches - 1)];
            const double mean = sum / (2 * kChromaContrastRadius + 1);
            chroma[(kChromaLowPitch + p) % 12] += std::max(magnitude[p] - mean, 0.0);
            if (kChromaLowPitch + p <= kBassHighPitch) bass[(kChromaLowPitch + p) % 12] += magnitude[p];
        }
        double top = kChromaFloor;
        for (double c : chroma) top = std::max(top, c);
        for (int c = 0; c < 12; ++c) {
            out[c] = static_cast<float>(chroma[c] / top);
            out[12 + c] = static_cast<float>(bass[c]);
        }
    }

    Fft fft_;
    std::vector<double> window_, buffer_, re_, im_, weights_;
    std::array<Band, kChromaPitches> bands_{};
    std::array<float, kChromaFrameSize> frame_{};
    int fill_ = 0;
};

/// Streaming beat-synchronous chroma (Kelly's BeatChromaAccumulator): mark(t) says a beat
/// starts at t seconds (the host's playhead; same clock as chroma_frame_time), push(frame)
/// adds the next chroma frame; a beat ends when a frame centred at or after the next
/// mark arrives, and on_beat(const float* mean /*24*/) gets the mean of its frames (zeros
/// if none). Mark a beat when its first sample is pushed: a frame comes out 4096 samples
/// after its centre, so beat i's chroma is ready about 0.28 s after beat i + 1 starts.
/// Frames before the first mark are dropped. Up to Capacity marks wait at a time.
template <int Capacity = 16>
class BeatChromaAccumulator {
public:
    /// False (and nothing marked) if t is before an earlier mark or a frame already
    /// pushed, or Capacity marks are waiting.
    bool mark(double time) noexcept {
        if (waiting_ == Capacity) return false;
        if (has_latest_ && time < latest_) return false;
        if (frames_ > 0 && time <= chroma_frame_time(frames_ - 1)) return false;
        marks_[(head_ + waiting_) % Capacity] = time;
        ++waiting_;
        latest_ = time;
        has_latest_ = true;
        return true;
    }

    template <typename OnBeat>
    void push(const float* frame, OnBeat&& on_beat) {
        const double time = chroma_frame_time(frames_++);
        while (waiting_ > 0 && time >= marks_[head_]) {
            if (open_) finish(on_beat);
            head_ = (head_ + 1) % Capacity;
            --waiting_;
            open_ = true;
        }
        if (!open_) return;
        for (int c = 0; c < kChromaFrameSize; ++c) sum_[c] += static_cast<double>(frame[c]);
        ++count_;
    }

    /// End of the stream: the open beat, then zeros for each beat marked but not reached.
    template <typename OnBeat>
    void close(OnBeat&& on_beat) {
        if (open_) finish(on_beat);
        for (; waiting_ > 0; --waiting_) finish(on_beat);
        open_ = false;
        head_ = 0;
    }

    void reset() noexcept {
        sum_.fill(0.0);
        count_ = 0;
        frames_ = 0;
        head_ = waiting_ = 0;
        open_ = has_latest_ = false;
    }

private:
    template <typename OnBeat>
    void finish(OnBeat&& on_beat) {
        std::array<float, kChromaFrameSize> mean{};
        for (int c = 0; c < kChromaFrameSize; ++c)
            mean[c] = count_ > 0 ? static_cast<float>(sum_[c] / count_) : 0.0f;
        on_beat(static_cast<const float*>(mean.data()));
        sum_.fill(0.0);
        count_ = 0;
    }

    std::array<double, Capacity> marks_{};
    std::array<double, kChromaFrameSize> sum_{};
    long count_ = 0, frames_ = 0;
    int head_ = 0, waiting_ = 0;
    double latest_ = 0.0;
    bool open_ = false, has_latest_ = false;
};

/// Key profiles (tonic first; major then minor), as kelly_core.encodings.keyfinding.
enum class KeyProfile { Krumhansl, Temperley, Aarden, Bellman, Albrecht, Sapp };

namespace detail {
inline const double* key_profile(KeyProfile profile, bool minor) {
    static constexpr double kTables[6][2][12] = {
        {{6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88},
         {6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17}},
        {{0.748, 0.060, 0.488, 0.082, 0.670, 0.460, 0.096, 0.715, 0.104, 0.366, 0.057, 0.400},
         {0.712, 0.084, 0.474, 0.618, 0.049, 0.460, 0.105, 0.747, 0.404, 0.067, 0.133, 0.330}},
        {{17.7661, 0.145624, 14.9265, 0.160186, 19.8049, 11.3587, 0.291248, 22.062, 0.145624,
          8.15494, 0.232998, 4.95122},
         {18.2648, 0.737619, 14.0499, 16.8599, 0.702494, 14.4362, 0.702494, 18.6161, 4.56621,
          1.93186, 7.37619, 1.75623}},
        {{16.80, 0.86, 12.95, 1.41, 13.49, 11.93, 1.25, 20.28, 1.80, 8.04, 0.62, 10.57},
         {18.16, 0.69, 12.99, 13.34, 1.07, 11.15, 1.38, 21.07, 7.49, 1.53, 0.92, 10.21}},
        {{0.238, 0.006, 0.111, 0.006, 0.137, 0.094, 0.016, 0.214, 0.009, 0.080, 0.008, 0.081},
         {0.220, 0.006, 0.104, 0.123, 0.019, 0.103, 0.012, 0.214, 0.062, 0.022, 0.061, 0.052}},
        {{2, 0, 1, 0, 1, 1, 0, 2, 0, 1, 0, 1}, {2, 0, 1, 1, 0, 1, 0, 2, 1, 0, 0.5, 0.5}},
    };
    return kTables[static_cast<int>(profile)][minor ? 1 : 0];
}

/// Centre a 12-vector and scale it to unit norm (zero stays zero).
inline void unit_centred(const double* in, double* out) {
    double mean = 0.0;
    for (int i = 0; i < 12; ++i) mean += in[i];
    mean /= 12.0;
    double norm = 0.0;
    for (int i = 0; i < 12; ++i) {
        out[i] = in[i] - mean;
        norm += out[i] * out[i];
    }
    norm = std::sqrt(norm);
    for (int i = 0; i < 12; ++i) out[i] = norm > 1e-12 ? out[i] / norm : 0.0;
}
}  // namespace detail

/// Pearson correlation of a chroma (12 non-negative weights, index 0 = C) with the 24
/// keys (C..B major, then C..B minor); 0 for a constant chroma.
inline void key_correlations(const double* chroma, double* out,
                             KeyProfile profile = KeyProfile::Temperley) {
    double x[12];
    detail::unit_centred(chroma, x);
    for (int minor = 0; minor < 2; ++minor) {
        double t[12];
        detail::unit_centred(detail::key_profile(profile, minor == 1), t);
        for (int tonic = 0; tonic < 12; ++tonic) {
            double r = 0.0;
            for (int i = 0; i < 12; ++i) r += x[i] * t[(i - tonic + 12) % 12];
            out[12 * minor + tonic] = r;
        }
    }
}

/// Evidence for the 24 keys from `width` values: 12 (a chroma: its correlations) or 24
/// (a frame sum: the chroma's correlations + 0.5 x the bass's).
inline void key_evidence(const double* values, int width, double* out,
                         KeyProfile profile = KeyProfile::Temperley) {
    key_correlations(values, out, profile);
    if (width != kChromaFrameSize) return;
    double bass[24];
    key_correlations(values + 12, bass, profile);
    for (int k = 0; k < 24; ++k) out[k] += kBassWeight * bass[k];
}

struct KeyEstimate {
    int index = 0;            // tonic + 12 * minor
    double score = 0.0;       // its evidence
    double confidence = 0.0;  // score minus the runner-up's
    int runner_up = 1;
    int tonic() const noexcept { return index % 12; }
    bool minor() const noexcept { return index >= 12; }
};

/// The best key (ties: major first, lower tonic first) and its margin over the next, from
/// `width` values (12: a chroma; 24: summed chroma-and-bass frames).
inline KeyEstimate estimate_key(const double* values, int width = kChromaFrameSize,
                                KeyProfile profile = KeyProfile::Temperley) {
    double r[24];
    key_evidence(values, width, r, profile);
    KeyEstimate e;
    e.index = 0;
    for (int k = 1; k < 24; ++k)
        if (r[k] > r[e.index]) e.index = k;
    e.runner_up = e.index == 0 ? 1 : 0;
    for (int k = 0; k < 24; ++k)
        if (k != e.index && r[k] > r[e.runner_up]) e.runner_up = k;
    e.score = r[e.index];
    e.confidence = r[e.index] - r[e.runner_up];
    return e;
}

/// The key of everything pushed since the last reset: estimate_key of the summed 24-value
/// frames (Kelly's estimate_key(frames.sum(axis=0))). Reset it where the song changes.
class KeyTracker {
public:
    void push(const float* frame) noexcept {
        for (int c = 0; c < kChromaFrameSize; ++c) sum_[c] += static_cast<double>(frame[c]);
    }
    KeyEstimate key(KeyProfile profile = KeyProfile::Temperley) const noexcept {
        return estimate_key(sum_.data(), kChromaFrameSize, profile);
    }
    void reset() noexcept { sum_.fill(0.0); }

private:
    std::array<double, kChromaFrameSize> sum_{};
};

// ---------------------------------------------------------------- emotion frame
// kelly_core.encodings.emotion_frame: the EmotionRecognizer's 128 inputs per 0.5 s window
// (docs/encodings.md, "Emotion frame"). Columns: shape 0..63 | level 64 | level_spread 65
// | flux, flux_low, flux_high 66..68 | onset_rate 69 | pulse_clarity 70 | tempo 71 |
// tempogram 72..83 | 20 mode cues 84..103 | tonic_chroma 104..115 | window_tonic_chroma
// 116..127.
constexpr int kEmotionFrameSize = 128;
constexpr int kShapeBands = 64;
constexpr double kFluxScale = 10.0;
constexpr double kOnsetDelta = 0.02;
constexpr int kOnsetContext = 16;
constexpr double kOnsetRateScale = 10.0;
constexpr double kRunningChromaSeconds = 8.0;
constexpr double kFluxLowHz = 200.0;
constexpr double kFluxHighHz = 4000.0;
constexpr int kTempoHistory = 256;
constexpr int kTempoBins = 12;

namespace detail {
/// Best Pearson correlation of a 12-vector with a chord shape over the 12 roots.
inline double best_shape_fit(const double* unit, const int* shape, int notes) {
    double t[12] = {}, best = -std::numeric_limits<double>::infinity();
    for (int i = 0; i < notes; ++i) t[shape[i]] = 1.0;
    double u[12];
    unit_centred(t, u);
    for (int root = 0; root < 12; ++root) {
        double r = 0.0;
        for (int i = 0; i < 12; ++i) r += unit[(i + root) % 12] * u[i];
        best = std::max(best, r);
    }
    return best;
}
}  // namespace detail

/// Streaming emotion frames: push samples (22050 Hz mono) in chunks of any size; each
/// finished 0.5 s window is handed to a callback as 128 floats. A window is the log-mel
/// WindowAverager's; it finishes with its last log-mel frame and reads the chroma frames
/// complete by then. Identical frames to Kelly's offline_emotion_frames (within float
/// precision) whatever the chunking. Allocation-free after construction.
class StreamingEmotionFrames {
public:
    StreamingEmotionFrames() {
        const std::vector<double> filters = mel_filterbank();
        for (int m = 0; m < kMels; ++m) {
            double weight = 0.0, moment = 0.0;
            for (int k = 0; k < kBins; ++k) {
                const double w = filters[static_cast<std::size_t>(m) * kBins + k];
                weight += w;
                moment += w * k * static_cast<double>(kSampleRate) / kFftSize;
            }
            low_[m] = moment / weight < kFluxLowHz;
            high_[m] = moment / weight > kFluxHighHz;
            lows_ += low_[m] ? 1 : 0;
            highs_ += high_[m] ? 1 : 0;
        }
        const double fps = static_cast<double>(kSampleRate) / kHop;
        const double step = std::log(240.0 / 40.0) / (kTempoBins - 1);
        for (int b = 0; b < kTempoBins; ++b) {
            const double centre = 40.0 * std::exp(step * b);
            const double lo = centre * std::exp(-step / 2), hi = centre * std::exp(step / 2);
            lag_first_[b] = 0;
            lag_count_[b] = 0;
            for (int lag = static_cast<int>(60 * fps / hi); lag <= static_cast<int>(60 * fps / lo) + 1;
                 ++lag) {
                const double bpm = 60 * fps / lag;
                if (lag > 0 && lo <= bpm && bpm < hi) {
                    if (lag_count_[b] == 0) lag_first_[b] = lag;
                    ++lag_count_[b];  // consecutive lags
                }
            }
            if (lag_count_[b] == 0) {
                lag_first_[b] = static_cast<int>(std::lround(60 * fps / centre));
                lag_count_[b] = 1;
            }
            const double octaves = std::log2(40.0 / 120.0 * std::pow(6.0, b / 11.0));
            prior_[b] = std::exp(-0.5 * octaves * octaves);
        }
        decay_ = std::exp(-static_cast<double>(kChromaHop) / kSampleRate / kRunningChromaSeconds);
        reset();
    }

    /// Append n samples; call on_frame(const float* frame /*128*/) per finished window.
    template <typename OnFrame>
    void push(const float* samples, std::size_t n, OnFrame&& on_frame) {
        for (std::size_t i = 0; i < n; ++i) {  // chroma first: a frame ending on this sample
            chroma_.push(samples + i, 1, [&](const float* frame) { add_chroma(frame); });
            mel_.push(samples + i, 1, [&](const float* frame) {
                if (add_mel(frame)) on_frame(static_cast<const float*>(out_.data()));
            });
        }
    }

    /// Start a new stream.
    void reset() noexcept {
        mel_.reset();
        chroma_.reset();
        seen_ = window_ = 0;
        has_previous_ = above_ = false;
        flux_count_ = 0;
        running_.fill(0.0);
        last_window_.fill(0.0);
        clear_window();
    }

private:
    void clear_window() noexcept {
        band_sum_.fill(0.0);
        window_chroma_.fill(0.0);
        chroma_count_ = 0;
        frames_ = 0;
        power_sum_ = 0.0;
        min_level_ = std::numeric_limits<double>::infinity();
        max_level_ = -min_level_;
        flux_sum_[0] = flux_sum_[1] = flux_sum_[2] = 0.0;
        onsets_ = 0;
    }

    void add_chroma(const float* frame) noexcept {
        for (int c = 0; c < kChromaFrameSize; ++c)
            running_[c] = decay_ * running_[c] + static_cast<double>(frame[c]);
        for (int c = 0; c < 12; ++c) window_chroma_[c] += static_cast<double>(frame[c]);
        ++chroma_count_;
    }

    double flux_at(long back) const noexcept {  // back = 1: the latest flux value
        return flux_[static_cast<std::size_t>((flux_count_ - back) % kTempoHistory)];
    }

    bool add_mel(const float* frame) noexcept {
        double rise[3] = {0.0, 0.0, 0.0}, power = 0.0;
        for (int m = 0; m < kMels; ++m) {
            const double v = static_cast<double>(frame[m]);
            const double r = has_previous_ ? std::max(v - previous_[m], 0.0) : 0.0;
            rise[0] += r;
            rise[1] += low_[m] ? r : 0.0;
            rise[2] += high_[m] ? r : 0.0;
            previous_[m] = v;
            band_sum_[m] += v;
            power += std::pow(10.0, (v * kDbHalfRange + kDbCenter) / 10.0);
        }
        has_previous_ = true;
        const double flux = rise[0] / kMels;
        const long context = std::min<long>(flux_count_, kOnsetContext);
        double before = 0.0;
        for (long k = 1; k <= context; ++k) before += flux_at(k);
        const double threshold = (context > 0 ? before / context : 0.0) + kOnsetDelta;
        const bool above = flux > threshold;
        onsets_ += above && !above_ ? 1 : 0;
        above_ = above;
        flux_[static_cast<std::size_t>(flux_count_ % kTempoHistory)] = flux;
        ++flux_count_;
        flux_sum_[0] += flux;
        flux_sum_[1] += rise[1] / lows_;
        flux_sum_[2] += rise[2] / highs_;
        power_sum_ += power;
        const double level = (10.0 * std::log10(power / kMels) - kDbCenter) / kDbHalfRange;
        min_level_ = std::min(min_level_, level);
        max_level_ = std::max(max_level_, level);
        ++frames_;
        ++seen_;
        const long end = static_cast<long>(std::ceil((window_ + 1) * kFramesPerWindow - 1e-9));
        if (seen_ != end) return false;
        finish();
        ++window_;
        clear_window();
        return true;
    }

    void finish() noexcept {
        float* out = out_.data();
        double means[kShapeBands], peak = -std::numeric_limits<double>::infinity();
        for (int b = 0; b < kShapeBands; ++b) {
            means[b] = (band_sum_[2 * b] / frames_ + band_sum_[2 * b + 1] / frames_) / 2.0;
            peak = std::max(peak, means[b]);
        }
        for (int b = 0; b < kShapeBands; ++b)
            out[b] = static_cast<float>(std::max(means[b] - peak, -1.0));
        out[64] = static_cast<float>(
            (10.0 * std::log10(power_sum_ / (static_cast<double>(kMels) * frames_)) - kDbCenter) /
            kDbHalfRange);
        out[65] = static_cast<float>(max_level_ - min_level_);
        for (int c = 0; c < 3; ++c) out[66 + c] = static_cast<float>(kFluxScale * flux_sum_[c] / frames_);
        out[69] = static_cast<float>(onsets_ / kWindowSeconds / kOnsetRateScale);
        tempo(out + 70);
        mode(out + 84);
    }

    void tempo(float* out) const noexcept {
        const long size = std::min<long>(flux_count_, kTempoHistory);
        double x[kTempoHistory], mean = 0.0, energy = 0.0;
        for (long i = 0; i < size; ++i) {
            x[i] = flux_at(size - i);
            mean += x[i];
        }
        mean = size > 0 ? mean / size : 0.0;
        for (long i = 0; i < size; ++i) {
            x[i] -= mean;
            energy += x[i] * x[i];
        }
        for (int i = 0; i < 2 + kTempoBins; ++i) out[i] = 0.0f;
        if (energy <= 1e-12) return;
        const double fps = static_cast<double>(kSampleRate) / kHop;
        double best_score = -std::numeric_limits<double>::infinity(), largest = best_score;
        int best_lag = 1;
        for (int b = 0; b < kTempoBins; ++b) {
            double value = -std::numeric_limits<double>::infinity();
            int at = lag_first_[b];
            for (int lag = lag_first_[b]; lag < lag_first_[b] + lag_count_[b]; ++lag) {
                double r = 0.0;
                for (long i = lag; i < size; ++i) r += x[i] * x[i - lag];
                r = lag < size ? r / energy : 0.0;
                if (r > value) {
                    value = r;
                    at = lag;
                }
            }
            out[2 + b] = static_cast<float>(value);
            largest = std::max(largest, value);
            if (value * prior_[b] > best_score) {
                best_score = value * prior_[b];
                best_lag = at;
            }
        }
        out[0] = static_cast<float>(std::min(std::max(largest, 0.0), 1.0));
        out[1] = static_cast<float>(std::log2(60.0 * fps / best_lag / 120.0) / 1.6);
    }

    void mode(float* out) noexcept {
        static constexpr int kMajor[] = {0, 4, 7}, kMinor[] = {0, 3, 7}, kDim[] = {0, 3, 6},
                             kAug[] = {0, 4, 8}, kDom[] = {0, 4, 7, 10};
        double win[12], evidence[24], window_keys[24], bass[24], unit[12];
        double win_peak = 0.0, win_mean = 0.0, prev_peak = 0.0, dot = 0.0, nw = 0.0, prev_norm = 0.0;
        for (int c = 0; c < 12; ++c) {
            win[c] = chroma_count_ > 0 ? window_chroma_[c] / chroma_count_ : 0.0;
            win_peak = std::max(win_peak, win[c]);
            win_mean += win[c] / 12.0;
            prev_peak = std::max(prev_peak, last_window_[c]);
            dot += win[c] * last_window_[c];
            nw += win[c] * win[c];
            prev_norm += last_window_[c] * last_window_[c];
        }
        const KeyEstimate key = estimate_key(running_.data(), kChromaFrameSize);
        key_evidence(running_.data(), kChromaFrameSize, evidence);
        key_correlations(win, window_keys);
        key_correlations(running_.data() + 12, bass);
        auto best = [](const double* r, int from) {
            double m = r[from];
            for (int k = from + 1; k < from + 12; ++k) m = std::max(m, r[k]);
            return m;
        };
        const double scale = 1.0 + kBassWeight;
        double fits[2][5];
        const double* sources[2] = {running_.data(), win};
        for (int s = 0; s < 2; ++s) {
            detail::unit_centred(sources[s], unit);
            double norm = 0.0;
            for (double u : unit) norm += u * u;
            const int* shapes[5] = {kMajor, kMinor, kDim, kAug, kDom};
            const int notes[5] = {3, 3, 3, 3, 4};
            for (int k = 0; k < 5; ++k)
                fits[s][k] = norm > 0.0 ? detail::best_shape_fit(unit, shapes[k], notes[k]) : 0.0;
        }
        const int tonic = key.tonic();
        const double norms = std::sqrt(nw) * std::sqrt(prev_norm);
        const double cues[20] = {
            best(evidence, 0) / scale, best(evidence, 12) / scale,
            best(evidence, 0) / scale - best(evidence, 12) / scale, key.confidence / scale,
            best(window_keys, 0), best(window_keys, 12),
            best(window_keys, 0) - best(window_keys, 12),
            fits[0][0], fits[0][1], fits[0][0] - fits[0][1],
            fits[1][0], fits[1][1], fits[1][0] - fits[1][1],
            fits[1][2], fits[1][3], fits[1][4],
            win_peak > 1e-12 && prev_peak > 1e-12 ? 1.0 - (norms > 1e-12 ? dot / norms : 0.0)
                                                  : 0.0,
            win_peak > 1e-12 ? 1.0 - win_mean / win_peak : 0.0,
            best(bass, 0) - best(bass, 12),
            evidence[tonic] / scale - evidence[12 + tonic] / scale,
        };
        for (int i = 0; i < 20; ++i) out[i] = static_cast<float>(cues[i]);
        double run_peak = 0.0;
        for (int c = 0; c < 12; ++c) run_peak = std::max(run_peak, running_[c]);
        for (int i = 0; i < 12; ++i) {
            const int c = (i + tonic) % 12;
            out[20 + i] = run_peak > 1e-12 ? static_cast<float>(running_[c] / run_peak) : 0.0f;
            out[32 + i] = win_peak > 1e-12 ? static_cast<float>(win[c] / win_peak) : 0.0f;
        }
        for (int c = 0; c < 12; ++c) last_window_[c] = win[c];
    }

    StreamingLogMel mel_;
    StreamingChroma chroma_;
    std::array<bool, kMels> low_{}, high_{};
    int lows_ = 0, highs_ = 0;
    std::array<int, kTempoBins> lag_first_{}, lag_count_{};
    std::array<double, kTempoBins> prior_{};
    double decay_ = 0.0;
    std::array<double, kMels> previous_{}, band_sum_{};
    std::array<double, kTempoHistory> flux_{};
    std::array<double, kChromaFrameSize> running_{};
    std::array<double, 12> window_chroma_{}, last_window_{};
    std::array<float, kEmotionFrameSize> out_{};
    long seen_ = 0, window_ = 0, flux_count_ = 0, frames_ = 0, chroma_count_ = 0;
    int onsets_ = 0;
    double power_sum_ = 0.0, min_level_ = 0.0, max_level_ = 0.0, flux_sum_[3] = {0.0, 0.0, 0.0};
    bool has_previous_ = false, above_ = false;
};

// ---------------------------------------------------------------- emotion codes
constexpr int kEmotionGrid = 8;
constexpr int kEmotionSize = 64;
constexpr double kEmotionSigma = 0.3;
constexpr int kCoarseGrid = 4;
constexpr int kCoarseSize = 16;
constexpr double kCoarseSigma = 0.6;

struct Emotion {
    float valence = 0.0f;  ///< in [-1, 1]
    float arousal = 0.0f;  ///< in [-1, 1]
};

namespace detail {
inline double center(int grid, int i) { return linspace(-1.0, 1.0, grid, i); }
inline double clip(double x, double lo, double hi) { return std::min(std::max(x, lo), hi); }

template <int Grid>
inline void encode_bumps(double valence, double arousal, double sigma, float* out) {
    const double v = clip(valence, -1.0, 1.0), a = clip(arousal, -1.0, 1.0);
    std::array<double, Grid> ev{}, ea{};
    for (int i = 0; i < Grid; ++i) {
        const double dv = v - center(Grid, i), da = a - center(Grid, i);
        ev[i] = std::exp(-(dv * dv) / (2 * (sigma * sigma)));
        ea[i] = std::exp(-(da * da) / (2 * (sigma * sigma)));
    }
    for (int i = 0; i < Grid; ++i)
        for (int j = 0; j < Grid; ++j) out[Grid * i + j] = static_cast<float>(2.0 * (ev[i] * ea[j]) - 1.0);
}

/// Solve the 4x4 system a x = b by Gaussian elimination with partial pivoting.
inline void solve4(std::array<std::array<double, 4>, 4> a, std::array<double, 4> b, double* x) {
    for (int col = 0; col < 4; ++col) {
        int pivot = col;
        for (int r = col + 1; r < 4; ++r)
            if (std::fabs(a[r][col]) > std::fabs(a[pivot][col])) pivot = r;
        std::swap(a[col], a[pivot]);
        std::swap(b[col], b[pivot]);
        for (int r = col + 1; r < 4; ++r) {
            const double f = a[r][col] / a[col][col];
            for (int c = col; c < 4; ++c) a[r][c] -= f * a[col][c];
            b[r] -= f * b[col];
        }
    }
    for (int r = 3; r >= 0; --r) {
        double s = b[r];
        for (int c = r + 1; c < 4; ++c) s -= a[r][c] * x[c];
        x[r] = s / a[r][r];
    }
}
}  // namespace detail

/// The 64-value code of (valence, arousal), each clipped to [-1, 1]: 8x8 bumps, sigma 0.3.
inline void encode_emotion(double valence, double arousal, float* out64) {
    detail::encode_bumps<kEmotionGrid>(valence, arousal, kEmotionSigma, out64);
}

/// The coarse 16-value code: 4x4 bumps, sigma 0.6 (the DynamicsEngine's context).
inline void coarse_emotion(double valence, double arousal, float* out16) {
    detail::encode_bumps<kCoarseGrid>(valence, arousal, kCoarseSigma, out16);
}

/// Decode a 64-value code (exact or a network's noisy output) to (valence, arousal).
inline Emotion decode_emotion(const float* code64) noexcept {
    constexpr int G = kEmotionGrid;
    std::array<double, kEmotionSize> g{};
    double gmin = std::numeric_limits<double>::infinity(), gmax = -gmin;
    for (int k = 0; k < kEmotionSize; ++k) {
        double x = static_cast<double>(code64[k]);
        if (std::isnan(x)) x = -1.0;
        if (std::isinf(x)) x = x > 0 ? 1.0 : -1.0;
        g[k] = detail::clip((x + 1.0) / 2.0, 0.0, 1.0);
        gmin = std::min(gmin, g[k]);
        gmax = std::max(gmax, g[k]);
    }
    std::array<double, G> c{};
    for (int i = 0; i < G; ++i) c[i] = detail::center(G, i);
    // start: centroid of the 3x3 neighbourhood of the strongest bump (edges repeat)
    int best = 0;
    for (int k = 1; k < kEmotionSize; ++k)
        if (g[k] > g[best]) best = k;
    const int iv = best / G, ia = best % G;
    int rows[3], cols[3];
    for (int d = 0; d < 3; ++d) {
        rows[d] = std::min(std::max(iv + d - 1, 0), G - 1);
        cols[d] = std::min(std::max(ia + d - 1, 0), G - 1);
    }
    double w[3][3], total = 0.0;
    for (int r = 0; r < 3; ++r)
        for (int q = 0; q < 3; ++q) {
            w[r][q] = g[G * rows[r] + cols[q]] + 1e-9;
            total += w[r][q];
        }
    double v = 0.0, a = 0.0;
    for (int r = 0; r < 3; ++r) {
        double row_sum = 0.0;
        for (int q = 0; q < 3; ++q) row_sum += w[r][q];
        v += row_sum * c[rows[r]];
    }
    for (int q = 0; q < 3; ++q) {
        double col_sum = 0.0;
        for (int r = 0; r < 3; ++r) col_sum += w[r][q];
        a += col_sum * c[cols[q]];
    }
    v /= total;
    a /= total;
    double scale = 1.0, offset = 0.0;
    const double s2 = kEmotionSigma * kEmotionSigma, damping = 1e-6;
    for (int step = 0; step < 12; ++step) {
        std::array<double, G> ev{}, ea{};
        for (int i = 0; i < G; ++i) {
            ev[i] = std::exp(-((v - c[i]) * (v - c[i])) / (2 * s2));
            ea[i] = std::exp(-((a - c[i]) * (a - c[i])) / (2 * s2));
        }
        std::array<std::array<double, 4>, 4> jtj{};
        std::array<double, 4> jtr{};
        for (int i = 0; i < G; ++i)
            for (int j = 0; j < G; ++j) {
                const double m = ev[i] * ea[j];
                const double row[4] = {scale * (m * ((c[i] - v) / s2)),
                                       scale * (m * ((c[j] - a) / s2)), m, 1.0};
                const double resid = g[G * i + j] - (scale * m + offset);
                for (int p = 0; p < 4; ++p) {
                    jtr[p] += row[p] * resid;
                    for (int q = 0; q < 4; ++q) jtj[p][q] += row[p] * row[q];
                }
            }
        for (int p = 0; p < 4; ++p) jtj[p][p] += damping;
        double delta[4];
        detail::solve4(jtj, jtr, delta);
        delta[0] = detail::clip(delta[0], -0.25, 0.25);
        delta[1] = detail::clip(delta[1], -0.25, 0.25);
        v = detail::clip(v + delta[0], -1.0, 1.0);
        a = detail::clip(a + delta[1], -1.0, 1.0);
        scale = detail::clip(scale + delta[2], 1e-3, 2.0);
        offset = detail::clip(offset + delta[3], -1.0, 1.0);
    }
    if (gmax - gmin < 1e-3) return {};  // a constant code: the neutral point
    return {static_cast<float>(v), static_cast<float>(a)};
}

// ---------------------------------------------------------------- chords
constexpr int kNumChords = 64;
constexpr int kNoChord = 60;
constexpr int kCMajor = 0;
constexpr int kDim7Base = 61;
constexpr const char* kRootNames[12] = {"C", "C#", "D", "Eb", "E", "F",
                                        "F#", "G", "Ab", "A", "Bb", "B"};
constexpr const char* kQualities[5] = {"maj", "min", "dim", "aug", "7"};

/// "C:maj", "A:min", "N", "C#:dim7" for class 0..63 (empty string out of range).
/// Returns a std::string (allocates): for display, off the audio thread.
inline std::string chord_label(int index) {
    if (index < 0 || index >= kNumChords) return {};
    if (index == kNoChord) return "N";
    if (index > kNoChord) return std::string(kRootNames[index - kDim7Base]) + ":dim7";
    return std::string(kRootNames[index / 5]) + ":" + kQualities[index % 5];
}

/// Sorted pitch classes of a chord class; returns how many (0 for N) written to out[4].
inline int chord_pitch_classes(int index, int* out) {
    static constexpr int kIntervals[5][4] = {{0, 4, 7, -1}, {0, 3, 7, -1}, {0, 3, 6, -1},
                                             {0, 4, 8, -1}, {0, 4, 7, 10}};
    if (index < 0 || index >= kNumChords || index == kNoChord) return 0;
    int n = 0;
    if (index > kNoChord) {
        for (int i : {0, 3, 6, 9}) out[n++] = (index - kDim7Base + i) % 12;
    } else {
        for (int i : kIntervals[index % 5])
            if (i >= 0) out[n++] = (index / 5 + i) % 12;
    }
    for (int i = 1; i < n; ++i)  // insertion sort of at most 4 values
        for (int k = i; k > 0 && out[k - 1] > out[k]; --k) std::swap(out[k - 1], out[k]);
    return n;
}

/// Index of the largest value (the first of equal ones), as numpy.argmax.
inline int argmax(const float* values, int n) noexcept {
    int best = 0;
    for (int i = 1; i < n; ++i)
        if (values[i] > values[best]) best = i;
    return best;
}

// ---------------------------------------------------------------- key-relative vectors
/// Transposition from C to the tonic (pitch class), nearest in register: -5..+6.
inline int tonic_shift(int tonic) noexcept {
    const int pc = ((tonic % 12) + 12) % 12;
    return pc > 6 ? pc - 12 : pc;
}

/// out[p + s] = in[p] over n pitches; pitches moved out of range drop, vacated ones are 0.
inline void transpose_pitches(const float* in, float* out, int n, int semitones) noexcept {
    for (int p = 0; p < n; ++p) out[p] = 0.0f;
    for (int p = 0; p < n; ++p) {
        const int q = p + semitones;
        if (q >= 0 && q < n) out[q] = in[p];
    }
}

/// Rotate a 12-value pitch-class vector up by semitones (index 0 = C).
inline void transpose_pitch_classes(const float* in, float* out, int semitones) noexcept {
    for (int p = 0; p < 12; ++p) out[(((p + semitones) % 12) + 12) % 12] = in[p];
}

/// Chord class with its root moved up by semitones (N stays N; dim7 stays among dim7s).
inline int transpose_chord(int index, int semitones) noexcept {
    if (index < 0 || index >= kNumChords || index == kNoChord) return index;
    if (index > kNoChord) return kNoChord + 1 + (((index - kNoChord - 1 + semitones) % 3) + 3) % 3;
    return 5 * ((((index / 5) + semitones) % 12 + 12) % 12) + index % 5;
}

/// Move a 64-value chord distribution's mass up by semitones.
inline void transpose_chords(const float* in, float* out, int semitones) noexcept {
    for (int i = 0; i < kNumChords; ++i) out[i] = 0.0f;
    for (int i = 0; i < kNumChords; ++i) out[transpose_chord(i, semitones)] = in[i];
}

// ---------------------------------------------------------------- contexts
constexpr int kBeatsPerBar = 4;
constexpr int kNumPitches = 128;
constexpr int kPitchClasses = 12;

// ---------------------------------------------------------------- the song's harmony
// kelly_core.encodings.context.song_harmony: what the HarmonyPredictor and the
// MelodyTransformer hear of the song. A beat's chroma frame (24 values, absolute pitch
// classes: BeatChromaAccumulator's mean of StreamingChroma frames) is rotated so index 0
// is the key's tonic (for a key-relative model; tonic 0 keeps absolute pitch classes),
// its chroma half clipped to [0, 1] and its bass half divided by max(its largest value,
// kSongBassFloor).
constexpr int kSongWidth = 2 * kPitchClasses;  ///< chroma 12, then bass 12
constexpr double kSongBassFloor = 0.05;

/// song_harmony: out24 from a beat's 24 absolute chroma and bass values (negative values
/// count as 0; nullptr: nothing heard, all zeros). tonic: the key's tonic pitch class.
inline void song_harmony(const float* chroma24, int tonic, float* out24) noexcept {
    if (chroma24 == nullptr) {
        std::fill(out24, out24 + kSongWidth, 0.0f);
        return;
    }
    const int t = ((tonic % kPitchClasses) + kPitchClasses) % kPitchClasses;
    float bass_top = 0.0f;
    for (int i = 0; i < kPitchClasses; ++i) {
        const int from = (i + t) % kPitchClasses;
        const float chroma = std::max(chroma24[from], 0.0f);
        const float bass = std::max(chroma24[kPitchClasses + from], 0.0f);
        out24[i] = std::min(chroma, 1.0f);
        out24[kPitchClasses + i] = bass;
        bass_top = std::max(bass_top, bass);
    }
    const float top = std::max(bass_top, static_cast<float>(kSongBassFloor));
    for (int i = kPitchClasses; i < kSongWidth; ++i) out24[i] /= top;
}

// ---------------------------------------------------------------- harmony context
constexpr int kHarmonyHeldSlots = 8;  ///< one-hot of the beats the previous chord lasted
constexpr int kHarmonyContextSize = 128;

namespace harmony_offset {
/// Columns of the harmony context: coarse emotion, beat one-hot, the song's chroma and
/// bass heard, the chroma heard a beat earlier, beats the previous chord lasted, previous
/// chord distribution.
constexpr int emotion = 0, beat = 16, chroma = 20, bass = 32, earlier = 44, held = 56,
              previous = 64;
}  // namespace harmony_offset

/// HarmonyPredictor input (128): [coarse emotion code (16) | beat-in-bar one-hot (4) |
/// the song's chroma (12) and bass (12) heard | the chroma heard the step before (12) |
/// beats the previous chord has lasted, one-hot (8; slot min(held, 8) - 1, all zero when
/// held is 0: no previous chord) | previous chord distribution (64)]. heard24 and
/// earlier24 are song_harmony() outputs (earlier24's bass half is not read).
inline void harmony_context(const float* coarse16, int beat_in_bar, const float* heard24,
                            const float* earlier24, int held, const float* previous_chords64,
                            float* out128) noexcept {
    namespace at = harmony_offset;
    std::copy(coarse16, coarse16 + kCoarseSize, out128);
    std::fill(out128 + at::beat, out128 + at::chroma, 0.0f);
    out128[at::beat + ((beat_in_bar % kBeatsPerBar) + kBeatsPerBar) % kBeatsPerBar] = 1.0f;
    std::copy(heard24, heard24 + kSongWidth, out128 + at::chroma);
    std::copy(earlier24, earlier24 + kPitchClasses, out128 + at::earlier);
    std::fill(out128 + at::held, out128 + at::previous, 0.0f);
    if (held > 0) out128[at::held + std::min(held, kHarmonyHeldSlots) - 1] = 1.0f;
    std::copy(previous_chords64, previous_chords64 + kNumChords, out128 + at::previous);
}

/// What the harmony context carries from beat to beat, as Kelly's Pipeline keeps it: the
/// song's chroma heard at the previous step (absolute pitch classes; zeros after reset())
/// and how many beats the previous chord (the argmax of the distribution the
/// HarmonyPredictor gave, in the song's key) has lasted: 0 before the first beat, 1 when
/// it changed, one more for each beat it stayed. Call advance() after each beat.
class SongHistory {
public:
    /// A new song: nothing heard before, no previous chord.
    void reset() noexcept {
        earlier_.fill(0.0f);
        held_ = 0;
        chord_ = -1;
    }
    /// After a beat: the chroma it heard (24 absolute values; nullptr: silence) and the
    /// chord distribution the beat gave (64 values, in the song's key).
    void advance(const float* heard24, const float* chords64) noexcept {
        const int chord = argmax(chords64, kNumChords);
        held_ = held_ > 0 && chord == chord_ ? held_ + 1 : 1;
        chord_ = chord;
        if (heard24 == nullptr) earlier_.fill(0.0f);
        else std::copy(heard24, heard24 + kSongWidth, earlier_.begin());
    }
    /// The 24 absolute values heard at the previous step.
    const float* earlier() const noexcept { return earlier_.data(); }
    /// Beats the previous chord has lasted (0: no previous chord).
    int held() const noexcept { return held_; }

private:
    std::array<float, kSongWidth> earlier_{};
    int held_ = 0;
    int chord_ = -1;
};

/// HarmonyPredictor input (128) for one beat from an already decoded emotion (its coarse
/// code; decode once per analysis window), the beat's heard chroma (24 absolute values;
/// nullptr: silence), the SongHistory before this beat, the key's tonic (tonic 0 for a
/// model whose vectors are absolute) and the previous chord distribution in the model's
/// own reference (for a key-relative model: transpose_chords by -tonic_shift(tonic)).
inline void harmony_context(const Emotion& e, int beat_in_bar, const float* chroma24,
                            const SongHistory& song, int tonic,
                            const float* previous_chords64, float* out128) noexcept {
    float coarse[kCoarseSize], heard[kSongWidth], earlier[kSongWidth];
    coarse_emotion(static_cast<double>(e.valence), static_cast<double>(e.arousal), coarse);
    song_harmony(chroma24, tonic, heard);
    song_harmony(song.earlier(), tonic, earlier);
    harmony_context(coarse, beat_in_bar, heard, earlier, song.held(), previous_chords64, out128);
}

/// Binary 12-value profile: pitch class pc is 1 when a pitch of it has prob >= threshold.
inline void melody_pitch_classes(const float* probs128, float* out12, double threshold = 0.5) {
    for (int i = 0; i < 12; ++i) out12[i] = 0.0f;
    for (int p = 0; p < kNumPitches; ++p)
        if (static_cast<double>(probs128[p]) >= threshold) out12[p % 12] = 1.0f;
}

/// DynamicsEngine input (32) from an already decoded emotion (decode once per analysis
/// window, as Kelly's Python pipeline does, rather than once per beat).
inline void compact_context(const Emotion& e, int beat_in_bar, const float* pitch_classes12,
                            float* out32) {
    coarse_emotion(static_cast<double>(e.valence), static_cast<double>(e.arousal), out32);
    for (int i = 0; i < kBeatsPerBar; ++i) out32[16 + i] = 0.0f;
    out32[16 + ((beat_in_bar % kBeatsPerBar) + kBeatsPerBar) % kBeatsPerBar] = 1.0f;
    std::copy(pitch_classes12, pitch_classes12 + 12, out32 + 20);
}

/// DynamicsEngine input (32): [coarse code of the decoded emotion (16) | beat-in-bar
/// one-hot (4) | pitch-class profile (12)].
inline void compact_context(const float* emotion64, int beat_in_bar, const float* pitch_classes12,
                            float* out32) {
    compact_context(decode_emotion(emotion64), beat_in_bar, pitch_classes12, out32);
}

// ---------------------------------------------------------------- melody context
constexpr int kMelodyHistory = 1;     ///< beats of its own melody the MelodyTransformer reads
constexpr int kMelodyOctaves = 8;     ///< octave slots of the previous beat's top pitch
constexpr int kMelodyContextSize = 64;
/// A beat sounds when 1 - prod(1 - p) over its 128 note probabilities is at least this.
constexpr double kSoundsAt = 0.5;

namespace melody_offset {
/// Columns of the melody context: coarse emotion, beat one-hot, previous beat's top pitch
/// (pitch class, octave), the song's chroma and bass heard.
constexpr int emotion = 0, beat = 16, top_class = 20, top_octave = 32, chroma = 40, bass = 52;
}  // namespace melody_offset

/// The MelodyTransformer's own previous beat of notes, 128 values, a value >= 0.5 sounds.
/// Starts (and resets) as a rest; push() the melody_feedback of each beat's raw model
/// output after the beat.
struct MelodyHistory {
    std::array<float, kMelodyHistory * kNumPitches> beats{};

    /// A rest (a new song; Kelly's Pipeline.reset()).
    void reset() noexcept { beats.fill(0.0f); }
    /// Make fed_back128 the previous beat.
    void push(const float* fed_back128) noexcept {
        std::copy_backward(beats.begin(), beats.end() - kNumPitches, beats.end());
        std::copy(fed_back128, fed_back128 + kNumPitches, beats.begin());
    }
    /// The notes of `ago` + 1 beats back (0 = the previous beat, the only one kept).
    const float* beat(int ago) const noexcept { return beats.data() + ago * kNumPitches; }
    /// The previous beat's 128 values: melody_context's previous128.
    const float* data() const noexcept { return beats.data(); }
};

/// MelodyTransformer input (64): [coarse emotion code (16) | beat-in-bar one-hot (4) |
/// previous beat's highest sounding pitch: pitch-class one-hot (12) and octave one-hot (8,
/// slot clip(pitch / 12 - 1, 0, 7)) | the song's chroma (12) and bass (12) heard].
/// previous128: the previous beat's notes (MelodyHistory::data()); a value >= 0.5 sounds,
/// a beat that rests gives zeros. heard24: song_harmony() of the beat heard (nullptr:
/// nothing heard, zeros). beat_in_bar is taken modulo 4.
inline void melody_context(const float* coarse16, int beat_in_bar, const float* previous128,
                           const float* heard24, float* out64) noexcept {
    namespace at = melody_offset;
    std::copy(coarse16, coarse16 + kCoarseSize, out64);
    std::fill(out64 + at::beat, out64 + kMelodyContextSize, 0.0f);
    out64[at::beat + ((beat_in_bar % kBeatsPerBar) + kBeatsPerBar) % kBeatsPerBar] = 1.0f;
    int top = -1;
    for (int p = 0; p < kNumPitches; ++p)
        if (previous128[p] >= 0.5f) top = p;
    if (top >= 0) {
        out64[at::top_class + top % 12] = 1.0f;
        out64[at::top_octave + std::min(std::max(top / 12 - 1, 0), kMelodyOctaves - 1)] = 1.0f;
    }
    if (heard24 != nullptr) std::copy(heard24, heard24 + kSongWidth, out64 + at::chroma);
}

/// MelodyTransformer input (64) from an already decoded emotion (its coarse code, as
/// compact_context takes it; decode once per analysis window), its MelodyHistory, the
/// beat's heard chroma (24 absolute values; nullptr: silence) and the key's tonic (0 for
/// a model whose vectors are absolute).
inline void melody_context(const Emotion& e, int beat_in_bar, const MelodyHistory& history,
                           const float* chroma24, int tonic, float* out64) noexcept {
    float coarse[kCoarseSize], heard[kSongWidth];
    coarse_emotion(static_cast<double>(e.valence), static_cast<double>(e.arousal), coarse);
    song_harmony(chroma24, tonic, heard);
    melody_context(coarse, beat_in_bar, history.data(), heard, out64);
}

/// The notes a streamed MelodyTransformer feeds back (binary 128) from its raw output
/// (in the model's own reference: before any key transposition): the pitches whose
/// probability (clipped to [0, 1]) is >= threshold; if none but the beat sounds
/// (1 - prod(1 - p) >= kSoundsAt, the product in double, summed as logs in NumPy's
/// pairwise order), the single most probable pitch (the first of equal ones); else a
/// rest (all zeros). A NaN probability makes a beat with no pitch >= threshold a rest.
/// NumPy's log1p (SIMD builds) and libm's can differ in the last bit, so only a beat whose
/// 1 - prod(1 - p) lies within about 1e-15 of 0.5 could be decided differently.
inline void melody_feedback(const float* probs128, float* out128, double threshold = 0.5) noexcept {
    std::array<double, kNumPitches> p{};
    bool any = false;
    for (int i = 0; i < kNumPitches; ++i) {
        p[i] = detail::clip(static_cast<double>(probs128[i]), 0.0, 1.0);  // NaN stays NaN
        const bool on = p[i] >= threshold;
        out128[i] = on ? 1.0f : 0.0f;
        any = any || on;
    }
    if (any) return;
    // sum of log1p(-min(p, 1 - 1e-12)) in numpy's pairwise order for 128 values:
    // eight running sums over i % 8, then ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    double r[8];
    for (int i = 0; i < kNumPitches; ++i) {
        const double x = p[i], capped = (1.0 - 1e-12 < x) ? 1.0 - 1e-12 : x;  // NaN stays NaN
        const double term = std::log1p(-capped);
        if (i < 8) r[i] = term;
        else r[i % 8] += term;
    }
    const double log_silent = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    if (!(1.0 - std::exp(log_silent) >= kSoundsAt)) return;
    int best = 0;
    for (int i = 1; i < kNumPitches; ++i)
        if (p[i] > p[best]) best = i;
    out128[best] = 1.0f;
}

// ---------------------------------------------------------------- playing along
// kelly_runtime.generate.playalong: the chord to play, its tones to voice and the pitch
// classes the notes keep off and favour, one beat at a time, from the HarmonyPredictor's
// 64 probabilities (in the song's key), the beat chroma heard (24 absolute values:
// StreamingChroma -> BeatChromaAccumulator; nullptr: silence) and the key. Per beat every
// chord class c (N excluded) scores
//   fit(c) + kModelWeight * p(c) - kOutsideKeyCost * [c not diatonic]
//          + kKeepBonus * [c = the previous beat's chord]
// fit(c): the cosine of c's template (1 on its tones) with the chroma, plus
// kRootBassWeight * the bass at c's root over the beat's largest bass value (0 where that
// is under kBassFloor), rounded to float32 as Python's chord_fit returns it. The best
// score wins (the first of equal ones, as numpy.argmax); N where p(N) > no_chord_above;
// without chroma the model alone chooses among the key's diatonic chords. A pitch class
// sounds strongly at kStrongShare of the beat's largest chroma value or more (nothing
// under kSoundingFloor); one a semitone from a strong one and quieter than it is avoided.
// At zero latency a beat avoids what the last kRecentBeats heard beats avoided
// (kBarLineBeats on a bar's first beat). Arithmetic in double, as NumPy's float64.
constexpr double kModelWeight = 0.1;      ///< MODEL_WEIGHT: the model's probability
constexpr double kRootBassWeight = 0.2;   ///< BASS_WEIGHT (kBassWeight is the key finder's)
constexpr double kBassFloor = 0.05;       ///< BASS_FLOOR: no bass to favour a root under it
constexpr double kOutsideKeyCost = 0.15;  ///< OUTSIDE_KEY_COST: a non-diatonic chord's cost
constexpr double kKeepBonus = 0.08;       ///< KEEP_BONUS: the previous beat's chord
constexpr double kStrongShare = 0.2;      ///< STRONG_SHARE of the beat's largest chroma value
constexpr double kSoundingFloor = 0.1;    ///< SOUNDING_FLOOR: a quieter beat sounds nothing
constexpr double kSongToneBonus = 2.0;    ///< SONG_TONE_BONUS: melody prior, log units
constexpr int kRecentBeats = 5;           ///< RECENT_BEATS: zero latency, inside a bar
constexpr int kBarLineBeats = 16;         ///< BAR_LINE_BEATS: zero latency, a bar's first beat
constexpr double kNoChordAbove = 0.5;     ///< NO_CHORD_ABOVE: the chord track rests above it
constexpr int kMaxChordTones = 4;

/// Pitch classes as bits: bit pc (0 = C) set for pitch class pc.
using PitchClassMask = std::uint16_t;

/// Whether pitch class pc (taken modulo 12) is in mask.
inline bool has_pitch_class(PitchClassMask mask, int pc) noexcept {
    return ((mask >> (((pc % 12) + 12) % 12)) & 1u) != 0;
}

/// Root pitch class of a chord class (0 for N, as Python's table of roots).
inline int chord_root(int index) noexcept {
    if (index > kNoChord) return index - kDim7Base;
    return index == kNoChord ? 0 : index / 5;
}

/// Pitch classes of a chord class, root first then upward (Python's chord_tones); returns
/// how many (0 for N or out of range) written to out[4].
inline int chord_tones(int index, int* out) noexcept {
    static constexpr int kIntervals[6][4] = {{0, 4, 7, -1}, {0, 3, 7, -1}, {0, 3, 6, -1},
                                             {0, 4, 8, -1}, {0, 4, 7, 10}, {0, 3, 6, 9}};
    if (index < 0 || index >= kNumChords || index == kNoChord) return 0;
    const int root = chord_root(index), shape = index > kNoChord ? 5 : index % 5;
    int n = 0;
    for (int i : kIntervals[shape])
        if (i >= 0) out[n++] = (root + i) % 12;
    return n;
}

/// The scale of a key (tonic 0..11, natural minor when minor) as a mask.
inline PitchClassMask key_scale(int tonic, bool minor) noexcept {
    static constexpr int kSteps[2][7] = {{0, 2, 4, 5, 7, 9, 11}, {0, 2, 3, 5, 7, 8, 10}};
    PitchClassMask mask = 0;
    for (int step : kSteps[minor ? 1 : 0])
        mask = static_cast<PitchClassMask>(mask | (1u << ((((tonic + step) % 12) + 12) % 12)));
    return mask;
}

/// The key's diatonic chords (Python's diatonic_chords): bit i set for each class i < 60
/// whose every tone is in the scale.
inline std::uint64_t diatonic_chords(int tonic, bool minor) noexcept {
    const PitchClassMask scale = key_scale(tonic, minor);
    std::uint64_t out = 0;
    for (int i = 0; i < kNoChord; ++i) {
        int tones[kMaxChordTones];
        const int n = chord_tones(i, tones);
        bool inside = true;
        for (int k = 0; k < n; ++k) inside = inside && has_pitch_class(scale, tones[k]);
        if (inside) out |= std::uint64_t{1} << i;
    }
    return out;
}

namespace detail {
/// Each chord class's sorted pitch classes (chord_pitch_classes), built at compile time.
struct ChordShapes {
    int pcs[kNumChords][kMaxChordTones] = {};
    int count[kNumChords] = {};
};
constexpr ChordShapes make_chord_shapes() {
    ChordShapes out;
    for (int c = 0; c < kNumChords; ++c) {
        int n = 0;
        if (c > kNoChord) {
            for (int i = 0; i < 4; ++i) out.pcs[c][n++] = (c - kDim7Base + 3 * i) % 12;
        } else if (c < kNoChord) {
            const int third = c % 5 == 0 || c % 5 == 3 || c % 5 == 4 ? 4 : 3;
            const int fifth = c % 5 == 2 ? 6 : c % 5 == 3 ? 8 : 7;
            out.pcs[c][n++] = c / 5;
            out.pcs[c][n++] = (c / 5 + third) % 12;
            out.pcs[c][n++] = (c / 5 + fifth) % 12;
            if (c % 5 == 4) out.pcs[c][n++] = (c / 5 + 10) % 12;
        }
        for (int i = 1; i < n; ++i)
            for (int k = i; k > 0 && out.pcs[c][k - 1] > out.pcs[c][k]; --k) {
                const int t = out.pcs[c][k - 1];
                out.pcs[c][k - 1] = out.pcs[c][k];
                out.pcs[c][k] = t;
            }
        out.count[c] = n;
    }
    return out;
}
inline constexpr ChordShapes kChordShapes = make_chord_shapes();
}  // namespace detail

/// How well each of the 64 chord classes fits a beat's chroma (24 absolute values;
/// negative ones count as 0): out64 (float32, as Python's chord_fit). 0 for N. NumPy's
/// BLAS may sum the cosine's products and squares in another order than here; the
/// rounding to float32 hides that except for a value within about 1e-16 of a float32
/// rounding boundary.
inline void chord_fit(const float* chroma24, float* out64) noexcept {
    double upper[12], bass[12], norm = 0.0, top = 0.0;
    for (int i = 0; i < 12; ++i) {
        upper[i] = std::max(static_cast<double>(chroma24[i]), 0.0);
        bass[i] = std::max(static_cast<double>(chroma24[12 + i]), 0.0);
        norm += upper[i] * upper[i];
        top = std::max(top, bass[i]);
    }
    norm = std::sqrt(norm);
    const double weights[2] = {1.0 / std::sqrt(3.0), 1.0 / std::sqrt(4.0)};  // 1 / sqrt(tones)
    for (int c = 0; c < kNumChords; ++c) {
        const int* pcs = detail::kChordShapes.pcs[c];  // sorted: the template's order
        const int n = detail::kChordShapes.count[c];
        double fit = 0.0;
        if (n > 0 && norm > 1e-9) {
            const double weight = weights[n - 3];
            double dot = 0.0;
            for (int k = 0; k < n; ++k) dot += weight * upper[pcs[k]];
            fit = dot / norm;
        }
        if (top >= kBassFloor) fit = fit + kRootBassWeight * (bass[chord_root(c)] / top);
        out64[c] = c == kNoChord ? 0.0f : static_cast<float>(fit);
    }
}

/// What the song sounds in one beat: the pitch classes that sound strongly and those the
/// notes keep off (a semitone from a strong one and quieter than it).
struct BeatHearing {
    PitchClassMask strong = 0;
    PitchClassMask avoid = 0;
};

/// Pitch classes whose chroma (the first 12 values) is at least kStrongShare of the
/// largest; none when the largest is under kSoundingFloor.
inline PitchClassMask strong_pitch_classes(const float* chroma) noexcept {
    double top = static_cast<double>(chroma[0]);
    for (int i = 1; i < 12; ++i) top = std::max(top, static_cast<double>(chroma[i]));
    if (top < kSoundingFloor) return 0;
    PitchClassMask mask = 0;
    for (int i = 0; i < 12; ++i)
        if (static_cast<double>(chroma[i]) >= kStrongShare * top)
            mask = static_cast<PitchClassMask>(mask | (1u << i));
    return mask;
}

/// The strongly sounding and the avoided pitch classes of a beat's chroma (24 values;
/// nullptr: silence, nothing). A pitch class is avoided when a semitone neighbour sounds
/// strongly and louder than it.
inline BeatHearing hear_beat(const float* chroma24) noexcept {
    BeatHearing heard;
    if (chroma24 == nullptr) return heard;
    heard.strong = strong_pitch_classes(chroma24);
    for (int pc = 0; pc < 12; ++pc) {
        if (!has_pitch_class(heard.strong, pc)) continue;
        for (int d : {1, 11}) {
            const int next = (pc + d) % 12;
            if (chroma24[next] < chroma24[pc])
                heard.avoid = static_cast<PitchClassMask>(heard.avoid | (1u << next));
        }
    }
    return heard;
}

/// What a zero-latency player hears, one beat at a time: a ring of the avoided sets of
/// the last kBarLineBeats heard beats (no allocation).
class StreamHearing {
public:
    /// Hear the beat before this one (24 values; nullptr: silence) and return its strong
    /// pitch classes with, as avoided, the union over the last kRecentBeats heard beats
    /// (kBarLineBeats when beat_in_bar is 0, a bar's first beat).
    BeatHearing hear(const float* chroma24, int beat_in_bar) noexcept {
        const BeatHearing heard = hear_beat(chroma24);
        recent_[head_] = heard.avoid;
        head_ = (head_ + 1) % kBarLineBeats;
        count_ = std::min(count_ + 1, kBarLineBeats);
        const int span = std::min(beat_in_bar == 0 ? kBarLineBeats : kRecentBeats, count_);
        BeatHearing out{heard.strong, 0};
        for (int k = 1; k <= span; ++k)
            out.avoid = static_cast<PitchClassMask>(
                out.avoid | recent_[(head_ - k + kBarLineBeats) % kBarLineBeats]);
        return out;
    }
    /// Forget every beat heard (a new song, or the transport jumped).
    void reset() noexcept {
        recent_.fill(0);
        head_ = count_ = 0;
    }

private:
    std::array<PitchClassMask, kBarLineBeats> recent_{};
    int head_ = 0, count_ = 0;
};

/// One beat's play-along choices (PlayAlong::step).
struct PlayedBeat {
    int chord = kNoChord;  ///< chord class in the song's key; kNoChord: the chord track rests
    int tones[kMaxChordTones] = {};  ///< its pitch classes to voice, root first, not avoided
    int tone_count = 0;              ///< how many of tones (0 for N)
    BeatHearing hearing;             ///< what the notes keep off and favour
};

/// tones (root first) without the pitch classes heard.avoid holds; returns how many were
/// written to out (which may be tones).
inline int voice_for_song(const int* tones, int count, const BeatHearing& heard,
                          int* out) noexcept {
    int n = 0;
    for (int k = 0; k < count; ++k)
        if (!has_pitch_class(heard.avoid, tones[k])) out[n++] = tones[k];
    return n;
}

/// The pitches whose class heard does not avoid (all of them if none would be left),
/// written to out; returns how many.
inline int song_safe(const int* pitches, int count, const BeatHearing& heard, int* out) noexcept {
    int n = 0;
    for (int k = 0; k < count; ++k)
        if (!has_pitch_class(heard.avoid, pitches[k])) out[n++] = pitches[k];
    if (n > 0) return n;
    std::copy(pitches, pitches + count, out);
    return count;
}

/// Melody prior per pitch (log units, float32 as Python's song_prior): kSongToneBonus on
/// the pitches whose class is one of the chord's tones that sounds strongly and is not
/// avoided, 0 elsewhere.
inline void song_prior(const int* pitches, int count, const int* tones, int tone_count,
                       const BeatHearing& heard, float* out) noexcept {
    PitchClassMask favoured = 0;
    for (int k = 0; k < tone_count; ++k)
        if (has_pitch_class(heard.strong, tones[k]) && !has_pitch_class(heard.avoid, tones[k]))
            favoured = static_cast<PitchClassMask>(favoured | (1u << (((tones[k] % 12) + 12) % 12)));
    for (int k = 0; k < count; ++k)
        out[k] = has_pitch_class(favoured, pitches[k]) ? static_cast<float>(kSongToneBonus) : 0.0f;
}

/// The play-along choices one beat at a time, as Kelly's Python PlayAlong (and `kelly
/// generate`) makes them: allocation-free, for the audio thread. zero_latency: each beat
/// is given the previous beat's chroma, and its notes keep off what the recent beats
/// avoided (StreamHearing); else each beat's own chroma.
class PlayAlong {
public:
    explicit PlayAlong(bool zero_latency = false, double no_chord_above = kNoChordAbove) noexcept
        : zero_latency_(zero_latency), no_chord_above_(no_chord_above) {}

    /// Choose one beat's chord and what its notes keep off. chords64: the HarmonyPredictor's
    /// output in the song's key; chroma24: the beat chroma heard (its own, or the previous
    /// beat's at zero latency; absolute pitch classes; nullptr: silence, and the model
    /// alone chooses among the diatonic chords); the key's tonic (0..11) and mode;
    /// beat_in_bar: 0 on a bar's first beat.
    PlayedBeat step(const float* chords64, const float* chroma24, int tonic, bool minor,
                    int beat_in_bar = 0) noexcept {
        if (tonic != tonic_ || minor != minor_) {  // a new key: its diatonic chords
            tonic_ = tonic;
            minor_ = minor;
            diatonic_ = diatonic_chords(tonic, minor);
        }
        const std::uint64_t diatonic = diatonic_;
        PlayedBeat out;
        if (static_cast<double>(chords64[kNoChord]) > no_chord_above_) {
            out.chord = kNoChord;
        } else if (chroma24 == nullptr) {
            int best = -1;
            for (int c = 0; c < kNoChord; ++c)
                if (((diatonic >> c) & 1u) != 0 && (best < 0 || chords64[c] > chords64[best]))
                    best = c;
            out.chord = best;
        } else {
            float fit[kNumChords];
            chord_fit(chroma24, fit);
            int best = -1;
            double best_score = 0.0;
            for (int c = 0; c < kNumChords; ++c) {
                if (c == kNoChord) continue;
                double score = static_cast<double>(fit[c]) +
                               kModelWeight * static_cast<double>(chords64[c]);
                if (((diatonic >> c) & 1u) == 0) score -= kOutsideKeyCost;
                if (c == previous_) score += kKeepBonus;
                if (best < 0 || score > best_score) {
                    best = c;
                    best_score = score;
                }
            }
            out.chord = best;
        }
        previous_ = out.chord;
        out.hearing = zero_latency_ ? ear_.hear(chroma24, beat_in_bar) : hear_beat(chroma24);
        int tones[kMaxChordTones];
        const int n = chord_tones(out.chord, tones);
        out.tone_count = voice_for_song(tones, n, out.hearing, out.tones);
        return out;
    }
    /// step() with the key a KeyTracker or estimate_key gave.
    PlayedBeat step(const float* chords64, const float* chroma24, const KeyEstimate& key,
                    int beat_in_bar = 0) noexcept {
        return step(chords64, chroma24, key.tonic(), key.minor(), beat_in_bar);
    }
    /// Forget the previous chord and every beat heard (a new song, or the transport jumped).
    void reset() noexcept {
        ear_.reset();
        previous_ = kNoChord;
    }
    bool zero_latency() const noexcept { return zero_latency_; }

private:
    StreamHearing ear_;
    bool zero_latency_;
    double no_chord_above_;
    int previous_ = kNoChord;
    int tonic_ = -1;  ///< the key whose diatonic chords diatonic_ holds (-1: none yet)
    bool minor_ = false;
    std::uint64_t diatonic_ = 0;
};

// ---------------------------------------------------------------- expression and groove
constexpr int kExpressionSize = 16;
constexpr const char* kExpressionFields[kExpressionSize] = {
    "velocity_mean", "velocity_spread", "accent_1",      "accent_2",
    "accent_3",      "accent_4",        "articulation",  "timing_offset",
    "timing_spread", "sustain_pedal",   "soft_pedal",    "density",
    "register",      "register_span",   "polyphony",     "velocity_trend"};

/// The DynamicsEngine's 16 values by name, each clipped to [0, 1] (units in Kelly's
/// docs/encodings.md: velocity_mean * 127 is a MIDI velocity, timing_offset 0.5 is on
/// the grid, ...).
struct Expression {
    double velocity_mean, velocity_spread, accent_1, accent_2, accent_3, accent_4,
        articulation, timing_offset, timing_spread, sustain_pedal, soft_pedal, density,
        register_, register_span, polyphony, velocity_trend;

    static Expression from_vector(const float* v16) noexcept {
        double c[kExpressionSize];
        for (int i = 0; i < kExpressionSize; ++i)
            c[i] = detail::clip(static_cast<double>(v16[i]), 0.0, 1.0);
        return {c[0], c[1], c[2],  c[3],  c[4],  c[5],  c[6],  c[7],
                c[8], c[9], c[10], c[11], c[12], c[13], c[14], c[15]};
    }
    void to_vector(float* out16) const noexcept {
        const double c[kExpressionSize] = {
            velocity_mean, velocity_spread, accent_1,      accent_2,      accent_3,  accent_4,
            articulation,  timing_offset,   timing_spread, sustain_pedal, soft_pedal, density,
            register_,     register_span,   polyphony,     velocity_trend};
        for (int i = 0; i < kExpressionSize; ++i) out16[i] = static_cast<float>(c[i]);
    }
};

constexpr int kGrooveSteps = 16;
constexpr int kGrooveSize = 32;

/// Decode a 32-value groove: offsets (in steps, [-0.5, 0.5]; 0 where silent) and
/// velocities (0..127, rounded half to even as numpy.rint).
inline void decode_groove(const float* groove32, float* offsets16, float* velocities16) noexcept {
    for (int s = 0; s < kGrooveSteps; ++s) {
        const double raw = (static_cast<double>(groove32[kGrooveSteps + s]) + 1.0) * 127.0 / 2.0;
        const double vel = detail::clip(std::nearbyint(raw), 0.0, 127.0);
        velocities16[s] = static_cast<float>(vel);
        offsets16[s] = vel > 0 ? static_cast<float>(
                                     detail::clip(static_cast<double>(groove32[s]) / 2.0, -0.5, 0.5))
                               : 0.0f;
    }
}

// ---------------------------------------------------------------- fallback heuristics
/// EmotionRecognizer fallback: the code of the neutral point (0, 0).
inline void fallback_emotion(float* out64) { encode_emotion(0.0, 0.0, out64); }
/// MelodyTransformer fallback: 1/128 for every pitch.
inline void fallback_melody(float* out128) { std::fill(out128, out128 + 128, 1.0f / 128.0f); }
/// HarmonyPredictor fallback: one-hot C major.
inline void fallback_harmony(float* out64) {
    std::fill(out64, out64 + 64, 0.0f);
    out64[kCMajor] = 1.0f;
}
/// DynamicsEngine fallback: velocity 80 with a mild downbeat accent, on the grid.
inline void fallback_expression(float* out16) {
    const double v[kExpressionSize] = {80.0 / 127, 8.0 / 64,  90.0 / 127, 75.0 / 127,
                                       82.0 / 127, 75.0 / 127, 0.45,      0.5,
                                       0.0,        0.0,        0.0,       2.0 / 16,
                                       (64.0 - 21) / 87, 12.0 / 87, 2.0 / 10, 0.5};
    for (int i = 0; i < kExpressionSize; ++i) out16[i] = static_cast<float>(v[i]);
}
/// GroovePredictor fallback: a straight rock bar (kick 100, snare 110, hats 70), no offsets.
inline void fallback_groove(float* out32) {
    constexpr int vel[kGrooveSteps] = {100, 0, 70, 0, 110, 0, 70, 0, 100, 0, 70, 0, 110, 0, 70, 0};
    for (int s = 0; s < kGrooveSteps; ++s) {
        out32[s] = 0.0f;
        out32[kGrooveSteps + s] = static_cast<float>(2.0 * vel[s] / 127.0 - 1.0);
    }
}

// ---------------------------------------------------------------- audio-thread handoff
/// Lock-free single-producer/single-consumer ring of Capacity items. One thread calls
/// try_push, one other thread calls try_pop; neither blocks or allocates.
template <typename T, std::size_t Capacity>
class SpscQueue {
    static_assert(Capacity >= 1, "capacity must be at least 1");

public:
    bool try_push(const T& item) noexcept {
        const std::size_t tail = tail_.load(std::memory_order_relaxed);
        const std::size_t next = (tail + 1) % (Capacity + 1);
        if (next == head_.load(std::memory_order_acquire)) return false;  // full
        slots_[tail] = item;
        tail_.store(next, std::memory_order_release);
        return true;
    }
    bool try_pop(T& item) noexcept {
        const std::size_t head = head_.load(std::memory_order_relaxed);
        if (head == tail_.load(std::memory_order_acquire)) return false;  // empty
        item = slots_[head];
        head_.store((head + 1) % (Capacity + 1), std::memory_order_release);
        return true;
    }
    bool empty() const noexcept {
        return head_.load(std::memory_order_acquire) == tail_.load(std::memory_order_acquire);
    }
    static constexpr std::size_t capacity() noexcept { return Capacity; }

private:
    std::array<T, Capacity + 1> slots_{};
    alignas(64) std::atomic<std::size_t> head_{0};
    alignas(64) std::atomic<std::size_t> tail_{0};
};

/// One beat as 309 floats, the layout of Kelly's async pipeline:
/// [emotion 64 | notes 128 | chords 64 | expression 16 | groove 32 |
///  beat, beat_in_bar, has_groove, valence, arousal].
constexpr int kBeatVectorSize = 64 + 128 + 64 + 16 + 32 + 5;
using BeatVector = std::array<float, kBeatVectorSize>;
namespace beat_offset {
constexpr int emotion = 0, notes = 64, chords = 192, expression = 256, groove = 272, meta = 304;
}

}  // namespace kelly
