#include "core/loop/reward_model.h"

#include "core/loop/seed_mix.h"
#include "core/nn/model_file.h"
#include "core/nn/sequence_batch.h"
#include "core/text/byte_tokenizer.h"

#include <torch/optim/adamw.h>
#include <torch/utils.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>

namespace preflab {
namespace {

struct Encoded {
    TokenIds prompt, chosen, rejected;
};

TokenIds responseIds(const ByteTokenizer& tok, const TokenIds& prompt, const std::string& text, int64_t maxLen) {
    TokenIds ids = tok.encode(text);
    ids.push_back(tok.special().eos);
    const size_t room = static_cast<size_t>(std::max<int64_t>(1, maxLen - static_cast<int64_t>(prompt.size())));
    if (ids.size() > room) ids.resize(room);
    return ids;
}

// Scores [2N]: the chosen responses first, then the rejected ones.
at::Tensor scorePairs(Transformer& rm, const std::vector<const Encoded*>& batch, int32_t pad) {
    std::vector<TokenIds> prompts, responses;
    for (int pass = 0; pass < 2; ++pass) {
        for (const Encoded* e : batch) {
            prompts.push_back(e->prompt);
            responses.push_back(pass == 0 ? e->chosen : e->rejected);
        }
    }
    const SequenceBatch s = packSequences(prompts, responses, pad);
    return rm->scalar(s.ids, s.attention);
}

}  // namespace

RewardModelReport trainRewardModel(const RewardModelSpec& spec, const std::string& outPath,
                                   const std::function<void(const std::vector<MetricSample>&)>& onMetrics,
                                   const std::atomic_bool* cancel) {
    const auto t0 = std::chrono::steady_clock::now();
    RewardModelReport report;
    if (spec.pairs.size() < 2) throw std::runtime_error("a reward model needs at least two preference pairs");
    ByteTokenizer tok;
    ModelFileInfo info;
    Transformer base = loadModelFile(spec.basePath, &info);
    Transformer rm = withScalarHead(base);
    const int64_t maxLen = rm->config().maxSeqLen;
    torch::manual_seed(spec.seed);

    std::vector<Encoded> all;
    for (const OfflinePair& p : spec.pairs) {
        Encoded e;
        e.prompt = tok.promptIds(p.prompt);
        if (static_cast<int64_t>(e.prompt.size()) + 2 > maxLen) e.prompt.resize(static_cast<size_t>(maxLen / 2));
        e.chosen = responseIds(tok, e.prompt, p.chosen, maxLen);
        e.rejected = responseIds(tok, e.prompt, p.rejected, maxLen);
        all.push_back(std::move(e));
    }
    std::mt19937_64 rng(mixSeed(spec.seed, 0x4E3D, 0));
    std::shuffle(all.begin(), all.end(), rng);
    const size_t heldOut = std::max<size_t>(1, static_cast<size_t>(spec.heldOutShare * static_cast<double>(all.size())));
    const std::vector<Encoded> test(all.begin(), all.begin() + static_cast<long>(heldOut));
    const std::vector<Encoded> train(all.begin() + static_cast<long>(heldOut), all.end());
    report.trainPairs = static_cast<int64_t>(train.size());
    report.heldOutPairs = static_cast<int64_t>(test.size());
    const int32_t pad = tok.special().pad;

    auto evaluate = [&](int64_t step) {
        torch::NoGradGuard g;
        rm->eval();
        double correct = 0, margin = 0;
        for (size_t start = 0; start < test.size(); start += 64) {
            std::vector<const Encoded*> batch;
            for (size_t i = start; i < std::min(test.size(), start + 64); ++i) batch.push_back(&test[i]);
            const at::Tensor s = scorePairs(rm, batch, pad);
            const int64_t n = static_cast<int64_t>(batch.size());
            const at::Tensor diff = s.narrow(0, 0, n) - s.narrow(0, n, n);
            correct += (diff > 0).sum().item<double>();
            margin += diff.sum().item<double>();
        }
        report.heldOutAccuracy = correct / static_cast<double>(test.size());
        report.heldOutMargin = margin / static_cast<double>(test.size());
        if (onMetrics) {
            onMetrics({{step, "eval/rm_accuracy", report.heldOutAccuracy, nowMs()},
                       {step, "eval/rm_margin", report.heldOutMargin, nowMs()}});
        }
    };

    torch::optim::AdamW opt(rm->parameters(), torch::optim::AdamWOptions(spec.lr).weight_decay(0.0));
    std::vector<size_t> order(train.size());
    size_t cursor = order.size();
    evaluate(0);
    for (int64_t step = 1; step <= spec.steps; ++step) {
        if (cancel && cancel->load()) return report;
        std::vector<const Encoded*> batch;
        while (static_cast<int64_t>(batch.size()) < std::min<int64_t>(spec.batchSize, static_cast<int64_t>(train.size()))) {
            if (cursor >= order.size()) {
                for (size_t i = 0; i < order.size(); ++i) order[i] = i;
                std::shuffle(order.begin(), order.end(), rng);
                cursor = 0;
            }
            batch.push_back(&train[order[cursor++]]);
        }
        rm->train();
        opt.zero_grad();
        const at::Tensor s = scorePairs(rm, batch, pad);
        const int64_t n = static_cast<int64_t>(batch.size());
        const at::Tensor rw = s.narrow(0, 0, n), rl = s.narrow(0, n, n);
        const at::Tensor loss = -at::log_sigmoid(rw - rl).mean();
        const double lossValue = loss.item<double>();
        if (!std::isfinite(lossValue)) throw std::runtime_error("reward model: non-finite loss at step " + std::to_string(step));
        loss.backward();
        opt.step();
        if (onMetrics) {
            const at::Tensor d = (rw - rl).detach();
            const at::Tensor all2 = s.detach();
            const int64_t t = nowMs();
            onMetrics({{step, "rm/loss", lossValue, t},
                       {step, "rm/accuracy", (d > 0).to(at::kDouble).mean().item<double>(), t},
                       {step, "rm/margin", d.mean().item<double>(), t},
                       {step, "rm/reward_min", all2.min().item<double>(), t},
                       {step, "rm/reward_mean", all2.mean().item<double>(), t},
                       {step, "rm/reward_max", all2.max().item<double>(), t}});
        }
        if (spec.evalEvery > 0 && (step % spec.evalEvery == 0 || step == spec.steps)) evaluate(step);
    }
    info.config = rm->config();
    info.counters = {{"reward_model_steps", spec.steps}};
    saveModelFile(outPath, rm, info);
    report.completed = true;
    report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return report;
}

struct RewardModelJudge::Impl {
    ByteTokenizer tok;
    Transformer rm{nullptr};
};

RewardModelJudge::RewardModelJudge(const std::string& path) : d(std::make_unique<Impl>()) {
    d->rm = loadModelFile(path);
    if (!d->rm->hasScalarHead()) {
        throw std::runtime_error(path + " is a language model, not a reward model (it has no scalar head); "
                                        "train one with: preflab train-rm");
    }
    d->rm->eval();
}

RewardModelJudge::~RewardModelJudge() = default;

std::vector<double> RewardModelJudge::score(const std::vector<std::string>& prompts, const std::vector<std::string>& responses) {
    torch::NoGradGuard g;
    std::vector<TokenIds> p, r;
    const int64_t maxLen = d->rm->config().maxSeqLen;
    for (size_t i = 0; i < prompts.size(); ++i) {
        p.push_back(d->tok.promptIds(prompts[i]));
        r.push_back(responseIds(d->tok, p.back(), responses[i], maxLen));
    }
    const SequenceBatch s = packSequences(p, r, d->tok.special().pad);
    const at::Tensor v = d->rm->scalar(s.ids, s.attention).to(at::kDouble).contiguous();
    return std::vector<double>(v.data_ptr<double>(), v.data_ptr<double>() + v.numel());
}

Choice RewardModelJudge::decide(const PairForJudging& pair) {
    const std::vector<double> s = score({pair.prompt, pair.prompt}, {pair.responseA, pair.responseB});
    return s[0] > s[1] ? Choice::A : s[1] > s[0] ? Choice::B : Choice::Tie;
}

}  // namespace preflab
