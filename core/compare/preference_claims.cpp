#include "core/compare/preference_claims.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace preflab {
namespace {

using namespace contender;

std::string fmt(const char* f, double a = 0, double b = 0, double c = 0, double d = 0) {
    char buf[256];
    std::snprintf(buf, sizeof buf, f, a, b, c, d);
    return buf;
}

std::string describe(const Estimate& e) {
    return fmt("%+.3f", e.mean) + fmt(" ± %.3f (95 %%, n = %.0f)", e.halfWidth, static_cast<double>(e.n));
}

// The KL at which to compare these methods: the largest of 6, 4, 2 nats that
// every seed of each reached, else the largest KL they all reached.
double matchedKl(const KlFrontier& f, const std::vector<std::string>& methods) {
    const double shared = f.sharedKl(methods);
    if (std::isnan(shared)) return shared;
    for (double k : {6.0, 4.0, 2.0}) {
        if (shared >= k) return k;
    }
    return shared;
}

bool hasAll(const KlFrontier& f, const std::vector<std::string>& methods) {
    const std::vector<std::string> present = f.methods();
    return std::all_of(methods.begin(), methods.end(),
                       [&](const std::string& m) { return std::find(present.begin(), present.end(), m) != present.end(); });
}

Claim undecided(const std::string& claim, const std::string& source, const std::string& why) {
    return {claim, source, false, false, "not judged: " + why, "not judged"};
}

// "a > b" (strict), "a ~ b" (equivalent) or "a >= b" (not worse) at matched KL.
enum class Order { Better, About, NotWorse };

Claim compareAtKl(const KlFrontier& f, const std::string& a, const std::string& b, Order order, const std::string& claim,
                  const std::string& source, double margin) {
    if (!hasAll(f, {a, b})) return undecided(claim, source, "the comparison did not run " + a + " and " + b);
    const double k = matchedKl(f, {a, b});
    if (std::isnan(k) || k <= 0) return undecided(claim, source, "the runs never moved from the reference");
    const Estimate d = f.difference(a, b, k), ea = f.frontier(a, k), eb = f.frontier(b, k);
    // Each order is decided by where the whole 95 % interval of the paired
    // difference lies; an interval on both sides of the line decides nothing.
    Claim c{claim, source, false, true, {}, {}};
    bool refuted = false;
    std::string rule;
    switch (order) {
    case Order::Better:
        c.reproduced = d.n >= 2 && d.low() > 0;
        refuted = d.n >= 2 && d.high() < 0;
        rule = "better: the interval above 0";
        break;
    case Order::About:  // equivalence: the interval inside (-margin, margin)
        c.reproduced = d.n >= 2 && d.low() > -margin && d.high() < margin;
        refuted = d.n >= 2 && (d.low() > margin || d.high() < -margin);
        rule = fmt("about equal: the interval inside ±%.2f", margin);
        break;
    case Order::NotWorse:  // non-inferiority: the interval above -margin
        c.reproduced = d.n >= 2 && d.low() > -margin;
        refuted = d.n >= 2 && d.high() < -margin;
        rule = fmt("not worse: the interval above -%.2f", margin);
        break;
    }
    c.evidence = fmt("at matched exact KL %.2f nats: gold ", k) + a + " " + fmt("%.3f", ea.mean) + ", " + b + " " +
                 fmt("%.3f", eb.mean) + "; paired difference " + describe(d) + " (" + rule + "): " +
                 (c.reproduced ? "reproduced" : refuted ? "refuted" : "inconclusive at this budget");
    c.verdict = c.reproduced ? "reproduced" : refuted ? "refuted" : "inconclusive";
    return c;
}

}  // namespace

std::vector<Claim> judgeClaims(const KlFrontier& f, const ClaimContext& ctx) {
    std::vector<Claim> out;
    const std::string sail = "Ding et al., SAIL: Self-Improving Efficient Online Alignment (2024)";
    out.push_back(compareAtKl(f, kOnlineDpo, kOfflineDpo, Order::Better, "online DPO > offline DPO", sail, ctx.equivalenceMargin));
    out.push_back(compareAtKl(f, kSailPr, kOnlineDpo, Order::About, "SAIL-PR ≈ online DPO", sail, ctx.equivalenceMargin));
    out.push_back(compareAtKl(f, kSailPp, kSailPr, Order::NotWorse, "SAIL-PP ≥ SAIL-PR", sail, ctx.equivalenceMargin));
    // The methods of algorithms.md §7, on the same fixed offline dataset as offline DPO.
    out.push_back(compareAtKl(f, kSimpo, kOfflineDpo, Order::Better, "SimPO > DPO",
                              "Meng et al., SimPO: Simple Preference Optimization with a Reference-Free Reward (2024)",
                              ctx.equivalenceMargin));
    out.push_back(compareAtKl(f, kKto, kOfflineDpo, Order::About, "KTO ≈ DPO (each pair split into two unpaired labels)",
                              "Ethayarajh et al., KTO: Model Alignment as Prospect Theoretic Optimization (2024)",
                              ctx.equivalenceMargin));

    {
        const std::string claim = "SAIL-DP over-fits like offline DPO";
        if (!hasAll(f, {kSailDp, kOfflineDpo})) {
            out.push_back(undecided(claim, sail, "the comparison did not run SAIL-DP and offline DPO"));
        } else {
            const Estimate dp = f.peakToFinalDrop(kSailDp), off = f.peakToFinalDrop(kOfflineDpo);
            Claim c{claim, sail, dp.n >= 2 && off.n >= 2 && dp.low() > 0 && off.low() > 0, true, {}, {}};
            c.evidence = "over-fitting as the best gold along a run minus its last: SAIL-DP " + describe(dp) +
                         ", offline DPO " + describe(off) + " (reproduced when both are above 0)";
            // The drop is never negative: the runs can show over-fitting, not its absence.
            c.verdict = c.reproduced ? "reproduced" : "inconclusive";
            out.push_back(c);
        }
    }

    {
        const std::string claim = "PPO with a good reward model ≥ DPO";
        const std::string source = "Ivison et al., Unpacking DPO and PPO (2024); Xu et al., Is DPO Superior to PPO? (2024)";
        Claim c = compareAtKl(f, kPpo, kOnlineDpo, Order::NotWorse, claim, source, ctx.equivalenceMargin);
        if (c.judged) {
            const bool good = ctx.rewardModelAccuracy >= ctx.goodRewardModel;
            c.evidence += fmt("; PPO's reward model: held-out accuracy %.3f (good from %.2f)", ctx.rewardModelAccuracy,
                              ctx.goodRewardModel);
            if (!good) {
                c.reproduced = false;
                c.verdict = "not judged";
                c.evidence += ": not a good reward model, so the claim's premise does not hold here";
            }
        }
        out.push_back(c);
    }

    {
        const std::string claim = "better preference data (label noise 0 vs 20 %) matters more than the choice of algorithm";
        const std::string source = "Ivison et al., Unpacking DPO and PPO (2024)";
        const std::vector<std::string> algorithms = {kOfflineDpo, kSailDp, kOnlineDpo, kSailPr, kSailPp, kPpo};
        std::vector<std::string> present;
        for (const std::string& m : algorithms) {
            if (hasAll(f, {m})) present.push_back(m);
        }
        if (!hasAll(f, {kOnlineDpo, kOnlineDpoNoisy}) || present.size() < 2) {
            out.push_back(undecided(claim, source, "the comparison did not run the noisy-label contender and two algorithms"));
        } else {
            std::vector<std::string> all = present;
            all.push_back(kOnlineDpoNoisy);
            const double k = matchedKl(f, all);
            const Estimate noise = f.difference(kOnlineDpo, kOnlineDpoNoisy, k);
            double lo = INFINITY, hi = -INFINITY;
            std::string best, worst;
            for (const std::string& m : present) {
                const double g = f.frontier(m, k).mean;
                if (std::isnan(g)) continue;
                if (g > hi) hi = g, best = m;
                if (g < lo) lo = g, worst = m;
            }
            Claim c{claim, source, noise.n >= 2 && noise.mean > hi - lo, true, {}, {}};
            c.verdict = c.reproduced ? "reproduced" : noise.n >= 2 && noise.high() < hi - lo ? "refuted" : "inconclusive";
            c.evidence = fmt("at matched exact KL %.2f nats: clean minus 20 %%-flipped labels (online DPO) ", k) +
                         describe(noise) + fmt("; spread between algorithms %.3f (", hi - lo) + best + " to " + worst + ")";
            out.push_back(c);
        }
    }

    {
        const std::string claim = "DR-CPO has lower value error than OO-RLHF under a confounded outcome model";
        const std::string source = "Lin, Ben-Michael, Morency, Optimizing Language Models for Human Preferences is a Causal Inference Problem (UAI 2024)";
        const auto dr = ctx.valueErrors.find(kDrCpo), oo = ctx.valueErrors.find(kOoRlhf);
        if (dr == ctx.valueErrors.end() || oo == ctx.valueErrors.end() || dr->second.size() != oo->second.size() ||
            dr->second.empty()) {
            out.push_back(undecided(claim, source, "the comparison did not run both with the confounded outcome model"));
        } else {
            std::vector<double> d;
            for (size_t i = 0; i < dr->second.size(); ++i) d.push_back(dr->second[i] - oo->second[i]);
            const Estimate e = estimate(d);
            Claim c{claim, source, e.n >= 2 && e.high() < 0, true, {}, {}};
            c.verdict = c.reproduced ? "reproduced" : e.n >= 2 && e.low() > 0 ? "refuted" : "inconclusive";
            c.evidence = "mean absolute error of the value estimate against the policy's true value, DR-CPO " +
                         describe(estimate(dr->second)) + ", OO-RLHF " + describe(estimate(oo->second)) +
                         "; paired difference " + describe(e);
            out.push_back(c);
        }
    }
    return out;
}

std::string claimsToJson(const std::vector<Claim>& claims) {
    QJsonArray arr;
    for (const Claim& c : claims) {
        arr.append(QJsonObject{{"claim", QString::fromStdString(c.claim)},
                               {"source", QString::fromStdString(c.source)},
                               {"verdict", QString::fromStdString(c.verdict)},
                               {"reproduced", c.reproduced},
                               {"judged", c.judged},
                               {"evidence", QString::fromStdString(c.evidence)}});
    }
    return QJsonDocument(arr).toJson(QJsonDocument::Indented).toStdString();
}

}  // namespace preflab
