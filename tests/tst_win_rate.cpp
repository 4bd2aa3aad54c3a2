// Win rate against the reference (core/values/win_rate.h, issue 30 item 4)
// and the proxy gold (gold_model): the rate and its Wilson interval against
// hand-worked numbers, the rule that an order-dependent verdict is a tie, the
// judge each kind of run is scored by, and runs on a tiny Hugging Face model
// judged by a tiny HF reward model that log the win rate and the proxy gold
// at every evaluation without changing what the run trains.
#include "core/judges/llm_judge.h"
#include "core/judges/make_judge.h"
#include "core/judges/reward_model.h"
#include "core/judges/score_choice.h"
#include "core/judges/task_judge.h"
#include "core/values/metric_names.h"
#include "core/values/win_rate.h"
#include "support/hf_fixtures.h"
#include "support/test_main.h"

#include <QTemporaryDir>

#include <algorithm>
#include <cmath>
#include <map>

using namespace preflab;
using namespace preflab::test;

namespace {

struct Series : LoopObserver {
    std::map<std::string, std::vector<double>> values;
    std::vector<LoopNotice> notices;
    void metricsLogged(const std::vector<MetricSample>& m) override {
        for (const MetricSample& s : m) values[s.name].push_back(s.value);
    }
    void noticeRaised(const LoopNotice& n) override { notices.push_back(n); }
    const std::vector<double>& of(Metric m) { return values[metricKey(m)]; }
};

// A short judge prompt: the tiny models read at most 128 tokens.
const char* const kShortJudgePrompt = "{prompt}|{response_a}|{response_b}|";

// A tiny GPT-2 policy and a tiny GPT-2 reward model in `dir`.
void writeModels(const QString& dir) {
    TinyGpt2 lm;
    lm.write(dir + "/policy");
    TinyGpt2::writeTokenizer(dir + "/policy");
    TinyGpt2 rm(23);
    rm.makeClassifier("GPT2ForSequenceClassification", rm.d);
    rm.write(dir + "/rm");
    TinyGpt2::writeTokenizer(dir + "/rm");
}

}  // namespace

class TestWinRate : public QObject {
    Q_OBJECT
private Q_SLOTS:
    // A scoring judge's verdict (reward model, reward server): the higher
    // score without noise (equal: a tie); with a Bradley-Terry temperature T,
    // A as often as sigmoid((s_A - s_B) / T) says (20,000 draws: the share's
    // standard error is about 0.003), and the same draws for the same seed.
    void scoringJudgesDrawBradleyTerryNoise_data() {
        QTest::addColumn<double>("a");
        QTest::addColumn<double>("b");
        QTest::addColumn<double>("t");
        QTest::newRow("gap 1, T 1") << 1.5 << 0.5 << 1.0;    // 0.7311
        QTest::newRow("gap -2, T 0.5") << 0.0 << 2.0 << 0.5;  // 0.0180
        QTest::newRow("equal, T 2") << 3.0 << 3.0 << 2.0;    // 0.5
    }
    void scoringJudgesDrawBradleyTerryNoise() {
        QFETCH(double, a);
        QFETCH(double, b);
        QFETCH(double, t);
        ScoreChoice noisy(t, 11), again(t, 11);
        int chosenA = 0;
        for (int i = 0; i < 20000; ++i) {
            const Choice c = noisy(a, b);
            QVERIFY(c == Choice::A || c == Choice::B);
            QVERIFY(again(a, b) == c);
            chosenA += c == Choice::A ? 1 : 0;
        }
        const double expected = 1.0 / (1.0 + std::exp(-(a - b) / t));
        QVERIFY2(std::abs(chosenA / 20000.0 - expected) < 0.015, qPrintable(QString::number(chosenA / 20000.0)));
        ScoreChoice exact;
        QVERIFY(exact(a, b) == (a > b ? Choice::A : b > a ? Choice::B : Choice::Tie));
    }

    // Hand-worked: 7 wins, 2 ties, 3 losses of 12. Rate (7 + 2/2) / 12 = 2/3.
    // Wilson with z = 1.959964 (z^2 = 3.841459, z^2/n = 0.320122):
    // centre = (2/3 + z^2/24) / 1.320122 = (0.666667 + 0.160061) / 1.320122 = 0.626254,
    // half = z sqrt((2/3)(1/3)/12 + z^2/576) / 1.320122 = 1.959964 * 0.158706 / 1.320122 = 0.235628,
    // so [0.390622, 0.861880].
    void rateAndIntervalByHand_data() {
        QTest::addColumn<int>("wins");
        QTest::addColumn<int>("ties");
        QTest::addColumn<int>("losses");
        QTest::addColumn<double>("rate");
        QTest::addColumn<double>("low");
        QTest::addColumn<double>("high");
        QTest::newRow("7 wins 2 ties of 12") << 7 << 2 << 3 << 2.0 / 3.0 << 0.390622 << 0.861880;
        // No wins of 5: Wilson's upper end z^2/(n + z^2) = 3.841459 / 8.841459 = 0.434482; not empty.
        QTest::newRow("0 of 5") << 0 << 0 << 5 << 0.0 << 0.0 << 0.434482;
        // Every one of 10 won: low = n / (n + z^2) = 10 / 13.841459 = 0.722467.
        QTest::newRow("10 of 10") << 10 << 0 << 0 << 1.0 << 0.722467 << 1.0;
        // All ties: rate 1/2, symmetric about it (3 prompts: [0.125334, 0.874666]).
        QTest::newRow("3 ties") << 0 << 3 << 0 << 0.5 << 0.125334 << 0.874666;
    }
    void rateAndIntervalByHand() {
        QFETCH(int, wins);
        QFETCH(int, ties);
        QFETCH(int, losses);
        QFETCH(double, rate);
        QFETCH(double, low);
        QFETCH(double, high);
        WinRateCount c;
        for (int i = 0; i < wins; ++i) c.add(Choice::A);
        for (int i = 0; i < ties; ++i) c.add(i % 2 ? Choice::Tie : Choice::BothBad);  // both count as ties
        for (int i = 0; i < losses; ++i) c.add(Choice::B);
        c.add(Choice::Skip);  // not counted
        const WinRate w = winRate(c);
        QCOMPARE(w.n, int64_t(wins + ties + losses));
        QVERIFY2(std::abs(w.rate - rate) < 1e-12, qPrintable(QString::number(w.rate)));
        QVERIFY2(std::abs(w.low - low) < 2e-6, qPrintable(QString::number(w.low, 'f', 7)));
        QVERIFY2(std::abs(w.high - high) < 2e-6, qPrintable(QString::number(w.high, 'f', 7)));
    }

    void nothingJudgedIsNaN() {
        const WinRate w = winRate(WinRateCount{});
        QCOMPARE(w.n, int64_t(0));
        QVERIFY(std::isnan(w.rate) && std::isnan(w.low) && std::isnan(w.high));
    }

    // Asked as (A, B) and as (B, A): the second answer is in its own
    // positions (its A is the first order's B).
    void aVerdictThatFlipsWithTheOrderIsATie_data() {
        QTest::addColumn<int>("first");
        QTest::addColumn<int>("second");
        QTest::addColumn<int>("verdict");
        QTest::addColumn<bool>("flips");
        const int A = int(Choice::A), B = int(Choice::B), T = int(Choice::Tie);
        QTest::newRow("A both ways") << A << B << A << false;
        QTest::newRow("B both ways") << B << A << B << false;
        QTest::newRow("first position both times") << A << A << T << true;
        QTest::newRow("second position both times") << B << B << T << true;
        QTest::newRow("tie both times") << T << T << T << false;
        QTest::newRow("A, then a tie") << A << T << T << true;
    }
    void aVerdictThatFlipsWithTheOrderIsATie() {
        QFETCH(int, first);
        QFETCH(int, second);
        QFETCH(int, verdict);
        QFETCH(bool, flips);
        QCOMPARE(int(bothOrdersVerdict(Choice(first), Choice(second))), verdict);
        QCOMPARE(verdictFlips(Choice(first), Choice(second)), flips);
    }

    // Which judge scores a run's win rate, and why there is none.
    void eachRunHasItsWinRateJudge() {
        RunConfig c;
        c.judge = "task";
        QCOMPARE(winRateJudgeName(c), std::string("task's true reward"));
        QVERIFY(dynamic_cast<TaskJudge*>(makeEvaluationJudge(c).get()));
        c.judge = "reward_model";
        c.rewardModel = "/models/tiny-rm/";
        QCOMPARE(winRateDisplayName(c), std::string("win rate vs reference (judge: reward model tiny-rm)"));
        c.judge = "human+task";
        QCOMPARE(winRateJudgeName(c), std::string("task's true reward"));
        for (const char* none : {"human", "self", "human+self"}) {
            c.judge = none;
            std::string why;
            QVERIFY(winRateJudgeName(c, &why).empty());
            QVERIFY2(!why.empty(), none);
            QVERIFY(!makeEvaluationJudge(c));
        }
        c.goldModel = "/models/gold-rm";
        QCOMPARE(proxyGoldDisplayName(c), std::string("proxy gold (reward model gold-rm)"));
        c.goldModel.clear();
        QVERIFY(proxyGoldDisplayName(c).empty());
        // Named as a proxy wherever the metric table names it.
        QVERIFY(QString(metricInfo(Metric::ProxyGoldReward).title).startsWith("Proxy gold"));
        QVERIFY(QString(metricInfo(Metric::WinRateVsRef).title).contains("Wilson"));
    }

    // The template is filled in one pass: a response holding a placeholder stays as it is.
    void theJudgePromptIsFilledOnce() {
        QCOMPARE(fillJudgePrompt("Q: {prompt}\nA: {response_a}\nB: {response_b}\n{x}", "why?", "{response_b}", "no"),
                 std::string("Q: why?\nA: {response_b}\nB: no\n{x}"));
        const std::string def = defaultJudgePrompt();
        for (const char* p : {"{prompt}", "{response_a}", "{response_b}"}) QVERIFY2(def.find(p) != std::string::npos, p);
        RunConfig c;
        c.judge = "llm";
        c.judgePrompt = "which is better, {response_a} or {response_b}?";
        const std::vector<std::string> errors = validateRunConfig(c);
        auto has = [&](const char* text) {
            return std::any_of(errors.begin(), errors.end(), [&](const std::string& e) { return e.find(text) != std::string::npos; });
        };
        QVERIFY(has("judge_model"));
        QVERIFY(has("no {prompt}"));
    }

    // The LLM judge asks both orders. With the two responses the same, both
    // questions are the same text, so the model names the same position both
    // times whatever it is: every verdict flips with the order, and is a tie.
    void theLlmJudgeAsksBothOrders() {
        QTemporaryDir dir;
        writeModels(dir.path());
        LlmJudge judge((dir.path() + "/policy").toStdString(), kShortJudgePrompt);
        std::vector<PairForJudging> same;
        for (int i = 0; i < 5; ++i) {
            PairForJudging p;
            p.pairIndex = i;
            p.prompt = "name a colour " + std::to_string(i);
            p.responseA = p.responseB = "blue, like the sea " + std::to_string(i);
            same.push_back(p);
        }
        judge.submit(same);
        for (const Judgement& j : judge.collect()) QCOMPARE(int(j.choice), int(Choice::Tie));
        OrderChecks checks = judge.takeOrderChecks();
        QCOMPARE(checks.asked, int64_t(5));
        QCOMPARE(checks.flipped, int64_t(5));  // flip rate 1
        QCOMPARE(judge.takeOrderChecks().asked, int64_t(0));  // taken
        // Different responses: the verdict is the two orders' answers combined
        // by the rule, each read from the next-token log-odds of A over B.
        std::vector<PairForJudging> pairs;
        for (int i = 0; i < 6; ++i) {
            PairForJudging p;
            p.pairIndex = i;
            p.prompt = "say something " + std::to_string(i);
            p.responseA = "yes " + std::to_string(i * 7);
            p.responseB = "no, never " + std::to_string(i);
            pairs.push_back(p);
        }
        judge.submit(pairs);
        const std::vector<Judgement> verdicts = judge.collect();
        int64_t flips = 0;
        for (size_t i = 0; i < pairs.size(); ++i) {
            const auto sign = [](double x) { return x > 0 ? Choice::A : x < 0 ? Choice::B : Choice::Tie; };
            const Choice first = sign(judge.preferenceLogit(pairs[i].prompt, pairs[i].responseA, pairs[i].responseB));
            const Choice second = sign(judge.preferenceLogit(pairs[i].prompt, pairs[i].responseB, pairs[i].responseA));
            QCOMPARE(int(verdicts[i].choice), int(bothOrdersVerdict(first, second)));
            QCOMPARE(int(verdicts[i].source), int(LabelSource::Llm));
            flips += verdictFlips(first, second) ? 1 : 0;
        }
        checks = judge.takeOrderChecks();
        QCOMPARE(checks.asked, int64_t(6));
        QCOMPARE(checks.flipped, flips);
        qInfo("random tiny judge: %lld of 6 verdicts flipped with the order", static_cast<long long>(flips));
        // The question as the model sees it (no chat template: the filled text and a newline).
        QCOMPARE(judge.renderedPrompt("p", "x", "y"), std::string("p|x|y|\n"));
    }

    // A reward model is not an instruct model.
    void theLlmJudgeRefusesAClassifier() {
        QTemporaryDir dir;
        writeModels(dir.path());
        QString error;
        try {
            LlmJudge judge((dir.path() + "/rm").toStdString(), kShortJudgePrompt);
        } catch (const std::exception& e) {
            error = e.what();
        }
        QVERIFY2(error.contains("reward model") && error.contains(dir.path() + "/rm"), qPrintable(error));
    }

    // An online DPO run judged by a tiny instruct model (the LLM judge): the
    // win rate and the judge's flip rate at every evaluation.
    void onlineDpoJudgedByAnLlmLogsItsFlipRate() {
        QTemporaryDir dir;
        writeModels(dir.path());
        LoopSetup setup = smallFolderRun(dir.path() + "/policy", dir.path() + "/ck", 2);
        setup.config.judge = "llm";
        setup.config.judgeModel = (dir.path() + "/policy").toStdString();
        setup.config.judgePrompt = kShortJudgePrompt;
        setup.config.evalEvery = 1;
        setup.config.heldOutPairs = 0;
        setup.config.winRatePrompts = 6;
        Series seen;
        OnlineLoop loop(setup, makeJudge(setup.config, nullptr), &seen);
        QVERIFY2(runToEnd(loop), loop.lastError().c_str());
        const auto& flips = seen.of(Metric::JudgeFlipRate);
        const auto& rate = seen.of(Metric::WinRateVsRef);
        QCOMPARE(flips.size(), size_t(3));
        QCOMPARE(rate.size(), size_t(3));
        for (size_t i = 0; i < flips.size(); ++i) {
            qInfo("LLM-judged evaluation %zu: win rate %.4f [%.4f, %.4f], flip rate %.3f, ties %.3f", i, rate[i],
                  seen.of(Metric::WinRateVsRefLow)[i], seen.of(Metric::WinRateVsRefHigh)[i], flips[i],
                  seen.of(Metric::WinRateTies)[i]);
            QVERIFY(0 <= flips[i] && flips[i] <= 1);
            // Every flip is a tie (there may be ties besides: equal log-odds).
            QVERIFY(seen.of(Metric::WinRateTies)[i] >= flips[i] - 1e-12);
            QVERIFY(seen.of(Metric::WinRateVsRefLow)[i] <= rate[i] && rate[i] <= seen.of(Metric::WinRateVsRefHigh)[i]);
        }
        QVERIFY(seen.of(Metric::Loss).size() == 2);
        // The training pairs' own flip rate, every step.
        const auto& trainFlips = seen.of(Metric::JudgeTrainFlipRate);
        QCOMPARE(trainFlips.size(), size_t(2));
        for (double f : trainFlips) QVERIFY(0 <= f && f <= 1);
    }

    // An online DPO run on a tiny HF model judged by a tiny HF reward model,
    // which is also its proxy gold: every evaluation (steps 0, 1, 2) logs the
    // win rate against the reference with its interval, and the proxy gold.
    void onlineDpoOnHfModelsLogsAWinRate() {
        QTemporaryDir dir;
        writeModels(dir.path());
        const std::string rm = (dir.path() + "/rm").toStdString();
        LoopSetup setup = smallFolderRun(dir.path() + "/policy", dir.path() + "/ck", 2);
        setup.config.judge = "reward_model";
        setup.config.rewardModel = rm;
        setup.config.goldModel = rm;
        setup.config.evalEvery = 1;
        setup.config.heldOutPairs = 0;
        setup.config.winRatePrompts = 8;
        Series seen;
        OnlineLoop loop(setup, makeJudge(setup.config, nullptr), &seen);
        QVERIFY2(runToEnd(loop), loop.lastError().c_str());
        const auto& rate = seen.of(Metric::WinRateVsRef);
        const auto& low = seen.of(Metric::WinRateVsRefLow);
        const auto& high = seen.of(Metric::WinRateVsRefHigh);
        QCOMPARE(rate.size(), size_t(3));
        QCOMPARE(low.size(), size_t(3));
        QCOMPARE(high.size(), size_t(3));
        for (size_t i = 0; i < rate.size(); ++i) {
            qInfo("evaluation %zu: win rate %.4f [%.4f, %.4f], ties %.3f, %.3f s", i, rate[i], low[i], high[i],
                  seen.of(Metric::WinRateTies)[i], seen.of(Metric::TimeWinRateSeconds)[i]);
            QVERIFY(0 <= low[i] && low[i] <= rate[i] && rate[i] <= high[i] && high[i] <= 1);
            // n = 8, so the rate is a multiple of 1/16.
            QVERIFY(std::abs(rate[i] * 16 - std::round(rate[i] * 16)) < 1e-9);
            QCOMPARE(seen.of(Metric::WinRatePrompts)[i], 8.0);
        }
        const auto& proxy = seen.of(Metric::ProxyGoldReward);
        QCOMPARE(proxy.size(), size_t(3));
        for (double v : proxy) QVERIFY(std::isfinite(v));
        QVERIFY(seen.notices.empty());
        QVERIFY(seen.of(Metric::JudgeTrainFlipRate).empty());  // a reward model asks once
    }

    // The policy judging itself (SAIL-PP): no win rate, and a notice says why (once).
    void aSelfJudgedRunSaysWhyItHasNoWinRate() {
        QTemporaryDir dir;
        writeModels(dir.path());
        LoopSetup setup = smallFolderRun(dir.path() + "/policy", dir.path() + "/ck", 1);
        setup.config.judge = "self";
        setup.config.algorithm = "sail-pp";
        setup.config.evalEvery = 1;
        setup.config.heldOutPairs = 0;
        Series seen;
        OnlineLoop loop(setup, makeJudge(setup.config, nullptr), &seen);
        QVERIFY2(runToEnd(loop), loop.lastError().c_str());
        QVERIFY(seen.of(Metric::WinRateVsRef).empty());
        QCOMPARE(seen.notices.size(), size_t(1));
        QCOMPARE(seen.notices[0].kind, std::string("win_rate"));
        QVERIFY2(QString::fromStdString(seen.notices[0].message).contains("implicit reward"), seen.notices[0].message.c_str());
    }

    // The win rate and the proxy gold draw nothing from the training's random
    // streams: the same run with and without them trains the same.
    void evaluationAddsLeaveTrainingAlone() {
        QTemporaryDir dir;
        writeModels(dir.path());
        auto lossesOf = [&](bool withWinRate) {
            LoopSetup setup = smallFolderRun(dir.path() + "/policy", dir.path() + (withWinRate ? "/ck1" : "/ck0"), 3);
            setup.config.judge = "task";
            setup.config.evalEvery = 1;
            setup.config.heldOutPairs = 0;
            setup.config.winRatePrompts = withWinRate ? 8 : 0;
            if (withWinRate) setup.config.goldModel = (dir.path() + "/rm").toStdString();
            Series seen;
            OnlineLoop loop(setup, makeJudge(setup.config, nullptr), &seen);
            if (!runToEnd(loop)) qWarning("%s", loop.lastError().c_str());
            if (withWinRate && seen.of(Metric::WinRateVsRef).size() != 4) return std::vector<double>{};
            std::vector<double> out = seen.of(Metric::Loss);
            for (double v : seen.of(Metric::GoldReward)) out.push_back(v);
            return out;
        };
        const std::vector<double> without = lossesOf(false), with = lossesOf(true);
        QCOMPARE(without.size(), size_t(3 + 4));
        QCOMPARE(with, without);
    }
};

PREFLAB_TEST_MAIN(TestWinRate)
#include "tst_win_rate.moc"
