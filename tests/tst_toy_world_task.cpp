#include "core/task/toy_world_task.h"
#include "support/test_main.h"

using namespace preflab;

class TestToyWorldTask : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void promptsAreDeterministic() {
        ToyWorldTask task;
        const auto a = task.prompts(50, 42), b = task.prompts(50, 42), c = task.prompts(50, 43);
        QCOMPARE(a.size(), size_t(50));
        bool differs = false;
        for (size_t i = 0; i < a.size(); ++i) {
            QCOMPARE(a[i].text, b[i].text);
            differs |= a[i].text != c[i].text;
            QCOMPARE(task.parsePrompt(a[i].text).animal, a[i].animal);
            QVERIFY(a[i].text.find(a[i].animal) != std::string::npos);
        }
        QVERIFY(differs);
    }

    // Hand-computed rewards, term by term (see toy_world_task.h).
    void rewards_data() {
        QTest::addColumn<QString>("prompt");
        QTest::addColumn<QString>("response");
        QTest::addColumn<double>("expected");
        QTest::newRow("on-topic kind answer")
            << "Where does the fox live?" << "Sure! The fox lives in the forest." << 1.0 + 0.5 + 0.5;
        QTest::newRow("off-topic") << "Where does the fox live?" << "The cat lives in the barn." << -1.0 - 0.5;
        QTest::newRow("unkind") << "Tell me about the red dog." << "Ugh, fine. The dog is nasty." << 1.0 - 0.75 - 0.75;
        QTest::newRow("long") << "What does the owl like?"
                              << "The owl is quiet. The owl is old. The owl likes fish." << 1.0 + 0.5 - 0.3;
        QTest::newRow("repetition") << "Describe the grey bear."
                                    << "The bear is big. The bear is big." << 1.0 - 1.0;
        QTest::newRow("gibberish") << "Describe the grey bear." << "The bear zzq qq." << -1.0 - 1.5;
        QTest::newRow("cut off") << "Describe the grey bear." << "The bear is kind. The bea" << 1.0 + 0.5 - 1.5;
        QTest::newRow("empty") << "Describe the grey bear." << "" << -1.0;
    }
    void rewards() {
        QFETCH(QString, prompt);
        QFETCH(QString, response);
        QFETCH(double, expected);
        ToyWorldTask task;
        QCOMPARE(task.trueReward(prompt.toStdString(), response.toStdString()), expected);
    }

    // The parts in which two responses differ, by hand (toy_world_task.h's terms).
    void differingComponentsByHand_data() {
        QTest::addColumn<QString>("prompt");
        QTest::addColumn<QString>("a");
        QTest::addColumn<QString>("b");
        QTest::addColumn<QStringList>("expected");
        QTest::newRow("tone only") << "Tell me about the red fox." << "The fox is friendly." << "The fox is grumpy."
                                   << QStringList{"tone"};
        // 1 kind word against 2, and a repeated sentence.
        QTest::newRow("tone and repetition") << "Tell me about the red fox." << "The fox is friendly."
                                             << "The fox is friendly. The fox is friendly." << QStringList{"tone", "repetition"};
        // The other animal: topic (-1 - 0.5 against +1), and where it lives answers nothing.
        QTest::newRow("topic and answer") << "Where does the fox live?" << "The fox lives in the forest."
                                          << "The cat lives in the barn." << QStringList{"topic", "answer"};
        QTest::newRow("form") << "Describe the grey bear." << "The bear is big." << "The bear zzq qq." << QStringList{"topic", "form"};
        QTest::newRow("same") << "Describe the grey bear." << "The bear is big." << "The bear is old." << QStringList{};
    }
    void differingComponentsByHand() {
        QFETCH(QString, prompt);
        QFETCH(QString, a);
        QFETCH(QString, b);
        QFETCH(QStringList, expected);
        ToyWorldTask task;
        const TaskPrompt p = task.parsePrompt(prompt.toStdString());
        QStringList got;
        for (RewardComponent c : differingComponents(task.score(p, a.toStdString()), task.score(p, b.toStdString()))) {
            got << rewardComponentName(c);
        }
        QCOMPARE(got, expected);
    }

    void corpusVariesInReward() {
        ToyWorldTask task;
        std::mt19937_64 rng(1);
        double lo = 1e9, hi = -1e9;
        for (const TaskPrompt& p : task.prompts(200, 5)) {
            const std::string r = task.sampleResponse(p, rng);
            const RewardBreakdown b = task.score(p, r);
            QCOMPARE(b.form, 0.0);  // the corpus is always grammatical
            lo = std::min(lo, b.total());
            hi = std::max(hi, b.total());
        }
        QVERIFY2(hi - lo > 3.0, "the pretraining corpus must span good and bad responses");
    }
};

PREFLAB_TEST_MAIN(TestToyWorldTask)
#include "tst_toy_world_task.moc"
