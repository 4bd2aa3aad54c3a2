#include "core/nn/autocast_scope.h"

#include "core/runtime/cpu_features.h"

#include <ATen/autocast_mode.h>

namespace preflab {
namespace {

class CpuAutocast {
public:
    CpuAutocast() {
        at::autocast::set_cpu_enabled(true);
        at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
    }
    ~CpuAutocast() {
        at::autocast::clear_cache();
        at::autocast::set_cpu_enabled(false);
    }
};

}  // namespace

at::Tensor computeLogits(Transformer& model, const at::Tensor& ids, const at::Tensor& mask, bool bf16) {
    if (!bf16) return model->forward(ids, mask);
    at::Tensor h;
    {
        CpuAutocast scope;
        h = model->hidden(ids, mask);
    }
    return model->logitsFromHidden(h.to(at::kFloat));
}

bool useBf16(const std::string& computeDtype, int64_t parameterCount) {
    if (computeDtype == "bf16") return true;
    if (computeDtype == "fp32") return false;
    return cpuFeatures().fastBf16() && parameterCount >= 5'000'000;
}

}  // namespace preflab
