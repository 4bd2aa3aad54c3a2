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
    const double margin = ctx.equivalenceMargin;
    const std::string sail = "Ding et al., SAIL: Self-Improving Efficient Online Alignment (2024)";
    out.push_back(compareAtKl(f, kOnlineDpo, kOfflineDpo, Order::Better, "online DPO > offline DPO", sail, margin));
    out.push_back(compareAtKl(f, kSailPr, kOnlineDpo, Order::About, "SAIL-PR ≈ online DPO", sail, margin));
    // SAIL-PP without its reverse-KL term is the variant known to run away;
    // both are judged, each under its own name.
    out.push_back(compareAtKl(f, kSailPp, kSailPr, Order::NotWorse, std::string(kSailPp) + " ≥ SAIL-PR", sail, margin));
    out.push_back(compareAtKl(f, kSailPpRevKl, kSailPr, Order::NotWorse, std::string(kSailPpRevKl) + " ≥ SAIL-PR", sail, margin));
    // The methods of algorithms.md §7, on the same fixed offline dataset as offline DPO.
    out.push_back(compareAtKl(f, kSimpo, kOfflineDpo, Order::Better, "SimPO > DPO",
                              "Meng et al., SimPO: Simple Preference Optimization with a Reference-Free Reward (2024)", margin));
    out.push_back(compareAtKl(f, kKto, kOfflineDpo, Order::About, "KTO ≈ DPO (each pair split into two unpaired labels)",
                              "Ethayarajh et al., KTO: Model Alignment as Prospect Theoretic Optimization (2024)", margin));
    out.push_back(compareAtKl(f, kRloo, kPpoTrue, Order::NotWorse, "RLOO ≥ PPO (both scored by the true reward)",
                              "Ahmadian et al., Back to Basics: Revisiting REINFORCE Style Optimization for Learning from "
                              "Human Feedback in LLMs (2024)",
                              margin));

    {
        // Over-fitting as the change along each frontier from 2 nats to the
        // largest of 6 and 4 that every seed of both reached: negative when
        // gold falls as the policy moves on. Unlike a run's best gold minus
        // its last (never negative, about +0.08 on a flat noisy plateau), it
        // can show over-fitting's absence as well as its presence.
        const std::string claim = "SAIL-DP over-fits like offline DPO";
        if (!hasAll(f, {kSailDp, kOfflineDpo})) {
            out.push_back(undecided(claim, sail, "the comparison did not run SAIL-DP and offline DPO"));
        } else {
            const double low = 2.0, high = matchedKl(f, {kSailDp, kOfflineDpo});
            if (std::isnan(high) || high < 4.0) {
                out.push_back(undecided(claim, sail, fmt("not every seed of both reached 4 nats (shared %.2f)", high)));
            } else {
                const Estimate dp = f.contrast({{kSailDp, 1, high}, {kSailDp, -1, low}});
                const Estimate off = f.contrast({{kOfflineDpo, 1, high}, {kOfflineDpo, -1, low}});
                const bool falls = dp.n >= 2 && off.n >= 2 && dp.high() < 0 && off.high() < 0;
                Claim c{claim, sail, falls, true, {}, {}};
                c.verdict = falls ? "reproduced" : dp.n >= 2 && dp.low() > 0 ? "refuted" : "inconclusive";
                c.evidence = fmt("frontier gold at %.2f nats minus at %.2f: SAIL-DP ", high, low) + describe(dp) +
                             ", offline DPO " + describe(off) +
                             " (reproduced when both intervals are below 0; refuted when SAIL-DP's is above 0)";
                out.push_back(c);
            }
        }
    }

    const std::string ppoSource = "Ivison et al., Unpacking DPO and PPO (2024); Xu et al., Is DPO Superior to PPO? (2024)";
    // The algorithm alone: both scored by the task's true reward.
    out.push_back(compareAtKl(f, kPpoTrue, kOnlineDpo, Order::NotWorse, "PPO ≥ DPO (the same true reward for both)", ppoSource,
                              margin));
    {
        // As the papers: PPO with a reward model against online DPO labelled by
        // that reward model, the same imperfect signal for both, and only with
        // a reward model good enough for the claim's premise. The premise is
        // checked first: below the bar, running both arms would not make the
        // claim judgeable.
        const std::string claim = "PPO with a good reward model ≥ DPO (labelled by that reward model)";
        const bool measured = ctx.rewardModelAccuracy >= 0;
        const bool good = ctx.rewardModelAccuracy >= ctx.goodRewardModel && ctx.rewardModelPairs >= ctx.goodRewardModelPairs;
        const std::string rm = measured ? fmt("the reward model's held-out accuracy %.3f on %.0f pairs", ctx.rewardModelAccuracy,
                                              static_cast<double>(ctx.rewardModelPairs)) +
                                              fmt(" (good from %.2f on %.0f pairs)", ctx.goodRewardModel,
                                                  static_cast<double>(ctx.goodRewardModelPairs))
                                        : std::string("no reward model was trained");
        if (!good) {
            out.push_back(undecided(claim, ppoSource, rm + ": the claim's premise does not hold here"));
        } else {
            Claim c = compareAtKl(f, kPpo, kOnlineDpoRm, Order::NotWorse, claim, ppoSource, margin);
            if (c.judged) c.evidence += "; " + rm;
            out.push_back(c);
        }
    }

    {
        // Paired by seed: the noise effect (clean minus 20 %-flipped labels,
        // online DPO) minus the size of a named algorithm contrast (PPO against
        // online DPO, both on the true reward, taken in the direction its mean
        // points, so it is the larger of the two ways round).
        const std::string claim = "better preference data (label noise 0 vs 20 %) matters more than the choice of algorithm (PPO vs DPO)";
        const std::string source = "Ivison et al., Unpacking DPO and PPO (2024)";
        if (!hasAll(f, {kOnlineDpo, kOnlineDpoNoisy, kPpoTrue})) {
            out.push_back(undecided(claim, source, "the comparison did not run online DPO with clean and flipped labels and PPO on the true reward"));
        } else {
            const double k = matchedKl(f, {kOnlineDpo, kOnlineDpoNoisy, kPpoTrue});
            const Estimate noise = f.difference(kOnlineDpo, kOnlineDpoNoisy, k);
            const Estimate algorithm = f.difference(kPpoTrue, kOnlineDpo, k);
            const double sign = algorithm.mean < 0 ? -1.0 : 1.0;
            const Estimate more = f.contrast({{kOnlineDpo, 1, k}, {kOnlineDpoNoisy, -1, k}, {kPpoTrue, -sign, k}, {kOnlineDpo, sign, k}});
            Claim c{claim, source, more.n >= 2 && more.low() > 0, true, {}, {}};
            c.verdict = c.reproduced ? "reproduced" : more.n >= 2 && more.high() < 0 ? "refuted" : "inconclusive";
            c.evidence = fmt("at matched exact KL %.2f nats: noise effect (online DPO, clean minus flipped) ", k) + describe(noise) +
                         "; algorithm effect (PPO minus online DPO, true reward) " + describe(algorithm) +
                         "; noise effect minus |algorithm effect|, paired " + describe(more) +
                         " (reproduced when the interval is above 0)";
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
