// Matched-KL comparison and the claims judged on it, against hand-computed
// values: gold interpolated where a trajectory crosses a KL, the best knob per
// seed, t intervals, paired differences, and each kind of claim reproduced or
// refuted by constructed runs.
#include "core/compare/kl_frontier.h"
#include "core/compare/preference_claims.h"
#include "support/test_main.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <cmath>

using namespace preflab;

namespace {

std::vector<TrajectoryPoint> line(double klPerStep, double goldPerKl, int64_t steps = 4, double gold0 = 0) {
    std::vector<TrajectoryPoint> t;
    for (int64_t s = 0; s <= steps; ++s) {
        const double kl = klPerStep * static_cast<double>(s);
        t.push_back({s * 10, kl, gold0 + goldPerKl * kl});
    }
    return t;
}

// Three seeds of a method whose gold rises `slope` per nat, with a small
// seed-dependent offset; KL 1.5 per evaluation up to 6.
std::vector<CompareRun> method(const std::string& name, double slope, double knob = 0.1) {
    std::vector<CompareRun> runs;
    for (int64_t seed : {1, 2, 3}) {
        runs.push_back({name, knob, seed, line(1.5, slope, 4, 0.01 * static_cast<double>(seed))});
    }
    return runs;
}

}  // namespace

class TestKlFrontier : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void goldAtKlInterpolatesAtTheFirstCrossing() {
        const std::vector<TrajectoryPoint> t{{0, 0, 0}, {10, 1, 1}, {20, 3, 2}};
        QCOMPARE(goldAtKl(t, 0), 0.0);
        QCOMPARE(goldAtKl(t, 1), 1.0);
        QCOMPARE(goldAtKl(t, 2), 1.5);  // halfway from KL 1 to 3
        QVERIFY(std::isnan(goldAtKl(t, 4)));
        QCOMPARE(maxKl(t), 3.0);
        // KL need not grow: the first crossing counts.
        const std::vector<TrajectoryPoint> wandering{{0, 0, 0}, {10, 2, 1}, {20, 1, 5}, {30, 3, 2}};
        QCOMPARE(goldAtKl(wandering, 1.5), 0.75);
    }

    void estimatesUseStudentT() {
        const Estimate e = estimate({1, 2, 3});
        QCOMPARE(e.mean, 2.0);
        QCOMPARE(e.n, 3);
        QVERIFY(std::abs(e.halfWidth - 4.303 / std::sqrt(3.0)) < 1e-9);  // sd 1, t(2) = 4.303
        QCOMPARE(estimate({5}).halfWidth, 0.0);
        QVERIFY(std::isnan(estimate({}).mean));
    }

    void frontierTakesTheBestKnobPerSeedAndPairsSeeds() {
        std::vector<CompareRun> runs;
        // Method A, seed 1: two knobs reaching KL 2 at gold 1.5 and 1.8.
        runs.push_back({"A", 0.1, 1, {{0, 0, 0}, {10, 4, 3.0}}});   // at KL 2: 1.5
        runs.push_back({"A", 0.3, 1, {{0, 0, 0}, {10, 2, 1.8}}});   // at KL 2: 1.8
        runs.push_back({"A", 0.1, 2, {{0, 0, 0}, {10, 2, 1.2}}});
        runs.push_back({"B", 0.1, 1, {{0, 0, 0}, {10, 4, 2.0}}});   // at KL 2: 1.0
        runs.push_back({"B", 0.1, 2, {{0, 0, 0}, {10, 1, 0.5}}});   // never reaches 2
        const KlFrontier f(runs);
        QCOMPARE(f.methods(), (std::vector<std::string>{"A", "B"}));
        QCOMPARE(f.frontier("A", 1, 2.0), 1.8);
        const Estimate a = f.frontier("A", 2.0);
        QCOMPARE(a.n, 2);
        QCOMPARE(a.mean, 1.5);
        QCOMPARE(f.frontier("B", 2.0).n, 0);  // seed 2 never got there
        QCOMPARE(f.difference("A", "B", 2.0).n, 0);
        const Estimate d = f.difference("A", "B", 1.0);  // seed 1: 0.9 - 0.5; seed 2: 0.6 - 0.5
        QCOMPARE(d.n, 2);
        QVERIFY(std::abs(d.mean - 0.25) < 1e-12);
        QCOMPARE(f.sharedKl({"A", "B"}), 1.0);  // B's seed 2 went furthest to 1
        QCOMPARE(f.sharedKl({"A"}), 2.0);
        // A contrast along one frontier: gold at KL 2 minus at KL 1, per seed
        // (seed 1: 1.5 - 2 = -0.5; seed 2: 0.5 - 1 = -0.5, 1.5 - 1 = +0.5 for
        // its second knob, the frontier's best); a KL a seed never reached
        // leaves it undecided.
        const KlFrontier hump({{"C", 0.1, 1, {{0, 0, 0}, {10, 1, 2}, {20, 2, 1.5}}},
                               {"C", 0.1, 2, {{0, 0, 0}, {10, 1, 1}, {20, 2, 0.5}}},
                               {"C", 0.3, 2, {{0, 0, 0}, {10, 1, 0.8}, {20, 2, 1.5}}}});
        const Estimate change = hump.contrast({{"C", 1, 2.0}, {"C", -1, 1.0}});
        QCOMPARE(change.n, 2);
        QVERIFY(std::abs(change.mean - 0.0) < 1e-12);  // (-0.5 + 0.5) / 2
        QCOMPARE(hump.contrast({{"C", 1, 3.0}, {"C", -1, 1.0}}).n, 0);
        // A difference of differences, with a method used twice.
        const Estimate dd = f.contrast({{"A", 1, 1.0}, {"B", -1, 1.0}, {"A", 2, 1.0}});
        QCOMPARE(dd.n, 2);
        QVERIFY(std::abs(dd.mean - ((0.9 * 3 - 0.5) + (0.6 * 3 - 0.5)) / 2) < 1e-12);
    }

    void claimsAreJudgedAtMatchedKl() {
        std::vector<CompareRun> runs;
        for (auto& r : method(contender::kOnlineDpo, 0.5)) runs.push_back(r);
        for (auto& r : method(contender::kOfflineDpo, 0.2)) runs.push_back(r);
        for (auto& r : method(contender::kSailPr, 0.5)) runs.push_back(r);
        for (auto& r : method(contender::kPpoTrue, 0.6)) runs.push_back(r);
        for (auto& r : method(contender::kPpo, 0.6)) runs.push_back(r);
        for (auto& r : method(contender::kOnlineDpoRm, 0.5)) runs.push_back(r);
        for (auto& r : method(contender::kOnlineDpoNoisy, 0.15)) runs.push_back(r);
        for (auto& r : method(contender::kSimpo, 0.25)) runs.push_back(r);  // above offline DPO by 0.05 per nat
        for (auto& r : method(contender::kKto, 0.21)) runs.push_back(r);    // within 0.01 per nat of it
        for (auto& r : method(contender::kRloo, 0.55)) runs.push_back(r);   // below PPO by 0.3 at KL 6
        for (auto& r : method(contender::kSailDp, 0.3)) runs.push_back(r);  // rising all the way: no over-fitting
        const KlFrontier f(runs);
        ClaimContext ctx;
        ctx.rewardModelAccuracy = 0.55;  // not a good reward model
        ctx.rewardModelPairs = 1000;
        ctx.valueErrors[contender::kDrCpo] = {0.10, 0.12, 0.11};
        ctx.valueErrors[contender::kOoRlhf] = {0.40, 0.38, 0.45};
        const std::vector<Claim> claims = judgeClaims(f, ctx);
        QCOMPARE(claims.size(), size_t(12));
        auto find = [&](const char* text) {
            for (const Claim& c : claims) {
                if (c.claim.find(text) == 0) return c;
            }
            return Claim{};
        };
        // At KL 6 (all reach it): online 3.0 vs offline 1.2, per seed.
        const Claim online = find("online DPO > offline DPO");
        QVERIFY2(online.judged && online.reproduced, online.evidence.c_str());
        QCOMPARE(online.verdict, std::string("reproduced"));
        QVERIFY2(online.evidence.find("KL 6.00") != std::string::npos, online.evidence.c_str());
        QVERIFY2(online.evidence.find("+1.800") != std::string::npos, online.evidence.c_str());
        const Claim about = find("SAIL-PR");
        QVERIFY2(about.judged && about.reproduced, about.evidence.c_str());
        // SAIL-PP did not run, with or without its reverse-KL term: not judged.
        for (const char* pp : {contender::kSailPp, contender::kSailPpRevKl}) {
            const Claim c = find(pp);
            QVERIFY2(!c.judged && !c.reproduced && c.claim.find(pp) == 0, c.claim.c_str());
            QCOMPARE(c.verdict, std::string("not judged"));
        }
        // SAIL-DP's gold rises from KL 2 to 6 (+1.2): over-fitting refuted,
        // which the best-minus-last statistic could never say.
        const Claim overfit = find("SAIL-DP over-fits");
        QVERIFY2(overfit.judged && !overfit.reproduced, overfit.evidence.c_str());
        QCOMPARE(overfit.verdict, std::string("refuted"));
        QVERIFY2(overfit.evidence.find("SAIL-DP +1.200") != std::string::npos, overfit.evidence.c_str());
        // The algorithm alone: PPO on the true reward 3.6 against online DPO 3.0.
        const Claim alone = find("PPO ≥ DPO (the same true reward");
        QVERIFY2(alone.judged && alone.reproduced, alone.evidence.c_str());
        // RLOO 0.3 below PPO at KL 6, every seed: beyond the -0.2 margin.
        QCOMPARE(find("RLOO ≥ PPO").verdict, std::string("refuted"));
        // PPO is better, but its reward model is not good: the claim is not judged.
        const Claim ppo = find("PPO with a good reward model");
        QVERIFY(!ppo.judged && !ppo.reproduced);
        QVERIFY2(ppo.evidence.find("held-out accuracy 0.550 on 1000 pairs") != std::string::npos, ppo.evidence.c_str());
        QCOMPARE(ppo.verdict, std::string("not judged"));
        // Good accuracy on too few pairs is not enough; on enough it is judged.
        ClaimContext good = ctx;
        good.rewardModelAccuracy = 0.9;
        good.rewardModelPairs = 200;
        auto ppoClaim = [](const std::vector<Claim>& all) {
            for (const Claim& c : all) {
                if (c.claim.find("PPO with a good reward model") == 0) return c;
            }
            return Claim{};
        };
        QVERIFY(!ppoClaim(judgeClaims(f, good)).judged);
        good.rewardModelPairs = 1000;
        const Claim judgedPpo = ppoClaim(judgeClaims(f, good));
        QVERIFY2(judgedPpo.judged && judgedPpo.reproduced, judgedPpo.evidence.c_str());
        QVERIFY2(judgedPpo.evidence.find("0.900 on 1000 pairs") != std::string::npos, judgedPpo.evidence.c_str());
        // Without the two reward-model arms, a weak reward model is still the
        // reason given (the premise first), and a good one leaves "did not run".
        std::vector<CompareRun> noRmArms;
        for (const CompareRun& r : runs) {
            if (r.method != contender::kPpo && r.method != contender::kOnlineDpoRm) noRmArms.push_back(r);
        }
        const Claim weakNoArms = ppoClaim(judgeClaims(KlFrontier(noRmArms), ctx));
        QVERIFY2(!weakNoArms.judged && weakNoArms.evidence.find("premise does not hold") != std::string::npos,
                 weakNoArms.evidence.c_str());
        QVERIFY2(weakNoArms.evidence.find("held-out accuracy 0.550 on 1000 pairs") != std::string::npos, weakNoArms.evidence.c_str());
        const Claim goodNoArms = ppoClaim(judgeClaims(KlFrontier(noRmArms), good));
        QVERIFY2(!goodNoArms.judged && goodNoArms.evidence.find("did not run") != std::string::npos, goodNoArms.evidence.c_str());
        // Noise costs 0.35 per nat (2.1 at KL 6), PPO against DPO 0.1 per nat
        // (0.6): noise matters more by 1.5, every seed.
        const Claim data = find("better preference data");
        QVERIFY2(data.judged && data.reproduced, data.evidence.c_str());
        QVERIFY2(data.evidence.find("+1.500") != std::string::npos, data.evidence.c_str());
        // With noise costing 0.05 per nat (0.3) it matters less: refuted.
        std::vector<CompareRun> lessNoise;
        for (const CompareRun& r : runs) {
            if (r.method != contender::kOnlineDpoNoisy) lessNoise.push_back(r);
        }
        for (auto& r : method(contender::kOnlineDpoNoisy, 0.45)) lessNoise.push_back(r);
        for (const Claim& c : judgeClaims(KlFrontier(lessNoise), ctx)) {
            if (c.claim.find("better preference data") == 0) QCOMPARE(c.verdict, std::string("refuted"));
        }
        const Claim value = find("DR-CPO");
        QVERIFY2(value.judged && value.reproduced, value.evidence.c_str());
        // SimPO 1.5 against offline DPO 1.2 at KL 6, every seed: better. KTO 1.26: inside the ±0.2 of "about equal".
        const Claim simpo = find("SimPO > DPO");
        QVERIFY2(simpo.judged && simpo.reproduced, simpo.evidence.c_str());
        const Claim kto = find("KTO");
        QVERIFY2(kto.judged && kto.reproduced, kto.evidence.c_str());

        // The same runs with online and offline swapped refute the first claim.
        std::vector<CompareRun> swapped;
        for (auto& r : method(contender::kOnlineDpo, 0.2)) swapped.push_back(r);
        for (auto& r : method(contender::kOfflineDpo, 0.5)) swapped.push_back(r);
        const Claim refuted = judgeClaims(KlFrontier(swapped), ctx).front();
        QVERIFY(refuted.judged && !refuted.reproduced);
        QCOMPARE(refuted.verdict, std::string("refuted"));

        // Over-fitting reproduced: both frontiers peak at KL 3 and fall to KL 6.
        std::vector<CompareRun> humps;
        for (const char* m : {contender::kSailDp, contender::kOfflineDpo}) {
            for (int64_t seed : {1, 2, 3}) {
                const double o = 0.01 * static_cast<double>(seed);
                humps.push_back({m, 0.1, seed, {{0, 0, 0}, {10, 1.5, 0.6 + o}, {20, 3, 1.0 + o}, {30, 4.5, 0.5}, {40, 6, 0.1 - o}}});
            }
        }
        for (const Claim& c : judgeClaims(KlFrontier(humps), ctx)) {
            if (c.claim.find("SAIL-DP over-fits") == 0) QVERIFY2(c.reproduced && c.verdict == "reproduced", c.evidence.c_str());
        }

        // Differences of +1, -1 and +0.5 nats' worth across seeds: the interval
        // spans 0, which decides nothing.
        std::vector<CompareRun> mixed;
        const double slopes[] = {0.5, 0.1, 0.4};
        for (int64_t seed : {1, 2, 3}) {
            mixed.push_back({contender::kOnlineDpo, 0.1, seed, line(1.5, slopes[seed - 1])});
            mixed.push_back({contender::kOfflineDpo, 0.1, seed, line(1.5, 0.3)});
        }
        const Claim unclear = judgeClaims(KlFrontier(mixed), ctx).front();
        QVERIFY(unclear.judged && !unclear.reproduced);
        QCOMPARE(unclear.verdict, std::string("inconclusive"));
        QVERIFY2(unclear.evidence.find("inconclusive") != std::string::npos, unclear.evidence.c_str());
        QVERIFY2(refuted.evidence.find("refuted") != std::string::npos, refuted.evidence.c_str());

        const QJsonDocument doc = QJsonDocument::fromJson(QByteArray::fromStdString(claimsToJson(claims)));
        QVERIFY(doc.isArray());
        QCOMPARE(doc.array().size(), 12);
        const QJsonObject first = doc.array().first().toObject();
        for (const char* key : {"claim", "source", "verdict", "reproduced", "evidence"}) QVERIFY(first.contains(key));
        QCOMPARE(first.value("verdict").toString(), QStringLiteral("reproduced"));
        QCOMPARE(first.value("reproduced").toBool(), true);
    }
};

PREFLAB_TEST_MAIN(TestKlFrontier)
#include "tst_kl_frontier.moc"
