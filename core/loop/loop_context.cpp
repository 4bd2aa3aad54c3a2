#include "core/loop/loop_context.h"

#include "core/values/seed_mix.h"
#include "core/runtime/compute_threads.h"

#include <algorithm>
#include <stdexcept>

namespace preflab {

namespace {

// The config's method, after the whole config is checked (throws before any work).
const MethodInfo& validatedMethod(const RunConfig& cfg) {
    const std::vector<std::string> errors = validateRunConfig(cfg);
    if (!errors.empty()) throw std::runtime_error("invalid run configuration: " + errors.front());
    return *findMethod(cfg.algorithm);
}

}  // namespace

LoopContext::LoopContext(LoopSetup s, LoopObserver* o)
    : setup(std::move(s)), method(validatedMethod(setup.config)), observer(o) {
    configureComputeThreads(static_cast<int>(cfg.threads));
    trainPrompts = task.prompts(static_cast<int>(cfg.prompts), mixSeed(seed(), 1, 0));
    evalPrompts = task.prompts(static_cast<int>(cfg.evalSamples), mixSeed(seed(), 2, 0));
    rank = setup.ranks.rank;
    worldSize = std::max(1, setup.ranks.worldSize);
    // firstPairIndex is run-wide (the database's next index): this rank's count from there.
    nextPairIndex = (setup.firstPairIndex + worldSize - 1) / worldSize;
}

const TaskPrompt& LoopContext::trainPrompt(int64_t pairIndex) const {
    const uint64_t k = mixSeed(seed(), 3, static_cast<uint64_t>(pairIndex));
    return trainPrompts[k % trainPrompts.size()];
}

void LoopContext::report(const Metrics& metrics) const {
    const int64_t t = nowMs();
    std::vector<MetricSample> samples;
    samples.reserve(metrics.size());
    for (const auto& [name, value] : metrics) samples.push_back({step, name, value, t});
    if (observer) observer->metricsLogged(samples);
}

}  // namespace preflab
