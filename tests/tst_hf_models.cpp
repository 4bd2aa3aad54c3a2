// Hugging Face model folders (core/hf/hf_model.h): a tiny random GPT-2
// checkpoint in the exact HF layout (single file, "transformer."-prefixed
// names, two shards with an index) loads, and its logits equal a naive GPT-2
// written here from the formulas in double precision (Conv1D: x W + b;
// LayerNorm; causal softmax attention; tanh-GELU; head tied to wte). It
// generates; bad folders give errors naming the file and the tensor.
#include "core/hf/hf_model.h"
#include "core/hf/bpe_tokenizer.h"
#include "core/hf/chat_template.h"
#include "core/nn/lora_config.h"
#include "core/judges/task_judge.h"
#include "core/loop/loop_models.h"
#include "core/models/pair_context_check.h"
#include "core/loop/online_loop.h"
#include "core/nn/sampler.h"
#include "support/hf_fixtures.h"
#include "support/naive_transformers.h"
#include "support/test_main.h"

#include <QJsonArray>
#include <QTemporaryDir>

#include <cmath>

using namespace preflab;
using namespace preflab::test;

namespace {

QString loadError(const QString& folder) {
    try {
        loadHfModel(folder.toStdString());
    } catch (const std::exception& e) {
        return QString::fromUtf8(e.what());
    }
    return {};
}

void writeJson(const QString& path, const QJsonObject& o) {
    QFile f(path);
    f.open(QIODevice::WriteOnly);
    f.write(QJsonDocument(o).toJson());
}

}  // namespace

class TestHfModels : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void gpt2MatchesNaiveReference_data() {
        QTest::addColumn<QString>("layout");
        QTest::newRow("single file") << "single";
        QTest::newRow("transformer. prefix") << "prefixed";
        QTest::newRow("two shards + index") << "sharded";
    }

    void gpt2MatchesNaiveReference() {
        QFETCH(QString, layout);
        QTemporaryDir dir;
        const TinyGpt2 ref;
        ref.write(dir.path() + "/gpt2", layout.toStdString());
        HfModelInfo info;
        int64_t lastProgress = 0, progressTotal = 0;
        Transformer model = loadHfModel((dir.path() + "/gpt2").toStdString(), at::kFloat, &info,
                                        [&](int64_t done, int64_t total) {
                                            QVERIFY(done == lastProgress + 1);
                                            lastProgress = done;
                                            progressTotal = total;
                                        });
        QCOMPARE(info.modelType, std::string("gpt2"));
        QCOMPARE(info.weightFiles.size(), size_t(layout == "sharded" ? 2 : 1));
        QCOMPARE(lastProgress, progressTotal);
        QCOMPARE(info.tensorsRead, int64_t(4 + 12 * ref.layers));
        model->eval();
        torch::NoGradGuard noGrad;
        const std::vector<int64_t> ids = {3, 17, 42, 5, 63, 0, 9, 9, 31, 12};
        const at::Tensor ours = model->forward(at::tensor(ids, at::kLong).view({1, -1}), at::ones({1, 10}, at::kLong))[0];
        const at::Tensor want = naiveGpt2Logits(ref, ids);
        const double diff = (ours.to(at::kDouble) - want).abs().max().item<double>();
        const double scale = want.abs().max().item<double>();
        qInfo("max |logit diff| %.3g, logits up to %.3g", diff, scale);
        QVERIFY2(diff < 1e-4 * std::max(1.0, scale), qPrintable(QString("max |diff| %1 (logits up to %2)").arg(diff).arg(scale)));
    }

    // Llama, Qwen2 (q/k/v biases, tied head), linear and Llama 3 rope scaling against
    // the naive reference; the cached decoding path (the sampler's) agrees
    // with the full forward, and a left-padded row with the unpadded one.
    void llamaFamilyMatchesNaiveReference_data() {
        QTest::addColumn<QString>("type");
        QTest::addColumn<bool>("tied");
        QTest::addColumn<double>("scale");
        QTest::newRow("llama, untied head") << "llama" << false << 1.0;
        QTest::newRow("qwen2, biases, tied head") << "qwen2" << true << 1.0;
        QTest::newRow("qwen3, q/k norms, heads of 8 over d 16") << "qwen3" << true << 1.0;
        QTest::newRow("llama, linear rope scaling x2") << "llama" << false << 2.0;
        QTest::newRow("llama, Llama 3 rope scaling x8") << "llama3" << false << 8.0;
    }

    void llamaFamilyMatchesNaiveReference() {
        QFETCH(QString, type);
        QFETCH(bool, tied);
        QFETCH(double, scale);
        QTemporaryDir dir;
        TinyLlama ref(type == "llama3" ? "llama" : type.toStdString(), tied, scale);
        ref.llama3 = type == "llama3";
        ref.write(dir.path() + "/m");
        HfModelInfo info;
        Transformer model = loadHfModel((dir.path() + "/m").toStdString(), at::kFloat, &info);
        QCOMPARE(info.config.keyValueHeads(), int64_t(2));
        model->eval();
        torch::NoGradGuard noGrad;
        const std::vector<int64_t> ids = {3, 17, 42, 5, 200, 0, 9, 9, 31, 12, 259};
        const int64_t T = static_cast<int64_t>(ids.size());
        const at::Tensor ours = model->forward(at::tensor(ids, at::kLong).view({1, -1}), at::ones({1, T}, at::kLong))[0];
        const at::Tensor want = naiveLlamaLogits(ref, ids);
        const double diff = (ours.to(at::kDouble) - want).abs().max().item<double>();
        qInfo("max |logit diff| %.3g, logits up to %.3g", diff, want.abs().max().item<double>());
        QVERIFY2(diff < 1e-4 * std::max(1.0, want.abs().max().item<double>()), qPrintable(QString::number(diff)));
        // Cached decoding: the prompt, then one token at a time.
        KVCache cache = model->newCache(1, T);
        std::vector<at::Tensor> steps{model->forwardCached(at::tensor(std::vector<int64_t>(ids.begin(), ids.begin() + 4), at::kLong).view({1, -1}),
                                                           at::ones({1, 4}, at::kLong), cache)[0]};
        for (int64_t t = 4; t < T; ++t) {
            steps.push_back(model->forwardCached(at::full({1, 1}, ids[static_cast<size_t>(t)], at::kLong), at::ones({1, 1}, at::kLong), cache)[0]);
        }
        QVERIFY((at::cat(steps, 0) - ours).abs().max().item<double>() < 1e-4);
        // Left padding (as the sampler pads prompts) changes nothing for the real tokens.
        std::vector<int64_t> padded(3, 0);
        padded.insert(padded.end(), ids.begin(), ids.end());
        at::Tensor mask = at::ones({1, T + 3}, at::kLong);
        mask.narrow(1, 0, 3).zero_();
        const at::Tensor withPad = model->forward(at::tensor(padded, at::kLong).view({1, -1}), mask)[0].narrow(0, 3, T);
        QVERIFY((withPad - ours).abs().max().item<double>() < 1e-4);
    }

    // LoRA on every linear layer of Qwen3 (queries 32 wide over d 16): the
    // adapters start as the base model (B is zero, as PEFT starts it), and a
    // gradient reaches each of them.
    void qwen3TakesLoraOnEveryLinearLayer() {
        QTemporaryDir dir;
        TinyLlama("qwen3", true).write(dir.path() + "/m");
        Transformer model = loadHfModel((dir.path() + "/m").toStdString());
        const at::Tensor ids = at::tensor(std::vector<int64_t>{3, 17, 42, 5, 200}, at::kLong).view({1, -1});
        const at::Tensor mask = at::ones({1, 5}, at::kLong);
        at::Tensor base;
        {
            torch::NoGradGuard noGrad;
            base = model->forward(ids, mask);
        }
        LoraConfig lora;
        lora.rank = 2;
        lora.dropout = 0.0;
        lora.targets = {"all-linear"};
        torch::manual_seed(3);
        model->addLora(lora);
        const at::Tensor out = model->forward(ids, mask);
        QVERIFY((out - base).abs().max().item<double>() < 1e-6);
        out.pow(2).sum().backward();
        int withGradient = 0;
        for (const at::Tensor& p : model->trainableParameters()) withGradient += p.grad().defined() && p.grad().abs().sum().item<double>() > 0;
        // Per layer: q, k, v (one fused site each), o, gate, up, down: 7 A's
        // and 7 B's; with B zero only the B's get a gradient at the start.
        QVERIFY2(withGradient >= 2 * 7, std::to_string(withGradient).c_str());
    }

    // Load -> change the weights (as training does) -> export -> reload:
    // identical logits, HF names and layout in the file, config copied.
    void exportRoundTrip_data() {
        QTest::addColumn<QString>("arch");
        QTest::newRow("gpt2") << "gpt2";
        QTest::newRow("llama") << "llama";
        QTest::newRow("qwen2") << "qwen2";
        QTest::newRow("qwen3") << "qwen3";
    }

    void exportRoundTrip() {
        QFETCH(QString, arch);
        QTemporaryDir dir;
        const QString src = dir.path() + "/src", out = dir.path() + "/exported";
        if (arch == "gpt2") TinyGpt2().write(src);
        else TinyLlama(arch.toStdString(), arch != "llama").write(src);
        TinyGpt2::writeTokenizer(src);
        Transformer model = loadHfModel(src.toStdString());
        {
            torch::NoGradGuard noGrad;
            for (auto& p : model->parameters()) p.add_(at::randn_like(p) * 0.01);
        }
        exportHfFolder(model, src.toStdString(), out.toStdString());
        QVERIFY(QFile::exists(out + "/config.json") && QFile::exists(out + "/tokenizer.json"));
        SafetensorsFile file((out + "/model.safetensors").toStdString());
        QVERIFY(file.find(arch == "gpt2" ? "h.1.attn.c_attn.weight" : "model.layers.1.self_attn.k_proj.weight"));
        Transformer reloaded = loadHfModel(out.toStdString());
        model->eval();
        reloaded->eval();
        torch::NoGradGuard noGrad;
        const at::Tensor ids = at::tensor(std::vector<int64_t>{1, 50, 200, 7, 7, 255}, at::kLong).view({1, -1});
        const at::Tensor mask = at::ones({1, 6}, at::kLong);
        QVERIFY(at::equal(model->forward(ids, mask), reloaded->forward(ids, mask)));
    }

    // Stored in bf16, loaded for fp32 compute: the bf16 values exactly.
    void bf16CheckpointLoads() {
        QTemporaryDir dir;
        const TinyGpt2 ref;
        ref.write(dir.path() + "/gpt2", "single", at::kBFloat16);
        Transformer model = loadHfModel((dir.path() + "/gpt2").toStdString(), at::kFloat);
        const at::Tensor wte = model->named_parameters()["tokens.weight"];
        QVERIFY(at::equal(wte, ref.get("wte.weight").to(at::kBFloat16).to(at::kFloat)));
    }

    void loadedModelGenerates() {
        QTemporaryDir dir;
        const TinyGpt2 ref;
        ref.write(dir.path() + "/gpt2");
        Transformer model = loadHfModel((dir.path() + "/gpt2").toStdString());
        model->eval();
        SamplingParams greedy;
        greedy.temperature = 0;
        greedy.maxNewTokens = 6;
        const SampledSequences s = sampleBatch(model, {{3, 17, 42}}, greedy, {1}, /*eos=*/-1, /*pad=*/0);
        QCOMPARE(s.tokens[0].size(), size_t(6));
        // The first greedy token is the reference's argmax after the prompt.
        const at::Tensor logits = naiveGpt2Logits(ref, {3, 17, 42});
        QCOMPARE(int64_t(s.tokens[0][0]), logits[2].argmax().item<int64_t>());
    }

    // The online loop on a Hugging Face folder: its tokenizer and weights, a
    // few online DPO steps, evaluation and a checkpoint.
    void onlineLoopRunsOnAFolder() {
        QTemporaryDir dir;
        const QString folder = dir.path() + "/gpt2";
        const TinyGpt2 ref;
        ref.write(folder);
        TinyGpt2::writeTokenizer(folder);
        struct Names : LoopObserver {
            std::map<std::string, int> count;
            std::vector<std::string> checkpoints;
            void metricsLogged(const std::vector<MetricSample>& m) override {
                for (const MetricSample& s : m) ++count[s.name];
            }
            void checkpointSaved(const CheckpointRecord& r) override { checkpoints.push_back(r.path); }
        } seen;
        LoopSetup setup = smallFolderRun(folder, dir.path() + "/ck", 3);
        setup.config.evalEvery = 3;
        OnlineLoop loop(setup, std::make_unique<TaskJudge>(), &seen);
        QVERIFY(loop.parameterCount() > 0);
        QVERIFY2(runToEnd(loop), loop.lastError().c_str());
        QCOMPARE(seen.count["loss"], 3);
        QCOMPARE(seen.count["objective/kl"], 2);  // at the start and the end
        QCOMPARE(seen.checkpoints.size(), size_t(1));
        QVERIFY(QFile::exists(QString::fromStdString(seen.checkpoints[0])));
    }

    // An imported conversation reaches a Hugging Face model through its chat
    // template, turn by turn: a long system turn that the plain text would
    // not carry makes the pair too long for the 128-token context.
    void conversationsUseTheChatTemplate() {
        QTemporaryDir dir;
        const QString folder = dir.path() + "/gpt2";
        TinyGpt2().write(folder);
        TinyGpt2::writeTokenizer(folder);
        writeJson(folder + "/tokenizer_config.json",
                  QJsonObject{{"eos_token", "<|endoftext|>"}, {"bos_token", "<|endoftext|>"},
                              {"chat_template", "{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>\\n' }}"
                                                "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"}});
        const PairContextCheck check(folder.toStdString());
        const std::string messages = "[{\"role\":\"system\",\"content\":\"" + std::string(200, 'x') +
                                     "\"},{\"role\":\"user\",\"content\":\"Hi\"}]";
        QVERIFY(!check.wouldTruncate("Hi", "yes", "no"));
        QVERIFY(check.wouldTruncate("Hi", "yes", "no", messages));
        // The ids are the template's rendering of every turn.
        const ChatTemplate chat = readFolderChatTemplate(folder.toStdString());
        QCOMPARE(chat.describe(), std::string("ChatML (the model's chat template)"));
        const BpeTokenizer tok((folder + "/tokenizer.json").toStdString(), (folder + "/tokenizer_config.json").toStdString());
        const std::vector<ChatMessage> turns{{"system", "Be brief."}, {"user", "Hi"}};
        QCOMPARE(promptTokenIds(tok, chat, "System: Be brief.\n\nUser: Hi", turns),
                 tok.encode("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"));
    }

    // The loop reports loading progress, and a raised flag stops the load.
    void loopLoadReportsProgressAndCancels() {
        QTemporaryDir dir;
        const QString folder = dir.path() + "/gpt2";
        TinyGpt2().write(folder);
        TinyGpt2::writeTokenizer(folder);
        LoopSetup setup;
        setup.modelPath = folder.toStdString();
        setup.checkpointDir = (dir.path() + "/ck").toStdString();
        int64_t calls = 0, last = 0, total = 0;
        setup.loadProgress = [&](int64_t done, int64_t all) {
            ++calls;
            last = done;
            total = all;
        };
        OnlineLoop loop(setup, std::make_unique<TaskJudge>(), nullptr);
        QCOMPARE(last, total);
        QCOMPARE(calls, total);
        std::atomic_bool cancel{true};
        setup.cancel = &cancel;
        QString error;
        try {
            OnlineLoop stopped(setup, std::make_unique<TaskJudge>(), nullptr);
        } catch (const std::exception& e) {
            error = e.what();
        }
        QCOMPARE(error, QString("cancelled"));
    }

    void badFolders_data() {
        QTest::addColumn<QString>("damage");
        QTest::addColumn<QString>("mentions");
        QTest::newRow("unsupported model_type") << "llama_type" << "model_type 'mamba' is not supported (supported: gpt2, llama, qwen2, qwen3, mistral)";
        QTest::newRow("missing tensor") << "missing" << "tensor 'h.1.mlp.c_fc.bias' is missing";
        QTest::newRow("wrong shape") << "shape" << "tensor 'wpe.weight' has shape [16, 16], config.json implies [128, 16]";
        QTest::newRow("no weights") << "no_weights" << "no model.safetensors";
        QTest::newRow("no config") << "no_config" << "no config.json";
        QTest::newRow("bad config field") << "bad_field" << "'n_head' is missing or not a positive integer";
    }

    void badFolders() {
        QFETCH(QString, damage);
        QFETCH(QString, mentions);
        QTemporaryDir dir;
        const QString folder = dir.path() + "/m";
        TinyGpt2 ref;
        if (damage == "missing") {
            ref.tensors.erase(std::remove_if(ref.tensors.begin(), ref.tensors.end(),
                                             [](const auto& t) { return t.first == "h.1.mlp.c_fc.bias"; }),
                              ref.tensors.end());
        }
        if (damage == "shape") {
            for (auto& [n, t] : ref.tensors) {
                if (n == "wpe.weight") t = t.narrow(0, 0, 16).clone();
            }
        }
        ref.write(folder);
        QJsonObject cfg = ref.config();
        if (damage == "llama_type") cfg["model_type"] = "mamba";
        if (damage == "bad_field") cfg["n_head"] = "two";
        writeJson(folder + "/config.json", cfg);
        if (damage == "no_weights") QFile::remove(folder + "/model.safetensors");
        if (damage == "no_config") QFile::remove(folder + "/config.json");
        const QString error = loadError(folder);
        QVERIFY2(error.contains(mentions), qPrintable(error));
        QVERIFY2(error.contains(folder), qPrintable(error));  // names the file or the folder
    }
};

PREFLAB_TEST_MAIN(TestHfModels)
#include "tst_hf_models.moc"
