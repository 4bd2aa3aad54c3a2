// LoRA (core/nn/lora_*.h), gradient checkpointing (core/nn/block_checkpoint.h),
// PEFT adapters (core/hf/peft_adapter.h) and the Hugging Face cache lookup
// (core/values/hf_cache.h).
//
// The adapted forward pass is checked against the model with the adapters
// merged into its weights (W + alpha/r B A, computed here separately); the
// adapters' gradients against central finite differences in double
// precision; checkpointed gradients against the plain backward pass. The
// round trip: a tiny HF folder, LoRA-trained by the online loop, exported as
// a merged HF folder and a PEFT adapter, reloaded with the same logits.
#include "core/values/hf_cache.h"
#include "core/values/model_names.h"
#include "core/hf/hf_model.h"
#include "core/hf/peft_adapter.h"
#include "core/hf/safetensors.h"
#include "core/judges/task_judge.h"
#include "core/algo/kl_estimators.h"
#include "core/loop/loop_models.h"
#include "core/loop/online_loop.h"
#include "core/nn/model_file.h"
#include "support/hf_fixtures.h"
#include "support/test_main.h"

#include <QCryptographicHash>
#include <QDir>
#include <QJsonArray>
#include <QTemporaryDir>

#include <csignal>
#include <cstdlib>
#include <functional>
#include <sys/resource.h>

using namespace preflab;
using namespace preflab::test;

namespace {

TransformerConfig tinyConfig(bool llama) {
    TransformerConfig c;
    c.vocabSize = 40;
    c.dModel = 16;
    c.nLayers = 2;
    c.nHeads = 4;
    c.dFF = 24;
    c.maxSeqLen = 32;
    if (llama) {
        c.llama = 1;
        c.kvHeads = 2;
        c.tiedHead = 0;
    }
    return c;
}

struct Inputs {
    at::Tensor ids, mask;
};

Inputs inputs(int64_t vocab) {
    torch::manual_seed(11);
    Inputs in{at::randint(0, vocab, {2, 9}), at::ones({2, 9}, at::kLong)};
    in.mask[1].narrow(0, 7, 2).zero_();  // a right-padded row
    return in;
}

// Gives every adapter's B random values (B starts at zero, which would make
// the adapters invisible to the tests).
void randomiseAdapters(Transformer& m, double sd = 0.2) {
    torch::NoGradGuard noGrad;
    for (auto& item : m->named_parameters()) {
        if (item.key().find("lora_") != std::string::npos) item.value().normal_(0.0, sd);
    }
}

LoraConfig loraConfig(int64_t rank, std::vector<std::string> targets, double dropout = 0.0) {
    LoraConfig l;
    l.rank = rank;
    l.alpha = 8;
    l.dropout = dropout;
    l.targets = std::move(targets);
    return l;
}

double maxAbsDiff(const at::Tensor& a, const at::Tensor& b) {
    return (a - b).abs().max().item<double>();
}

// A tiny folder of either layout with a tokenizer, for the loop.
QString writeFolder(const QString& folder, bool llama) {
    if (llama) TinyLlama().write(folder);
    else TinyGpt2().write(folder);
    TinyGpt2::writeTokenizer(folder);
    return folder;
}

// A full disk for this process while it lives: every file it writes is capped
// at `bytes` (RLIMIT_FSIZE's soft limit; SIGXFSZ ignored, so a write past it
// fails with EFBIG instead of killing). Restored on destruction.
class FileSizeLimit {
public:
    explicit FileSizeLimit(rlim_t bytes) {
        getrlimit(RLIMIT_FSIZE, &m_old);
        m_oldHandler = std::signal(SIGXFSZ, SIG_IGN);
        rlimit limit = m_old;
        limit.rlim_cur = bytes;
        setrlimit(RLIMIT_FSIZE, &limit);
    }
    ~FileSizeLimit() {
        setrlimit(RLIMIT_FSIZE, &m_old);
        std::signal(SIGXFSZ, m_oldHandler);
    }

private:
    rlimit m_old{};
    void (*m_oldHandler)(int) = nullptr;
};

QByteArray fileHash(const QString& path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? QCryptographicHash::hash(f.readAll(), QCryptographicHash::Sha256) : QByteArray();
}

// Every file in `folder` with its hash.
QMap<QString, QByteArray> folderHashes(const QString& folder) {
    QMap<QString, QByteArray> out;
    for (const QString& name : QDir(folder).entryList(QDir::Files | QDir::Hidden)) out[name] = fileHash(folder + "/" + name);
    return out;
}

}  // namespace

class TestLora : public QObject {
    Q_OBJECT

private Q_SLOTS:
    // The Hugging Face and PEFT exports on a full disk: an error naming the
    // file that could not be written; the earlier export in the same folder
    // is untouched (every file, byte for byte) and no temporary file is left.
    void exportsOnAFullDiskKeepTheEarlierExport() {
        QTemporaryDir dir;
        const QString folder = writeFolder(dir.path() + "/model", true);
        Transformer m = loadHfModel(folder.toStdString());
        m->addLora(loraConfig(2, {"q_proj", "v_proj"}));
        const QString merged = dir.path() + "/merged", peft = dir.path() + "/peft";
        exportHfFolder(m, folder.toStdString(), merged.toStdString());
        exportPeftAdapter(m, folder.toStdString(), peft.toStdString());
        const auto mergedBefore = folderHashes(merged), peftBefore = folderHashes(peft);
        {
            torch::NoGradGuard noGrad;
            for (auto& p : m->trainableParameters()) p.add_(1.0);  // a later, different export
        }
        struct Case {
            QString folder, weights;
            std::function<void()> write;
        };
        const std::vector<Case> cases{
            {merged, "model.safetensors", [&] { exportHfFolder(m, folder.toStdString(), merged.toStdString()); }},
            {peft, "adapter_model.safetensors", [&] { exportPeftAdapter(m, folder.toStdString(), peft.toStdString()); }}};
        for (const Case& c : cases) {
            QString error;
            {
                FileSizeLimit full(static_cast<rlim_t>(QFileInfo(c.folder + "/" + c.weights).size() / 2));
                try {
                    c.write();
                } catch (const std::exception& e) {
                    error = QString::fromUtf8(e.what());
                }
            }
            QVERIFY2(error.contains(c.folder + "/" + c.weights), qPrintable(c.folder + ": " + error));
        }
        QCOMPARE(folderHashes(merged), mergedBefore);
        QCOMPARE(folderHashes(peft), peftBefore);
    }

    void targetsSelectSites_data() {
        QTest::addColumn<bool>("llama");
        QTest::addColumn<QString>("targets");
        QTest::addColumn<QStringList>("modules");
        QTest::newRow("gpt2 default") << false << "" << QStringList{"attn.c_attn"};
        QTest::newRow("gpt2 c_proj is both") << false << "c_proj" << QStringList{"attn.c_proj", "mlp.c_proj"};
        QTest::newRow("gpt2 dotted") << false << "mlp.c_proj" << QStringList{"mlp.c_proj"};
        QTest::newRow("llama default") << true << "" << QStringList{"self_attn.q_proj", "self_attn.v_proj"};
        QTest::newRow("llama mlp") << true << "gate_proj,down_proj"
                                   << QStringList{"mlp.gate_proj", "mlp.down_proj"};
        QTest::newRow("llama all-linear") << true << "all-linear"
                                          << QStringList{"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
                                                         "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj",
                                                         "mlp.down_proj"};
    }
    void targetsSelectSites() {
        QFETCH(bool, llama);
        QFETCH(QString, targets);
        QFETCH(QStringList, modules);
        QStringList got;
        for (const LoraSite& s : selectLoraSites(tinyConfig(llama), splitLoraTargets(targets.toStdString()))) {
            got << QString::fromStdString(s.module);
        }
        QCOMPARE(got, modules);
    }

    void unknownTargetIsAnErrorListingTheNames() {
        try {
            selectLoraSites(tinyConfig(true), {"q_proj", "c_attn"});
            QFAIL("no error");
        } catch (const std::invalid_argument& e) {
            const QString m = e.what();
            QVERIFY2(m.contains("'c_attn'") && m.contains("self_attn.q_proj") && m.contains("all-linear"), e.what());
        }
    }

    void settingsRoundTripThroughText() {
        const LoraConfig l = loraConfig(8, {"q_proj", "v_proj"}, 0.1);
        QCOMPARE(LoraConfig::deserialize(l.serialize()).serialize(), l.serialize());
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, LoraConfig::deserialize("rank=0 alpha=8"));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, LoraConfig::deserialize("rank=4 colour=red"));
    }

    // B starts at zero: the adapted model is the base; only adapters train.
    void startsAsTheBaseAndFreezesIt_data() {
        QTest::addColumn<bool>("llama");
        QTest::newRow("gpt2") << false;
        QTest::newRow("llama") << true;
    }
    void startsAsTheBaseAndFreezesIt() {
        QFETCH(bool, llama);
        torch::manual_seed(1);
        Transformer m(tinyConfig(llama));
        m->eval();
        const Inputs in = inputs(40);
        const at::Tensor before = m->forward(in.ids, in.mask).detach();
        m->addLora(loraConfig(4, {"all-linear"}));
        QVERIFY(at::equal(m->forward(in.ids, in.mask), before));
        const auto trainable = m->trainableParameters();
        const int64_t sites = llama ? 7 : 4;
        QCOMPARE(int64_t(trainable.size()), 2 * sites * 2);  // A and B, per site, per layer
        for (const auto& item : m->named_parameters()) {
            QCOMPARE(item.value().requires_grad(), item.key().find("lora_") != std::string::npos);
        }
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, m->addLora(loraConfig(4, {})));
    }

    // The adapters add alpha/r B A x to their rows of the fused projections:
    // the same logits as the base with W + alpha/r B A in its weights (built
    // here from the adapter tensors, not with mergeLora), and mergeLora agrees.
    void adaptersEqualMergedWeights_data() {
        QTest::addColumn<bool>("llama");
        QTest::addColumn<QString>("targets");
        QTest::newRow("gpt2 c_attn,c_proj") << false << "c_attn,c_proj";
        QTest::newRow("llama q,v (k rows untouched)") << true << "q_proj,v_proj";
        QTest::newRow("llama up,down") << true << "up_proj,down_proj";
        QTest::newRow("llama all") << true << "all-linear";
    }
    void adaptersEqualMergedWeights() {
        QFETCH(bool, llama);
        QFETCH(QString, targets);
        torch::manual_seed(2);
        Transformer m(tinyConfig(llama));
        m->to(at::kDouble);
        m->eval();
        Transformer plain = cloneTransformer(m);
        plain->eval();
        const Inputs in = inputs(40);
        const at::Tensor baseLogits = plain->forward(in.ids, in.mask).detach();
        torch::manual_seed(3);
        m->addLora(loraConfig(3, splitLoraTargets(targets.toStdString())));
        randomiseAdapters(m);
        {
            torch::NoGradGuard noGrad;
            auto w = plain->named_parameters();
            const auto p = m->named_parameters();
            for (int64_t layer = 0; layer < 2; ++layer) {
                const std::string b = "block" + std::to_string(layer) + ".";
                for (const LoraSite& s : selectLoraSites(m->config(), m->lora().targets)) {
                    const std::string name = s.module.substr(s.module.rfind('.') + 1);
                    const at::Tensor A = p[b + "lora_" + s.linear + "." + name + "_A"];
                    const at::Tensor B = p[b + "lora_" + s.linear + "." + name + "_B"];
                    w[b + s.linear + ".weight"].narrow(0, s.rowOffset, s.rows).add_(at::matmul(B, A) * (8.0 / 3.0));
                }
            }
        }
        const at::Tensor adapted = m->forward(in.ids, in.mask);
        QVERIFY2(maxAbsDiff(adapted, plain->forward(in.ids, in.mask)) < 1e-10,
                 qPrintable(QString::number(maxAbsDiff(adapted, plain->forward(in.ids, in.mask)))));
        Transformer merged = mergeLora(m);
        merged->eval();
        QVERIFY(!merged->hasLora());
        QVERIFY(maxAbsDiff(adapted, merged->forward(in.ids, in.mask)) < 1e-10);
        // Adapters off: the base again, to the bit.
        m->setLoraEnabled(false);
        QVERIFY(at::equal(m->forward(in.ids, in.mask), baseLogits));
        QVERIFY(maxAbsDiff(baseLogits, adapted) > 1e-3);
        m->setLoraEnabled(true);
        QVERIFY(at::equal(m->forward(in.ids, in.mask), adapted));
    }

    // d loss / d (A, B) against central differences, in double precision.
    void adapterGradientsMatchFiniteDifferences() {
        torch::manual_seed(4);
        Transformer m(tinyConfig(true));
        m->to(at::kDouble);
        m->eval();
        m->addLora(loraConfig(2, {"q_proj", "down_proj"}));
        randomiseAdapters(m);
        const Inputs in = inputs(40);
        const at::Tensor target = at::randint(0, 40, {2, 9});
        auto lossOf = [&]() {
            const at::Tensor logits = m->forward(in.ids, in.mask);
            return at::cross_entropy_loss(logits.reshape({-1, 40}), target.reshape({-1}));
        };
        lossOf().backward();
        int checked = 0;
        for (auto& item : m->named_parameters()) {
            if (!item.value().requires_grad()) {
                QVERIFY(!item.value().grad().defined());  // the frozen base gets no gradient
                continue;
            }
            at::Tensor p = item.value();
            const at::Tensor flat = p.view({-1});
            for (int64_t k : {int64_t(0), flat.numel() - 1}) {
                const double h = 1e-6;
                double plus, minus;
                {
                    torch::NoGradGuard noGrad;
                    const double v = flat[k].item<double>();
                    flat[k].fill_(v + h);
                    plus = lossOf().item<double>();
                    flat[k].fill_(v - h);
                    minus = lossOf().item<double>();
                    flat[k].fill_(v);
                }
                const double numeric = (plus - minus) / (2 * h);
                const double analytic = p.grad().view({-1})[k].item<double>();
                QVERIFY2(std::abs(numeric - analytic) < 1e-7 + 1e-5 * std::abs(numeric),
                         qPrintable(QString::fromStdString(item.key()) + ": " + QString::number(numeric) + " vs " +
                                    QString::number(analytic)));
                ++checked;
            }
        }
        QCOMPARE(checked, 2 * 2 * 2 * 2);  // 2 layers x 2 sites x (A, B) x 2 elements
    }

    // Checkpointed blocks give the plain backward's gradients: LoRA with
    // dropout (the recomputation must draw the same masks) and full training.
    void checkpointingKeepsGradients_data() {
        QTest::addColumn<bool>("llama");
        QTest::addColumn<bool>("lora");
        QTest::newRow("gpt2 lora dropout") << false << true;
        QTest::newRow("llama lora dropout") << true << true;
        QTest::newRow("llama full") << true << false;
    }
    void checkpointingKeepsGradients() {
        QFETCH(bool, llama);
        QFETCH(bool, lora);
        torch::manual_seed(5);
        Transformer m(tinyConfig(llama));
        if (lora) {
            m->addLora(loraConfig(4, {"all-linear"}, 0.3));
            randomiseAdapters(m);
        }
        m->train();
        const Inputs in = inputs(40);
        auto grads = [&](bool checkpoint) {
            m->setGradientCheckpointing(checkpoint);
            m->zero_grad();
            torch::manual_seed(77);  // the same dropout masks in both runs
            m->forward(in.ids, in.mask).pow(2).mean().backward();
            std::vector<at::Tensor> g;
            for (const auto& p : m->trainableParameters()) g.push_back(p.grad().clone());
            return g;
        };
        const auto plain = grads(false), checkpointed = grads(true);
        QCOMPARE(plain.size(), checkpointed.size());
        double worst = 0, largest = 0;
        for (size_t i = 0; i < plain.size(); ++i) {
            worst = std::max(worst, maxAbsDiff(plain[i], checkpointed[i]));
            largest = std::max(largest, plain[i].abs().max().item<double>());
        }
        QVERIFY(largest > 1e-4);
        QVERIFY2(worst < 1e-6 * std::max(1.0, largest), qPrintable(QString::number(worst)));
        // Dropout really was on: another seed gives other gradients.
        m->setGradientCheckpointing(false);
        if (lora) {
            m->zero_grad();
            torch::manual_seed(78);
            m->forward(in.ids, in.mask).pow(2).mean().backward();
            QVERIFY(maxAbsDiff(m->trainableParameters().back().grad(), plain.back()) > 1e-6);
        }
    }

    // Load -> LoRA-train with the online loop -> checkpoint -> export an HF
    // folder (merged) and a PEFT adapter -> reload each: the same logits.
    void roundTripThroughHfAndPeft_data() {
        QTest::addColumn<bool>("llama");
        QTest::newRow("gpt2") << false;
        QTest::newRow("llama") << true;
    }
    void roundTripThroughHfAndPeft() {
        QFETCH(bool, llama);
        QTemporaryDir dir;
        const QString folder = writeFolder(dir.path() + "/model", llama);
        struct Seen : LoopObserver {
            std::vector<double> kl;
            void metricsLogged(const std::vector<MetricSample>& m) override {
                for (const MetricSample& s : m) {
                    if (s.name == "objective/kl") kl.push_back(s.value);
                }
            }
        } seen;
        LoopSetup setup = smallFolderRun(folder, dir.path() + "/ck", 4);
        RunConfig& c = setup.config;
        c.maxNewTokens = 10;
        c.evalEvery = 4;
        c.lr = 5e-3;
        c.warmupSteps = 0;
        c.loraRank = 4;
        c.loraTargets = llama ? "q_proj,v_proj,down_proj" : "c_attn,mlp.c_proj";
        c.gradientCheckpointing = 1;
        OnlineLoop loop(setup, std::make_unique<TaskJudge>(), &seen);
        QVERIFY2(runToEnd(loop), loop.lastError().c_str());
        const std::string ck = loop.checkpoint();
        // The reference is the base with the adapters off: KL 0 at the start.
        QCOMPARE(seen.kl.size(), size_t(2));
        QCOMPARE(seen.kl.front(), 0.0);
        QVERIFY(seen.kl.back() != 0.0);

        // The checkpoint holds the adapters only.
        const ModelFileInfo info = readModelInfo(ck);
        QCOMPARE(info.lora.rank, int64_t(4));
        Transformer trained = loadHfModel(folder.toStdString());
        loadModelInto(ck, trained);
        QVERIFY(trained->hasLora());
        QVERIFY_THROWS_EXCEPTION(ModelFileError, loadModelFile(ck));  // no base: refused, not random

        const QString merged = dir.path() + "/merged", peft = dir.path() + "/peft";
        exportHfFolder(trained, folder.toStdString(), merged.toStdString());
        exportPeftAdapter(trained, folder.toStdString(), peft.toStdString());

        torch::NoGradGuard noGrad;
        trained->eval();
        const Inputs in = inputs(256);
        const at::Tensor want = trained->forward(in.ids, in.mask);
        Transformer base = loadHfModel(folder.toStdString());
        base->eval();
        const at::Tensor baseLogits = base->forward(in.ids, in.mask);
        QVERIFY2(maxAbsDiff(want, baseLogits) > 1e-3, "training did not move the adapters");

        Transformer reloaded = loadHfModel(merged.toStdString());
        reloaded->eval();
        QVERIFY(!reloaded->hasLora());
        QVERIFY2(maxAbsDiff(reloaded->forward(in.ids, in.mask), want) < 1e-5,
                 qPrintable(QString::number(maxAbsDiff(reloaded->forward(in.ids, in.mask), want))));

        Transformer withAdapter = loadHfModel(folder.toStdString());
        loadPeftAdapter(withAdapter, peft.toStdString());
        withAdapter->eval();
        QVERIFY(at::equal(withAdapter->forward(in.ids, in.mask), want));  // the same computation: identical

        // The PEFT files: names, shapes and settings other tools read.
        const SafetensorsFile file((peft + "/adapter_model.safetensors").toStdString());
        const std::string a = llama ? "base_model.model.model.layers.1.self_attn.v_proj.lora_A.weight"
                                    : "base_model.model.transformer.h.1.attn.c_attn.lora_A.weight";
        const std::string b = llama ? "base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight"
                                    : "base_model.model.transformer.h.1.attn.c_attn.lora_B.weight";
        QVERIFY(file.find(a) && file.find(b));
        QCOMPARE(file.find(a)->shape, (std::vector<int64_t>{4, 16}));
        QCOMPARE(file.find(b)->shape, (std::vector<int64_t>{llama ? 8 : 48, 4}));
        QCOMPARE(int(file.tensors().size()), 2 * 2 * (llama ? 3 : 2));
        QFile cfg(peft + "/adapter_config.json");
        QVERIFY(cfg.open(QIODevice::ReadOnly));
        const QJsonObject o2 = QJsonDocument::fromJson(cfg.readAll()).object();
        QCOMPARE(o2.value("peft_type").toString(), QString("LORA"));
        QCOMPARE(o2.value("r").toInt(), 4);
        QCOMPARE(o2.value("lora_alpha").toDouble(), 16.0);
        QCOMPARE(o2.value("fan_in_fan_out").toBool(), !llama);
        QCOMPARE(o2.value("target_modules").toArray().size(), llama ? 3 : 2);
    }

    // A resumed LoRA run continues from its adapters and keeps the base.
    // Evaluation measures the policy with dropout off: the exact KL of a
    // policy with adapters (dropout 0.3) against itself is then 0, while two
    // passes in training mode see two dropout masks and a KL above 0.
    void exactKlAgainstItselfIsZeroWithDropoutOff() {
        torch::manual_seed(5);
        Transformer m(tinyConfig(false));
        m->addLora(loraConfig(4, {"all-linear"}, 0.3));
        randomiseAdapters(m);
        m->train();
        const std::vector<TokenIds> prompts{{1, 10, 11, 2}, {1, 12, 2}};  // ids below the tiny vocabulary's 40
        const std::vector<TokenIds> responses{{20, 21, 22, 3}, {23, 24, 3}};
        const SequenceBatch b = packSequences(prompts, responses, 0);
        torch::NoGradGuard g;
        auto exactKl = [&] {
            const at::Tensor a = m->forward(b.ids, b.attention), c = m->forward(b.ids, b.attention);
            return klPerSequence(a, c, b).exact.abs().max().item<double>();
        };
        const double withDropout = exactKl();
        double withoutDropout = 0;
        {
            const DropoutOff off(m);
            withoutDropout = exactKl();
        }
        QCOMPARE(withoutDropout, 0.0);
        QVERIFY2(withDropout > 1e-4, qPrintable(QString::number(withDropout)));
        QVERIFY(m->is_training());  // the scope restores the mode
    }

    void resumeRestoresAdapters() {
        QTemporaryDir dir;
        const QString folder = writeFolder(dir.path() + "/model", true);
        LoopSetup setup = smallFolderRun(folder, dir.path() + "/ck", 2);
        setup.config.maxNewTokens = 8;
        setup.config.lr = 5e-3;
        setup.config.loraRank = 2;
        std::string ck;
        {
            OnlineLoop loop(setup, std::make_unique<TaskJudge>(), nullptr);
            QVERIFY2(runToEnd(loop), loop.lastError().c_str());
            ck = loop.checkpoint();
        }
        QVERIFY(QFileInfo(QString::fromStdString(ck)).size() < 64 * 1024);  // adapters, not the model
        setup.resumeFrom = ck;
        setup.config.steps = 3;
        OnlineLoop resumed(setup, std::make_unique<TaskJudge>(), nullptr);
        std::atomic_bool cancel{false};
        QVERIFY(resumed.step(cancel) == StepOutcome::Trained);
        // Different LoRA settings cannot resume from it.
        setup.config.loraRank = 3;
        QVERIFY_THROWS_EXCEPTION(std::exception, OnlineLoop(setup, std::make_unique<TaskJudge>(), nullptr));
    }

    void badAdaptersAreClearErrors_data() {
        QTest::addColumn<QString>("change");
        QTest::addColumn<QString>("message");
        QTest::newRow("dora") << "use_dora" << "use_dora = true is not supported";
        QTest::newRow("not lora") << "peft_type" << "peft_type 'IA3' is not supported";
        QTest::newRow("unknown target") << "target" << "'c_attn' matches no projection";
        QTest::newRow("missing tensor") << "tensor" << "v_proj.lora_B.weight";
        QTest::newRow("wrong rank") << "rank" << "has shape";
    }
    void badAdaptersAreClearErrors() {
        QFETCH(QString, change);
        QFETCH(QString, message);
        QTemporaryDir dir;
        const QString folder = writeFolder(dir.path() + "/model", true);
        Transformer m = loadHfModel(folder.toStdString());
        m->addLora(loraConfig(2, {"q_proj", "v_proj"}));
        const QString peft = dir.path() + "/peft";
        exportPeftAdapter(m, "base", peft.toStdString());
        QFile cfgFile(peft + "/adapter_config.json");
        QVERIFY(cfgFile.open(QIODevice::ReadOnly));
        QJsonObject cfg = QJsonDocument::fromJson(cfgFile.readAll()).object();
        cfgFile.close();
        if (change == "use_dora") cfg["use_dora"] = true;
        if (change == "peft_type") cfg["peft_type"] = "IA3";
        if (change == "target") cfg["target_modules"] = QJsonArray{"q_proj", "c_attn"};
        if (change == "rank") cfg["r"] = 3;
        if (change == "tensor") {
            const SafetensorsFile file((peft + "/adapter_model.safetensors").toStdString());
            std::vector<std::pair<std::string, at::Tensor>> kept;
            for (const StTensorInfo& t : file.tensors()) {
                if (t.name.find("layers.1.self_attn.v_proj.lora_B") == std::string::npos) {
                    kept.emplace_back(t.name, loadTensor(file, t, at::kFloat));
                }
            }
            saveTensors((peft + "/adapter_model.safetensors").toStdString(), kept);
        }
        QVERIFY(cfgFile.open(QIODevice::WriteOnly));
        cfgFile.write(QJsonDocument(cfg).toJson());
        cfgFile.close();
        Transformer fresh = loadHfModel(folder.toStdString());
        try {
            loadPeftAdapter(fresh, peft.toStdString());
            QFAIL("no error");
        } catch (const std::exception& e) {
            QVERIFY2(QString(e.what()).contains(message), e.what());
            QVERIFY2(QString(e.what()).contains(peft), e.what());  // names the folder or file
        }
    }

    // A repository id finds its snapshot in the offline cache (HF_HOME).
    void cachedModelsResolveOffline() {
        QTemporaryDir dir;
        const QString hub = dir.path() + "/hf/hub";
        const QString repo = hub + "/models--tiny-org--tiny-llama";
        writeFolder(repo + "/snapshots/0123abcd", true);
        QDir().mkpath(repo + "/snapshots/old");  // an older snapshot refs/main does not name
        QDir().mkpath(repo + "/refs");
        QFile ref(repo + "/refs/main");
        QVERIFY(ref.open(QIODevice::WriteOnly));
        ref.write("0123abcd");
        ref.close();
        const QByteArray savedHome = qgetenv("HF_HOME"), savedHub = qgetenv("HF_HUB_CACHE");
        qunsetenv("HF_HUB_CACHE");
        qputenv("HF_HOME", (dir.path() + "/hf").toUtf8());
        const ResolvedModel cached = resolveModel("tiny-org/tiny-llama");
        QCOMPARE(QString::fromStdString(cached.path), repo + "/snapshots/0123abcd");
        QVERIFY(cached.kind == ModelKind::HfFolder);
        const ResolvedModel starter = resolveModel("starter", "/data/models/starter-1.pt");
        QVERIFY(starter.kind == ModelKind::Starter);
        QCOMPARE(QString::fromStdString(starter.path), QString("/data/models/starter-1.pt"));
        QVERIFY_THROWS_EXCEPTION(std::runtime_error, resolveModel("starter"));  // no starter file to name
        const std::vector<CachedModel> listed = listCachedModels();
        QCOMPARE(listed.size(), size_t(1));
        QCOMPARE(QString::fromStdString(listed[0].repoId), QString("tiny-org/tiny-llama"));
        try {
            resolveModel("tiny-org/absent");
            QFAIL("no error");
        } catch (const std::runtime_error& e) {
            QVERIFY2(QString(e.what()).contains(hub + "/models--tiny-org--absent"), e.what());
        }
        QVERIFY(loadHfModel(resolveModel("tiny-org/tiny-llama").path)->config().llama == 1);
        if (savedHome.isEmpty()) qunsetenv("HF_HOME");
        else qputenv("HF_HOME", savedHome);
        if (!savedHub.isEmpty()) qputenv("HF_HUB_CACHE", savedHub);
    }
};

PREFLAB_TEST_MAIN(TestLora)
#include "tst_lora.moc"
