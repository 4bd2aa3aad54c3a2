#pragma once
// A pass over n items in a shuffled order, reshuffled every epoch from the
// run's seed and a salt: the offline methods and the CPO family's stored
// ratings draw their batches from it. Plain C++.
#include "core/values/seed_mix.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

namespace preflab {

struct ShuffledCycle {
    std::vector<size_t> order;
    size_t cursor = 0;
    uint64_t epoch = 0;
    size_t next(size_t n, uint64_t seed, uint64_t salt) {
        if (cursor >= order.size()) {
            order.resize(n);
            for (size_t i = 0; i < n; ++i) order[i] = i;
            std::mt19937_64 rng(mixSeed(seed, salt, epoch++));
            std::shuffle(order.begin(), order.end(), rng);
            cursor = 0;
        }
        return order[cursor++];
    }
};

}  // namespace preflab
