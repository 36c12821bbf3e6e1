// Runs the chroma and key part of kelly_companion.h over float32 input and writes float32
// results; tests/integration/test_cpp_chroma.py compares them to Kelly's Python.
//
//   chroma_check chroma  SAMPLES.f32 OUT.f32 CHUNK   -> frames (n, 24)
//   chroma_check beats   IN.f32 OUT.f32              IN: [M, M marks, frames (n, 24)]
//   chroma_check host    IN.f32 OUT.f32 CHUNK        IN: [M, M marks, samples]: beats
//                                                    marked as a host would
//   chroma_check key     IN.f32 OUT.f32              IN rows: values 24 | width 1 |
//                                                    profile 1; OUT rows: 24 evidence |
//                                                    index | confidence | runner-up
//   chroma_check tracker IN.f32 OUT.f32              IN rows: frame 24; OUT rows: the
//                                                    key of the frames so far | confidence
#include "kelly_companion.h"
#include "float_io.h"

#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

namespace {
using check_io::read_floats;
using check_io::write_floats;
}  // namespace

int main(int argc, char** argv) {
    if (argc < 4) {
        std::cerr << "usage: chroma_check MODE IN.f32 OUT.f32 [CHUNK]\n";
        return 2;
    }
    const std::string mode = argv[1];
    const std::vector<float> in = read_floats(argv[2]);
    const std::size_t chunk = argc > 4 ? std::stoul(argv[4]) : 512;
    std::vector<float> out;
    auto keep = [&](const float* row) { out.insert(out.end(), row, row + kelly::kChromaFrameSize); };
    if (mode == "chroma") {
        kelly::StreamingChroma chroma;
        for (std::size_t start = 0; start < in.size(); start += chunk)
            chroma.push(in.data() + start, std::min(chunk, in.size() - start), keep);
    } else if (mode == "beats" || mode == "host") {
        const std::size_t marks = static_cast<std::size_t>(in[0]);
        kelly::BeatChromaAccumulator<64> beats;
        const float* data = in.data() + 1 + marks;
        const std::size_t n = in.size() - 1 - marks;
        if (mode == "beats") {
            for (std::size_t m = 0; m < marks; ++m)
                if (!beats.mark(in[1 + m])) return 3;
            for (std::size_t r = 0; r + 24 <= n; r += 24) beats.push(data + r, keep);
        } else {
            kelly::StreamingChroma chroma;
            std::size_t next = 0;
            for (std::size_t start = 0; start < n; start += chunk) {
                const std::size_t size = std::min(chunk, n - start);
                // a beat is marked when the chunk holding its first sample arrives
                while (next < marks && static_cast<double>(in[1 + next]) * kelly::kSampleRate <
                                           static_cast<double>(start + size)) {
                    if (!beats.mark(in[1 + next])) return 3;
                    ++next;
                }
                chroma.push(data + start, size,
                            [&](const float* frame) { beats.push(frame, keep); });
            }
        }
        beats.close(keep);
        if (beats.mark(-1.0)) return 4;  // before a frame already pushed: refused
    } else if (mode == "key") {
        for (std::size_t r = 0; r + 26 <= in.size(); r += 26) {
            double values[24], corr[24];
            for (int c = 0; c < 24; ++c) values[c] = in[r + c];
            const int width = static_cast<int>(in[r + 24]);
            const auto profile = static_cast<kelly::KeyProfile>(static_cast<int>(in[r + 25]));
            kelly::key_evidence(values, width, corr, profile);
            const kelly::KeyEstimate key = kelly::estimate_key(values, width, profile);
            for (double c : corr) out.push_back(static_cast<float>(c));
            out.push_back(static_cast<float>(key.index));
            out.push_back(static_cast<float>(key.confidence));
            out.push_back(static_cast<float>(key.runner_up));
        }
    } else if (mode == "tracker") {
        kelly::KeyTracker tracker;
        for (std::size_t r = 0; r + 24 <= in.size(); r += 24) {
            tracker.push(in.data() + r);
            const kelly::KeyEstimate key = tracker.key();
            out.push_back(static_cast<float>(key.index));
            out.push_back(static_cast<float>(key.confidence));
        }
    } else {
        std::cerr << "unknown mode " << mode << "\n";
        return 2;
    }
    write_floats(argv[3], out);
    return 0;
}
