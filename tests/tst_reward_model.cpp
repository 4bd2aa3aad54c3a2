// The reward model (algorithms.md §4): a scalar head on the last real token
// that ignores padding, starts at zero, learns a clear preference with the
// Bradley-Terry loss (held-out accuracy), and judges pairs; a language model
// without a head is refused with a message saying what to do.
#include "core/judges/reward_model.h"
#include "core/task/reward_base_model.h"
#include "core/task/dataset_sampler.h"
#include "core/task/toy_world_task.h"
#include "core/text/byte_tokenizer.h"
#include "core/nn/model_file.h"
#include "core/nn/sequence_batch.h"
#include "support/test_main.h"
#include "support/tiny_model.h"

#include <QTemporaryDir>

#include <algorithm>
#include <filesystem>
#include <fstream>

using namespace preflab;
using namespace preflab::test;

namespace {

std::string writeBase(const QTemporaryDir& dir) {
    const std::string path = (dir.path() + "/base.pt").toStdString();
    Transformer m = tinyModel(11);
    ModelFileInfo info;
    info.config = m->config();
    saveModelFile(path, m, info);
    return path;
}

// Kind answers beat unkind ones, over varied animals and wordings.
std::vector<OfflinePair> kindBeatsUnkind(int n) {
    const char* animals[] = {"fox", "cat", "owl", "dog", "duck", "frog"};
    const char* kind[] = {"is friendly.", "is kind.", "is lovely."};
    const char* unkind[] = {"is grumpy.", "is nasty.", "is rude."};
    std::vector<OfflinePair> d;
    for (int i = 0; i < n; ++i) {
        const std::string a = animals[i % 6];
        d.push_back({"Tell me about the " + a + ".", "The " + a + " " + kind[i % 3], "The " + a + " " + unkind[(i / 3) % 3]});
    }
    return d;
}

// A reward model trained for 10 steps with `pooling` on a tiny base into
// `dir` (its file in *out, its file's counters in *info), and its head's
// per-token outputs on prompt + response + EOS, with the prompt's length.
struct PerToken {
    Transformer rm{nullptr};
    at::Tensor values;  // [T] double
    int64_t promptLength = 0;
};
PerToken trainedPerToken(const QTemporaryDir& dir, RewardPooling pooling, const std::string& prompt,
                         const std::string& response, std::string* out, ModelFileInfo* info) {
    RewardModelSpec spec;
    spec.basePath = writeBase(dir);
    spec.pairs = kindBeatsUnkind(40);
    spec.steps = 10;
    spec.lr = 3e-3;
    spec.pooling = pooling;
    *out = (dir.path() + "/rm.pt").toStdString();
    trainRewardModel(spec, *out);
    PerToken r;
    r.rm = loadModelFile(*out, info);
    r.rm->eval();
    ByteTokenizer tok;
    TokenIds ids = tok.promptIds(prompt);
    r.promptLength = static_cast<int64_t>(ids.size());
    TokenIds body = tok.encode(response);
    body.push_back(tok.special().eos);
    ids.insert(ids.end(), body.begin(), body.end());
    torch::NoGradGuard g;
    const at::Tensor x = at::tensor(std::vector<int64_t>(ids.begin(), ids.end())).unsqueeze(0);
    r.values = r.rm->scalarPerToken(x, at::ones_like(x))[0].to(at::kDouble);
    return r;
}

}  // namespace

class TestRewardModel : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { configureComputeThreads(); }

    void scalarHeadReadsTheLastRealToken() {
        Transformer base = tinyModel(5);
        Transformer rm = withScalarHead(base);
        torch::NoGradGuard g;
        const SequenceBatch alone = packSequences({{256, 10, 259}}, {{20, 21, 257}}, 258);
        const SequenceBatch padded = packSequences({{256, 10, 259}, {256, 10, 11, 12, 259}}, {{20, 21, 257}, {30, 31, 32, 33, 257}}, 258);
        QCOMPARE(rm->scalar(alone.ids, alone.attention)[0].item<double>(), 0.0);  // the head starts at zero
        for (auto& p : rm->named_parameters()) {
            if (p.key().rfind("scalar_head", 0) == 0) p.value().normal_(0, 1);
        }
        const double a = rm->scalar(alone.ids, alone.attention)[0].item<double>();
        const double b = rm->scalar(padded.ids, padded.attention)[0].item<double>();
        QVERIFY(std::abs(a - b) < 1e-5);  // padding after the sequence changes nothing
        QVERIFY(a != 0.0);
        // The backbone's weights are the base model's.
        QVERIFY(at::equal(rm->named_parameters()["block0.fc.weight"], base->named_parameters()["block0.fc.weight"]));
    }

    void learnsAPreferenceAndJudges() {
        QTemporaryDir dir;
        RewardModelSpec spec;
        spec.basePath = writeBase(dir);
        spec.pairs = kindBeatsUnkind(120);
        spec.steps = 80;
        spec.batchSize = 16;
        spec.lr = 3e-3;
        spec.heldOutShare = 0.2;
        spec.evalEvery = 40;
        std::vector<double> losses, heldOut;
        const std::string out = (dir.path() + "/rm.pt").toStdString();
        const RewardModelReport r = trainRewardModel(spec, out, [&](const std::vector<MetricSample>& m) {
            for (const MetricSample& s : m) {
                if (s.name == "rm/loss") losses.push_back(s.value);
                if (s.name == "eval/rm_accuracy") heldOut.push_back(s.value);
            }
        });
        QVERIFY(r.completed);
        // 20 % would be 24; at least 200 are held out where half the pairs allow it: 60.
        QCOMPARE(r.heldOutPairs, int64_t(60));
        QCOMPARE(losses.size(), size_t(80));
        QVERIFY(std::abs(losses.front() - std::log(2.0)) < 1e-6);  // zero head: every pair scores a tie
        QCOMPARE(heldOut.front(), 0.0);  // strict accuracy at the start
        QVERIFY2(r.heldOutAccuracy >= 0.9, qPrintable(QString::number(r.heldOutAccuracy)));
        // The file holds the best evaluated checkpoint, not the last one.
        QVERIFY(std::abs(r.heldOutAccuracy - *std::max_element(heldOut.begin(), heldOut.end())) < 1e-12);
        QVERIFY(r.trainAccuracy >= 0.9);
        QVERIFY(r.heldOutMargin > 0);

        RewardModelJudge judge(out);
        PairForJudging p;
        p.pairIndex = 7;
        p.prompt = "Tell me about the owl.";
        p.responseA = "The owl is rude.";
        p.responseB = "The owl is lovely.";
        judge.submit({p});
        const auto j = judge.collect();
        QCOMPARE(j.size(), size_t(1));
        QVERIFY(j[0].choice == Choice::B);
        QVERIFY(j[0].source == LabelSource::RewardModel);
    }

    // At least 10 % and at least 200 pairs are held out, never more than half.
    void heldOutSplit_data() {
        QTest::addColumn<int>("pairs");
        QTest::addColumn<int>("heldOut");
        QTest::newRow("3000 pairs: 10 %") << 3000 << 300;
        QTest::newRow("1000 pairs: 200") << 1000 << 200;
        QTest::newRow("120 pairs: half") << 120 << 60;
        QTest::newRow("3 pairs") << 3 << 1;
    }
    void heldOutSplit() {
        QFETCH(int, pairs);
        QFETCH(int, heldOut);
        QTemporaryDir dir;
        RewardModelSpec spec;
        spec.basePath = writeBase(dir);
        spec.pairs = kindBeatsUnkind(pairs);
        spec.steps = 1;
        const RewardModelReport r = trainRewardModel(spec, (dir.path() + "/rm.pt").toStdString());
        QCOMPARE(r.heldOutPairs, int64_t(heldOut));
        QCOMPARE(r.trainPairs, int64_t(pairs - heldOut));
    }

    // A held-out set of its own: every given pair is trained on, the
    // accuracy is the last step's on the held-out pairs (no checkpoint chosen
    // on them), with each pair's verdict for the per-component breakdown.
    void separateHeldOutSetIsMeasuredAtTheLastStep() {
        QTemporaryDir dir;
        RewardModelSpec spec;
        spec.basePath = writeBase(dir);
        spec.pairs = kindBeatsUnkind(40);
        const std::vector<OfflinePair> more = kindBeatsUnkind(52);
        spec.heldOut.assign(more.begin() + 40, more.end());
        spec.steps = 20;
        spec.evalEvery = 7;
        spec.lr = 3e-3;
        const RewardModelReport r = trainRewardModel(spec, (dir.path() + "/rm.pt").toStdString());
        QCOMPARE(r.trainPairs, int64_t(40));
        QCOMPARE(r.heldOutPairs, int64_t(12));
        QCOMPARE(r.bestStep, int64_t(20));
        QCOMPARE(r.heldOutCorrect.size(), size_t(12));
        const double right = static_cast<double>(std::count(r.heldOutCorrect.begin(), r.heldOutCorrect.end(), true));
        QCOMPARE(r.heldOutAccuracy, right / 12.0);
        QCOMPARE(r.heldOutAccuracy, r.lastHeldOutAccuracy);
        // The kept model is the last one: the judge agrees pair by pair.
        RewardModelJudge judge((dir.path() + "/rm.pt").toStdString());
        for (size_t i = 0; i < spec.heldOut.size(); ++i) {
            const std::vector<double> s = judge.score({spec.heldOut[i].prompt, spec.heldOut[i].prompt},
                                                      {spec.heldOut[i].chosen, spec.heldOut[i].rejected});
            QCOMPARE(s[0] > s[1], static_cast<bool>(r.heldOutCorrect[i]));
        }
    }

    // Another seed's pairs become the held-out set, except exact repeats of
    // a training pair (either order of its two responses); the gold gaps
    // stay with their pairs.
    void separateHeldOutDropsRepeatsOfTrainingPairs() {
        RewardModelSpec spec;
        spec.pairs = {{"p1", "a", "b"}, {"p2", "c", "d"}};
        spec.heldOut = {{"stale", "x", "y"}};  // replaced, not appended to
        const std::vector<OfflinePair> other = {
            {"p1", "a", "b"},  // the same pair
            {"p2", "d", "c"},  // the same two responses, swapped
            {"p1", "a", "e"},  // the same prompt, another response: held out
            {"p3", "a", "b"},  // another prompt: held out
        };
        const int64_t dropped = setSeparateHeldOut(spec, other, {1.0, 2.0, 3.0, 4.0});
        QCOMPARE(dropped, int64_t(2));
        QCOMPARE(spec.heldOut.size(), size_t(2));
        QCOMPARE(QString::fromStdString(spec.heldOut[0].rejected), QString("e"));
        QCOMPARE(QString::fromStdString(spec.heldOut[1].prompt), QString("p3"));
        QCOMPARE(spec.heldOutGoldGaps, (std::vector<double>{3.0, 4.0}));
    }

    // The pooling rule is stored in the file and the judge reads the score
    // where the rule says: at EOS, at the last token before it, or the mean
    // over the response's tokens.
    void poolingIsStoredAndApplied_data() {
        QTest::addColumn<QString>("pooling");
        for (const char* p : {"eos", "last", "mean", "sum"}) QTest::newRow(p) << QString(p);
    }
    void poolingIsStoredAndApplied() {
        QFETCH(QString, pooling);
        QTemporaryDir dir;
        RewardPooling rule{};
        QVERIFY(parseRewardPooling(pooling.toStdString(), &rule));
        std::string out;
        ModelFileInfo info;
        const std::string prompt = "Tell me about the owl.", response = "The owl is lovely.";
        const PerToken t = trainedPerToken(dir, rule, prompt, response, &out, &info);
        QCOMPARE(info.counters.at("reward_pooling"), static_cast<int64_t>(rule));
        const at::Tensor& perToken = t.values;
        const int64_t promptLen = t.promptLength;
        const int64_t last = perToken.size(0) - 1;
        const double want = pooling == "eos"    ? perToken[last].item<double>()
                            : pooling == "last" ? perToken[last - 1].item<double>()
                            : pooling == "mean" ? perToken.narrow(0, promptLen, last + 1 - promptLen).mean().item<double>()
                                                : perToken.narrow(0, promptLen, last + 1 - promptLen).sum().item<double>();
        RewardModelJudge judge(out);
        const double got = judge.score({prompt}, {response}).at(0);
        QVERIFY2(std::abs(got - want) < 1e-5, qPrintable(QString("%1 vs %2").arg(got).arg(want)));
        // And the rules differ on this response (the test would pass vacuously otherwise).
        QVERIFY(std::abs(perToken[last].item<double>() - perToken[last - 1].item<double>()) > 1e-6);
    }

    // The per-sentence readout: the head's outputs at the response's sentence
    // ends ('!', '.', '?') and at EOS, summed, by hand against the judge; the
    // prompt's stops and the words between are not read.
    void sentenceReadoutSumsTheSentenceEnds() {
        QTemporaryDir dir;
        // Two sentences and a fragment without a stop (read at EOS).
        const std::string prompt = "Where does the owl live?", response = "Sure! The owl is kind. The owl";
        std::string out;
        ModelFileInfo info;
        const PerToken t = trainedPerToken(dir, RewardPooling::Sentences, prompt, response, &out, &info);
        QCOMPARE(info.counters.at("reward_pooling"), int64_t(4));  // stored, so the judge reads it the same way
        const at::Tensor& perToken = t.values;
        const int64_t promptLen = t.promptLength;
        Transformer rm = t.rm;
        const int64_t bang = promptLen + static_cast<int64_t>(response.find('!'));
        const int64_t stop = promptLen + static_cast<int64_t>(response.find('.'));
        const int64_t eos = perToken.size(0) - 1;
        const double want = perToken[bang].item<double>() + perToken[stop].item<double>() + perToken[eos].item<double>();
        RewardModelJudge judge(out);
        const double got = judge.score({prompt}, {response}).at(0);
        QVERIFY2(std::abs(got - want) < 1e-5, qPrintable(QString("%1 vs %2").arg(got).arg(want)));
        // Not the plain sum (the words between the stops would count there).
        const double sum = perToken.narrow(0, promptLen, eos + 1 - promptLen).sum().item<double>();
        QVERIFY(std::abs(got - sum) > 1e-4);
        // An unknown pooling number in a file is refused with the file named.
        info.counters["reward_pooling"] = 9;
        const std::string bad = (dir.path() + "/bad.pt").toStdString();
        saveModelFile(bad, rm, info);
        try {
            RewardModelJudge refused(bad);
            QFAIL("an unknown pooling was accepted");
        } catch (const std::runtime_error& e) {
            QVERIFY2(QString(e.what()).contains("bad.pt"), e.what());
        }
    }

    // With lrDecay the rate warms up and decays to 10 %: training still
    // learns the clear preference, and the last iterate is the one kept.
    void decayedLearningRateLearns() {
        QTemporaryDir dir;
        RewardModelSpec spec;
        spec.basePath = writeBase(dir);
        spec.pairs = kindBeatsUnkind(60);
        const std::vector<OfflinePair> more = kindBeatsUnkind(80);
        spec.heldOut.assign(more.begin() + 60, more.end());
        spec.steps = 60;
        spec.lr = 3e-3;
        spec.lrDecay = true;
        spec.weightDecay = 0.01;
        spec.trainLayers = -1;
        const RewardModelReport r = trainRewardModel(spec, (dir.path() + "/rm.pt").toStdString());
        QVERIFY2(r.heldOutAccuracy >= 0.9, qPrintable(QString::number(r.heldOutAccuracy)));
        QCOMPARE(r.bestStep, int64_t(60));
    }

    // baseDecay pulls the trained blocks back toward the base's weights: at
    // lr * baseDecay = 1 each step undoes the blocks' own move (they end on
    // the base's weights while the head still learns); without it they move.
    void baseDecayPullsTheBlocksTowardTheBase_data() {
        QTest::addColumn<double>("baseDecay");
        QTest::addColumn<bool>("atBase");
        QTest::newRow("none") << 0.0 << false;
        QTest::newRow("full pull") << 1.0 / 3e-3 << true;
    }
    void baseDecayPullsTheBlocksTowardTheBase() {
        QFETCH(double, baseDecay);
        QFETCH(bool, atBase);
        QTemporaryDir dir;
        RewardModelSpec spec;
        spec.basePath = writeBase(dir);
        spec.pairs = kindBeatsUnkind(40);
        spec.steps = 5;
        spec.lr = 3e-3;
        spec.trainLayers = -1;
        spec.baseDecay = baseDecay;
        const std::string out = (dir.path() + "/rm.pt").toStdString();
        trainRewardModel(spec, out);
        ModelFileInfo info;
        Transformer base = loadModelFile(spec.basePath, &info), rm = loadModelFile(out, &info);
        const auto baseParams = base->named_parameters();
        for (const auto& item : rm->named_parameters()) {
            if (item.key().rfind("block", 0) != 0) continue;
            const double moved = (item.value() - baseParams[item.key()]).abs().max().item<double>();
            QVERIFY2(atBase ? moved < 1e-6 : moved > 1e-4, qPrintable(QString::fromStdString(item.key()) + " moved " + QString::number(moved)));
        }
        QVERIFY(!at::equal(rm->named_parameters()["scalar_head.weight"], at::zeros_like(rm->named_parameters()["scalar_head.weight"])));
    }

    // The reward model's own base is pretrained once on the task's text and
    // cached: the second call reuses the file (same bytes, no pretraining).
    void rewardBaseIsPretrainedOnceAndReused() {
        QTemporaryDir dir;
        PretrainSpec spec = rewardBasePretrainSpec();
        spec.model = tinyConfig();
        spec.model.maxSeqLen = 160;
        spec.steps = 3;
        spec.batchSize = 2;
        int64_t reported = 0;
        const RewardBaseReady first = ensureRewardBaseModel(dir.path().toStdString(), spec,
                                                            [&](const PretrainProgress& p) { reported = p.step; });
        QVERIFY(first.pretrained);
        QCOMPARE(reported, int64_t(3));  // the progress reaches the last step
        QCOMPARE(first.path, rewardBaseModelPath(dir.path().toStdString(), spec));
        QVERIFY(QString::fromStdString(first.path).contains("reward-base-"));
        QVERIFY(first.path != starterModelPath(dir.path().toStdString(), spec));  // not the starter's cache
        const auto written = std::filesystem::last_write_time(first.path);
        reported = 0;
        const RewardBaseReady second = ensureRewardBaseModel(dir.path().toStdString(), spec,
                                                             [&](const PretrainProgress& p) { reported = p.step; });
        QVERIFY(!second.pretrained);
        QCOMPARE(reported, int64_t(0));
        QCOMPARE(second.path, first.path);
        QVERIFY(std::filesystem::last_write_time(second.path) == written);
        // A reward model trains from it.
        RewardModelSpec rm;
        rm.basePath = second.path;
        rm.pairs = kindBeatsUnkind(10);
        rm.steps = 2;
        QVERIFY(trainRewardModel(rm, (dir.path() + "/rm.pt").toStdString()).completed);
        // Another shape is another file.
        PretrainSpec wider = spec;
        wider.model.dModel = 32;
        QVERIFY(rewardBaseModelPath(dir.path().toStdString(), wider) != first.path);
    }

    // A damaged cache is an error naming the file and what to do, not a
    // silent re-pretraining or a confusing failure later.
    void corruptCachedBaseIsNamed() {
        QTemporaryDir dir;
        PretrainSpec spec = rewardBasePretrainSpec();
        spec.model = tinyConfig();
        spec.model.maxSeqLen = 160;
        spec.steps = 2;
        spec.batchSize = 2;
        const std::string path = rewardBaseModelPath(dir.path().toStdString(), spec);
        std::filesystem::create_directories(std::filesystem::path(path).parent_path());
        std::ofstream(path) << "not a model";
        try {
            ensureRewardBaseModel(dir.path().toStdString(), spec);
            QFAIL("a corrupt cached base was accepted");
        } catch (const std::runtime_error& e) {
            const QString m = e.what();
            QVERIFY2(m.contains(QString::fromStdString(path)) && m.contains("delete it"), qPrintable(m));
        }
        // A file of another shape at that path is refused the same way.
        Transformer other = tinyModel(3);
        ModelFileInfo info;
        info.config = other->config();
        saveModelFile(path, other, info);
        try {
            ensureRewardBaseModel(dir.path().toStdString(), spec);
            QFAIL("a cached base of another shape was accepted");
        } catch (const std::runtime_error& e) {
            QVERIFY2(QString(e.what()).contains("shape"), e.what());
        }
    }

    // Task pairs: two samples per task prompt, the one with the higher true
    // reward chosen, ties dropped, the gap recorded.
    void taskPairsAreOrderedByTrueReward() {
        QTemporaryDir dir;
        DatasetSpec spec;
        spec.pairs = 6;
        spec.seed = 3;
        const TaskDataset d = sampleTaskDataset(writeBase(dir), spec);
        QCOMPARE(d.pairs.size(), size_t(6));
        QCOMPARE(d.goldGaps.size(), size_t(6));
        const ToyWorldTask task;
        for (size_t i = 0; i < d.pairs.size(); ++i) {
            const double chosen = task.trueReward(d.pairs[i].prompt, d.pairs[i].chosen);
            const double rejected = task.trueReward(d.pairs[i].prompt, d.pairs[i].rejected);
            QVERIFY(chosen > rejected);
            QVERIFY(std::abs(d.goldGaps[i] - (chosen - rejected)) < 1e-12);
        }
    }

    void aLanguageModelIsNotAJudge() {
        QTemporaryDir dir;
        const std::string base = writeBase(dir);
        try {
            RewardModelJudge judge(base);
            QFAIL("a model without a scalar head was accepted");
        } catch (const std::runtime_error& e) {
            const QString m = e.what();
            QVERIFY2(m.contains("base.pt") && m.contains("train-rm"), qPrintable(m));
        }
    }
};

PREFLAB_TEST_MAIN(TestRewardModel)
#include "tst_reward_model.moc"
