#include "core/loop/loop_models.h"

#include "core/hf/bpe_tokenizer.h"
#include "core/hf/hf_model.h"
#include "core/values/seed_mix.h"
#include "core/nn/autocast_scope.h"
#include "core/nn/fused_adamw.h"
#include "core/nn/row_parallel_logits.h"
#include "core/runtime/compute_threads.h"
#include "core/text/byte_tokenizer.h"

#include <filesystem>
#include <stdexcept>

namespace preflab {

LoopModels::LoopModels(LoopContext& ctx) {
    LoopSetup& setup = ctx.setup;
    const RunConfig& cfg = ctx.cfg;
    if (std::filesystem::is_directory(setup.modelPath)) {
        // A Hugging Face model folder: its weights and its tokenizer.
        HfModelInfo hf;
        policy = loadHfModel(setup.modelPath, at::kFloat, &hf, setup.loadProgress, setup.cancel);
        tokenizer = loadFolderTokenizer(setup.modelPath);
        if (tokenizer->vocabSize() > policy->config().vocabSize) {
            throw std::runtime_error(setup.modelPath + ": tokenizer.json has " + std::to_string(tokenizer->vocabSize()) +
                                     " tokens but the model only " + std::to_string(policy->config().vocabSize));
        }
        if (tokenizer->special().eos < 0) throw std::runtime_error(setup.modelPath + ": the tokenizer names no EOS token");
        modelInfo.config = hf.config;
        chat = readFolderChatTemplate(setup.modelPath);
        modelInfo.tokenizer = "hf:" + setup.modelPath;
    } else {
        tokenizer = std::make_shared<ByteTokenizer>();
        policy = loadModelFile(setup.modelPath, &modelInfo);
        if (modelInfo.tokenizer != tokenizer->name()) {
            throw std::runtime_error(setup.modelPath + ": tokenizer '" + modelInfo.tokenizer +
                                     "' is not supported by the online loop yet (expected 'byte')");
        }
    }
    // The run's thread count now that the model's size is known (a small
    // model runs on one thread unless a count was asked for).
    configureComputeThreads(computeThreadsForModel(policy->config().parameterCount(), static_cast<int>(cfg.threads)));
    if (cfg.loraRank > 0) {
        // The adapters' A starts random (from the run's seed); B starts at zero.
        torch::manual_seed(mixSeed(ctx.seed(), 7, 0));
        LoraConfig lora;
        lora.rank = cfg.loraRank;
        lora.alpha = cfg.loraAlpha;
        lora.dropout = cfg.loraDropout;
        lora.targets = splitLoraTargets(cfg.loraTargets);
        try {
            policy->addLora(lora);
        } catch (const std::invalid_argument& e) {
            throw std::runtime_error(setup.modelPath + ": " + e.what());
        }
        // The reference is the same weights with the adapters off (referenceLogits).
    } else {
        reference = cloneTransformer(policy);
        reference->eval();
        for (auto& p : reference->parameters()) p.set_requires_grad(false);
    }
    policy->setGradientCheckpointing(cfg.gradientCheckpointing != 0);
    bf16 = useBf16(cfg.computeDtype, policy->config().parameterCount());
    // Everything random after this point (dropout, new heads) follows from the run's seed.
    torch::manual_seed(ctx.seed());
    optimizer = std::make_unique<FusedAdamW>(
        policy->trainableParameters(), torch::optim::AdamWOptions(cfg.lr).weight_decay(0.0));

    sampling.temperature = cfg.temperature;
    sampling.topK = static_cast<int>(cfg.topK);
    sampling.topP = cfg.topP;
    sampling.maxNewTokens = static_cast<int>(cfg.maxNewTokens);
    // Several ranks (possibly on one host) keep one thread each, as before.
    rowGroups = ctx.worldSize > 1 ? 1 : rowGroupsForModel(policy->config().parameterCount(), static_cast<int>(cfg.threads));
    sampling.rowGroups = rowGroups;
}

TokenIds LoopModels::promptIds(const std::string& prompt) const {
    return promptTokenIds(*tokenizer, chat, prompt);
}

TokenIds LoopModels::promptIds(const std::string& plainText, const std::vector<ChatMessage>& messages) const {
    return promptTokenIds(*tokenizer, chat, plainText, messages);
}

at::Tensor LoopModels::policyLogits(const SequenceBatch& batch) {
    return rowParallelLogits(policy, batch.ids, batch.attention, bf16, rowGroups).to(at::kFloat);
}

at::Tensor LoopModels::referenceLogits(const SequenceBatch& batch) {
    torch::NoGradGuard noGrad;
    if (reference) return rowParallelLogits(reference, batch.ids, batch.attention, bf16, rowGroups).to(at::kFloat);
    // LoRA: the base model is the policy with its adapters switched off.
    struct AdaptersOff {
        Transformer& model;
        explicit AdaptersOff(Transformer& m) : model(m) { model->setLoraEnabled(false); }
        ~AdaptersOff() { model->setLoraEnabled(true); }
    } off(policy);
    return rowParallelLogits(policy, batch.ids, batch.attention, bf16, rowGroups).to(at::kFloat);
}

at::Tensor LoopModels::sampledLogits(const at::Tensor& logits) const {
    return sampling.temperature > 0 && sampling.temperature != 1.0 ? logits / sampling.temperature : logits;
}

at::Tensor LoopModels::referenceLogprobs(const std::vector<TokenIds>& prompts, const std::vector<TokenIds>& responses) {
    torch::NoGradGuard noGrad;
    const SequenceBatch batch = packSequences(prompts, responses, pad());
    return sequenceLogprobs(referenceLogits(batch), batch);
}

at::Tensor LoopModels::referencePairLogprobs(const std::vector<TokenIds>& prompts, const std::vector<TokenIds>& chosen,
                                             const std::vector<TokenIds>& rejected) {
    torch::NoGradGuard noGrad;
    const SharedPairBatch batch = packSharedPairs(prompts, chosen, rejected, pad());
    return sharedPairLogprobs(referenceLogits(batch.seq), batch);
}

}  // namespace preflab
