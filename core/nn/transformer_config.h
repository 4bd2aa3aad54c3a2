#pragma once
// Shape of PrefLab's decoder-only transformer. Plain value type.
#include <cstdint>
#include <string>

namespace preflab {

struct TransformerConfig {
    int64_t vocabSize = 260;
    int64_t dModel = 96;
    int64_t nLayers = 4;
    int64_t nHeads = 4;
    int64_t dFF = 384;
    int64_t maxSeqLen = 160;
    // 1: a scalar head on the last real token's hidden state (reward model,
    // value function). Stored as "scalar=1"; files without it have none.
    int64_t scalarHead = 0;
    // The Llama family (1): RMSNorm, rotary positions (ropeTheta, linear
    // ropeScale), SwiGLU MLP (dFF = the gate's width), grouped-query attention
    // (kvHeads), biases on q/k/v only when qkvBias (Qwen2), a separate output
    // head unless tiedHead. 0: PrefLab's GPT-2 layout (LayerNorm, learned
    // positions, tanh-GELU, biases everywhere, tied head).
    int64_t llama = 0;
    int64_t kvHeads = 0;  // 0: as many as nHeads
    int64_t qkvBias = 0;
    int64_t tiedHead = 1;
    double ropeTheta = 10000.0;
    double ropeScale = 1.0;      // linear scaling: positions / ropeScale (unless Llama 3 scaling)
    // Llama 3 rope scaling (ropeOriginalContext > 0): low frequencies divided
    // by ropeScale, high ones kept, a smooth blend between (HF "llama3").
    int64_t ropeOriginalContext = 0;
    double ropeLowFreqFactor = 1.0;
    double ropeHighFreqFactor = 4.0;
    double normEps = 1e-5;
    // Qwen3: each head's queries and keys RMS-normalised (a weight of headDim
    // each) before the rotation, and a head size of its own (headSize, which
    // need not be dModel / nHeads; 0: it is).
    int64_t qkNorm = 0;
    int64_t headSize = 0;

    int64_t headDim() const { return headSize > 0 ? headSize : dModel / nHeads; }
    int64_t attentionWidth() const { return nHeads * headDim(); }  // the concatenated heads: q's width, o_proj's input
    int64_t keyValueHeads() const { return kvHeads > 0 ? kvHeads : nHeads; }
    // Trainable parameters (head tied to the token embedding).
    int64_t parameterCount() const;
    // "vocab=260 d=128 layers=4 heads=4 ff=512 ctx=192": stored in model files.
    std::string serialize() const;
    // Throws std::invalid_argument naming the bad field.
    static TransformerConfig deserialize(const std::string& text);
    // Empty when valid, else what is wrong.
    std::string validationError() const;
};

}  // namespace preflab
