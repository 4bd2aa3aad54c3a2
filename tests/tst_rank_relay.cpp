// How other ranks' events reach rank 0: the byte log round-trips every field,
// corrupt bytes are an error (not a crash or a silent skip), metrics average
// over the ranks that reported them, and rank 0 passes pairs before the
// marks that they were trained and before the metrics.
#include "core/distributed/rank_relay.h"
#include "support/test_main.h"

using namespace preflab;

namespace {

struct Recorder : LoopObserver {
    std::vector<std::string> order;
    std::vector<PairRecord> pairs;
    std::vector<Judgement> judged;
    std::vector<MetricSample> metrics;
    void pairsGenerated(const std::vector<PairRecord>& p) override {
        order.push_back("generated");
        pairs.insert(pairs.end(), p.begin(), p.end());
    }
    void pairsJudged(const std::vector<Judgement>& j) override {
        order.push_back("judged");
        judged.insert(judged.end(), j.begin(), j.end());
    }
    void pairsTrained(int64_t, const std::vector<int64_t>&) override { order.push_back("trained"); }
    void metricsLogged(const std::vector<MetricSample>& m) override {
        order.push_back("metrics");
        metrics.insert(metrics.end(), m.begin(), m.end());
    }
};

PairRecord pair(int64_t index) {
    PairRecord p;
    p.pairIndex = index;
    p.generatedAtStep = 3;
    p.prompt = "Why is the sky blue? \xc3\xa9";
    p.a = {"Because of Rayleigh scattering.", 7, true, -3.5, -3.25, -4.0, 1.5};
    p.b = {"", 0, false, -0.5, -0.25, -1.0, std::nullopt};
    return p;
}

}  // namespace

class TestRankRelay : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void eventsRoundTrip() {
        RelayRecorder relay;
        relay.pairsGenerated({pair(5), pair(7)});
        Judgement j;
        j.pairIndex = 7;
        j.choice = Choice::BothBad;
        j.source = LabelSource::RewardModel;
        j.annotator = "rm";
        j.timeMs = 1234567890123;
        j.ratingB = 6.5;
        relay.pairsJudged({j});
        relay.pairsTrained(4, {5, 7});
        relay.metricsLogged({{4, "loss", 0.25, 99}});
        const RankEvents ev = decodeEvents(relay.take());
        QCOMPARE(ev.generated.size(), size_t(1));
        const PairRecord& p = ev.generated[0][1];
        QCOMPARE(p.pairIndex, int64_t(7));
        QCOMPARE(p.prompt, pair(7).prompt);
        QCOMPARE(p.a.text, std::string("Because of Rayleigh scattering."));
        QCOMPARE(p.a.tokenCount, int64_t(7));
        QVERIFY(p.a.endedWithEos && !p.b.endedWithEos);
        QCOMPARE(p.a.samplingLogprob, -3.25);
        QCOMPARE(*p.a.goldReward, 1.5);
        QVERIFY(!p.b.goldReward);
        const Judgement& k = ev.judged[0][0];
        QVERIFY(k.choice == Choice::BothBad);
        QVERIFY(k.source == LabelSource::RewardModel);
        QCOMPARE(k.timeMs, int64_t(1234567890123));
        QVERIFY(!k.ratingA && *k.ratingB == 6.5);
        QCOMPARE(ev.trained[0].first, int64_t(4));
        QCOMPARE(ev.trained[0].second, (std::vector<int64_t>{5, 7}));
        QCOMPARE(ev.metrics[0][0].name, std::string("loss"));
        QVERIFY(decodeEvents(relay.take()).generated.empty());  // take() emptied the log
    }

    void corruptBytesAreAnError() {
        RelayRecorder relay;
        relay.pairsGenerated({pair(1)});
        const std::string bytes = relay.take();
        QVERIFY_THROWS_EXCEPTION(std::runtime_error, decodeEvents(bytes.substr(0, bytes.size() / 2)));
        QVERIFY_THROWS_EXCEPTION(std::runtime_error, decodeEvents(std::string("\x09", 1)));
    }

    void metricsAverageOverTheRanksThatReportedThem() {
        const auto merged = averageMetrics({{{2, "loss", 0.5, 10}, {2, "only_here", 3.0, 10}},
                                            {{2, "loss", 0.25, 30}},
                                            {{2, "loss", 0.0, 20}, {3, "loss", 1.0, 40}}});
        QCOMPARE(merged.size(), size_t(3));
        QCOMPARE(merged[0].name, std::string("loss"));
        QCOMPARE(merged[0].value, 0.25);  // (0.5 + 0.25 + 0) / 3
        QCOMPARE(merged[0].timeMs, int64_t(30));
        QCOMPARE(merged[1].value, 3.0);   // one rank: its own value
        QCOMPARE(merged[2].step, int64_t(3));
        // A count adds up over the ranks.
        const auto counts = averageMetrics({{{4, "data/truncated_pairs", 3.0, 1}}, {{4, "data/truncated_pairs", 2.0, 1}}});
        QCOMPARE(counts.front().value, 5.0);
    }

    void rankZeroPassesPairsBeforeTrainedMarksAndMetrics() {
        Recorder target;
        StepMerger merger(&target);
        merger.metricsLogged({{0, "eval/gold", 1.0, 1}});  // outside a step: straight through
        QCOMPARE(target.order, (std::vector<std::string>{"metrics"}));
        merger.beginStep();
        merger.pairsGenerated({pair(0)});
        merger.pairsTrained(1, {0});
        merger.metricsLogged({{1, "loss", 0.75, 1}});
        QCOMPARE(target.order.size(), size_t(1));  // held
        RelayRecorder other;
        other.pairsGenerated({pair(1)});
        other.pairsTrained(1, {1});
        other.metricsLogged({{1, "loss", 0.25, 2}});
        merger.finishStep({other.take()});
        QCOMPARE(target.order, (std::vector<std::string>{"metrics", "generated", "generated", "trained", "trained", "metrics"}));
        QCOMPARE(target.pairs.size(), size_t(2));
        QCOMPARE(target.metrics.back().value, 0.5);
        QCOMPARE(merger.lastMerged().size(), size_t(1));
    }
};

PREFLAB_TEST_MAIN(TestRankRelay)
#include "tst_rank_relay.moc"
