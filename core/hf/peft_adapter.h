#pragma once
// LoRA adapters in PEFT's layout, so that PEFT (PeftModel.from_pretrained)
// and other tools load what PrefLab trained, and PrefLab loads adapters made
// elsewhere: a folder with adapter_config.json (peft_type LORA, r,
// lora_alpha, lora_dropout, target_modules, fan_in_fan_out) and
// adapter_model.safetensors, tensors named
//   base_model.model.<HF module>.lora_A.weight  [r, in]
//   base_model.model.<HF module>.lora_B.weight  [out, r]
// e.g. base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight (Llama)
// or base_model.model.transformer.h.0.attn.c_attn.lora_A.weight (GPT-2).
// Core-private (torch). Errors name the file and what is wrong.
#include "core/nn/transformer.h"

#include <string>

namespace preflab {

// Writes `model`'s adapters (it must have some); `baseModel` is recorded as
// base_model_name_or_path.
void exportPeftAdapter(Transformer& model, const std::string& baseModel, const std::string& outFolder);

// Adds the adapters of a PEFT LoRA folder to `model` (which must have none),
// checking every tensor's presence and shape. Settings PrefLab does not
// implement (DoRA, rsLoRA, per-layer rank patterns, bias training, layers_to_transform)
// are refused by name.
void loadPeftAdapter(Transformer& model, const std::string& adapterFolder);

}  // namespace preflab
