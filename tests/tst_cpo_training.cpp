// CPO, DR-CPO and OO-RLHF in the training loop (algorithms.md §3): on-policy
// weights are exactly 1 (the stored sampling log-probabilities and the
// policy's tempered log-probabilities agree), DR-CPO equals CPO step for step
// while the outcome model is zero, each method moves the policy towards the
// responses its data rate higher, and the outcome model is checkpointed.
#include "core/loop/loop_context.h"
#include "core/loop/loop_models.h"
#include "core/loop/online_loop.h"
#include "core/loop/outcome_model.h"
#include "core/loop/parameter_update.h"
#include "core/nn/model_file.h"
#include "core/nn/sampler.h"
#include "core/task/toy_world_task.h"
#include "core/text/byte_tokenizer.h"
#include "support/loop_runner.h"
#include "support/test_main.h"

#include <QTemporaryDir>

#include <cmath>
#include <filesystem>

using namespace preflab;
using namespace preflab::test;

namespace {

// Responses sampled once from the tiny model (the presenting policy P^R, at
// temperature 1) with their sampling log-probabilities; the outcome rewards
// short answers: 1 - tokens / 8. Responses with a special token inside are
// left out (their stored text could not be re-tokenised to the same ids).
std::vector<RatedResponse> ratedByLength(const QTemporaryDir& dir, int count) {
    Transformer model = loadModelFile(tinyModelFile(dir));
    model->eval();
    torch::NoGradGuard noGrad;
    ByteTokenizer tok;
    ToyWorldTask task;
    const std::vector<TaskPrompt> prompts = task.prompts(count, 99);
    std::vector<TokenIds> ids;
    std::vector<uint64_t> seeds;
    for (size_t i = 0; i < prompts.size(); ++i) {
        ids.push_back(tok.promptIds(prompts[i].text));
        seeds.push_back(1000 + i);
    }
    SamplingParams params;
    params.maxNewTokens = 8;
    const SampledSequences s = sampleBatch(model, ids, params, seeds, tok.special().eos, tok.special().pad);
    std::vector<RatedResponse> out;
    for (size_t i = 0; i < prompts.size(); ++i) {
        const TokenIds& t = s.tokens[i];
        bool plain = true;
        for (size_t k = 0; k < t.size(); ++k) plain &= t[k] < 256 || (k + 1 == t.size() && s.endedWithEos[i]);
        if (!plain) continue;
        out.push_back({prompts[i].text, tok.decode(t), s.endedWithEos[i], 1.0 - static_cast<double>(t.size()) / 8.0,
                       s.samplingLogprob[i]});
    }
    return out;
}

double meanOf(const std::vector<double>& v, size_t from, size_t count) {
    double sum = 0;
    for (size_t i = from; i < from + count; ++i) sum += v.at(i);
    return sum / static_cast<double>(count);
}

}  // namespace

class TestCpoTraining : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { configureComputeThreads(); }

    // Rating fresh samples of the policy itself: at the first step the policy
    // is the presenting policy, so every self-normalised weight is 1. This
    // holds only if the sampler's stored log-probabilities and the loop's
    // tempered log-probabilities describe the same distribution.
    void onPolicyWeightsAreOne_data() {
        QTest::addColumn<double>("temperature");
        QTest::newRow("T 1") << 1.0;
        QTest::newRow("T 0.7") << 0.7;
        QTest::newRow("T 1.6") << 1.6;
    }

    void onPolicyWeightsAreOne() {
        QFETCH(double, temperature);
        QTemporaryDir dir;
        RunConfig c;
        c.algorithm = "cpo";
        c.temperature = temperature;
        c.batchSize = 8;
        const Collector r = runLoop(dir, c, 1);
        QVERIFY2(std::abs(r.series.at("cpo/max_weight").at(0) - 1.0) < 2e-3,
                 qPrintable(QString::number(r.series.at("cpo/max_weight").at(0), 'g', 10)));
        QVERIFY(std::abs(r.series.at("cpo/ess").at(0) - 8.0) < 1e-2);
        // The value estimate of an on-policy batch is its mean outcome.
        QVERIFY(std::abs(r.series.at("cpo/value_estimate").at(0) - r.series.at("cpo/mean_outcome").at(0)) < 1e-3);
    }

    // The same with LoRA adapters whose dropout is 0.3, once the adapters have
    // moved (resumed after two steps): the weights are computed with dropout
    // off, so a fresh on-policy batch still has every weight 1.
    void onPolicyWeightsAreOneWithAdapterDropout() {
        QTemporaryDir dir;
        RunConfig c;
        c.algorithm = "cpo";
        c.temperature = 0.7;
        c.loraRank = 4;
        c.loraDropout = 0.3;
        c.lr = 3e-2;
        c.batchSize = 8;
        std::string checkpoint;
        runLoop(dir, c, 2, {}, &checkpoint);
        LoopData resume;
        resume.resumeFrom = checkpoint;
        const Collector r = runLoop(dir, c, 3, resume);
        QVERIFY2(std::abs(r.series.at("cpo/max_weight").at(0) - 1.0) < 2e-3,
                 qPrintable(QString::number(r.series.at("cpo/max_weight").at(0), 'g', 10)));
    }

    // Cross-fitting: each fold's outcome model learns only from its own fold,
    // and a rated response's residual is taken from the other fold's model.
    void outcomeModelIsCrossFitted() {
        QTemporaryDir dir;
        LoopSetup setup;
        setup.config.algorithm = "dr-cpo";
        setup.config.outcomeLr = 1e-2;
        setup.modelPath = tinyModelFile(dir);
        LoopContext ctx(setup, nullptr);
        LoopModels models(ctx);
        ParameterUpdate update(ctx, *models.optimizer);
        OutcomeModel g(ctx, models, update);
        ByteTokenizer tok;
        std::vector<RatedItem> items(4);
        for (size_t i = 0; i < items.size(); ++i) {
            items[i].prompt = tok.promptIds("Tell me about the fox.");
            items[i].response = tok.encode(i % 2 ? "The fox is kind." : "The fox is rude.");
            items[i].outcome = 2.0;
            items[i].fold = static_cast<int>(i % 2);
        }
        std::vector<TokenIds> prompts, responses;
        for (const RatedItem& r : items) {
            prompts.push_back(r.prompt);
            responses.push_back(r.response);
        }
        const SequenceBatch batch = packSequences(prompts, responses, tok.special().pad);
        // Fit fold 0 only: fold 1's model keeps its zero head.
        const std::vector<RatedItem> fold0{items[0], items[2]};
        for (int i = 0; i < 5; ++i) g.fit(fold0);
        const at::Tensor heldOut = g.predictHeldOut(items, batch);
        const at::Tensor fresh = g.predictFresh(batch);
        // Items of fold 0 are predicted by fold 1's (untouched) model ...
        QCOMPARE(heldOut[0].item<double>(), 0.0);
        QCOMPARE(heldOut[2].item<double>(), 0.0);
        // ... items of fold 1 by fold 0's, which learned; fresh samples by the mean of both.
        QVERIFY2(heldOut[1].item<double>() > 0.05, qPrintable(QString::number(heldOut[1].item<double>())));
        QVERIFY(std::abs(fresh[1].item<double>() - 0.5 * heldOut[1].item<double>()) < 1e-6);
        QCOMPARE(g.sides().size(), size_t(2));
    }

    // Off-policy, after some training, the weights spread out.
    void offPolicyWeightsSpreadAsThePolicyMoves() {
        QTemporaryDir dir;
        RunConfig c;
        c.algorithm = "cpo";
        c.lr = 3e-3;
        const Collector r = runLoop(dir, c, 30, {{}, ratedByLength(dir, 64)});
        const auto& maxW = r.series.at("cpo/max_weight");
        const auto& ess = r.series.at("cpo/ess");
        QVERIFY(std::abs(maxW.front() - 1.0) < 2e-3);  // stored log-probs are the starting policy's
        QVERIFY2(maxW.back() > 1.05, qPrintable(QString::number(maxW.back())));
        QVERIFY(ess.back() < 8.0 - 1e-3);
    }

    // While the outcome model is exactly zero (its head starts at 0 and no fit
    // has happened), DR-CPO's objective is CPO's: the same first step.
    void drCpoEqualsCpoWhileTheOutcomeModelIsZero() {
        QTemporaryDir dir;
        const std::vector<RatedResponse> data = ratedByLength(dir, 64);
        RunConfig c;
        c.algorithm = "cpo";
        c.lr = 3e-3;
        RunConfig d = c;
        d.algorithm = "dr-cpo";
        d.outcomeWarmupSteps = 0;
        const Collector a = runLoop(dir, c, 1, {{}, data});
        const Collector b = runLoop(dir, d, 1, {{}, data});
        QCOMPARE(b.series.at("outcome/fresh_mean").at(0), 0.0);
        QCOMPARE(a.series.at("loss").at(0), b.series.at("loss").at(0));
        QCOMPARE(a.series.at("grad_norm").at(0), b.series.at("grad_norm").at(0));
    }

    // Each method raises its own objective: trained on ratings that favour
    // short answers, the policy's fresh answers get shorter.
    void eachMethodShortensAnswers_data() {
        QTest::addColumn<QString>("name");
        for (const char* n : {"cpo", "dr-cpo", "oo-rlhf"}) QTest::newRow(n) << QString(n);
    }

    void eachMethodShortensAnswers() {
        QFETCH(QString, name);
        QTemporaryDir dir;
        RunConfig c;
        c.algorithm = name.toStdString();
        c.lr = 3e-3;
        c.evalSamples = 128;
        c.outcomeWarmupSteps = 60;
        const int steps = 40;
        const Collector r = runLoop(dir, c, steps, {{}, ratedByLength(dir, 96), steps});
        const auto& tokens = r.series.at("eval/response_tokens");
        QCOMPARE(tokens.size(), size_t(2));  // at the start and the end
        qInfo("%s: response tokens %.2f -> %.2f", qPrintable(name), tokens.front(), tokens.back());
        QVERIFY2(tokens.back() < tokens.front() - 0.5,
                 qPrintable(QString("%1: tokens %2 -> %3").arg(name).arg(tokens.front()).arg(tokens.back())));
        for (const char* metric : {"cpo/ess", "cpo/max_weight", "cpo/value_estimate", "objective/kl", "gold/reward"}) {
            QVERIFY2(r.series.count(metric) == 1, metric);
        }
        if (name != "cpo") {
            // The outcome model learned the ratings: its error fell during the warm-up fit.
            const auto& mse = r.series.at("outcome/mse");
            QVERIFY(r.series.count("outcome/warmup_mse") == 1);
            QVERIFY2(meanOf(mse, mse.size() - 10, 10) < 0.1,
                     qPrintable(QString("outcome mse %1").arg(meanOf(mse, mse.size() - 10, 10))));
        }
    }

    // The outcome model (and PPO's value model) is saved beside the policy.
    void outcomeModelIsCheckpointed_data() {
        QTest::addColumn<QString>("name");
        for (const char* n : {"dr-cpo", "ppo", "cpo"}) QTest::newRow(n) << QString(n);
    }

    void outcomeModelIsCheckpointed() {
        QFETCH(QString, name);
        QTemporaryDir dir;
        RunConfig c;
        c.algorithm = name.toStdString();
        c.outcomeWarmupSteps = 2;
        std::string checkpoint;
        runLoop(dir, c, 2, {{}, name == "ppo" ? std::vector<RatedResponse>{} : ratedByLength(dir, 32)}, &checkpoint);
        QVERIFY(std::filesystem::exists(checkpoint));
        QCOMPARE(std::filesystem::exists(checkpoint + ".value"), name != "cpo");
        // DR-CPO's outcome model is cross-fitted: one model per fold.
        QCOMPARE(std::filesystem::exists(checkpoint + ".value1"), name == "dr-cpo");
        // And a resume loads it back (the side model's own settings, with its
        // scalar head, are stored with it) and trains on from step 2.
        LoopData resume{{}, name == "ppo" ? std::vector<RatedResponse>{} : ratedByLength(dir, 32)};
        resume.resumeFrom = checkpoint;
        try {
            const Collector more = runLoop(dir, c, 4, resume);
            QCOMPARE(more.series.at("loss").size(), size_t(2));
        } catch (const std::exception& e) {
            QFAIL(e.what());
        }
    }
};

PREFLAB_TEST_MAIN(TestCpoTraining)
#include "tst_cpo_training.moc"
