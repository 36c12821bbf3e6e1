// Runs kelly_companion.h's StreamingEmotionFrames over float32 audio and writes its frames;
// tests/integration/test_cpp_emotion_frame.py compares them to Kelly's Python.
//
//   emotion_frame_check frames SAMPLES.f32 OUT.f32 CHUNK   -> frames (n, 128)
//   emotion_frame_check reset  SAMPLES.f32 OUT.f32 CHUNK   -> the same audio twice, with a
//                                                             reset() between: (2n, 128)
#include "kelly_companion.h"
#include "float_io.h"

#include <iostream>
#include <memory>
#include <string>
#include <vector>

int main(int argc, char** argv) {
    if (argc < 5) {
        std::cerr << "usage: emotion_frame_check MODE IN.f32 OUT.f32 CHUNK\n";
        return 2;
    }
    const std::string mode = argv[1];
    if (mode != "frames" && mode != "reset") {
        std::cerr << "unknown mode " << mode << "\n";
        return 2;
    }
    const std::vector<float> in = check_io::read_floats(argv[2]);
    const std::size_t chunk = std::stoul(argv[4]);
    std::vector<float> out;
    auto keep = [&](const float* row) { out.insert(out.end(), row, row + kelly::kEmotionFrameSize); };
    auto frames = std::make_unique<kelly::StreamingEmotionFrames>();
    for (int pass = 0; pass < (mode == "reset" ? 2 : 1); ++pass) {
        frames->reset();
        for (std::size_t start = 0; start < in.size(); start += chunk)
            frames->push(in.data() + start, std::min(chunk, in.size() - start), keep);
    }
    check_io::write_floats(argv[3], out);
    return 0;
}
