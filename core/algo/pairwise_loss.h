#pragma once
// Pairwise preference losses on sequence log-probabilities, with the metrics of
// algorithms.md §0 under TRL's names, and SAIL's extra terms (§2). The one
// place pairwise methods live. Core-private (torch).
#include "core/values/method_registry.h"

#include <ATen/ATen.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace preflab {

// §1 and §7 of the spec. SlicHf, Orpo and Simpo need no reference model.
enum class PairwiseMethod { Dpo, Ipo, Slic, SlicHf, Cdpo, Rdpo, Kto, Orpo, Simpo };

// The loss a pairwise method trains with: dpo, online-dpo and the SAIL family use DPO's.
PairwiseMethod pairwiseLossOf(Method m);
// The same by the method's name; nullopt for a name that is not a pairwise method.
std::optional<PairwiseMethod> pairwiseMethodFromName(const std::string& name);

struct PairwiseOptions {
    PairwiseMethod method = PairwiseMethod::Dpo;
    double beta = 0.1;
    double labelSmoothing = 0.1;  // epsilon of conservative and robust DPO, 0 <= eps < 1/2
    bool ipoTokenMean = false;    // IPO on per-token mean log-probs instead of sums
    double slicDelta = 1.0;       // SLiC-HF hinge margin
    double slicLambda = 0.1;      // SLiC-HF weight of -c(y_ref); y_ref is the chosen response here
    double rpoAlpha = 0;          // the SFT term (RPO): + alpha x the chosen response's per-token NLL
    double ktoDesirableWeight = 1, ktoUndesirableWeight = 1;  // KTO's lambda_D and lambda_U
    double orpoLambda = 0.1;      // ORPO's weight of the odds-ratio term
    double simpoGamma = 0.5;      // SimPO's target margin
};

// Sequence log-probabilities c(x,y), each [N]: policy and frozen reference, for
// the chosen (y_w) and rejected (y_l) responses. Token counts [N] are needed
// by IPO's token-mean option, ORPO, SimPO and the SFT term. KTO also needs
// klPolicy and klRef [M]: the policy's (no gradient) and the reference's
// log-probabilities of mismatched prompt-response pairs of the batch, whose
// mean difference (at least 0) is its reference point z_ref.
struct PairLogps {
    at::Tensor policyChosen, policyRejected, refChosen, refRejected;
    at::Tensor chosenTokens, rejectedTokens;
    at::Tensor klPolicy, klRef;
};

// KTO's reference point: max(0, mean(klPolicy - klRef)), detached (TRL's z_ref).
at::Tensor ktoReferencePoint(const PairLogps& p);
// ORPO's log-odds difference: log odds(y_w) - log odds(y_l), odds(y) = p/(1 - p)
// with p = exp(c(y)/|y|), the mean token probability [N].
at::Tensor orpoLogOdds(const PairLogps& p);

using MetricList = std::vector<std::pair<std::string, double>>;

struct LossOutput {
    at::Tensor loss;  // scalar, mean over pairs, differentiable
    MetricList metrics;
};

// h = [c(y_w) - c_ref(y_w)] - [c(y_l) - c_ref(y_l)]
at::Tensor logRatioMargin(const PairLogps& p);

// The per-pair loss [N] (differentiable), before the batch mean.
at::Tensor pairwiseLossPerPair(const PairwiseOptions& options, const PairLogps& logps);
LossOutput pairwiseLoss(const PairwiseOptions& options, const PairLogps& logps);

// SAIL's exploration term (§2), as a surrogate whose gradient is the term.
enum class ExplorationForm { ScoreFunction, ReferenceCode };
std::optional<ExplorationForm> explorationFormFromName(const std::string& name);  // "score_function", "reference_code"

// ell = log sigma(beta h) [N] (differentiable); c1, c2 the policy's sequence
// log-probs of the pair's two responses [N]; mask [N] of 0/1 selects the routed
// pairs; c1, c2 must be log-probabilities of the distribution the pair was
// sampled from (tempered). ScoreFunction: -coef * mean_i mask_i sg(ell_i -
// b_i)(c1_i + c2_i), b_i the mean ell of the other routed pairs when
// `baseline` (leave-one-out, unbiased; else 0). ReferenceCode (the authors' code):
// -coef * sum_i mask_i [sg(ell_i/c1_i) c1_i + sg(ell_i/c2_i) c2_i], not divided
// by the batch size.
at::Tensor explorationSurrogate(ExplorationForm form, double coef, const at::Tensor& ell, const at::Tensor& c1,
                                const at::Tensor& c2, const at::Tensor& mask, bool baseline);
// The self-judged term: -coef * mean_i mask_i (1/2) ell_i^2; its gradient is
// -coef * mean_i mask_i ell_i grad ell_i.
at::Tensor selfJudgedSquare(double coef, const at::Tensor& ell, const at::Tensor& mask);

}  // namespace preflab
