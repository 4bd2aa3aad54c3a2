#include "core/algo/pairwise_loss.h"
#include "core/values/metric_names.h"

#include <stdexcept>

namespace preflab {

PairwiseMethod pairwiseLossOf(Method m) {
    switch (m) {
    case Method::Ipo: return PairwiseMethod::Ipo;
    case Method::Slic: return PairwiseMethod::Slic;
    case Method::SlicHf: return PairwiseMethod::SlicHf;
    case Method::Cdpo: return PairwiseMethod::Cdpo;
    case Method::Rdpo: return PairwiseMethod::Rdpo;
    case Method::Kto: return PairwiseMethod::Kto;
    case Method::Orpo: return PairwiseMethod::Orpo;
    case Method::Simpo: return PairwiseMethod::Simpo;
    default: return PairwiseMethod::Dpo;  // dpo, online-dpo and the SAIL family train with the DPO loss
    }
}

std::optional<PairwiseMethod> pairwiseMethodFromName(const std::string& name) {
    const MethodInfo* m = findMethod(name);
    if (!m || m->family != MethodFamily::Pairwise) return std::nullopt;
    return pairwiseLossOf(m->id);
}

std::optional<ExplorationForm> explorationFormFromName(const std::string& n) {
    if (n == "score_function") return ExplorationForm::ScoreFunction;
    if (n == "reference_code") return ExplorationForm::ReferenceCode;
    return std::nullopt;
}

at::Tensor logRatioMargin(const PairLogps& p) {
    return (p.policyChosen - p.refChosen) - (p.policyRejected - p.refRejected);
}

at::Tensor ktoReferencePoint(const PairLogps& p) {
    if (!p.klPolicy.defined() || !p.klRef.defined()) {
        throw std::invalid_argument("KTO needs the log-probabilities of mismatched pairs for its reference point");
    }
    return (p.klPolicy - p.klRef).mean().clamp_min(0.0).detach();
}

at::Tensor orpoLogOdds(const PairLogps& p) {
    const at::Tensor w = p.policyChosen / p.chosenTokens, l = p.policyRejected / p.rejectedTokens;
    // log(1 - e^x) as log(-expm1(x)): exact where the mean probability nears 1.
    return (w - l) - (at::log(-at::expm1(w)) - at::log(-at::expm1(l)));
}

namespace {

void requireTokenCounts(const PairLogps& p, const char* method) {
    if (!p.chosenTokens.defined() || !p.rejectedTokens.defined()) {
        throw std::invalid_argument(std::string(method) + " needs the responses' token counts");
    }
}

// The method's own loss per pair, before the SFT term.
at::Tensor methodLossPerPair(const PairwiseOptions& o, const PairLogps& p) {
    const double beta = o.beta;
    const double eps = o.labelSmoothing;
    switch (o.method) {
    case PairwiseMethod::Dpo:
        return -at::log_sigmoid(beta * logRatioMargin(p));
    case PairwiseMethod::Ipo: {
        at::Tensor h = logRatioMargin(p);
        if (o.ipoTokenMean) {
            if (!p.chosenTokens.defined() || !p.rejectedTokens.defined()) {
                throw std::invalid_argument("IPO with token-mean log-probs needs the responses' token counts");
            }
            h = (p.policyChosen - p.refChosen) / p.chosenTokens - (p.policyRejected - p.refRejected) / p.rejectedTokens;
        }
        return (h - 1.0 / (2.0 * beta)).pow(2);
    }
    case PairwiseMethod::Slic:
        return at::relu(1.0 - beta * logRatioMargin(p));
    case PairwiseMethod::SlicHf:
        return at::relu(o.slicDelta - p.policyChosen + p.policyRejected) - o.slicLambda * p.policyChosen;
    case PairwiseMethod::Cdpo: {
        const at::Tensor z = beta * logRatioMargin(p);
        return -(1.0 - eps) * at::log_sigmoid(z) - eps * at::log_sigmoid(-z);
    }
    case PairwiseMethod::Rdpo: {
        if (eps >= 0.5) throw std::invalid_argument("robust DPO needs label_smoothing < 0.5");
        const at::Tensor z = beta * logRatioMargin(p);
        return (-(1.0 - eps) * at::log_sigmoid(z) + eps * at::log_sigmoid(-z)) / (1.0 - 2.0 * eps);
    }
    case PairwiseMethod::Kto: {
        // The pair as one desirable and one undesirable example: the mean
        // over the pair's two examples, so the batch mean is TRL's mean over
        // every example.
        const at::Tensor z = ktoReferencePoint(p);
        const at::Tensor desirable = 1.0 - at::sigmoid(beta * ((p.policyChosen - p.refChosen) - z));
        const at::Tensor undesirable = 1.0 - at::sigmoid(beta * (z - (p.policyRejected - p.refRejected)));
        return 0.5 * (o.ktoDesirableWeight * desirable + o.ktoUndesirableWeight * undesirable);
    }
    case PairwiseMethod::Orpo:
        requireTokenCounts(p, "ORPO");
        return -p.policyChosen / p.chosenTokens - o.orpoLambda * at::log_sigmoid(orpoLogOdds(p));
    case PairwiseMethod::Simpo:
        requireTokenCounts(p, "SimPO");
        return -at::log_sigmoid(beta * (p.policyChosen / p.chosenTokens - p.policyRejected / p.rejectedTokens) - o.simpoGamma);
    }
    throw std::logic_error("unknown pairwise method");
}

}  // namespace

at::Tensor pairwiseLossPerPair(const PairwiseOptions& o, const PairLogps& p) {
    at::Tensor loss = methodLossPerPair(o, p);
    if (o.rpoAlpha > 0) {
        // TRL's rpo_alpha: the chosen response's NLL per token.
        requireTokenCounts(p, "The SFT term");
        loss = loss + o.rpoAlpha * (-p.policyChosen / p.chosenTokens);
    }
    return loss;
}

LossOutput pairwiseLoss(const PairwiseOptions& options, const PairLogps& p) {
    const double beta = options.beta;
    LossOutput out;
    out.loss = pairwiseLossPerPair(options, p).mean();
    // Implicit rewards r = beta (c - c_ref), detached: for logging only.
    const at::Tensor chosen = (beta * (p.policyChosen - p.refChosen)).detach();
    const at::Tensor rejected = (beta * (p.policyRejected - p.refRejected)).detach();
    out.metrics = {
        {metricKey(Metric::Loss), out.loss.item<double>()},
        {metricKey(Metric::RewardsChosen), chosen.mean().item<double>()},
        {metricKey(Metric::RewardsRejected), rejected.mean().item<double>()},
        {metricKey(Metric::RewardsMargins), (chosen - rejected).mean().item<double>()},
        // Strict: a tie (as at initialisation) is not counted as correct.
        {metricKey(Metric::RewardsAccuracies), (chosen > rejected).to(at::kDouble).mean().item<double>()},
        {metricKey(Metric::LogpsChosen), p.policyChosen.detach().mean().item<double>()},
        {metricKey(Metric::LogpsRejected), p.policyRejected.detach().mean().item<double>()},
    };
    if (options.rpoAlpha > 0 || options.method == PairwiseMethod::Orpo) {
        out.metrics.push_back({metricKey(Metric::NllLoss), (-p.policyChosen / p.chosenTokens).detach().mean().item<double>()});
    }
    if (options.method == PairwiseMethod::Orpo) {
        const at::Tensor logOdds = orpoLogOdds(p).detach();
        out.metrics.push_back({metricKey(Metric::LogOddsRatio), at::log_sigmoid(logOdds).mean().item<double>()});
        out.metrics.push_back({metricKey(Metric::LogOddsChosen), logOdds.mean().item<double>()});
    }
    if (options.method == PairwiseMethod::Kto) out.metrics.push_back({metricKey(Metric::KlTerm), ktoReferencePoint(p).item<double>()});
    return out;
}

at::Tensor explorationSurrogate(ExplorationForm form, double coef, const at::Tensor& ell, const at::Tensor& c1,
                                const at::Tensor& c2, const at::Tensor& mask, bool baseline) {
    const at::Tensor l = ell.detach();
    const at::Tensor m = mask.to(c1.scalar_type());
    if (form == ExplorationForm::ScoreFunction) {
        // The baseline of pair i is the mean ell of the *other* routed pairs
        // (leave-one-out): independent of pair i's sample, so the term stays
        // unbiased (a mean that includes pair i would shrink it by (k-1)/k).
        // Routed pairs only: in a batch that mixes dataset pairs in (SAIL
        // with a dataset), their ell comes from another distribution.
        const at::Tensor k = m.sum();
        const at::Tensor others = ((m * l).sum() - m * l) / (k - 1.0).clamp_min(1.0);
        const at::Tensor centred = baseline && k.item<double>() > 1 ? l - others : l;
        return -coef * (m * centred * (c1 + c2)).mean();
    }
    return -coef * (m * ((l / c1.detach()) * c1 + (l / c2.detach()) * c2)).sum();
}

at::Tensor selfJudgedSquare(double coef, const at::Tensor& ell, const at::Tensor& mask) {
    return -coef * (mask.to(ell.scalar_type()) * 0.5 * ell.pow(2)).mean();
}

}  // namespace preflab
