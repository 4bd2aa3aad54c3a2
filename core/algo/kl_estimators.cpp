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

ReverseKlTerm reverseKlSurrogate(const at::Tensor& tokenDelta, const at::Tensor& sampledLogprobs, const at::Tensor& rows) {
    const at::Tensor m = rows.to(tokenDelta.scalar_type());
    // Padding and prompt positions carry d = 0, where exp(-d) - 1 + d = 0.
    const at::Tensor k3 = (at::exp(-tokenDelta) - 1.0 + tokenDelta).sum(1);
    const at::Tensor k = m.sum();
    const at::Tensor kd = k3.detach();
    const at::Tensor others = ((m * kd).sum() - m * kd) / (k - 1.0).clamp_min(1.0);
    const at::Tensor baseline = k.item<double>() > 1 ? others : at::zeros_like(kd);
    ReverseKlTerm out;
    out.surrogate = (m * (k3 + (kd - baseline) * sampledLogprobs)).sum() / k.clamp_min(1.0);
    out.meanK3 = ((m * kd).sum() / k.clamp_min(1.0)).item<double>();
    return out;
}

KlEstimator parseKlEstimator(const std::string& name) {
    if (name == "k1") return KlEstimator::K1;
    if (name == "k3") return KlEstimator::K3;
    if (name == "exact") return KlEstimator::Exact;
    throw std::invalid_argument("unknown KL estimator '" + name + "' (expected k1, k3 or exact)");
}

}  // namespace preflab
