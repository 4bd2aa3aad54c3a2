// preflab-bench: prints the figures the foundation issue asks for (see README).
//   DPO step time, tokens/s and GFLOP/s vs the measured matmul peak (fp32, and
//   bf16 where it is not pointless), KV-cache sampling tokens/s, pretrain time.
// --json writes the same figures as JSON; --pretrain also times the full
// starter-model pretraining (about 3 minutes). --soak MINUTES runs the online
// loop that long instead and reports memory, step time and database size over
// time with their slopes (bench/soak.h); options after `--` go to `preflab run`.
// --peer measures PrefLab beside its Python peer, bench/peer/peer.py
// (bench/peer_comparison.h; --reps N, --python PATH, --peer-script FILE).
// --offline-dpo times offline DPO over stored pairs with the reference
// log-probabilities recomputed or cached (bench/offline_dpo_bench.h; --reps N).
// --dpo-step N runs the 10.8 M fp32 DPO step alone N times (for a profiler).
#include "bench/offline_dpo_bench.h"
#include "bench/peer_comparison.h"
#include "bench/soak.h"
#include "bench/workloads.h"
#include "core/nn/kernel_report.h"
#include "core/algo/pairwise_loss.h"
#include "core/task/starter_model.h"
#include "core/nn/autocast_scope.h"
#include "core/nn/sampler.h"
#include "core/nn/sequence_batch.h"
#include "core/runtime/compute_threads.h"
#include "core/runtime/cpu_features.h"
#include "core/runtime/library_environment.h"
#include "storage/database.h"
#include "storage/pair_files.h"

#include <torch/optim/adamw.h>
#include <torch/utils.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <cstring>
#include <sys/resource.h>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

using namespace preflab;
using Clock = std::chrono::steady_clock;

namespace {

double seconds(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}

struct StepFigures {
    double seconds, tokensPerSecond, gflops;
};

StepFigures dpoStep(const TransformerConfig& cfg, int pairs, int seqLen, bool bf16) {
    const double s = bench::median(bench::dpoStepSeconds(cfg, pairs, seqLen, bf16, 3));
    return {s, 2.0 * pairs * seqLen / s, bench::dpoStepFlops(cfg, pairs, seqLen) / s / 1e9};
}

double samplingTokensPerSecond(const TransformerConfig& cfg, int prompts, int newTokens, int promptTokens = 5) {
    return prompts * newTokens / bench::median(bench::samplingSeconds(cfg, prompts, newTokens, promptTokens, 3));
}

// `preflab import`'s work without the process start: `pairs` synthetic TRL
// lines (a 12-word prompt, 40- and 35-word responses, ~430 bytes a line)
// into a fresh database, or into `serverUrl` (a PostgreSQL database, which
// keeps them). Returns pairs per second; *megabytes the file's size.
// With `given`, that file instead (`pairs` is then ignored).
double importPairsPerSecond(int pairs, double* megabytes, const std::string& serverUrl = {}, const std::string& given = {}) {
    const std::filesystem::path dir = std::filesystem::temp_directory_path() / "preflab-bench-import";
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    const std::string file = given.empty() ? (dir / "pairs.jsonl").string() : given;
    if (given.empty()) {
        const char* words[] = {"the", "cat", "sat", "on", "mat", "dog", "ran", "far", "kind", "words", "help", "you", "fox", "lives", "in", "forest"};
        std::mt19937 rng(1);
        std::ofstream out(file);
        auto text = [&](int n) {
            std::string s;
            for (int i = 0; i < n; ++i) s += std::string(i ? " " : "") + words[rng() % 16];
            return s;
        };
        for (int i = 0; i < pairs; ++i) {
            out << "{\"prompt\": \"" << text(12) << "?\", \"chosen\": \"" << text(40) << "\", \"rejected\": \"" << text(35) << "\"}\n";
        }
    }
    *megabytes = static_cast<double>(std::filesystem::file_size(file)) / 1e6;
    auto db = Database::open(serverUrl.empty() ? (dir / "import.db").string() : serverUrl);
    const auto t = Clock::now();
    const ImportReport r = importPairsJsonl(*db, file);
    const double s = seconds(t);
    db.reset();
    std::filesystem::remove_all(dir);
    return r.stored ? r.pairsStored / s : 0.0;
}

}  // namespace

int main(int argc, char** argv) {
    applyLibraryEnvironment(argc, argv);
    bool json = false, pretrain = false, soak = false, importOnly = false, peer = false, offlineDpo = false, repsGiven = false;
    int dpoStepReps = 0;  // --dpo-step N: that step alone, N times (to profile it: perf record)
    std::string importServer, importFile;
    bench::SoakOptions soakOptions;
    bench::PeerOptions peerOptions;
    peerOptions.script = PREFLAB_PEER_SCRIPT;
    soakOptions.preflab = PREFLAB_CLI;
    for (int i = 1; i < argc; ++i) {
        const bool hasValue = i + 1 < argc;
        json |= std::strcmp(argv[i], "--json") == 0;
        pretrain |= std::strcmp(argv[i], "--pretrain") == 0;
        importOnly |= std::strcmp(argv[i], "--import-only") == 0;
        peer |= std::strcmp(argv[i], "--peer") == 0;
        offlineDpo |= std::strcmp(argv[i], "--offline-dpo") == 0;
        if (std::strcmp(argv[i], "--dpo-step") == 0 && hasValue) dpoStepReps = std::max(1, std::atoi(argv[++i]));
        if (std::strcmp(argv[i], "--peer-script") == 0 && hasValue) peerOptions.script = argv[++i];
        if (std::strcmp(argv[i], "--python") == 0 && hasValue) peerOptions.python = argv[++i];
        if (std::strcmp(argv[i], "--reps") == 0 && hasValue) repsGiven = true, peerOptions.repetitions = std::max(1, std::atoi(argv[++i]));
        if (std::strcmp(argv[i], "--import-server") == 0 && hasValue) importServer = argv[++i];
        if (std::strcmp(argv[i], "--import-file") == 0 && hasValue) importOnly = true, importFile = argv[++i];
        if (std::strcmp(argv[i], "--soak") == 0 && hasValue) soak = true, soakOptions.minutes = std::atof(argv[++i]);
        else if (std::strcmp(argv[i], "--soak-interval") == 0 && hasValue) soakOptions.intervalSeconds = std::atof(argv[++i]);
        else if (std::strcmp(argv[i], "--soak-warmup") == 0 && hasValue) soakOptions.warmupMinutes = std::atof(argv[++i]);
        else if (std::strcmp(argv[i], "--soak-dir") == 0 && hasValue) soakOptions.folder = argv[++i];
        else if (std::strcmp(argv[i], "--data-dir") == 0 && hasValue) soakOptions.dataDir = argv[++i];
        else if (std::strcmp(argv[i], "--preflab") == 0 && hasValue) soakOptions.preflab = argv[++i];
        else if (std::strcmp(argv[i], "--") == 0) {
            while (++i < argc) soakOptions.runArgs.push_back(argv[i]);
        }
    }
    if (dpoStepReps > 0) {
        // The step dpo_step_peak_share measures (10.8 M, fp32, 8 pairs x 128
        // tokens), alone, so that a profiler sees nothing else.
        const int threads = configureComputeThreads();
        const TransformerConfig tenM = bench::tenMillionConfig();
        const double peak = bench::matmulPeakGflops(false);
        // PrefLab's step, then the same with LibTorch's AdamW, in alternating
        // rounds (a VM's neighbours come and go): what the fused update saves.
        std::vector<double> fused, libtorch;
        for (int round = 0; round < 3; ++round) {
            for (double t : bench::dpoStepSeconds(tenM, 8, 128, false, dpoStepReps)) fused.push_back(t);
            for (double t : bench::dpoStepSeconds(tenM, 8, 128, false, dpoStepReps, true)) libtorch.push_back(t);
        }
        const double s = bench::median(fused), sLibtorch = bench::median(libtorch);
        const double gflops = bench::dpoStepFlops(tenM, 8, 128) / s / 1e9;
        std::printf("DPO step, 10.8 M fp32, 8 pairs x 128 tokens, %d threads: median %.3f s of %zu, %.1f GFLOP/s, %.0f %% of "
                    "the matmul peak (%.1f GFLOP/s)\n", threads, s, fused.size(), gflops, 100 * gflops / peak, peak);
        std::printf("  the same with LibTorch's AdamW instead of FusedAdamW: median %.3f s (%.0f %% of the peak)\n", sLibtorch,
                    100 * bench::dpoStepFlops(tenM, 8, 128) / sLibtorch / 1e9 / peak);
        return 0;
    }
    if (soak) {
        if (!(soakOptions.minutes > 0) || !(soakOptions.intervalSeconds > 0)) {
            std::fprintf(stderr, "preflab-bench: --soak needs a positive number of minutes\n");
            return 2;
        }
        soakOptions.json = json;
        return bench::runSoak(soakOptions);
    }
    if (importOnly && !importFile.empty()) {
        // A given file (a large one: memory must stay flat) into a new SQLite file.
        double mb = 0;
        const double rate = importPairsPerSecond(0, &mb, {}, importFile);
        struct rusage usage {};
        getrusage(RUSAGE_SELF, &usage);
        std::printf("import of %s (%.0f MB) into a new SQLite file: %.0f pairs/s, peak RSS %.0f MiB\n",
                    importFile.c_str(), mb, rate, usage.ru_maxrss / 1024.0);
        return 0;
    }
    if (importOnly) {
        // The import alone: into a new SQLite file and, with --import-server
        // URL, into that PostgreSQL database (it keeps the pairs).
        double mb = 0;
        const double file = importPairsPerSecond(100000, &mb);
        if (json) std::printf("{\"import_pairs_per_s\": %.6g, \"import_mb_per_s\": %.6g", file, file * mb / 100000);
        else std::printf("import, 100,000 TRL pairs (%.0f MB) into a new SQLite file: %.0f pairs/s (%.1f MB/s)\n", mb, file, file * mb / 100000);
        if (!importServer.empty()) {
            const double server = importPairsPerSecond(100000, &mb, importServer);
            if (json) std::printf(", \"import_server_pairs_per_s\": %.6g", server);
            else std::printf("the same into PostgreSQL (%s): %.0f pairs/s\n", importServer.c_str(), server);
        }
        if (json) std::printf("}\n");
        return 0;
    }
    if (offlineDpo) {
        bench::OfflineDpoOptions o;
        o.json = json;
        if (repsGiven) o.repetitions = peerOptions.repetitions;
        return bench::runOfflineDpoBench(o);
    }
    if (peer) {
        peerOptions.json = json;
        return bench::runPeerComparison(peerOptions);
    }
    const int threads = configureComputeThreads();
    std::map<std::string, double> f;
    f["threads"] = threads;
    f["matmul_peak_gflops_fp32"] = bench::matmulPeakGflops(false);
    f["matmul_peak_gflops_bf16"] = bench::matmulPeakGflops(true);

    TransformerConfig starter;  // built-in model
    const TransformerConfig tenM = bench::tenMillionConfig();
    const StepFigures s1 = dpoStep(starter, 8, 128, false);
    f["dpo_step_s_builtin_fp32"] = s1.seconds;
    f["dpo_tokens_per_s_builtin_fp32"] = s1.tokensPerSecond;
    f["dpo_gflops_builtin_fp32"] = s1.gflops;
    const StepFigures s2 = dpoStep(tenM, 8, 128, false);
    f["dpo_step_s_10m_fp32"] = s2.seconds;
    f["dpo_tokens_per_s_10m_fp32"] = s2.tokensPerSecond;
    f["dpo_gflops_10m_fp32"] = s2.gflops;
    if (cpuFeatures().fastBf16()) {
        const StepFigures s3 = dpoStep(tenM, 8, 128, true);
        f["dpo_step_s_10m_bf16"] = s3.seconds;
        f["dpo_gflops_10m_bf16"] = s3.gflops;
    }
    const TransformerConfig d128 = bench::d128Config();
    f["sampling_tokens_per_s_d128x4"] = samplingTokensPerSecond(d128, 8, 64);
    f["sampling_tokens_per_s_builtin"] = samplingTokensPerSecond(starter, 8, 64);
    double importMb = 0;
    f["import_pairs_per_s"] = importPairsPerSecond(100000, &importMb);
    f["import_mb_per_s"] = f["import_pairs_per_s"] * importMb / 100000;
    if (pretrain) {
        const std::string path = (std::filesystem::temp_directory_path() / "preflab-bench-starter.pt").string();
        f["pretrain_s"] = pretrainStarterModel(PretrainSpec{}, path).seconds;
        std::filesystem::remove(path);
    }

    if (json) {
        std::printf("{\n  \"cpu\": \"%s\"", cpuFeatures().summary().c_str());
        for (const auto& [k, v] : f) std::printf(",\n  \"%s\": %.6g", k.c_str(), v);
        std::printf("\n}\n");
        return 0;
    }
    std::printf("PrefLab benchmark (%s, %d threads)\n", cpuFeatures().summary().c_str(), threads);
    for (const std::string& line : runtimeSettingsReport()) std::printf("  %s\n", line.c_str());
    for (const std::string& line : kernelReport()) std::printf("  %s\n", line.c_str());
    std::printf("matmul peak 1024^3:        fp32 %7.1f GFLOP/s   bf16 %7.1f GFLOP/s%s\n", f["matmul_peak_gflops_fp32"],
                f["matmul_peak_gflops_bf16"], cpuFeatures().fastBf16() ? "" : "  (no native bf16: bf16 is not used)");
    std::printf("DPO step, built-in (%.2f M), 8 pairs x 128 tok, fp32: %.3f s  %7.0f tok/s  %6.1f GFLOP/s (%.0f %% of peak)\n",
                starter.parameterCount() / 1e6, s1.seconds, s1.tokensPerSecond, s1.gflops,
                100 * s1.gflops / f["matmul_peak_gflops_fp32"]);
    std::printf("DPO step, 10 M (%.1f M, d384x6), 8 pairs x 128 tok, fp32: %.3f s  %7.0f tok/s  %6.1f GFLOP/s (%.0f %% of peak)\n",
                tenM.parameterCount() / 1e6, s2.seconds, s2.tokensPerSecond, s2.gflops,
                100 * s2.gflops / f["matmul_peak_gflops_fp32"]);
    if (f.count("dpo_step_s_10m_bf16")) {
        std::printf("DPO step, 10 M, bf16 autocast: %.3f s  %6.1f GFLOP/s\n", f["dpo_step_s_10m_bf16"], f["dpo_gflops_10m_bf16"]);
    }
    std::printf("KV-cache sampling, 8 prompts x 64 new tokens: d128x4 %.0f tok/s, built-in %.0f tok/s\n",
                f["sampling_tokens_per_s_d128x4"], f["sampling_tokens_per_s_builtin"]);
    std::printf("import, 100,000 TRL pairs (%.0f MB) into a new database: %.0f pairs/s (%.1f MB/s)\n", importMb,
                f["import_pairs_per_s"], f["import_mb_per_s"]);
    if (pretrain) std::printf("starter-model pretraining: %.0f s\n", f["pretrain_s"]);
    else std::printf("starter-model pretraining: run with --pretrain to time it (about 3 minutes)\n");
    return 0;
}
