// Hugging Face reward models (core/judges/hf_reward_model.h): tiny random
// GPT2/Llama/Qwen2ForSequenceClassification folders in the exact HF layout
// load with their score head, and a response's score equals the naive
// reference's final hidden state at the text's last token times the score
// weights (as transformers reads it), alone and in a right-padded batch;
// the judge and `preflab score` give the same numbers; what is not a
// one-label classifier is refused with the folder named.
#include "core/judges/hf_reward_model.h"
#include "core/judges/reward_model.h"
#include "core/hf/hf_model.h"
#include "core/values/metric_names.h"
#include "support/hf_fixtures.h"
#include "support/naive_transformers.h"
#include "support/test_main.h"

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>

#include <array>
#include <map>

using namespace preflab;
using namespace preflab::test;

namespace {

// The naive score: hidden state of the last token, times score.weight.
double naiveScore(const at::Tensor& hidden, const NamedTensors& m) {
    return at::matmul(hidden[hidden.size(0) - 1], m.get("score.weight").to(at::kDouble)[0]).item<double>();
}

std::vector<int64_t> bytesOf(const std::string& text) {
    std::vector<int64_t> out;
    for (unsigned char c : text) out.push_back(c);
    return out;
}

}  // namespace

class TestHfRewardModel : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void scoresAsTheNaiveReference_data() {
        QTest::addColumn<QString>("family");
        QTest::newRow("GPT2ForSequenceClassification") << "gpt2";
        QTest::newRow("GPT-2, transformer. prefix") << "gpt2-prefixed";
        QTest::newRow("LlamaForSequenceClassification") << "llama";
        QTest::newRow("Qwen2ForSequenceClassification (biases, tied)") << "qwen2";
        QTest::newRow("Qwen3ForSequenceClassification (q/k norms, own head size)") << "qwen3";
    }

    void scoresAsTheNaiveReference() {
        QFETCH(QString, family);
        QTemporaryDir dir;
        const QString folder = dir.path() + "/rm";
        TinyGpt2 gpt2;
        TinyLlama llama(family.startsWith("qwen") ? family.toStdString() : "llama", family.startsWith("qwen"));
        const bool isGpt2 = family.startsWith("gpt2");
        if (isGpt2) {
            gpt2.makeClassifier("GPT2ForSequenceClassification", gpt2.d);
            gpt2.write(folder, family == "gpt2-prefixed" ? "prefixed" : "single");
        } else {
            llama.makeClassifier(family == "qwen2"   ? "Qwen2ForSequenceClassification"
                                 : family == "qwen3" ? "Qwen3ForSequenceClassification"
                                                     : "LlamaForSequenceClassification",
                                 llama.d);
            llama.write(folder);
        }
        TinyGpt2::writeTokenizer(folder);  // byte-level: a text's ids are its bytes
        HfModelInfo info = readHfModelConfig(folder.toStdString());
        QVERIFY(info.sequenceClassifier);

        HfRewardModel rm(folder.toStdString());
        QCOMPARE(rm.describe(), std::string("plain (no chat template)"));
        const std::vector<std::pair<std::string, std::string>> texts = {
            {"Tell me about the fox.", " The fox is friendly."}, {"Hi", " ok"}, {"Where does the owl live?", " In a tree, I think."}};
        std::vector<std::string> prompts, responses;
        std::vector<double> want;
        for (const auto& [prompt, response] : texts) {
            // No chat template: the prompt and response concatenated (and no
            // BOS: this tokenizer_config.json does not set add_bos_token).
            const std::vector<int64_t> ids = bytesOf(prompt + response);
            const TokenIds scored = rm.ids(prompt, response);
            QCOMPARE(std::vector<int64_t>(scored.begin(), scored.end()), ids);
            want.push_back(naiveScore(isGpt2 ? naiveGpt2Hidden(gpt2, ids) : naiveLlamaHidden(llama, ids), isGpt2 ? static_cast<const NamedTensors&>(gpt2) : llama));
            prompts.push_back(prompt);
            responses.push_back(response);
        }
        // One batch of three lengths (right-padded) and each alone.
        const std::vector<double> batched = rm.score(prompts, responses);
        for (size_t i = 0; i < texts.size(); ++i) {
            const double alone = rm.score({prompts[i]}, {responses[i]}).at(0);
            QVERIFY2(std::abs(batched[i] - want[i]) < 1e-4 * std::max(1.0, std::abs(want[i])),
                     qPrintable(QString("%1 vs naive %2").arg(batched[i]).arg(want[i])));
            QVERIFY2(std::abs(alone - batched[i]) < 1e-5, qPrintable(QString("%1 alone vs %2 batched").arg(alone).arg(batched[i])));
        }
        qInfo("scores %.5f %.5f %.5f (naive %.5f %.5f %.5f)", batched[0], batched[1], batched[2], want[0], want[1], want[2]);
        // The judge reads the folder the same way, and labels by the higher score.
        RewardModelJudge judge(folder.toStdString());
        QCOMPARE(judge.score(prompts, responses), batched);
    }

    void theCommandPrintsTheScore() {
        QTemporaryDir dir;
        const QString folder = dir.path() + "/rm";
        TinyGpt2 gpt2;
        gpt2.makeClassifier("GPT2ForSequenceClassification", gpt2.d);
        gpt2.write(folder);
        TinyGpt2::writeTokenizer(folder);
        const double want = HfRewardModel(folder.toStdString()).score({"Hi"}, {" there"}).at(0);
        QProcess p;
        p.start(QStringLiteral(PREFLAB_CLI), {"score", "--model", folder, "--prompt", "Hi", "--response", " there", "--json"});
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitCode(), 0);
        const QJsonObject o = QJsonDocument::fromJson(p.readAllStandardOutput().trimmed()).object();
        QVERIFY2(std::abs(o.value("score").toDouble() - want) < 1e-9, qPrintable(QString::number(o.value("score").toDouble())));
        // --pairs: the accuracy over a file, each pair's chosen against its rejected.
        const QString pairs = dir.path() + "/pairs.jsonl";
        QFile f(pairs);
        QVERIFY(f.open(QIODevice::WriteOnly));
        const std::vector<std::array<const char*, 3>> rows = {{"Hi", " there", " no"}, {"Yo", " a", " bb"}, {"Q", " x", " y"}};
        int right = 0;
        HfRewardModel rm(folder.toStdString());
        for (const auto& r : rows) {
            f.write(QJsonDocument(QJsonObject{{"prompt", r[0]}, {"chosen", r[1]}, {"rejected", r[2]}}).toJson(QJsonDocument::Compact) + "\n");
            const std::vector<double> s = rm.score({r[0], r[0]}, {r[1], r[2]});
            right += s[0] > s[1] ? 1 : 0;
        }
        f.close();
        QProcess q;
        q.start(QStringLiteral(PREFLAB_CLI), {"score", "--model", folder, "--pairs", pairs, "--json"});
        QVERIFY(q.waitForFinished(60000));
        QCOMPARE(q.exitCode(), 0);
        const QJsonObject acc = QJsonDocument::fromJson(q.readAllStandardOutput().trimmed()).object();
        QCOMPARE(acc.value("pairs").toInt(), 3);
        QCOMPARE(acc.value("accuracy").toDouble(), right / 3.0);
    }

    // An online DPO run on a tiny HF model, judged by a tiny HF reward model
    // (the judge labels by the higher score) and PPO rewarded by it: both train.
    void judgesAndRewardsARun_data() {
        QTest::addColumn<QString>("algorithm");
        QTest::newRow("online DPO judged by it") << "online-dpo";
        QTest::newRow("PPO rewarded by it") << "ppo";
    }

    void judgesAndRewardsARun() {
        QFETCH(QString, algorithm);
        QTemporaryDir dir;
        const QString policy = dir.path() + "/policy", rmFolder = dir.path() + "/rm";
        TinyGpt2 lm;
        lm.write(policy);
        TinyGpt2::writeTokenizer(policy);
        TinyGpt2 rmModel(23);
        rmModel.makeClassifier("GPT2ForSequenceClassification", rmModel.d);
        rmModel.write(rmFolder);
        TinyGpt2::writeTokenizer(rmFolder);
        LoopSetup setup = smallFolderRun(policy, dir.path() + "/ck", 2);
        setup.config.algorithm = algorithm.toStdString();
        setup.config.judge = "reward_model";
        setup.config.rewardModel = rmFolder.toStdString();
        struct Series : LoopObserver {
            std::map<std::string, std::vector<double>> values;
            void metricsLogged(const std::vector<MetricSample>& m) override {
                for (const MetricSample& s : m) values[s.name].push_back(s.value);
            }
        } seen;
        OnlineLoop loop(setup, std::make_unique<RewardModelJudge>(rmFolder.toStdString()), &seen);
        QVERIFY2(runToEnd(loop), loop.lastError().c_str());
        QCOMPARE(seen.values[metricKey(Metric::Loss)].size(), size_t(2));
        for (double v : seen.values[metricKey(Metric::Loss)]) QVERIFY(std::isfinite(v));
        if (algorithm == "ppo") {
            // The rollouts were scored by the reward model: its scores, not zeros.
            const std::vector<double>& scores = seen.values[metricKey(Metric::ObjectiveScores)];
            QCOMPARE(scores.size(), size_t(2));
            QVERIFY(std::any_of(scores.begin(), scores.end(), [](double s) { return std::abs(s) > 1e-6; }));
        }
    }

    // What is not a one-label classifier is refused, naming the folder.
    void notARewardModel_data() {
        QTest::addColumn<QString>("kind");
        QTest::addColumn<QString>("expected");
        QTest::newRow("a language model") << "lm" << "not a reward model";
        QTest::newRow("two labels") << "two-labels" << "2 labels";
    }

    void notARewardModel() {
        QFETCH(QString, kind);
        QFETCH(QString, expected);
        QTemporaryDir dir;
        const QString folder = dir.path() + "/m";
        TinyGpt2 gpt2;
        if (kind == "two-labels") gpt2.makeClassifier("GPT2ForSequenceClassification", gpt2.d);
        gpt2.write(folder);
        TinyGpt2::writeTokenizer(folder);
        if (kind == "two-labels") {
            QFile c(folder + "/config.json");
            QVERIFY(c.open(QIODevice::ReadOnly));
            QJsonObject o = QJsonDocument::fromJson(c.readAll()).object();
            c.close();
            o["id2label"] = QJsonObject{{"0", "NEG"}, {"1", "POS"}};
            QVERIFY(c.open(QIODevice::WriteOnly | QIODevice::Truncate));
            c.write(QJsonDocument(o).toJson());
        }
        QString error;
        try {
            HfRewardModel rm(folder.toStdString());
        } catch (const std::exception& e) {
            error = QString::fromUtf8(e.what());
        }
        QVERIFY2(error.contains(expected) && error.contains(folder), qPrintable(error));
    }
};

PREFLAB_TEST_MAIN(TestHfRewardModel)
#include "tst_hf_reward_model.moc"
