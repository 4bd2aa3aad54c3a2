#include "bench/peer_comparison.h"

#include "bench/offline_dpo_bench.h"
#include "bench/workloads.h"
#include "core/algo/pairwise_loss.h"
#include "core/nn/kernel_report.h"
#include "core/runtime/blas_library.h"
#include "core/runtime/compute_threads.h"
#include "core/runtime/cpu_features.h"
#include "core/runtime/library_environment.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QStringList>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

namespace preflab::bench {
namespace {

struct Spread {
    double min = 0, median = 0, max = 0;
};

Spread spreadOf(const std::vector<double>& v) {
    if (v.empty()) return {};
    return {*std::min_element(v.begin(), v.end()), bench::median(v), *std::max_element(v.begin(), v.end())};
}

// Tokens per second from seconds per run: the spread of the rate.
Spread rateOf(const std::vector<double>& seconds, double tokens) {
    std::vector<double> rates;
    for (double s : seconds) rates.push_back(tokens / s);
    return spreadOf(rates);
}

// Runs the peer; its last line of output is one JSON object. `asIs`: without
// the variables PrefLab sets for itself (the library environment), as a
// researcher's own script would run; else with them, PrefLab's thread counts
// and its allocator settings.
QJsonObject runPeer(const PeerOptions& o, bool asIs, bool bf16, std::string* error) {
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    QStringList args{QString::fromStdString(o.script), "--reps", QString::number(o.repetitions)};
    if (bf16) args << "--bf16";
    if (asIs) {
        for (const char* name : {"OMP_WAIT_POLICY", "OPENBLAS_CORETYPE", "ATEN_CPU_CAPABILITY", "GLOG_minloglevel"}) env.remove(name);
        // And the BLAS Debian's alternatives chose, not the OpenMP build PrefLab put first.
        QStringList path = env.value("LD_LIBRARY_PATH").split(':', Qt::SkipEmptyParts);
        path.removeIf([](const QString& dir) { return dir.endsWith(QStringLiteral("/") + kOpenMpBlasFolderName); });
        if (path.isEmpty()) {
            env.remove("LD_LIBRARY_PATH");
        } else {
            env.insert("LD_LIBRARY_PATH", path.join(':'));
        }
    } else {
        const TransformerConfig builtin;
        args << "--tuned" << "--threads" << QString::number(defaultComputeThreads()) << "--small-threads"
             << QString::number(computeThreadsForModel(builtin.parameterCount(), 0));
    }
    p.setProcessEnvironment(env);
    p.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    p.start(QString::fromStdString(o.python), args);
    if (!p.waitForFinished(-1) || p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0) {
        *error = o.python + " " + o.script + " failed (" + p.errorString().toStdString() +
                 "); the peer needs Debian's python3-torch (packaging/setup-debian.sh --bench)";
        return {};
    }
    const QList<QByteArray> lines = p.readAllStandardOutput().trimmed().split('\n');
    const QJsonDocument doc = QJsonDocument::fromJson(lines.isEmpty() ? QByteArray() : lines.back());
    if (!doc.isObject()) {
        *error = o.script + " printed no JSON object on its last line";
        return {};
    }
    return doc.object();
}

Spread peerSpread(const QJsonObject& peer, const char* name) {
    const QJsonObject f = peer.value(name).toObject();
    return {f.value("min").toDouble(), f.value("median").toDouble(), f.value("max").toDouble()};
}

// DPO's loss (beta 0.1) on fixed sequence log-probabilities: the numbers of
// LOSS_CHECK in bench/peer/peer.py, so the two sides' losses are compared,
// not assumed equal.
double fixedDpoLoss() {
    auto t = [](std::initializer_list<double> v) { return torch::tensor(std::vector<double>(v), torch::kFloat64); };
    PairLogps p;
    p.policyChosen = t({-10.0, -12.5, -30.25});
    p.policyRejected = t({-11.0, -12.0, -29.0});
    p.refChosen = t({-10.5, -12.0, -31.0});
    p.refRejected = t({-10.8, -12.2, -28.5});
    PairwiseOptions o;
    o.method = PairwiseMethod::Dpo;
    o.beta = 0.1;
    return pairwiseLoss(o, p).loss.item<double>();
}

QJsonObject spreadJson(const Spread& s) {
    return QJsonObject{{"min", s.min}, {"median", s.median}, {"max", s.max}};
}

}  // namespace

int runPeerComparison(const PeerOptions& o) {
    const int threads = configureComputeThreads();
    const bool bf16 = cpuFeatures().fastBf16();
    const int R = o.repetitions;
    std::fprintf(stderr, "PrefLab's side...\n");
    const double peak = matmulPeakGflops(false);
    std::map<std::string, Spread> mine;
    const TransformerConfig tenM = tenMillionConfig(), d128 = d128Config(), builtin;
    mine["dpo_step_s"] = spreadOf(dpoStepSeconds(tenM, 8, 128, false, R));
    if (bf16) mine["dpo_step_bf16_s"] = spreadOf(dpoStepSeconds(tenM, 8, 128, true, R));
    mine["sampling_d128x4_tok_s"] = rateOf(samplingSeconds(d128, 8, 64, 5, R), 8 * 64);
    mine["sampling_builtin_tok_s"] = rateOf(samplingSeconds(builtin, 16, 80, 24, R), 16 * 80);
    double tokensPerStep = 0;
    mine["online_dpo_step_s"] = spreadOf(onlineDpoStepSeconds(R, &tokensPerStep));
    const HhOfflineDpoTiming hh = hhOfflineDpoSeconds(R);
    mine["hh_offline_dpo_s"] = spreadOf(hh.seconds);
    const double lossCheck = fixedDpoLoss();

    std::string error;
    std::fprintf(stderr, "the peer as-is...\n");
    const QJsonObject asIs = runPeer(o, true, bf16, &error);
    if (!error.empty()) {
        std::fprintf(stderr, "preflab-bench: %s\n", error.c_str());
        return 1;
    }
    std::fprintf(stderr, "the peer with PrefLab's runtime settings...\n");
    const QJsonObject tuned = runPeer(o, false, bf16, &error);
    if (!error.empty()) {
        std::fprintf(stderr, "preflab-bench: %s\n", error.c_str());
        return 1;
    }

    // Each ratio: the peer's time over PrefLab's for the same work (medians),
    // against the peer with PrefLab's settings; above 1, PrefLab is faster.
    // "_vs_best": against whichever peer was faster at that work (PrefLab's
    // settings do not help every part of a Python loop: on this machine the
    // peer sampled slower with them), the stricter comparison.
    auto timeRatio = [&](const char* name, bool best) {
        const double peer = peerSpread(tuned, name).median;
        return (best ? std::min(peer, peerSpread(asIs, name).median) : peer) / mine[name].median;
    };
    auto rateRatio = [&](const char* name, bool best) {
        const double peer = peerSpread(tuned, name).median;
        return mine[name].median / (best ? std::max(peer, peerSpread(asIs, name).median) : peer);
    };
    std::map<std::string, double> ratios;
    for (bool best : {false, true}) {
        const std::string tail = best ? "_ratio_vs_best" : "_ratio";
        ratios["online_dpo_step" + tail] = timeRatio("online_dpo_step_s", best);
        ratios["sampling" + tail] = rateRatio("sampling_d128x4_tok_s", best);
        ratios["sampling_builtin" + tail] = rateRatio("sampling_builtin_tok_s", best);
        ratios["dpo_step" + tail] = timeRatio("dpo_step_s", best);
        if (bf16) ratios["dpo_step_bf16" + tail] = timeRatio("dpo_step_bf16_s", best);
        ratios["hh_offline_dpo" + tail] = timeRatio("hh_offline_dpo_s", best);
    }
    // The fp32 DPO step's share of the measured matrix-product peak.
    const double stepGflops = dpoStepFlops(tenM, 8, 128) / 1e9;
    const double peakShare = stepGflops / mine["dpo_step_s"].median / peak;
    // The same losses on both sides: DPO's on fixed numbers, and the first
    // step's (the policy is the reference: ln 2).
    const double peerLossCheck = tuned.value("dpo_loss_check").toDouble(NAN);
    const bool lossesAgree = std::abs(peerLossCheck - lossCheck) < 1e-9 &&
                             std::abs(hh.firstLoss - std::log(2.0)) < 1e-5 &&
                             std::abs(tuned.value("hh_offline_dpo_first_loss").toDouble(NAN) - std::log(2.0)) < 1e-5;
    const std::map<std::string, double> targets{{"online_dpo_step_ratio", 2.0}, {"sampling_ratio", 3.0},
                                                {"hh_offline_dpo_ratio", 1.5}};

    const char* labels[][2] = {{"dpo_step_s", "DPO step, 10.8 M, 8 pairs x 128 tokens, fp32 (s)"},
                               {"dpo_step_bf16_s", "same, bf16 autocast (s)"},
                               {"sampling_d128x4_tok_s", "KV-cache sampling, d128 x 4, 8 x (5 + 64) (tok/s)"},
                               {"sampling_builtin_tok_s", "KV-cache sampling, built-in, 16 x (24 + 80) (tok/s)"},
                               {"online_dpo_step_s", "online DPO step, built-in, 8 pairs x 80 tokens (s)"},
                               {"hh_offline_dpo_s", "offline DPO, HH-shaped, 10.8 M, 32 pairs x 2 epochs (s)"}};
    std::printf("PrefLab and its Python peer, %d repetitions each (min / median / max)\n", R);
    std::printf("  %s, %d threads; peer: torch %s\n", cpuFeatures().summary().c_str(), threads,
                tuned.value("torch").toString().toStdString().c_str());
    for (const std::string& line : runtimeSettingsReport()) std::printf("  %s\n", line.c_str());
    for (const std::string& line : kernelReport()) std::printf("  %s\n", line.c_str());
    std::printf("  fp32 matmul peak %.1f GFLOP/s; PrefLab's DPO step at %.0f %% of it (dpo_step_peak_share, target 80 %%), "
                "the peer's at %.0f %% (as-is) and %.0f %% (PrefLab's settings)\n",
                peak, 100 * peakShare,
                100 * stepGflops / peerSpread(asIs, "dpo_step_s").median / peak,
                100 * stepGflops / peerSpread(tuned, "dpo_step_s").median / peak);
    std::printf("%-52s %26s %26s %26s\n", "work", "PrefLab", "peer as-is", "peer, PrefLab's settings");
    auto cell = [](const Spread& s) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.4g / %.4g / %.4g", s.min, s.median, s.max);
        return std::string(buf);
    };
    for (const auto& [key, label] : labels) {
        if (!mine.count(key)) continue;
        std::printf("%-52s %26s %26s %26s\n", label, cell(mine[key]).c_str(), cell(peerSpread(asIs, key)).c_str(),
                    cell(peerSpread(tuned, key)).c_str());
    }
    std::printf("tokens sampled per online step (random weights, EOS ends a sample): PrefLab %.0f, peer %.0f and %.0f\n",
                tokensPerStep, asIs.value("online_tokens_per_step").toDouble(), tuned.value("online_tokens_per_step").toDouble());
    std::printf("offline DPO, HH-shaped: PrefLab with its defaults (prompt shared, reference log-probs cached in the first\n"
                "epoch) against the peer doing what TRL's DPOTrainer does by default (each response with its own prompt,\n"
                "the reference recomputed at every step). Same losses: DPO's on fixed log-probabilities %.12g (PrefLab) and\n"
                "%.12g (peer); first step %.9f and %.9f (ln 2 = %.9f): %s\n",
                lossCheck, peerLossCheck, hh.firstLoss, tuned.value("hh_offline_dpo_first_loss").toDouble(NAN),
                std::log(2.0), lossesAgree ? "agree" : "DIFFER");
    std::printf("ratios, the peer's median time over PrefLab's (above 1: PrefLab is faster); \"_ratio\": the peer with\n"
                "PrefLab's settings (the targets), \"_ratio_vs_best\": the faster of the two peers:\n");
    for (const auto& [name, value] : ratios) {
        const auto t = targets.find(name);
        std::string verdict;
        if (t != targets.end()) {
            char buf[48];
            std::snprintf(buf, sizeof buf, "  (%s %.1f)", value >= t->second ? "target >=" : "BELOW the target", t->second);
            verdict = buf;
        }
        std::printf("  %-32s %6.2f%s\n", name.c_str(), value, verdict.c_str());
    }
    if (o.json) {
        QJsonObject peer, preflab;
        for (const auto& [name, value] : ratios) peer.insert(QString::fromStdString(name), value);
        peer.insert("as_is", asIs);
        peer.insert("tuned", tuned);
        for (const auto& [name, s] : mine) preflab.insert(QString::fromStdString(name), spreadJson(s));
        preflab.insert("online_tokens_per_step", tokensPerStep);
        preflab.insert("hh_offline_dpo_first_loss", hh.firstLoss);
        preflab.insert("dpo_loss_check", lossCheck);
        QJsonObject all{{"cpu", QString::fromStdString(cpuFeatures().summary())}, {"threads", threads},
                        {"blas", QString::fromStdString(blasThreadingName(loadedBlas().threading))},
                        {"matmul_peak_gflops_fp32", peak}, {"dpo_step_peak_share", peakShare},
                        {"hh_offline_dpo_ratio", ratios["hh_offline_dpo_ratio"]},
                        {"online_dpo_step_ratio", ratios["online_dpo_step_ratio"]},
                        {"sampling_ratio", ratios["sampling_ratio"]}, {"losses_agree", lossesAgree},
                        {"repetitions", R}, {"preflab", preflab}, {"peer", peer}};
        std::printf("%s\n", QJsonDocument(all).toJson(QJsonDocument::Compact).constData());
    }
    return lossesAgree ? 0 : 1;
}

}  // namespace preflab::bench
