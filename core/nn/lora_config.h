#pragma once
// LoRA settings (Hu et al. 2021, as PEFT implements them): a projection W
// becomes W + (alpha / rank) * B A, with A [rank, in] and B [out, rank]
// trained and W frozen. Plain value types, no torch.
//
// Targets use the Hugging Face module names, so that an exported adapter is
// the PEFT adapter other tools expect:
//   GPT-2 layout: c_attn, attn.c_proj, c_fc, mlp.c_proj ("c_proj" is both),
//   Llama layout: q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj,
//   either: "all-linear" (every projection in the blocks; not the output head).
// A target matches a module whose name equals it or ends with "." + target
// (PEFT's rule).
#include "core/nn/transformer_config.h"

#include <cstdint>
#include <string>
#include <vector>

namespace preflab {

struct LoraConfig {
    int64_t rank = 0;  // 0: no adapters (full fine-tuning)
    double alpha = 16.0;
    double dropout = 0.05;
    std::vector<std::string> targets;  // empty: defaultLoraTargets

    double scale() const { return rank > 0 ? alpha / static_cast<double>(rank) : 0.0; }
    // "rank=8 alpha=16 dropout=0.05 targets=q_proj,v_proj": stored in checkpoints.
    std::string serialize() const;
    // Throws std::invalid_argument naming the bad field.
    static LoraConfig deserialize(const std::string& text);
    bool operator==(const LoraConfig& o) const { return serialize() == o.serialize(); }
};

// One projection that can carry an adapter: rows [rowOffset, rowOffset + rows)
// of PrefLab's (possibly fused) linear layer `linear` in every block.
struct LoraSite {
    std::string linear;    // qkv, attn_out, fc, proj
    std::string module;    // the HF module inside a layer: "self_attn.q_proj", "attn.c_attn"
    int64_t rowOffset = 0;
    int64_t rows = 0;
    int64_t inFeatures = 0;
};

// Every site of a layer of this architecture, in the HF order.
std::vector<LoraSite> loraSites(const TransformerConfig& c);

// PEFT's defaults: q_proj and v_proj (Llama family), c_attn (GPT-2).
std::vector<std::string> defaultLoraTargets(const TransformerConfig& c);

// The sites `targets` (or the defaults when empty) select; throws
// std::invalid_argument for a target that matches nothing, listing the names.
std::vector<LoraSite> selectLoraSites(const TransformerConfig& c, const std::vector<std::string>& targets);

// "q_proj, v_proj" -> {"q_proj", "v_proj"}.
std::vector<std::string> splitLoraTargets(const std::string& text);

}  // namespace preflab
