#pragma once
// splitmix64: independent seeds from (run seed, index, slot), so a sample does
// not depend on what else was drawn before it. Plain C++.
#include <cstdint>

namespace preflab {

inline uint64_t mixSeed(uint64_t a, uint64_t b, uint64_t c) {
    uint64_t x = a * 0x9E3779B97F4A7C15ull ^ (b + 0x632BE59BD9B4E019ull) * 0xBF58476D1CE4E5B9ull ^ (c << 17);
    x ^= x >> 30;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 27;
    x *= 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

}  // namespace preflab
