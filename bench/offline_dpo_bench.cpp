#include "bench/offline_dpo_bench.h"

#include "bench/workloads.h"
#include "core/judges/task_judge.h"
#include "core/loop/online_loop.h"
#include "core/nn/model_file.h"
#include "core/runtime/cpu_features.h"

#include <torch/utils.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace preflab::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Observed : LoopObserver {
    std::vector<double> losses;
    std::vector<ReferenceLogprobRecord> records;
    void metricsLogged(const std::vector<MetricSample>& m) override {
        for (const MetricSample& s : m) {
            if (s.name == "loss") losses.push_back(s.value);
        }
    }
    void referenceLogprobsComputed(const std::vector<ReferenceLogprobRecord>& r) override {
        records.insert(records.end(), r.begin(), r.end());
    }
};

// Text of `bytes` bytes from a fixed word list (the byte tokenizer: one token each).
std::string text(size_t bytes, unsigned seed) {
    static const char* words[] = {"the", "assistant", "should", "answer", "kindly", "and", "never", "harm",
                                  "a", "person", "who", "asks", "about", "chemistry", "or", "history"};
    std::string s;
    unsigned x = seed * 2654435761u + 1;
    while (s.size() < bytes) {
        x = x * 1664525u + 1013904223u;
        if (!s.empty()) s += ' ';
        s += words[(x >> 16) % 16];
    }
    s.resize(bytes);
    return s;
}

struct Timed {
    double seconds = 0;
    std::vector<double> losses;
    std::vector<ReferenceLogprobRecord> records;
};

Timed runOnce(const std::string& model, const std::string& dir, std::vector<OfflinePair> pairs, const std::string& mode,
              bool prefixSharing) {
    LoopSetup setup;
    RunConfig& c = setup.config;
    c.algorithm = "dpo";
    c.pairs = "bench";
    c.refLogprobs = mode;
    c.prefixSharing = prefixSharing ? 1 : 0;
    c.batchSize = 8;
    c.steps = static_cast<int64_t>(2 * pairs.size() / 8);  // two epochs
    c.evalEvery = 0;
    c.checkpointEvery = 0;
    c.heldOutPairs = 0;
    c.warmupSteps = 0;
    c.computeDtype = "fp32";
    setup.modelPath = model;
    setup.checkpointDir = dir + "/ck";
    setup.offlinePairs = std::move(pairs);
    Observed o;
    OnlineLoop loop(setup, std::make_unique<TaskJudge>(), &o);
    std::atomic_bool cancel{false};
    const auto t0 = Clock::now();
    while (loop.step(cancel) == StepOutcome::Trained) {
    }
    Timed t;
    t.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    t.losses = std::move(o.losses);
    t.records = std::move(o.records);
    return t;
}

double maxDifference(const std::vector<double>& a, const std::vector<double>& b) {
    if (a.size() != b.size()) return INFINITY;
    double d = 0;
    for (size_t i = 0; i < a.size(); ++i) d = std::max(d, std::abs(a[i] - b[i]));
    return d;
}


// The 10.8 M model (context 192) in a scratch folder, and `n` HH-shaped
// pairs; the folder goes with it.
struct Workload {
    std::string dir, model;
    std::vector<OfflinePair> pairs;
    explicit Workload(int n) {
        dir = (std::filesystem::temp_directory_path() / "preflab-offline-dpo-bench").string();
        std::filesystem::create_directories(dir);
        model = dir + "/model.pt";
        TransformerConfig cfg = tenMillionConfig();
        cfg.maxSeqLen = 192;  // an HH-shaped pair: 122 prompt + 47 response tokens
        torch::manual_seed(1);
        Transformer m(cfg);
        ModelFileInfo info;
        info.config = cfg;
        saveModelFile(model, m, info);
        for (int i = 0; i < n; ++i) {
            OfflinePair p{text(120, 3 * i), text(46, 3 * i + 1), text(46, 3 * i + 2)};
            p.pairId = i + 1;  // as stored pairs are
            pairs.push_back(std::move(p));
        }
    }
    ~Workload() { std::filesystem::remove_all(dir); }
};

}  // namespace

HhOfflineDpoTiming hhOfflineDpoSeconds(int repetitions, int pairs) {
    const Workload w(pairs);
    HhOfflineDpoTiming out;
    for (int rep = 0; rep < repetitions; ++rep) {
        const Timed t = runOnce(w.model, w.dir, w.pairs, "cache", true);
        out.seconds.push_back(t.seconds);
        if (rep == 0 && !t.losses.empty()) out.firstLoss = t.losses.front();
    }
    return out;
}

int runOfflineDpoBench(const OfflineDpoOptions& options) {
    const Workload w(options.pairs);
    const std::string& dir = w.dir;
    const std::string& model = w.model;
    const std::vector<OfflinePair>& pairs = w.pairs;
    // The values an earlier run would have stored (the "warm" runs read them).
    std::vector<OfflinePair> warmPairs = pairs;
    {
        const Timed first = runOnce(model, dir, pairs, "cache", true);
        for (const ReferenceLogprobRecord& r : first.records) warmPairs[static_cast<size_t>(r.pairId - 1)].cachedRef = r.values;
    }
    // before: what PrefLab did before issue 33 (each response with its own
    // prompt, reference recomputed at every draw); shared: prefix sharing;
    // cold / warm: shared and the reference log-probs cached, computed in
    // the first epoch or read from an earlier run.
    const char* modes[] = {"before", "shared", "cold", "warm"};
    std::map<std::string, std::vector<double>> seconds;
    std::map<std::string, std::vector<double>> losses;
    for (int rep = 0; rep < options.repetitions; ++rep) {
        for (const char* m : modes) {
            const std::string mode = m;
            const Timed t = runOnce(model, dir, mode == "warm" ? warmPairs : pairs,
                                    mode == "before" || mode == "shared" ? "recompute" : "cache", mode != "before");
            seconds[mode].push_back(t.seconds);
            losses[mode] = t.losses;
        }
    }
    // Cached against recomputed: equal to the bit. Shared against not: the
    // same log-probabilities to ~1e-6, which AdamW carries into the last bits.
    const double lossCold = maxDifference(losses["cold"], losses["shared"]);
    const double lossWarm = maxDifference(losses["warm"], losses["shared"]);
    const double lossShared = maxDifference(losses["shared"], losses["before"]);
    auto range = [&](const std::string& m) {
        const auto [lo, hi] = std::minmax_element(seconds[m].begin(), seconds[m].end());
        return std::make_pair(*lo, *hi);
    };
    std::map<std::string, double> med;
    for (const char* m : modes) med[m] = median(seconds[m]);
    if (options.json) {
        std::printf("{\"offline_dpo_pairs\": %d, \"offline_dpo_steps\": %d", options.pairs, options.pairs / 4);
        for (const char* m : modes) std::printf(", \"offline_dpo_%s_s\": %.6g", m, med[m]);
        for (const char* m : {"shared", "cold", "warm"}) std::printf(", \"offline_dpo_%s_ratio\": %.6g", m, med["before"] / med[m]);
        std::printf(", \"offline_dpo_cache_cold_ratio\": %.6g, \"offline_dpo_cache_warm_ratio\": %.6g", med["shared"] / med["cold"],
                    med["shared"] / med["warm"]);
        std::printf(", \"offline_dpo_loss_max_diff_cached\": %.3g, \"offline_dpo_loss_max_diff_shared\": %.3g, \"cpu\": \"%s\"}\n",
                    std::max(lossCold, lossWarm), lossShared, cpuFeatures().summary().c_str());
    } else {
        std::printf("offline DPO, 10.8 M model (fp32), %d stored pairs x (122 + 2 x 47 tokens), batch 8, two epochs (%d steps); "
                    "median of %d (min-max):\n",
                    options.pairs, options.pairs / 4, options.repetitions);
        const char* what[] = {"each response with its prompt, reference recomputed (before issue 33)",
                              "prompt shared, reference recomputed",
                              "prompt shared, reference cached (computed in epoch 1)",
                              "prompt shared, reference cached (from an earlier run)"};
        for (size_t i = 0; i < 4; ++i) {
            const auto [lo, hi] = range(modes[i]);
            std::printf("  %-74s %7.2f s (%.2f-%.2f)  %.2fx\n", what[i], med[modes[i]], lo, hi, med["before"] / med[modes[i]]);
        }
        std::printf("  losses: cached against recomputed max |difference| %.2g (cold), %.2g (warm); shared against not %.2g\n",
                    lossCold, lossWarm, lossShared);
        std::printf("  cpu: %s\n", cpuFeatures().summary().c_str());
    }
    return lossCold <= 1e-6 && lossWarm <= 1e-6 && lossShared <= 1e-4 ? 0 : 1;
}

}  // namespace preflab::bench
