// A small mutation fuzzer for gcc builds, where libFuzzer is not available:
// starts from the target's seeds and applies random byte flips, insertions,
// deletions, truncations, splices and "interesting" integers (lengths and
// offsets near boundaries) for a fixed number of seconds, calling
// LLVMFuzzerTestOneInput on each. Deterministic for a given seed. Written by
// hand because the Debian stack has no fuzzing engine for gcc; with clang,
// build the same target against libFuzzer instead (PREFLAB_LIBFUZZER).
//
// Usage: fuzz_X [seconds] [seed]
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
std::vector<std::string> preflabFuzzSeeds();
// Optional: a target's own tokens to insert (CSV quotes, JSON keys, ...),
// beside the safetensors-shaped defaults below.
__attribute__((weak)) std::vector<std::string> preflabFuzzTokens();

int main(int argc, char** argv) {
    const double seconds = argc > 1 ? std::atof(argv[1]) : 5.0;
    std::mt19937_64 rng(argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1);
    std::vector<std::string> corpus = preflabFuzzSeeds();
    const uint64_t interesting[] = {0, 1, 7, 8, 15, 16, 0x7F, 0xFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF, 0xFFFFFFFFFFFFFFFFull,
                                    1ull << 53, (1ull << 53) + 1};
    std::vector<std::string> tokens = {"\"dtype\"", "\"shape\"", "\"data_offsets\"", "[", "]", "{", "}", ",", ":", "-1",
                                       "1e308", "\"F32\"", "\"BF16\"", "\"__metadata__\"", "\\u0000", "\xff", "0.5", "null"};
    if (preflabFuzzTokens) {
        for (std::string& t : preflabFuzzTokens()) tokens.push_back(std::move(t));
    }
    const auto start = std::chrono::steady_clock::now();
    uint64_t runs = 0;
    for (const std::string& s : corpus) LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(s.data()), s.size());
    while (std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() < seconds) {
        std::string s = corpus[rng() % corpus.size()];
        const int edits = 1 + static_cast<int>(rng() % 4);
        for (int e = 0; e < edits; ++e) {
            const size_t pos = s.empty() ? 0 : rng() % (s.size() + 1);
            switch (rng() % 7) {
            case 0:
                if (!s.empty()) s[pos % s.size()] ^= static_cast<char>(1u << (rng() % 8));
                break;
            case 1: s.insert(pos, 1, static_cast<char>(rng() % 256)); break;
            case 2:
                if (!s.empty()) s.erase(pos % s.size(), 1 + rng() % 4);
                break;
            case 3: s.resize(rng() % (s.size() + 1)); break;
            case 4: s.insert(pos, tokens[rng() % tokens.size()]); break;
            case 5: {  // an interesting value as the 8-byte header length, or as decimal text
                const uint64_t v = interesting[rng() % (sizeof interesting / sizeof *interesting)];
                if (rng() % 2 && s.size() >= 8) {
                    for (int i = 0; i < 8; ++i) s[static_cast<size_t>(i)] = static_cast<char>((v >> (8 * i)) & 0xFF);
                } else {
                    s.insert(pos, std::to_string(v));
                }
                break;
            }
            default: {  // splice with another corpus entry
                const std::string& o = corpus[rng() % corpus.size()];
                if (!o.empty()) s = s.substr(0, pos) + o.substr(rng() % o.size());
            }
            }
        }
        LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(s.data()), s.size());
        ++runs;
        if (corpus.size() < 256 && rng() % 64 == 0) corpus.push_back(s);
    }
    std::printf("%llu inputs in %.1f s, no crash\n", static_cast<unsigned long long>(runs), seconds);
    return 0;
}
