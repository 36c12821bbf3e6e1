// Raw little-endian float32 files, read and written by the check programs of tests/cpp/.
#pragma once

#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

namespace check_io {
inline std::vector<float> read_floats(const char* path) {
    std::ifstream in(path, std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<float> out(bytes.size() / sizeof(float));
    std::memcpy(out.data(), bytes.data(), out.size() * sizeof(float));
    return out;
}

inline void write_floats(const char* path, const std::vector<float>& values) {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(values.data()),
              static_cast<std::streamsize>(values.size() * sizeof(float)));
}
}  // namespace check_io
