// Prefix sharing (issue 33): a pair packed as prompt, chosen, rejected, with
// the rejected response positioned after the prompt and kept from seeing the
// chosen one, gives every response's log-probability and its gradient as
// the response's own sequence does: for the built-in layout and the Hugging
// Face families (GPT-2, Llama, Qwen2 with q/k/v biases), with and without
// LoRA, through one group of rows or several. A run with it on stores the
// losses a run with it off does (to rounding, as AdamW carries it).
#include "core/hf/hf_model.h"
#include "core/nn/autocast_scope.h"
#include "core/nn/row_parallel_logits.h"
#include "core/nn/sequence_batch.h"
#include "support/hf_fixtures.h"
#include "support/loop_runner.h"
#include "support/test_main.h"
#include "support/tiny_model.h"

#include <QTemporaryDir>

#include <cmath>

using namespace preflab;
using namespace preflab::test;

namespace {

struct Pairs {
    std::vector<TokenIds> prompts, chosen, rejected;
};

// Three pairs of different lengths (a one-token prompt, a one-token
// response, a rejected response longer than the chosen one): rows are padded.
Pairs pairs(int32_t vocab) {
    auto ids = [&](std::initializer_list<int> v) {
        TokenIds out;
        for (int x : v) out.push_back(static_cast<int32_t>(x % vocab));
        return out;
    };
    Pairs p;
    p.prompts = {ids({1, 17, 33, 4, 250}), ids({2}), ids({3, 9, 27, 81, 243, 5, 6, 7})};
    p.chosen = {ids({40, 41, 42}), ids({50, 51, 52, 53, 54, 55}), ids({60})};
    p.rejected = {ids({70, 71, 72, 73, 74}), ids({80}), ids({90, 91, 92, 93})};
    return p;
}

Transformer model(const QString& family, const QTemporaryDir& dir) {
    if (family == "builtin") return tinyModel(5);
    const QString folder = dir.path() + "/" + family;
    if (family == "gpt2") TinyGpt2().write(folder);
    else TinyLlama(family.toStdString()).write(folder);
    return loadHfModel(folder.toStdString());
}

struct Result {
    at::Tensor logps;                // [2N]
    std::vector<at::Tensor> grads;   // of sum(weights * logps), per trainable parameter
};

Result compute(Transformer& m, const Pairs& p, bool shared, int groups, const at::Tensor& weights) {
    for (auto& t : m->parameters()) t.mutable_grad() = at::Tensor();
    at::Tensor logps;
    if (shared) {
        const SharedPairBatch b = packSharedPairs(p.prompts, p.chosen, p.rejected, 0);
        logps = sharedPairLogprobs(rowParallelLogits(m, b.seq.ids, b.seq.attention, false, groups), b);
    } else {
        std::vector<TokenIds> prompts = p.prompts, responses = p.chosen;
        prompts.insert(prompts.end(), p.prompts.begin(), p.prompts.end());
        responses.insert(responses.end(), p.rejected.begin(), p.rejected.end());
        const SequenceBatch b = packSequences(prompts, responses, 0);
        logps = sequenceLogprobs(rowParallelLogits(m, b.ids, b.attention, false, groups), b);
    }
    (logps * weights).sum().backward();
    Result r{logps.detach(), {}};
    for (auto& t : m->parameters()) {
        if (t.requires_grad()) r.grads.push_back(t.grad().clone());
    }
    return r;
}

}  // namespace

class TestPrefixSharing : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { configureComputeThreads(); }

    void sameLogprobsAndGradients_data() {
        QTest::addColumn<QString>("family");
        QTest::addColumn<bool>("lora");
        QTest::addColumn<int>("groups");
        for (const char* f : {"builtin", "gpt2", "llama", "qwen2"}) {
            for (bool lora : {false, true}) {
                QTest::newRow(qPrintable(QString("%1%2").arg(f, lora ? "+lora" : ""))) << QString(f) << lora << 1;
            }
        }
        QTest::newRow("builtin, two row groups") << QString("builtin") << false << 2;
    }
    void sameLogprobsAndGradients() {
        QFETCH(QString, family);
        QFETCH(bool, lora);
        QFETCH(int, groups);
        QTemporaryDir dir;
        Transformer m = model(family, dir);
        if (lora) {
            LoraConfig c;
            c.rank = 4;
            c.alpha = 8;
            c.dropout = 0.0;  // dropout masks would differ between any two passes
            m->addLora(c);
            torch::NoGradGuard g;
            for (auto& item : m->named_parameters()) {
                if (item.key().find("lora_") != std::string::npos) item.value().normal_(0.0, 0.2);
            }
        }
        m->train();
        const Pairs p = pairs(static_cast<int32_t>(m->config().vocabSize));
        torch::manual_seed(3);
        const at::Tensor weights = at::randn({6});
        const Result plain = compute(m, p, false, 1, weights);
        const Result shared = compute(m, p, true, groups, weights);
        const double forward = (plain.logps - shared.logps).abs().max().item<double>();
        QVERIFY2(forward <= 1e-5, qPrintable(QString("log-probs differ by %1").arg(forward)));
        QVERIFY(plain.logps.abs().min().item<double>() > 0.1);  // real log-probabilities, not zeros
        QCOMPARE(plain.grads.size(), shared.grads.size());
        QVERIFY(!plain.grads.empty());
        double gradient = 0, scale = 0;
        for (size_t i = 0; i < plain.grads.size(); ++i) {
            gradient = std::max(gradient, (plain.grads[i] - shared.grads[i]).abs().max().item<double>());
            scale = std::max(scale, plain.grads[i].abs().max().item<double>());
        }
        QVERIFY(scale > 1e-3);
        QVERIFY2(gradient <= 1e-5 * std::max(1.0, scale),
                 qPrintable(QString("gradients differ by %1 (largest %2)").arg(gradient).arg(scale)));
        qInfo("%s: log-probs within %.2g, gradients within %.2g of %.2g", qPrintable(family), forward, gradient, scale);
    }

    // The rejected response must not see the chosen one: changing a chosen
    // token leaves every rejected log-probability as it was.
    void rejectedDoesNotSeeChosen() {
        Transformer m = tinyModel(5);
        Pairs p = pairs(260);
        torch::NoGradGuard g;
        auto logps = [&](const Pairs& q) {
            const SharedPairBatch b = packSharedPairs(q.prompts, q.chosen, q.rejected, 0);
            return sharedPairLogprobs(computeLogits(m, b.seq.ids, b.seq.attention, false), b);
        };
        const at::Tensor before = logps(p);
        p.chosen[0][1] = 123;
        const at::Tensor after = logps(p);
        QVERIFY(before[0].item<double>() != after[0].item<double>());
        QCOMPARE(before.narrow(0, 3, 3).sub(after.narrow(0, 3, 3)).abs().max().item<double>(), 0.0);
    }

    // Offline DPO and IPO with prefix sharing store the losses a run without it does.
    void runsTrainAlike_data() {
        QTest::addColumn<QString>("method");
        QTest::newRow("dpo") << "dpo";
        QTest::newRow("ipo") << "ipo";
    }
    void runsTrainAlike() {
        QFETCH(QString, method);
        QTemporaryDir dir;
        RunConfig c;
        c.algorithm = method.toStdString();
        c.pairs = "test";
        c.batchSize = 4;
        c.lr = 2e-4;
        c.heldOutPairs = 0;
        std::vector<OfflinePair> data;
        const char* animals[] = {"fox", "cat", "owl", "dog", "hen"};
        for (int i = 0; i < 5; ++i) {
            const std::string a = animals[i];
            data.push_back({"Tell me about the " + a + ", please.", "The " + a + " is friendly.", "Ugh. The " + a + " is grumpy today."});
        }
        RunConfig off = c;
        off.prefixSharing = 0;
        const Collector on = runLoop(dir, c, 5, {data});
        const Collector without = runLoop(dir, off, 5, {data});
        // The first step's loss within 1e-5; later steps within 1e-4 (relative
        // to losses above 1): AdamW turns gradient components at rounding
        // level into steps of up to lr either way, so the two runs drift
        // apart in the last bits (IPO's loss, falling to 0.15, by 2e-5).
        double relative = 0;
        const auto& a = on.series.at("loss");
        const auto& b = without.series.at("loss");
        QCOMPARE(a.size(), b.size());
        const double first = std::abs(a[0] - b[0]);
        QVERIFY2(first <= 1e-5, qPrintable(QString("first losses differ by %1").arg(first)));
        for (size_t i = 0; i < a.size(); ++i) relative = std::max(relative, std::abs(a[i] - b[i]) / std::max(1.0, std::abs(b[i])));
        QVERIFY2(relative <= 1e-4, qPrintable(QString("losses differ by %1 (relative)").arg(relative)));
        QVERIFY(a.front() != a.back());  // it trained
        qInfo("%s: first loss within %.2g, all within %.2g relative", qPrintable(method), first, relative);
    }
};

PREFLAB_TEST_MAIN(TestPrefixSharing)
#include "tst_prefix_sharing.moc"
