// Runs a beat tracker file (RTNeural JSON) through RTNeural's own parser, frame by frame.
// Usage: tracker_check MODEL.json IN OUT INPUTS OUTPUTS
// IN holds float32 rows of INPUTS values; OUT gets one row of OUTPUTS values per input row.
#include <RTNeural/RTNeural.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <vector>

#include "float_io.h"

int main(int argc, char** argv) {
    if (argc != 6) {
        std::cerr << "usage: tracker_check MODEL.json IN OUT INPUTS OUTPUTS\n";
        return 2;
    }
    std::ifstream json_file(argv[1]);
    auto model = RTNeural::json_parser::parseJson<float>(json_file, true);
    if (!model) {
        std::cerr << "RTNeural could not parse " << argv[1] << "\n";
        return 1;
    }
    const auto inputs = static_cast<std::size_t>(std::atoi(argv[4]));
    const auto outputs = static_cast<std::size_t>(std::atoi(argv[5]));
    if (model->getInSize() != static_cast<int>(inputs) ||
        model->getOutSize() != static_cast<int>(outputs)) {
        std::cerr << "model sizes " << model->getInSize() << " -> " << model->getOutSize()
                  << ", expected " << inputs << " -> " << outputs << "\n";
        return 1;
    }
    const std::vector<float> rows = check_io::read_floats(argv[2]);
    std::vector<float> out;
    out.reserve(rows.size() / inputs * outputs);
    model->reset();
    for (std::size_t r = 0; r + inputs <= rows.size(); r += inputs) {
        model->forward(rows.data() + r);
        const float* answer = model->getOutputs();
        out.insert(out.end(), answer, answer + outputs);
    }
    check_io::write_floats(argv[3], out);
    return 0;
}
