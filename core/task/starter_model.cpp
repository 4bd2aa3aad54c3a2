#include "core/task/starter_model.h"

#include "core/nn/model_file.h"
#include "core/nn/sequence_batch.h"
#include "core/runtime/compute_threads.h"
#include "core/runtime/writable_folder.h"
#include "core/task/toy_world_task.h"
#include "core/text/byte_tokenizer.h"

#include <torch/optim/adamw.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <functional>
#include <random>

namespace preflab {

std::string PretrainSpec::fingerprint() const {
    // Bump the task version when the corpus or the grammar changes.
    const std::string key = "task-v1 " + model.serialize() + " steps=" + std::to_string(steps) +
                            " batch=" + std::to_string(batchSize) + " lr=" + std::to_string(lr) +
                            " seed=" + std::to_string(seed);
    return std::to_string(std::hash<std::string>{}(key) % 1'000'000'007ull);
}

std::string starterModelPath(const std::string& dataDir, const PretrainSpec& spec) {
    return (std::filesystem::path(dataDir) / "models" / ("starter-" + spec.fingerprint() + ".pt")).string();
}

PretrainResult pretrainStarterModel(const PretrainSpec& spec, const std::string& outPath,
                                    const std::function<void(const PretrainProgress&)>& progress,
                                    const std::atomic_bool* cancel) {
    const auto t0 = std::chrono::steady_clock::now();
    requireWritableFolder(std::filesystem::path(outPath).parent_path().string(),
                          "the pretrained model (the starter, or the reward-model base) is cached there: make the data folder writable or choose another "
                          "(--data-dir, or PREFLAB_DATA_DIR)");
    configureComputeThreads(spec.threads);
    torch::manual_seed(spec.seed);
    ByteTokenizer tok;
    ToyWorldTask task;
    std::mt19937_64 rng(spec.seed);
    const std::vector<TaskPrompt> prompts = task.prompts(4096, spec.seed ^ 0x5EEDull);

    Transformer model(spec.model);
    model->train();
    torch::optim::AdamW opt(model->parameters(), torch::optim::AdamWOptions(spec.lr).weight_decay(0.01));
    const int64_t warmup = std::max<int64_t>(1, spec.steps / 20);
    PretrainResult result;
    double smoothed = 0;

    for (int64_t step = 0; step < spec.steps; ++step) {
        if (cancel && cancel->load()) {
            result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            return result;
        }
        // Language modelling on "<bos>prompt<sep>response<eos>": loss on every
        // token after BOS (the prompt side is easy and helps the model read).
        std::vector<TokenIds> heads, bodies;
        for (int64_t b = 0; b < spec.batchSize; ++b) {
            const TaskPrompt& p = prompts[rng() % prompts.size()];
            TokenIds body = tok.encode(p.text);
            body.push_back(tok.special().sep);
            const TokenIds resp = tok.encode(task.sampleResponse(p, rng));
            body.insert(body.end(), resp.begin(), resp.end());
            body.push_back(tok.special().eos);
            const size_t limit = static_cast<size_t>(spec.model.maxSeqLen - 1);
            if (body.size() > limit) body.resize(limit);
            heads.push_back({tok.special().bos});
            bodies.push_back(std::move(body));
        }
        const SequenceBatch batch = packSequences(heads, bodies, tok.special().pad);
        const at::Tensor tokenLogps = responseTokenLogprobs(model->forward(batch.ids, batch.attention), batch);
        const at::Tensor loss = -tokenLogps.sum() / batch.responseMask.sum();

        const double progressFrac = static_cast<double>(step) / static_cast<double>(spec.steps);
        const double lr = step < warmup ? spec.lr * static_cast<double>(step + 1) / static_cast<double>(warmup)
                                        : spec.lr * (0.1 + 0.9 * 0.5 * (1.0 + std::cos(M_PI * progressFrac)));
        for (auto& group : opt.param_groups()) static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
        opt.zero_grad();
        loss.backward();
        torch::nn::utils::clip_grad_norm_(model->parameters(), 1.0);
        opt.step();

        const double l = loss.item<double>();
        smoothed = step == 0 ? l : 0.95 * smoothed + 0.05 * l;
        if (progress && (step % 10 == 0 || step + 1 == spec.steps)) {
            progress({step + 1, spec.steps, smoothed,
                      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()});
        }
    }
    ModelFileInfo info;
    info.config = spec.model;
    info.tokenizer = tok.name();
    saveModelFile(outPath, model, info);
    result.completed = true;
    result.finalLoss = smoothed;
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return result;
}

}  // namespace preflab
