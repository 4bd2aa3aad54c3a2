#include "app/cli/starter_cache.h"

#include "app/cli/terminal_progress.h"
#include "core/task/starter_model.h"
#include "core/values/model_names.h"

#include <cstdio>
#include <filesystem>
#include <stdexcept>

namespace preflab {

std::string ensureStarterModel(const std::string& dataDir, bool force, long long steps) {
    PretrainSpec spec;
    if (steps > 0) spec.steps = steps;
    const std::string path = starterModelPath(dataDir, spec);
    if (!force && std::filesystem::exists(path)) return path;
    std::printf("Pretraining the built-in starter model (%lld steps, %.2f M parameters); cached at %s\n",
                static_cast<long long>(spec.steps), spec.model.parameterCount() / 1e6, path.c_str());
    TerminalProgress line;
    const PretrainResult r = pretrainStarterModel(spec, path, [&](const PretrainProgress& p) {
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
    });
    line.done();
    if (!r.completed) throw std::runtime_error("pretraining was cancelled");
    std::printf("Starter model ready in %.0f s (final loss %.3f nats/token).\n", r.seconds, r.finalLoss);
    return path;
}

std::string resolveModelForRun(const std::string& name, const std::string& dataDir) {
    return resolveModel(name, isStarterModel(name) ? ensureStarterModel(dataDir) : std::string()).path;
}

}  // namespace preflab
