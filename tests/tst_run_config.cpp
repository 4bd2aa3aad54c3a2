#include "core/values/run_config.h"
#include "support/test_main.h"

using namespace preflab;

class TestRunConfig : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void defaultsAreValid() { QVERIFY(validateRunConfig(RunConfig{}).empty()); }

    void jsonRoundTrip() {
        RunConfig c;
        c.beta = 0.25;
        c.judge = "self";
        c.steps = 42;
        c.name = "x \"quoted\"";
        RunConfig back;
        QVERIFY(parseRunConfigJson(runConfigToJson(c), back).empty());
        QCOMPARE(back.beta, 0.25);
        QCOMPARE(back.judge, std::string("self"));
        QCOMPARE(back.steps, int64_t(42));
        QCOMPARE(back.name, c.name);
        QCOMPARE(runConfigToJson(back), runConfigToJson(c));
    }

    void rejects_data() {
        QTest::addColumn<QString>("json");
        QTest::addColumn<QString>("mentions");
        QTest::newRow("unknown key") << R"({"betta": 0.1})" << "unknown setting 'betta'";
        QTest::newRow("beta zero") << R"({"beta": 0})" << "beta";
        QTest::newRow("negative lr") << R"({"lr": -1})" << "lr";
        QTest::newRow("fractional steps") << R"({"steps": 1.5})" << "whole number";
        QTest::newRow("bad judge") << R"({"judge": "oracle"})" << "is not one of: task, self, reward_model";
        QTest::newRow("flip rate") << R"({"flip_rate": 0.7})" << "flip_rate";
        QTest::newRow("not json") << R"({"beta": )" << "not valid JSON";
        QTest::newRow("array value") << R"({"beta": [1]})" << "expected a number";
    }
    void rejects() {
        QFETCH(QString, json);
        QFETCH(QString, mentions);
        RunConfig c;
        const auto errors = parseRunConfigJson(json.toStdString(), c);
        QVERIFY(!errors.empty());
        QVERIFY2(QString::fromStdString(errors.front()).contains(mentions), errors.front().c_str());
    }

    void humanJudgeNeedsAnnotator() {
        RunConfig c;
        c.judge = "human";
        QVERIFY(!validateRunConfig(c).empty());
        c.annotator = "ada";
        QVERIFY(validateRunConfig(c).empty());
    }

    // Cross-field rules of the CPO family: numeric outcomes, full-distribution
    // propensities, ratings rather than pairs.
    void causalMethodRules_data() {
        QTest::addColumn<QString>("json");
        QTest::addColumn<QString>("mentions");  // empty: valid
        QTest::newRow("cpo, task") << R"({"algorithm": "cpo"})" << "";
        QTest::newRow("dr-cpo, stored ratings") << R"({"algorithm": "dr-cpo", "ratings": "db:3"})" << "";
        QTest::newRow("self judge") << R"({"algorithm": "cpo", "judge": "self"})" << "numeric outcomes";
        QTest::newRow("top-k") << R"({"algorithm": "oo-rlhf", "top_k": 5})" << "propensities";
        QTest::newRow("top-p") << R"({"algorithm": "cpo", "top_p": 0.9})" << "propensities";
        QTest::newRow("greedy") << R"({"algorithm": "cpo", "temperature": 0})" << "propensities";
        QTest::newRow("pairs") << R"({"algorithm": "cpo", "pairs": "db"})" << "not pairs";
        QTest::newRow("ratings for dpo") << R"({"algorithm": "dpo", "ratings": "db"})" << "trains on pairs";
        // Ratios, KL penalties and score-function terms need the full tempered distribution (algorithms.md 5b).
        QTest::newRow("ppo, T 0.7") << R"({"algorithm": "ppo", "temperature": 0.7})" << "";
        QTest::newRow("ppo, top-k") << R"({"algorithm": "ppo", "top_k": 20})" << "full sampling distribution";
        QTest::newRow("ppo, minibatches > batch")
            << R"({"algorithm": "ppo", "batch_size": 4, "ppo_minibatches": 8})" << "cannot exceed batch_size";
        QTest::newRow("sail-pr, top-p") << R"({"algorithm": "sail-pr", "top_p": 0.9})" << "differentiate the sampling";
        QTest::newRow("sail-pr without its terms, top-p")
            << R"({"algorithm": "sail-pr", "top_p": 0.9, "sail_gamma": 0})" << "";
        QTest::newRow("online-dpo, top-p") << R"({"algorithm": "online-dpo", "top_p": 0.9})" << "";
        QTest::newRow("online-dpo, RevKL, top-p")
            << R"({"algorithm": "online-dpo", "top_p": 0.9, "sail_kl_coef": 0.1})" << "differentiate the sampling";
        QTest::newRow("RevKL on dpo") << R"({"algorithm": "dpo", "pairs": "db", "sail_kl_coef": 0.1})" << "SAIL-RevKL";
    }
    void causalMethodRules() {
        QFETCH(QString, json);
        QFETCH(QString, mentions);
        RunConfig c;
        QVERIFY(parseRunConfigJson(json.toStdString(), c).empty());
        const auto errors = validateRunConfig(c);
        if (mentions.isEmpty()) {
            QVERIFY2(errors.empty(), errors.empty() ? "" : errors.front().c_str());
        } else {
            QVERIFY(!errors.empty());
            QVERIFY2(QString::fromStdString(errors.front()).contains(mentions), errors.front().c_str());
        }
    }

    void flagStyleSetter() {
        RunConfig c;
        QVERIFY(setRunConfigValue(c, "batch_size", "16").empty());
        QCOMPARE(c.batchSize, int64_t(16));
        QVERIFY(!setRunConfigValue(c, "batch_size", "0").empty());
        QVERIFY(!setRunConfigValue(c, "batch_size", "abc").empty());
        QCOMPARE(c.batchSize, int64_t(16));
    }
};

PREFLAB_TEST_MAIN(TestRunConfig)
#include "tst_run_config.moc"
