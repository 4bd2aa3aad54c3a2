#pragma once
// The models of a run and the forward passes every family shares: the
// tokenizer and prompt format, the policy and its optimizer, and the
// reference it is held near (a frozen copy, or with LoRA the policy with its
// adapters off). Core-private (torch).
#include "core/hf/prompt_ids.h"
#include "core/loop/loop_context.h"
#include "core/nn/dropout_off.h"
#include "core/nn/model_file.h"
#include "core/nn/sampler.h"
#include "core/nn/sequence_batch.h"
#include "core/text/tokenizer.h"

#include <torch/optim/adamw.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace preflab {

struct LoopModels {
    // Loads setup.modelPath (a PrefLab model file or a Hugging Face folder, as
    // resolveModel in core/values/model_names.h found it), adds the LoRA adapters
    // or snapshots the reference, reseeds torch with the run's seed and makes
    // the policy's optimizer. Throws std::runtime_error naming the file.
    explicit LoopModels(LoopContext& ctx);
    LoopModels(const LoopModels&) = delete;
    LoopModels& operator=(const LoopModels&) = delete;

    std::shared_ptr<const Tokenizer> tokenizer;  // the byte tokenizer, or a Hugging Face folder's
    std::optional<ChatTemplate> chat;            // a Hugging Face model's prompt format
    Transformer policy{nullptr};
    Transformer reference{nullptr};  // null with LoRA: the base is the policy without adapters
    std::unique_ptr<torch::optim::AdamW> optimizer;
    ModelFileInfo modelInfo;  // what checkpoints record about the model
    bool bf16 = false;
    SamplingParams sampling;  // the run's temperature, top-k/p and response length
    // Row groups of every batch's forward passes and of sampling
    // (rowGroupsForModel; 1 with several ranks).
    int rowGroups = 1;

    int32_t eos() const { return tokenizer->special().eos; }
    int32_t pad() const { return tokenizer->special().pad; }
    // The ids the model sees before its response: the built-in model's
    // BOS + prompt + SEP, or a Hugging Face model's chat template.
    TokenIds promptIds(const std::string& prompt) const;
    // An imported conversation: its turns through the chat template (the
    // plain format, or no template, reads `plainText`).
    TokenIds promptIds(const std::string& plainText, const std::vector<ChatMessage>& messages) const;
    // The policy's logits [B,T,V] in fp32 (with gradient when enabled).
    at::Tensor policyLogits(const SequenceBatch& batch);
    // The reference policy's logits [B,T,V] (fp32, no gradient).
    at::Tensor referenceLogits(const SequenceBatch& batch);
    // The reference's log-probabilities of `responses` after `prompts` [N].
    at::Tensor referenceLogprobs(const std::vector<TokenIds>& prompts, const std::vector<TokenIds>& responses);
    // The same for pairs, each prompt computed once (prefix sharing): [2N],
    // the chosen responses' then the rejected ones'.
    at::Tensor referencePairLogprobs(const std::vector<TokenIds>& prompts, const std::vector<TokenIds>& chosen,
                                     const std::vector<TokenIds>& rejected);
    // Logits of the distribution the run samples from: logits / T (greedy,
    // T = 0: unchanged). Every log-probability that enters a ratio, a KL
    // estimate or penalty, or a score-function term goes through this
    // (algorithms.md 5b); top-k/top-p are refused where that matters.
    at::Tensor sampledLogits(const at::Tensor& logits) const;
};

// The reference policy for a scope: the frozen copy, or (LoRA) the policy
// with its adapters off until the scope ends.
struct ReferenceScope {
    LoopModels& models;
    explicit ReferenceScope(LoopModels& m) : models(m) {
        if (!models.reference) models.policy->setLoraEnabled(false);
    }
    ~ReferenceScope() {
        if (!models.reference) models.policy->setLoraEnabled(true);
    }
    ReferenceScope(const ReferenceScope&) = delete;
    ReferenceScope& operator=(const ReferenceScope&) = delete;
    Transformer& get() { return models.reference ? models.reference : models.policy; }
};

}  // namespace preflab
