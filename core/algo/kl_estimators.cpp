#include "core/algo/kl_estimators.h"

#include <stdexcept>

namespace preflab {

KlPerSequence klPerSequence(const at::Tensor& policyLogits, const at::Tensor& refLogits, const SequenceBatch& batch) {
    const int64_t T = batch.ids.size(1);
    const at::Tensor mask = batch.responseMask.narrow(1, 1, T - 1).to(at::kDouble);
    const at::Tensor lp = at::log_softmax(policyLogits.narrow(1, 0, T - 1).to(at::kDouble), -1);
    const at::Tensor lr = at::log_softmax(refLogits.narrow(1, 0, T - 1).to(at::kDouble), -1);
    const at::Tensor targets = batch.ids.narrow(1, 1, T - 1).unsqueeze(-1);
    const at::Tensor d = (lp.gather(-1, targets) - lr.gather(-1, targets)).squeeze(-1);
    const at::Tensor p = lp.exp();
    KlPerSequence out;
    out.k1 = (d * mask).sum(1);
    out.k3 = ((at::exp(-d) - 1.0 + d) * mask).sum(1);
    out.exact = ((p * (lp - lr)).sum(-1) * mask).sum(1);
    out.entropy = ((-(p * lp).sum(-1)) * mask).sum(1);
    return out;
}

KlEstimator parseKlEstimator(const std::string& name) {
    if (name == "k1") return KlEstimator::K1;
    if (name == "k3") return KlEstimator::K3;
    if (name == "exact") return KlEstimator::Exact;
    throw std::invalid_argument("unknown KL estimator '" + name + "' (expected k1, k3 or exact)");
}

}  // namespace preflab
