// The name tables of core/values: metrics, judges, methods and model names.
// Each kind of name is spelled once; these tests hold the tables to what
// their readers assume: every enum value has its row, keys are unique and
// keep the names already stored in databases and files, every plotted metric
// says which family shows it, and every judge resolves to its own entry.
#include "core/values/judge_registry.h"
#include "core/values/method_registry.h"
#include "core/values/metric_names.h"
#include "core/values/model_names.h"
#include "core/values/run_config.h"
#include "support/test_main.h"

#include <QTemporaryDir>

#include <set>
#include <stdexcept>

using namespace preflab;

class TestNameTables : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void everyMetricHasItsRow() {
        const auto& table = metricTable();
        QVERIFY(!table.empty());
        std::set<std::string> keys;
        for (size_t i = 0; i < table.size(); ++i) {
            // metricInfo indexes by the enum: the row at i must be enum value i.
            QCOMPARE(static_cast<size_t>(table[i].id), i);
            QVERIFY2(keys.insert(table[i].key).second, table[i].key);
            QVERIFY2(std::string(table[i].title).size() > 2 && std::string(table[i].legend).size() > 1, table[i].key);
            QCOMPARE(findMetric(table[i].key), &table[i]);
        }
        QCOMPARE(findMetric("no/such_metric"), nullptr);
    }

    // Databases and exported files already hold these keys (TRL's names):
    // renaming one would make stored runs lose the curve.
    void storedKeysAreStable_data() {
        QTest::addColumn<int>("metric");
        QTest::addColumn<QString>("key");
        QTest::newRow("loss") << int(Metric::Loss) << "loss";
        QTest::newRow("margins") << int(Metric::RewardsMargins) << "rewards/margins";
        QTest::newRow("accuracies") << int(Metric::RewardsAccuracies) << "rewards/accuracies";
        QTest::newRow("gold") << int(Metric::GoldReward) << "gold/reward";
        QTest::newRow("kl") << int(Metric::ObjectiveKl) << "objective/kl";
        QTest::newRow("exact") << int(Metric::KlExact) << "kl/exact";
        QTest::newRow("exact interval") << int(Metric::KlExactCi95) << "kl/exact_ci95";
        QTest::newRow("held-out") << int(Metric::EvalRewardsAccuracies) << "eval/rewards/accuracies";
        QTest::newRow("clip") << int(Metric::PolicyClipFraction) << "policy/clipfrac_avg";
        QTest::newRow("truncated") << int(Metric::DataTruncatedPairs) << "data/truncated_pairs";
    }
    void storedKeysAreStable() {
        QFETCH(int, metric);
        QFETCH(QString, key);
        QCOMPARE(QString::fromLatin1(metricKey(static_cast<Metric>(metric))), key);
    }

    void metricPropertiesThatReadersUse() {
        // Intervals point at a metric measured with it.
        for (const MetricInfo& m : metricTable()) {
            if (!m.interval) continue;
            QCOMPARE(metricInfo(*m.interval).cadence, m.cadence);
            QVERIFY(*m.interval != m.id);
        }
        QVERIFY(metricInfo(Metric::KlExact).interval == Metric::KlExactCi95);
        // Counts add over ranks; means do not.
        QCOMPARE(metricInfo(Metric::DataTruncatedPairs).combine, RankCombine::Sum);
        QCOMPARE(metricInfo(Metric::Loss).combine, RankCombine::Mean);
        // What a stored run summary holds (storage reads this list).
        const std::vector<Metric> headline = headlineMetrics();
        QCOMPARE(headline, (std::vector<Metric>{Metric::Loss, Metric::RewardsMargins, Metric::RewardsAccuracies,
                                                Metric::ObjectiveKl, Metric::GoldReward}));
        // Each live plot panel shows at least one metric for every family.
        for (MetricPlot plot : {MetricPlot::Margin, MetricPlot::Accuracy, MetricPlot::Rewards}) {
            for (MethodFamily f : {MethodFamily::Pairwise, MethodFamily::Ppo, MethodFamily::Causal, MethodFamily::Group}) {
                bool shown = false;
                for (const MetricInfo& m : metricTable()) shown |= m.plot == plot && (!m.family || *m.family == f);
                QVERIFY2(shown, metricInfo(Metric::Loss).key);
            }
        }
    }

    void everyJudgeResolves() {
        std::set<std::string> names;
        for (const JudgeInfo& j : judges()) {
            QVERIFY2(names.insert(j.name).second, j.name);
            QCOMPARE(findJudge(j.name), &j);
            QCOMPARE(&judgeInfo(j.id), &j);
            QCOMPARE(judgeNeedsPerson(j.name), j.needsPerson);
            // A fallback labels what a person leaves: it is a machine judge itself.
            if (j.fallback) {
                QVERIFY(j.needsPerson);
                QVERIFY(!judgeInfo(*j.fallback).needsPerson);
            }
        }
        QCOMPARE(findJudge("oracle"), nullptr);
        QVERIFY(!judgeNeedsPerson("oracle"));
        QVERIFY(!judgeNeedsPerson("humanoid"));  // the old prefix test said yes
        // The config's choices are the registry's names, in its order.
        const ConfigField* judge = findConfigField("judge");
        QVERIFY(judge);
        QCOMPARE(judge->choices, judgeNames());
        QCOMPARE(judge->choiceLabels.size(), judge->choices.size());
        QCOMPARE(judge->choiceLabels[0], std::string(judgeInfo(JudgeKind::Task).displayName));
    }

    void validationReadsTheJudgeTable() {
        RunConfig c;
        c.judge = judgeName(JudgeKind::RewardModel);
        const auto needsFile = validateRunConfig(c);
        QVERIFY(!needsFile.empty());
        c.rewardModel = "rm.pt";
        QVERIFY(validateRunConfig(c).empty());
        // A method that needs one judge names it from the registry.
        c = RunConfig{};
        c.algorithm = methodName(Method::SailPp);
        const auto problems = validateRunConfig(c);
        QVERIFY(!problems.empty());
        QVERIFY2(problems.front().find(std::string("judge = ") + judgeName(JudgeKind::Self)) != std::string::npos,
                 problems.front().c_str());
        // Numeric outcomes: the task's true reward or a person's ratings.
        c = RunConfig{};
        c.algorithm = methodName(Method::Cpo);
        c.judge = judgeName(JudgeKind::Self);
        QVERIFY(!validateRunConfig(c).empty());
        c.judge = judgeName(JudgeKind::Task);
        QVERIFY(validateRunConfig(c).empty());
    }

    void annotatorNamesAreCheckedWhereTheyAreGiven() {
        RunConfig c;
        c.annotator = "ada";
        QVERIFY(validateRunConfig(c).empty());
        c.annotator = "a\x1b[2Jb";  // an escape that clears a terminal
        const auto problems = validateRunConfig(c);
        QVERIFY(!problems.empty());
        QVERIFY2(problems.front().find("annotator") == 0, problems.front().c_str());
        c.annotator = std::string(65, 'x');
        QVERIFY(!validateRunConfig(c).empty());
    }

    // A run's title names the knob that holds its method near the reference.
    void klKnobsAreTheMethods_data() {
        QTest::addColumn<QString>("method");
        QTest::addColumn<QString>("shown");
        QTest::newRow("dpo") << "dpo" << QString::fromUtf8("\u03b2 (KL strength) 0.3");
        QTest::newRow("ppo") << "ppo" << "KL coefficient 0.05";
        QTest::newRow("grpo") << "grpo" << QString::fromUtf8("GRPO KL \u03b2 0");
        QTest::newRow("rloo") << "rloo" << QString::fromUtf8("RLOO KL \u03b2 0.05");
        QTest::newRow("orpo: no KL knob") << "orpo" << "Learning rate 5e-05";
        QTest::newRow("cpo: no KL knob") << "cpo" << "Learning rate 5e-05";
    }
    void klKnobsAreTheMethods() {
        QFETCH(QString, method);
        QFETCH(QString, shown);
        RunConfig c;
        c.algorithm = method.toStdString();
        QCOMPARE(QString::fromStdString(klKnobText(c)), shown);
    }

    void modelNamesResolveOnce() {
        QVERIFY(isStarterModel(kStarterModelName));
        QVERIFY(isStarterModel(""));
        QVERIFY(!isStarterModel("starter.pt"));
        QCOMPARE(RunConfig{}.model, std::string(kStarterModelName));
        const ResolvedModel starter = resolveModel(kStarterModelName, "/cache/starter-1.pt");
        QVERIFY(starter.kind == ModelKind::Starter);
        QCOMPARE(starter.path, std::string("/cache/starter-1.pt"));
        QVERIFY_THROWS_EXCEPTION(std::runtime_error, resolveModel(kStarterModelName));
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const std::string folder = dir.path().toStdString();
        QVERIFY(resolveModel(folder).kind == ModelKind::HfFolder);
        QVERIFY_THROWS_EXCEPTION(std::runtime_error, resolveModel(folder + "/missing.pt"));
        // The run panel's empty model field stands for the starter.
        const ConfigField* model = findConfigField("model");
        QVERIFY(model);
        QCOMPARE(model->blankValue, std::string(kStarterModelName));
    }
};

PREFLAB_TEST_MAIN(TestNameTables)
#include "tst_name_tables.moc"
