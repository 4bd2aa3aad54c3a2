// preflab-allreduce-bench: the gradient all-reduce that data-parallel training
// does every step (RankGroup::allReduceSum: c10d's Gloo process group over a
// TCP connection), timed at gradient sizes from the built-in model's (1.9 MB)
// to a 124 M model's (500 MB). Two ranks run as two threads of this process
// over loopback, so the figures are the software's and the memory's cost, a
// floor under any network's; docs/results.md turns them, with a network's
// bandwidth and latency, into the step time of 4-16 hosts.
// Usage: preflab-allreduce-bench [--max-mb 512] [--json]
#include "core/distributed/rank_group.h"
#include "core/runtime/compute_threads.h"
#include "core/runtime/library_environment.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>


using namespace preflab;

namespace {

struct Timing {
    double megabytes, minMs, medianMs, maxMs;
};

}  // namespace

int main(int argc, char** argv) {
    applyLibraryEnvironment(argc, argv);
    double maxMb = 512;
    bool json = false;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--max-mb") && i + 1 < argc) maxMb = std::atof(argv[++i]);
        else if (!std::strcmp(argv[i], "--json")) json = true;
    }
    configureComputeThreads(1);
    std::vector<double> sizesMb;
    for (double mb : {1.9, 8.0, 43.0, 128.0, 500.0}) {
        if (mb <= maxMb) sizesMb.push_back(mb);
    }
    RankOptions options;
    options.worldSize = 2;
    options.masterPort = freeLoopbackPort();
    options.timeoutSeconds = 120;
    std::vector<Timing> timings(sizesMb.size());
    auto rankMain = [&](int rank) {
        RankOptions mine = options;
        mine.rank = rank;
        RankGroup group(mine);
        group.connect();
        for (size_t s = 0; s < sizesMb.size(); ++s) {
            at::Tensor t = at::ones({static_cast<int64_t>(sizesMb[s] * 1e6 / 4)}, at::kFloat);
            const int reps = sizesMb[s] > 100 ? 3 : 10;
            std::vector<double> ms;
            for (int r = 0; r < reps + 1; ++r) {
                const auto t0 = std::chrono::steady_clock::now();
                group.allReduceSum(t, r, "the benchmark's all-reduce");
                const double took = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
                if (r > 0) ms.push_back(took);  // the first one connects the pair
            }
            std::sort(ms.begin(), ms.end());
            if (rank == 0) timings[s] = {sizesMb[s], ms.front(), ms[ms.size() / 2], ms.back()};
        }
    };
    try {
        std::thread other(rankMain, 1);
        rankMain(0);
        other.join();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "preflab-allreduce-bench: %s\n", e.what());
        return 1;
    }
    if (!json) {
        std::printf("Gloo all-reduce, 2 ranks over loopback, one thread each (min / median / max of the repetitions)\n");
        std::printf("%10s %10s %10s %10s %14s\n", "MB", "min ms", "median ms", "max ms", "GB/s (median)");
    }
    std::string out = "{\"allreduce\":[";
    for (size_t i = 0; i < timings.size(); ++i) {
        const Timing& t = timings[i];
        // A ring all-reduce of S bytes over 2 ranks sends and receives S bytes per rank.
        const double gbps = t.megabytes / t.medianMs;
        if (!json) std::printf("%10.1f %10.2f %10.2f %10.2f %14.2f\n", t.megabytes, t.minMs, t.medianMs, t.maxMs, gbps);
        char buf[200];
        std::snprintf(buf, sizeof buf, "%s{\"mb\":%.1f,\"min_ms\":%.3f,\"median_ms\":%.3f,\"max_ms\":%.3f}", i ? "," : "",
                      t.megabytes, t.minMs, t.medianMs, t.maxMs);
        out += buf;
    }
    out += "]}";
    if (json) std::printf("%s\n", out.c_str());
    return 0;
}
