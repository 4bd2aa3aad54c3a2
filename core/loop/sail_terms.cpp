#include "core/loop/sail_terms.h"
#include "core/values/metric_names.h"

#include "core/values/seed_mix.h"

#include <random>

namespace preflab {

DatasetRedraw redrawDatasetPreferences(const LoopContext& ctx, PairLogps& lp) {
    const RunConfig& cfg = ctx.cfg;
    const int64_t n = lp.policyChosen.size(0);
    std::mt19937_64 rng(mixSeed(ctx.seed(), 0x5A1D, static_cast<uint64_t>(ctx.step)));
    std::bernoulli_distribution route(cfg.sailDpProb);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    const at::Tensor pChosen = at::sigmoid(cfg.beta * logRatioMargin(lp)).detach().to(at::kDouble);
    std::vector<float> mask(static_cast<size_t>(n));
    std::vector<uint8_t> swap(static_cast<size_t>(n));
    DatasetRedraw out;
    for (int64_t i = 0; i < n; ++i) {
        const bool r = route(rng);
        const double draw = u(rng);
        mask[static_cast<size_t>(i)] = r ? 1.0f : 0.0f;
        swap[static_cast<size_t>(i)] = r && draw > pChosen[i].item<double>();
        out.routed += r;
        out.swapped += swap[static_cast<size_t>(i)];
    }
    if (out.swapped > 0) {
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
    out.mask = at::tensor(mask);
    return out;
}

void addRedrawSquare(const LoopContext& ctx, const PairLogps& lp, const DatasetRedraw& redraw, LossOutput& out) {
    const RunConfig& cfg = ctx.cfg;
    if (redraw.mask.sum().item<double>() > 0 && cfg.sailRho > 0) {
        const at::Tensor extra = selfJudgedSquare(cfg.sailRho, at::log_sigmoid(cfg.beta * logRatioMargin(lp)), redraw.mask);
        out.metrics.push_back({metricKey(Metric::SailExtraLoss), extra.item<double>()});
        out.loss = out.loss + extra;
    }
}

void addSailTerms(const LoopContext& ctx, bool mixesDatasetPairs, const PairLogps& lp, const at::Tensor& sampledChosen,
                  const at::Tensor& sampledRejected, const std::vector<TrainablePair>& batch, LossOutput& out) {
    const RunConfig& cfg = ctx.cfg;
    const bool pr = ctx.method.id == Method::SailPr, pp = ctx.method.id == Method::SailPp;
    if (!pr && !pp) return;
    const double coef = pr ? cfg.sailGamma : cfg.sailPi;
    const int64_t n = lp.policyChosen.size(0);
    std::vector<float> m(static_cast<size_t>(n));
    double routed = 0;
    if (mixesDatasetPairs) {
        for (size_t i = 0; i < m.size(); ++i) m[i] = batch[i].online ? 1.0f : 0.0f;
    } else {
        std::mt19937_64 rng(mixSeed(ctx.seed(), 0x5A11, static_cast<uint64_t>(ctx.step)));
        std::bernoulli_distribution route(cfg.sailProb);
        for (float& v : m) v = route(rng) ? 1.0f : 0.0f;
    }
    for (float v : m) routed += v;
    out.metrics.push_back({metricKey(Metric::SailRouted), routed});
    if (routed == 0 || coef == 0) return;
    const at::Tensor mask = at::tensor(m);
    const at::Tensor ell = at::log_sigmoid(cfg.beta * logRatioMargin(lp));
    at::Tensor extra = explorationSurrogate(explorationFormFromName(cfg.explorationForm).value_or(ExplorationForm::ScoreFunction),
                                            coef, ell, sampledChosen, sampledRejected, mask, cfg.explorationBaseline != 0);
    if (pp) extra = extra + selfJudgedSquare(coef, ell, mask);
    out.metrics.push_back({metricKey(Metric::SailExtraLoss), extra.item<double>()});
    out.loss = out.loss + extra;
}

}  // namespace preflab
