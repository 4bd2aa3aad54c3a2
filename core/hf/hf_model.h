#pragma once
// Loading Hugging Face model folders (a snapshot on disk: config.json, one
// model.safetensors or shards listed in model.safetensors.index.json, and the
// tokenizer files) into PrefLab's transformer, so that sampling, the KV cache
// and every algorithm work on them unchanged.
//
// Supported: GPT-2 (model_type "gpt2": learned positions, pre-LN, tanh-GELU,
// fused c_attn stored in Conv1D layout [in, out], head tied to the token
// embedding: PrefLab's own layout) and the Llama family (llama, mistral
// without sliding windows, qwen2 with its q/k/v biases, qwen3 with its
// per-head q/k norms and head size: RMSNorm, rotary positions, grouped-query
// attention, SwiGLU). An unsupported model_type is an error listing the
// supported ones. A folder whose architecture is *ForSequenceClassification
// with one label (a reward model: GPT-2's, Llama's, Qwen2's, Qwen3's) loads
// with its `score` head as the model's scalar head
// and no language-model head. Core-private (torch).
#include "core/nn/transformer.h"

#include <atomic>
#include <functional>
#include <string>
#include <vector>

namespace preflab {

struct HfModelInfo {
    std::string folder;
    std::string modelType;               // config.json's model_type
    TransformerConfig config;            // PrefLab's shape for it
    std::vector<std::string> weightFiles;  // the safetensors files read
    int64_t tensorsRead = 0;
    // config.json's architectures name a *ForSequenceClassification model
    // (then config.scalarHead is set: the score head reads its last token).
    bool sequenceClassifier = false;
};

// The model types loadHfModel reads.
const std::vector<std::string>& supportedHfModelTypes();

// Reads config.json; throws std::runtime_error naming the file and the field.
HfModelInfo readHfModelConfig(const std::string& folder);

// Loads the weights (validated: every expected tensor present, with its
// shape) converted to `dtype`. progress(done, total) is called per tensor;
// a raised cancel flag stops with std::runtime_error("cancelled").
Transformer loadHfModel(const std::string& folder, at::ScalarType dtype = at::kFloat, HfModelInfo* info = nullptr,
                        const std::function<void(int64_t, int64_t)>& progress = {},
                        const std::atomic_bool* cancel = nullptr);

// Writes `model` (loaded from, or trained on, `sourceFolder`'s architecture;
// LoRA adapters merged into the weights) as a Hugging Face folder other
// tools load: model.safetensors in the HF
// names and layout, stored in `dtype`, with config.json, generation_config.json
// and the tokenizer files copied from the source. Throws when the shapes differ.
void exportHfFolder(Transformer& model, const std::string& sourceFolder, const std::string& outFolder,
                    at::ScalarType dtype = at::kFloat);

}  // namespace preflab
