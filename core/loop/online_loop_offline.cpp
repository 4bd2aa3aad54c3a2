// Offline pairs and SAIL terms of the online loop (algorithms.md §1, §2).
#include "core/loop/online_loop_impl.h"

namespace preflab {

// SAIL-DP (spec §2): each dataset pair is routed with probability r; a
// routed pair's preference is re-drawn from the policy, swapped with
// probability 1 - s(beta h). Returns the routing mask [N].
at::Tensor OnlineLoop::Impl::redrawDatasetPreferences(PairLogps& lp) {
    const int64_t n = lp.policyChosen.size(0);
    std::mt19937_64 rng(mixSeed(static_cast<uint64_t>(cfg.seed), 0x5A1D, static_cast<uint64_t>(step)));
    std::bernoulli_distribution route(cfg.sailDpProb);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    const at::Tensor pChosen = at::sigmoid(cfg.beta * logRatioMargin(lp)).detach().to(at::kDouble);
    std::vector<float> mask(static_cast<size_t>(n));
    std::vector<uint8_t> swap(static_cast<size_t>(n));
    double routed = 0, swapped = 0;
    for (int64_t i = 0; i < n; ++i) {
        const bool r = route(rng);
        const double draw = u(rng);
        mask[static_cast<size_t>(i)] = r ? 1.0f : 0.0f;
        swap[static_cast<size_t>(i)] = r && draw > pChosen[i].item<double>();
        routed += r;
        swapped += swap[static_cast<size_t>(i)];
    }
    lastDpRouted = routed;
    lastDpSwapped = swapped;
    if (swapped > 0) {
        const at::Tensor s = at::tensor(std::vector<uint8_t>(swap)).to(at::kBool);
        auto pick = [&](at::Tensor& a, at::Tensor& b) {
            const at::Tensor na = at::where(s, b, a), nb = at::where(s, a, b);
            a = na;
            b = nb;
        };
        pick(lp.policyChosen, lp.policyRejected);
        pick(lp.refChosen, lp.refRejected);
        pick(lp.chosenTokens, lp.rejectedTokens);
    }
    return at::tensor(mask);
}

// SAIL (spec §2): each pair is routed to the SAIL terms with probability
// sail_prob; with no pair routed the loss is exactly the DPO loss.
void OnlineLoop::Impl::addSailTerms(const PairLogps& lp, const std::vector<TrainablePair>& batch, LossOutput& out) {
    const bool pr = method.id == Method::SailPr, pp = method.id == Method::SailPp;
    if (!pr && !pp) return;
    const double coef = pr ? cfg.sailGamma : cfg.sailPi;
    const int64_t n = lp.policyChosen.size(0);
    std::vector<float> m(static_cast<size_t>(n));
    double routed = 0;
    if (mixesDatasetPairs()) {
        for (size_t i = 0; i < m.size(); ++i) m[i] = batch[i].online ? 1.0f : 0.0f;
    } else {
        std::mt19937_64 rng(mixSeed(static_cast<uint64_t>(cfg.seed), 0x5A11, static_cast<uint64_t>(step)));
        std::bernoulli_distribution route(cfg.sailProb);
        for (float& v : m) v = route(rng) ? 1.0f : 0.0f;
    }
    for (float v : m) routed += v;
    out.metrics.push_back({"sail/routed", routed});
    if (routed == 0 || coef == 0) return;
    const at::Tensor mask = at::tensor(m);
    const at::Tensor ell = at::log_sigmoid(cfg.beta * logRatioMargin(lp));
    at::Tensor extra = explorationSurrogate(explorationFormFromName(cfg.explorationForm).value_or(ExplorationForm::ScoreFunction),
                                            coef, ell, lp.policyChosen, lp.policyRejected, mask, cfg.explorationBaseline != 0);
    if (pp) extra = extra + selfJudgedSquare(coef, ell, mask);
    out.metrics.push_back({"sail/extra_loss", extra.item<double>()});
    out.loss = out.loss + extra;
}

bool OnlineLoop::Impl::mixesDatasetPairs() const {
    return method.data == MethodData::PolicyPairsMixable && !setup.offlinePairs.empty();
}

// Offline methods on stored pairs: the next batch, reference log-probs
// computed as the pairs are drawn.
std::vector<TrainablePair> OnlineLoop::Impl::drawOfflineBatch(size_t count) {
    if (count == 0) return {};
    const auto& all = setup.offlinePairs;
    std::vector<TokenIds> prompts, responses;
    std::vector<size_t> picked;
    const int32_t eos = tokenizer->special().eos;
    const size_t maxLen = static_cast<size_t>(policy->config().maxSeqLen);
    while (picked.size() < count) {
        picked.push_back(offlineCycle.next(all.size(), static_cast<uint64_t>(cfg.seed), 0x0FF1));
    }
    auto responseIds = [&](const TokenIds& prompt, const std::string& text) {
        TokenIds ids = tokenizer->encode(text);
        ids.push_back(eos);
        // Keep prompt + response within the model's context.
        const size_t room = maxLen > prompt.size() + 1 ? maxLen - prompt.size() : 1;
        if (ids.size() > room) ids.resize(room);
        return ids;
    };
    std::vector<TrainablePair> pairs;
    for (size_t i : picked) {
        TrainablePair t;
        t.index = static_cast<int64_t>(i);
        t.prompt = promptIds(all[i].prompt);
        if (t.prompt.size() + 2 > maxLen) t.prompt.resize(maxLen / 2);
        t.chosen = responseIds(t.prompt, all[i].chosen);
        t.rejected = responseIds(t.prompt, all[i].rejected);
        t.generatedAt = step;
        t.online = false;
        pairs.push_back(std::move(t));
    }
    for (int pass = 0; pass < 2; ++pass) {
        for (const TrainablePair& t : pairs) {
            prompts.push_back(t.prompt);
            responses.push_back(pass == 0 ? t.chosen : t.rejected);
        }
    }
    const at::Tensor ref = referenceLogprobs(prompts, responses);
    const auto refA = ref.accessor<float, 1>();
    const int64_t n = static_cast<int64_t>(pairs.size());
    for (int64_t i = 0; i < n; ++i) {
        pairs[static_cast<size_t>(i)].refChosen = refA[i];
        pairs[static_cast<size_t>(i)].refRejected = refA[n + i];
    }
    return pairs;
}

}  // namespace preflab
