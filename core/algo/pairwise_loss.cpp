#include "core/algo/pairwise_loss.h"

namespace preflab {

at::Tensor logRatioMargin(const PairLogps& p) {
    return (p.policyChosen - p.refChosen) - (p.policyRejected - p.refRejected);
}

LossOutput pairwiseLoss(const PairwiseOptions& options, const PairLogps& p) {
    const double beta = options.beta;
    const at::Tensor h = logRatioMargin(p);
    LossOutput out;
    switch (options.method) {
    case PairwiseMethod::Dpo:
        out.loss = -at::log_sigmoid(beta * h).mean();
        break;
    }
    // Implicit rewards r = beta (c - c_ref), detached: for logging only.
    const at::Tensor chosen = (beta * (p.policyChosen - p.refChosen)).detach();
    const at::Tensor rejected = (beta * (p.policyRejected - p.refRejected)).detach();
    out.metrics = {
        {"loss", out.loss.item<double>()},
        {"rewards/chosen", chosen.mean().item<double>()},
        {"rewards/rejected", rejected.mean().item<double>()},
        {"rewards/margins", (chosen - rejected).mean().item<double>()},
        // Strict: a tie (as at initialisation) is not counted as correct.
        {"rewards/accuracies", (chosen > rejected).to(at::kDouble).mean().item<double>()},
        {"logps/chosen", p.policyChosen.detach().mean().item<double>()},
        {"logps/rejected", p.policyRejected.detach().mean().item<double>()},
    };
    return out;
}

}  // namespace preflab
