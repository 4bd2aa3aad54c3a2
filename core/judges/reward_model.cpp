#include "core/judges/reward_model.h"

#include "core/judges/hf_reward_model.h"
#include "core/values/model_names.h"
#include "core/values/metric_names.h"

#include "core/values/seed_mix.h"
#include "core/nn/model_file.h"
#include "core/nn/sequence_batch.h"
#include "core/text/byte_tokenizer.h"
#include "core/text/context_fit.h"

#include <torch/optim/adamw.h>
#include <torch/utils.h>

#include <algorithm>
#include <filesystem>
#include <chrono>
#include <cmath>
#include <random>
#include <set>
#include <tuple>

namespace preflab {
namespace {

struct Encoded {
    TokenIds prompt, chosen, rejected;
    double gap = 0;  // true-reward gap, when known
};

TokenIds responseIds(const ByteTokenizer& tok, const std::string& text) {
    TokenIds ids = tok.encode(text);
    ids.push_back(tok.special().eos);
    return ids;
}

// Scores [N] of packed prompt+response rows by the pooling rule. Rows are
// right-padded from position 0, and every response ends with EOS.
at::Tensor pooledScores(Transformer& rm, const SequenceBatch& s, RewardPooling pooling) {
    const at::Tensor perToken = rm->scalarPerToken(s.ids, s.attention).to(at::kFloat);
    const at::Tensor last = s.attention.sum(1) - 1;  // the EOS position
    switch (pooling) {
    case RewardPooling::Eos: return perToken.gather(1, last.unsqueeze(1)).squeeze(1);
    case RewardPooling::LastContent: return perToken.gather(1, (last - 1).clamp_min(0).unsqueeze(1)).squeeze(1);
    case RewardPooling::Mean: {
        const at::Tensor m = s.responseMask.to(at::kFloat);
        return (perToken * m).sum(1) / m.sum(1).clamp_min(1.0);
    }
    case RewardPooling::Sum: return (perToken * s.responseMask.to(at::kFloat)).sum(1);
    case RewardPooling::Sentences: {
        // The bytes after which the task's reward splits sentences, and EOS.
        const at::Tensor ends = s.ids.eq('.') | s.ids.eq('!') | s.ids.eq('?') | s.ids.eq(ByteTokenizer::kEos);
        return (perToken * (s.responseMask.to(at::kBool) & ends).to(at::kFloat)).sum(1);
    }
    }
    throw std::logic_error("unknown pooling");
}

// Scores [2N]: the chosen responses first, then the rejected ones.
at::Tensor scorePairs(Transformer& rm, const std::vector<const Encoded*>& batch, int32_t pad, RewardPooling pooling) {
    std::vector<TokenIds> prompts, responses;
    for (int pass = 0; pass < 2; ++pass) {
        for (const Encoded* e : batch) {
            prompts.push_back(e->prompt);
            responses.push_back(pass == 0 ? e->chosen : e->rejected);
        }
    }
    return pooledScores(rm, packSequences(prompts, responses, pad), pooling);
}

struct PairScores {
    double accuracy = 0, margin = 0, loss = 0;
    std::vector<double> diff;  // r(chosen) - r(rejected) per pair
};

PairScores scoreAll(Transformer& rm, const std::vector<Encoded>& pairs, int32_t pad, RewardPooling pooling) {
    torch::NoGradGuard g;
    rm->eval();
    PairScores out;
    for (size_t start = 0; start < pairs.size(); start += 64) {
        std::vector<const Encoded*> batch;
        for (size_t i = start; i < std::min(pairs.size(), start + 64); ++i) batch.push_back(&pairs[i]);
        const at::Tensor s = scorePairs(rm, batch, pad, pooling).to(at::kDouble);
        const int64_t n = static_cast<int64_t>(batch.size());
        const at::Tensor diff = (s.narrow(0, 0, n) - s.narrow(0, n, n)).contiguous();
        out.accuracy += (diff > 0).sum().item<double>();
        out.margin += diff.sum().item<double>();
        out.loss += (-at::log_sigmoid(diff)).sum().item<double>();
        out.diff.insert(out.diff.end(), diff.data_ptr<double>(), diff.data_ptr<double>() + n);
    }
    const double n = static_cast<double>(std::max<size_t>(1, pairs.size()));
    out.accuracy /= n;
    out.margin /= n;
    out.loss /= n;
    return out;
}

}  // namespace

const char* rewardPoolingName(RewardPooling p) {
    switch (p) {
    case RewardPooling::Eos: return "eos";
    case RewardPooling::LastContent: return "last";
    case RewardPooling::Mean: return "mean";
    case RewardPooling::Sum: return "sum";
    case RewardPooling::Sentences: return "sentences";
    }
    return "eos";
}

bool parseRewardPooling(const std::string& name, RewardPooling* out) {
    for (RewardPooling p : {RewardPooling::Eos, RewardPooling::LastContent, RewardPooling::Mean, RewardPooling::Sum,
                            RewardPooling::Sentences}) {
        if (name == rewardPoolingName(p)) {
            *out = p;
            return true;
        }
    }
    return false;
}

RewardModelSpec taskRewardModelSpec() {
    RewardModelSpec spec;
    spec.trainLayers = 2;
    spec.lrDecay = true;
    return spec;
}

int64_t setSeparateHeldOut(RewardModelSpec& spec, const std::vector<OfflinePair>& pairs, const std::vector<double>& goldGaps) {
    std::set<std::tuple<std::string, std::string, std::string>> trained;
    for (const OfflinePair& t : spec.pairs) trained.insert({t.prompt, std::min(t.chosen, t.rejected), std::max(t.chosen, t.rejected)});
    spec.heldOut.clear();
    spec.heldOutGoldGaps.clear();
    int64_t dropped = 0;
    for (size_t i = 0; i < pairs.size(); ++i) {
        const OfflinePair& h = pairs[i];
        if (trained.count({h.prompt, std::min(h.chosen, h.rejected), std::max(h.chosen, h.rejected)})) {
            ++dropped;
            continue;
        }
        spec.heldOut.push_back(h);
        if (i < goldGaps.size()) spec.heldOutGoldGaps.push_back(goldGaps[i]);
    }
    return dropped;
}

RewardModelReport trainRewardModel(const RewardModelSpec& spec, const std::string& outPath,
                                   const std::function<void(const std::vector<MetricSample>&)>& onMetrics,
                                   const std::atomic_bool* cancel) {
    const auto t0 = std::chrono::steady_clock::now();
    RewardModelReport report;
    if (spec.pairs.size() < 2) throw std::runtime_error("a reward model needs at least two preference pairs");
    if (!spec.goldGaps.empty() && spec.goldGaps.size() != spec.pairs.size()) {
        throw std::invalid_argument("trainRewardModel: one gold gap per pair");
    }
    ByteTokenizer tok;
    ModelFileInfo info;
    Transformer base = loadModelFile(spec.basePath, &info);
    Transformer rm = withScalarHead(base);
    const int64_t maxLen = rm->config().maxSeqLen;
    torch::manual_seed(spec.seed);

    auto encode = [&](const OfflinePair& p, double gap) {
        Encoded e;
        e.prompt = tok.promptIds(p.prompt);
        e.chosen = responseIds(tok, p.chosen);
        e.rejected = responseIds(tok, p.rejected);
        fitPairToContext(e.prompt, e.chosen, e.rejected, static_cast<size_t>(maxLen), tok.special().bos);
        e.gap = gap;
        return e;
    };
    std::vector<Encoded> all;
    for (size_t i = 0; i < spec.pairs.size(); ++i) all.push_back(encode(spec.pairs[i], spec.goldGaps.empty() ? 0.0 : spec.goldGaps[i]));
    std::mt19937_64 rng(mixSeed(spec.seed, 0x4E3D, 0));
    std::shuffle(all.begin(), all.end(), rng);
    const bool separate = !spec.heldOut.empty();
    std::vector<Encoded> test, train;
    if (separate) {
        if (!spec.heldOutGoldGaps.empty() && spec.heldOutGoldGaps.size() != spec.heldOut.size()) {
            throw std::invalid_argument("trainRewardModel: one gold gap per held-out pair");
        }
        for (size_t i = 0; i < spec.heldOut.size(); ++i) {
            test.push_back(encode(spec.heldOut[i], spec.heldOutGoldGaps.empty() ? 0.0 : spec.heldOutGoldGaps[i]));
        }
        train = std::move(all);
    } else {
        // At least heldOutShare and heldOutMin held out, but never more than half.
        const size_t byShare = static_cast<size_t>(std::ceil(spec.heldOutShare * static_cast<double>(all.size())));
        const size_t heldOut =
            std::max<size_t>(1, std::min(std::max(byShare, static_cast<size_t>(spec.heldOutMin)), all.size() / 2));
        test.assign(all.begin(), all.begin() + static_cast<long>(heldOut));
        train.assign(all.begin() + static_cast<long>(heldOut), all.end());
    }
    report.trainPairs = static_cast<int64_t>(train.size());
    report.heldOutPairs = static_cast<int64_t>(test.size());
    const int32_t pad = tok.special().pad;

    // The best held-out checkpoint, kept in memory (ties: lower held-out loss).
    std::vector<at::Tensor> best;
    double bestAccuracy = -1, bestLoss = 0;
    auto evaluate = [&](int64_t step) {
        const PairScores h = scoreAll(rm, test, pad, spec.pooling);
        report.lastHeldOutAccuracy = h.accuracy;
        if (onMetrics) {
            const int64_t t = nowMs();
            onMetrics({{step, metricKey(Metric::EvalRmAccuracy), h.accuracy, t},
                       {step, metricKey(Metric::EvalRmMargin), h.margin, t},
                       {step, metricKey(Metric::EvalRmLoss), h.loss, t}});
        }
        if (h.accuracy > bestAccuracy || (h.accuracy == bestAccuracy && h.loss < bestLoss)) {
            bestAccuracy = h.accuracy;
            bestLoss = h.loss;
            report.bestStep = step;
            best.clear();
            for (const at::Tensor& p : rm->parameters()) best.push_back(p.detach().clone());
        }
    };

    std::vector<at::Tensor> trained;
    std::vector<std::pair<at::Tensor, at::Tensor>> anchored;  // a trained weight and its base value
    const int64_t firstTrained = spec.trainLayers < 0 ? 0 : rm->config().nLayers - spec.trainLayers;
    for (auto& item : rm->named_parameters()) {
        const std::string& name = item.key();
        bool train = spec.trainLayers < 0 || name.rfind("scalar_head", 0) == 0 || name.rfind("ln_final", 0) == 0;
        for (int64_t b = std::max<int64_t>(0, firstTrained); b < rm->config().nLayers && !train; ++b) {
            train = name.rfind("block" + std::to_string(b) + ".", 0) == 0;
        }
        item.value().set_requires_grad(train);
        if (train) trained.push_back(item.value());
        // Where the trained blocks start: what baseDecay pulls them back toward.
        if (train && spec.baseDecay > 0 && name.rfind("scalar_head", 0) != 0) {
            anchored.push_back({item.value(), item.value().detach().clone()});
        }
    }
    torch::optim::AdamW opt(trained, torch::optim::AdamWOptions(spec.lr).weight_decay(spec.weightDecay));
    // With lrDecay: a short warm-up, then cosine decay to 10 %, so the last
    // iterate (the model kept and measured) is not one noisy step at full lr.
    const int64_t warmup = std::max<int64_t>(1, spec.steps / 20);
    auto lrAt = [&](int64_t step) {
        if (!spec.lrDecay) return spec.lr;
        if (step <= warmup) return spec.lr * static_cast<double>(step) / static_cast<double>(warmup);
        const double f = static_cast<double>(step - warmup) / static_cast<double>(std::max<int64_t>(1, spec.steps - warmup));
        return spec.lr * (0.1 + 0.9 * 0.5 * (1.0 + std::cos(M_PI * f)));
    };
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
        for (auto& group : opt.param_groups()) static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lrAt(step));
        opt.zero_grad();
        const at::Tensor s = scorePairs(rm, batch, pad, spec.pooling);
        const int64_t n = static_cast<int64_t>(batch.size());
        const at::Tensor rw = s.narrow(0, 0, n), rl = s.narrow(0, n, n);
        const at::Tensor loss = -at::log_sigmoid(rw - rl).mean();
        const double lossValue = loss.item<double>();
        if (!std::isfinite(lossValue)) throw std::runtime_error("reward model: non-finite loss at step " + std::to_string(step));
        loss.backward();
        opt.step();
        if (!anchored.empty()) {
            torch::NoGradGuard g;
            const double pull = std::min(1.0, lrAt(step) * spec.baseDecay);
            for (auto& [w, base] : anchored) w.sub_((w - base).mul_(pull));
        }
        if (onMetrics) {
            const at::Tensor d = (rw - rl).detach();
            const at::Tensor all2 = s.detach();
            const int64_t t = nowMs();
            onMetrics({{step, metricKey(Metric::RmLoss), lossValue, t},
                       {step, metricKey(Metric::RmAccuracy), (d > 0).to(at::kDouble).mean().item<double>(), t},
                       {step, metricKey(Metric::RmMargin), d.mean().item<double>(), t},
                       {step, metricKey(Metric::RmRewardMin), all2.min().item<double>(), t},
                       {step, metricKey(Metric::RmRewardMean), all2.mean().item<double>(), t},
                       {step, metricKey(Metric::RmRewardMax), all2.max().item<double>(), t}});
        }
        if (spec.evalEvery > 0 && (step % spec.evalEvery == 0 || step == spec.steps)) evaluate(step);
    }
    if (separate) {
        report.bestStep = spec.steps;  // the last iterate, measured on pairs it was not chosen on
    } else {
        torch::NoGradGuard g;
        const std::vector<at::Tensor> params = rm->parameters();
        for (size_t i = 0; i < params.size(); ++i) params[i].copy_(best[i]);
    }
    const PairScores h = scoreAll(rm, test, pad, spec.pooling);
    if (separate) {
        for (double d : h.diff) report.heldOutCorrect.push_back(d > 0);
    }
    report.heldOutAccuracy = h.accuracy;
    report.heldOutMargin = h.margin;
    report.heldOutLoss = h.loss;
    report.trainAccuracy = scoreAll(rm, train, pad, spec.pooling).accuracy;
    if (separate ? !spec.heldOutGoldGaps.empty() : !spec.goldGaps.empty()) {
        for (const auto& [low, high] : std::vector<std::pair<double, double>>{{0, 0.5}, {0.5, 1}, {1, 2}, {2, 1e300}}) {
            GapAccuracy bin{low, high, 0, 0};
            for (size_t i = 0; i < test.size(); ++i) {
                if (test[i].gap < low || test[i].gap >= high) continue;
                ++bin.pairs;
                bin.accuracy += h.diff[i] > 0 ? 1.0 : 0.0;
            }
            if (bin.pairs > 0) bin.accuracy /= static_cast<double>(bin.pairs);
            report.byGap.push_back(bin);
        }
    }
    info.config = rm->config();
    info.counters = {{"reward_model_steps", spec.steps},
                     {"reward_model_best_step", report.bestStep},
                     {"reward_pooling", static_cast<int64_t>(spec.pooling)}};
    saveModelFile(outPath, rm, info);
    report.completed = true;
    report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return report;
}

struct RewardModelJudge::Impl {
    ByteTokenizer tok;
    Transformer rm{nullptr};
    RewardPooling pooling = RewardPooling::Eos;  // files from before pooling was stored: EOS
    std::unique_ptr<HfRewardModel> hf;           // a Hugging Face reward-model folder instead
};

RewardModelJudge::RewardModelJudge(const std::string& path, ScoreChoice choice)
    : m_choice(choice), d(std::make_unique<Impl>()) {
    // A folder, or a repository id found in the local Hugging Face cache.
    if (!std::filesystem::is_regular_file(path)) {
        const ResolvedModel resolved = resolveModel(path);
        if (resolved.kind == ModelKind::HfFolder) {
            d->hf = std::make_unique<HfRewardModel>(resolved.path);
            return;
        }
    }
    ModelFileInfo info;
    d->rm = loadModelFile(path, &info);
    const auto pooling = info.counters.find("reward_pooling");
    if (pooling != info.counters.end()) {
        if (pooling->second < 0 || pooling->second > static_cast<int64_t>(RewardPooling::Sentences)) {
            throw std::runtime_error(path + ": unknown reward pooling " + std::to_string(pooling->second));
        }
        d->pooling = static_cast<RewardPooling>(pooling->second);
    }
    if (!d->rm->hasScalarHead()) {
        throw std::runtime_error(path + " is a language model, not a reward model (it has no scalar head); "
                                        "train one with: preflab train-rm");
    }
    d->rm->eval();
}

RewardModelJudge::~RewardModelJudge() = default;

std::vector<double> RewardModelJudge::score(const std::vector<std::string>& prompts, const std::vector<std::string>& responses) {
    if (d->hf) return d->hf->score(prompts, responses);
    torch::NoGradGuard g;
    std::vector<TokenIds> p, r;
    const int64_t maxLen = d->rm->config().maxSeqLen;
    for (size_t i = 0; i < prompts.size(); ++i) {
        p.push_back(d->tok.promptIds(prompts[i]));
        r.push_back(responseIds(d->tok, responses[i]));
        TokenIds same = r.back();  // one response: the pair rule with itself
        fitPairToContext(p.back(), r.back(), same, static_cast<size_t>(maxLen), d->tok.special().bos);
    }
    const SequenceBatch s = packSequences(p, r, d->tok.special().pad);
    const at::Tensor v = pooledScores(d->rm, s, d->pooling).to(at::kDouble).contiguous();
    return std::vector<double>(v.data_ptr<double>(), v.data_ptr<double>() + v.numel());
}

Choice RewardModelJudge::decide(const PairForJudging& pair) {
    const std::vector<double> s = score({pair.prompt, pair.prompt}, {pair.responseA, pair.responseB});
    return m_choice(s[0], s[1]);
}

}  // namespace preflab
