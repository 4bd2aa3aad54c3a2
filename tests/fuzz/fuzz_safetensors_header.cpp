// Fuzz target: the safetensors header parser must either accept a buffer or
// throw SafetensorsError; never crash, hang or read outside the buffer.
// Built with libFuzzer (clang, -DPREFLAB_LIBFUZZER=ON) or with the standalone
// mutation driver that CTest runs for a few seconds.
#include "core/hf/safetensors.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    try {
        const preflab::StHeader h = preflab::parseSafetensorsHeader(data, size, size, "fuzz-input");
        // An accepted header's tensors lie inside the buffer: touch each range's ends.
        volatile uint8_t sink = 0;
        for (const auto& t : h.tensors) {
            if (t.end > t.begin) sink ^= data[h.dataStart + t.begin] ^ data[h.dataStart + t.end - 1];
        }
        (void)sink;
    } catch (const preflab::SafetensorsError&) {
    }
    return 0;
}

// Seeds for the standalone driver: valid headers and near misses.
std::vector<std::string> preflabFuzzSeeds() {
    auto file = [](const std::string& json, size_t dataBytes) {
        std::string out(8, '\0');
        const uint64_t n = json.size();
        for (int i = 0; i < 8; ++i) out[static_cast<size_t>(i)] = static_cast<char>((n >> (8 * i)) & 0xFF);
        return out + json + std::string(dataBytes, '\x3f');
    };
    return {
        file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 8),
        file(R"({"__metadata__":{"format":"pt"},"w":{"dtype":"BF16","shape":[2,2],"data_offsets":[0,8]},)"
             R"("b":{"dtype":"F16","shape":[4],"data_offsets":[8,16]}})", 16),
        file(R"({"x":{"dtype":"I64","shape":[],"data_offsets":[0,8]}})", 8),
        file(R"({})", 0),
    };
}
