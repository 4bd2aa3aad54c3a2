#include "core/task/dataset_sampler.h"

#include "core/values/seed_mix.h"
#include "core/nn/model_file.h"
#include "core/nn/sampler.h"
#include "core/task/toy_world_task.h"
#include "core/text/byte_tokenizer.h"

#include <torch/utils.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace preflab {

TaskDataset sampleTaskDataset(const std::string& modelPath, const DatasetSpec& spec,
                              const std::function<void(int64_t)>& progress, const std::atomic_bool* cancel) {
    torch::NoGradGuard noGrad;
    ByteTokenizer tokenizer;
    ToyWorldTask task;
    Transformer model = loadModelFile(modelPath);
    model->eval();
    SamplingParams params;
    params.temperature = spec.temperature;
    params.maxNewTokens = static_cast<int>(spec.maxNewTokens);
    TaskDataset out;
    const int64_t chunk = 32;
    for (uint64_t round = 0; static_cast<int64_t>(out.pairs.size()) < spec.pairs; ++round) {
        if (round == 1000) {
            throw std::runtime_error(modelPath + ": only " + std::to_string(out.pairs.size()) + " of " +
                                     std::to_string(spec.pairs) + " sampled pairs were untied after 1000 rounds");
        }
        if (cancel && cancel->load()) return out;
        const std::vector<TaskPrompt> prompts = task.prompts(static_cast<int>(chunk), mixSeed(spec.seed, 0xDA7A, round));
        std::vector<TokenIds> ids;
        std::vector<uint64_t> seeds;
        for (size_t i = 0; i < prompts.size(); ++i) {
            for (uint64_t slot = 0; slot < 2; ++slot) {
                ids.push_back(tokenizer.promptIds(prompts[i].text));
                seeds.push_back(mixSeed(spec.seed, round * 1000 + i, slot));
            }
        }
        const SampledSequences s = sampleBatch(model, ids, params, seeds, tokenizer.special().eos, tokenizer.special().pad);
        for (size_t i = 0; i < prompts.size() && static_cast<int64_t>(out.pairs.size()) < spec.pairs; ++i) {
            const std::string a = tokenizer.decode(s.tokens[2 * i]), b = tokenizer.decode(s.tokens[2 * i + 1]);
            const double ra = task.score(prompts[i], a).total(), rb = task.score(prompts[i], b).total();
            if (ra == rb) continue;  // a tie teaches a pairwise method nothing
            out.pairs.push_back({prompts[i].text, ra > rb ? a : b, ra > rb ? b : a});
            out.goldGaps.push_back(std::abs(ra - rb));
        }
        if (progress) progress(static_cast<int64_t>(out.pairs.size()));
    }
    return out;
}

std::vector<RatedResponse> sampleRatedDataset(const std::string& modelPath, const RatedDatasetSpec& spec) {
    torch::NoGradGuard noGrad;
    ByteTokenizer tokenizer;
    ToyWorldTask task;
    Transformer model = loadModelFile(modelPath);
    model->eval();
    SamplingParams params;
    params.maxNewTokens = static_cast<int>(spec.maxNewTokens);
    std::vector<RatedResponse> out;
    const int64_t chunk = 64;
    for (uint64_t round = 0; static_cast<int64_t>(out.size()) < spec.responses; ++round) {
        const std::vector<TaskPrompt> prompts = task.prompts(static_cast<int>(chunk), mixSeed(spec.seed, 0x4A7E, round));
        std::vector<TokenIds> ids;
        std::vector<uint64_t> seeds;
        for (size_t i = 0; i < prompts.size(); ++i) {
            ids.push_back(tokenizer.promptIds(prompts[i].text));
            seeds.push_back(mixSeed(spec.seed, round * 1000 + i, 7));
        }
        const SampledSequences s = sampleBatch(model, ids, params, seeds, tokenizer.special().eos, tokenizer.special().pad);
        for (size_t i = 0; i < prompts.size() && static_cast<int64_t>(out.size()) < spec.responses; ++i) {
            // The stored text is re-tokenised for training; a special token
            // inside the response would not survive that, and its weight would
            // compare different sequences. Such samples are not kept.
            const TokenIds& t = s.tokens[i];
            const size_t body = t.size() - (s.endedWithEos[i] ? 1 : 0);
            if (std::any_of(t.begin(), t.begin() + static_cast<long>(body), [](int32_t id) { return id >= 256; })) continue;
            const std::string text = tokenizer.decode(t);
            out.push_back({prompts[i].text, text, s.endedWithEos[i], task.score(prompts[i], text).total(), s.samplingLogprob[i]});
        }
    }
    return out;
}

std::vector<PromptResponses> sampleTaskResponses(const std::string& modelPath, const ResponseSetSpec& spec) {
    torch::NoGradGuard noGrad;
    ByteTokenizer tokenizer;
    ToyWorldTask task;
    Transformer model = loadModelFile(modelPath);
    model->eval();
    SamplingParams params;
    params.maxNewTokens = static_cast<int>(spec.maxNewTokens);
    const std::vector<TaskPrompt> prompts = task.prompts(static_cast<int>(spec.prompts), mixSeed(spec.seed, 0xB0, 0));
    std::vector<PromptResponses> out;
    for (size_t i = 0; i < prompts.size(); ++i) {
        std::vector<TokenIds> ids(static_cast<size_t>(spec.samplesPerPrompt), tokenizer.promptIds(prompts[i].text));
        std::vector<uint64_t> seeds;
        for (int64_t k = 0; k < spec.samplesPerPrompt; ++k)
            seeds.push_back(mixSeed(spec.seed, 0xB0 + i, static_cast<uint64_t>(k)));
        const SampledSequences s =
            sampleBatch(model, ids, params, seeds, tokenizer.special().eos, tokenizer.special().pad);
        PromptResponses r;
        r.prompt = prompts[i].text;
        for (const TokenIds& t : s.tokens) {
            r.responses.push_back(tokenizer.decode(t));
            r.gold.push_back(task.score(prompts[i], r.responses.back()).total());
        }
        out.push_back(std::move(r));
    }
    return out;
}

}  // namespace preflab
