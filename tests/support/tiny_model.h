#pragma once
// A tiny transformer for numerical tests: fast, and small enough for
// finite differences in double precision.
#include "core/nn/transformer.h"
#include "core/runtime/compute_threads.h"

#include <torch/utils.h>

namespace preflab::test {

inline TransformerConfig tinyConfig() {
    TransformerConfig c;
    c.vocabSize = 260;
    c.dModel = 16;
    c.nLayers = 2;
    c.nHeads = 2;
    c.dFF = 32;
    c.maxSeqLen = 64;
    return c;
}

inline Transformer tinyModel(uint64_t seed = 7, at::ScalarType dtype = at::kFloat) {
    torch::manual_seed(seed);
    Transformer m(tinyConfig());
    m->to(dtype);
    // Random init gives near-uniform logits; scale the embedding up so tests
    // see sharp, position-dependent distributions.
    torch::NoGradGuard g;
    for (auto& p : m->named_parameters()) {
        if (p.key().find("tokens") != std::string::npos) p.value().mul_(20.0);
    }
    return m;
}

}  // namespace preflab::test
