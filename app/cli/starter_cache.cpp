#include "app/cli/starter_cache.h"

#include "app/cli/terminal_progress.h"
#include "core/task/reward_base_model.h"
#include "core/task/starter_model.h"
#include "core/values/model_names.h"

#include <cstdio>
#include <filesystem>
#include <functional>
#include <stdexcept>

namespace preflab {
namespace {

// The pretraining progress line, one shape for the starter and the reward base.
std::function<void(const PretrainProgress&)> pretrainProgressLine(TerminalProgress& line) {
    return [&line](const PretrainProgress& p) {
        const double f = static_cast<double>(p.step) / static_cast<double>(p.totalSteps);
        const double eta = p.step > 0 ? p.seconds / p.step * (p.totalSteps - p.step) : 0.0;
        line.show(QStringLiteral("pretrain %1 %2/%3  loss %4 nats/token  %5 s elapsed, ~%6 s left")
                      .arg(TerminalProgress::bar(f))
                      .arg(p.step)
                      .arg(p.totalSteps)
                      .arg(p.loss, 0, 'f', 3)
                      .arg(p.seconds, 0, 'f', 0)
                      .arg(eta, 0, 'f', 0),
                  p.step == p.totalSteps);
    };
}

}  // namespace

std::string ensureRewardBase(const std::string& dataDir, const PretrainSpec& spec, std::FILE* out, double* pretrainSeconds) {
    if (pretrainSeconds) *pretrainSeconds = 0;
    const std::string path = rewardBaseModelPath(dataDir, spec);
    if (!std::filesystem::exists(path)) {
        std::fprintf(out,
                     "Pretraining the reward model's base once (%lld steps, %.2f M parameters, on the task's text); "
                     "cached at %s\n",
                     static_cast<long long>(spec.steps), spec.model.parameterCount() / 1e6, path.c_str());
    }
    TerminalProgress line(out);
    const RewardBaseReady r = ensureRewardBaseModel(dataDir, spec, pretrainProgressLine(line));
    line.done();
    if (r.pretrained) {
        std::fprintf(out, "Reward-model base ready in %.0f s (final loss %.3f nats/token); later runs reuse it.\n",
                     r.result.seconds, r.result.finalLoss);
        if (pretrainSeconds) *pretrainSeconds = r.result.seconds;
    }
    return r.path;
}

std::string ensureStarterModel(const std::string& dataDir, bool force, long long steps) {
    PretrainSpec spec;
    if (steps > 0) spec.steps = steps;
    const std::string path = starterModelPath(dataDir, spec);
    if (!force && std::filesystem::exists(path)) return path;
    std::printf("Pretraining the built-in starter model (%lld steps, %.2f M parameters); cached at %s\n",
                static_cast<long long>(spec.steps), spec.model.parameterCount() / 1e6, path.c_str());
    TerminalProgress line;
    const PretrainResult r = pretrainStarterModel(spec, path, pretrainProgressLine(line));
    line.done();
    if (!r.completed) throw std::runtime_error("pretraining was cancelled");
    std::printf("Starter model ready in %.0f s (final loss %.3f nats/token).\n", r.seconds, r.finalLoss);
    return path;
}

std::string resolveModelForRun(const std::string& name, const std::string& dataDir) {
    return resolveModel(name, isStarterModel(name) ? ensureStarterModel(dataDir) : std::string()).path;
}

}  // namespace preflab
