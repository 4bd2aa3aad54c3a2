#pragma once
// Tiny random Hugging Face checkpoints written in the exact HF layout
// (config.json + model.safetensors, or shards with an index), for the model
// loader's tests.
#include "core/hf/safetensors_tensors.h"
#include "core/loop/online_loop.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <torch/utils.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

namespace preflab::test {

// A checkpoint's tensors by HF name, as a fixture writes them.
struct NamedTensors {
    std::vector<std::pair<std::string, at::Tensor>> tensors;
    bool has(const std::string& name) const {
        for (const auto& [n, t] : tensors) {
            if (n == name) return true;
        }
        return false;
    }
    at::Tensor get(const std::string& name) const {
        for (const auto& [n, t] : tensors) {
            if (n == name) return t;
        }
        throw std::runtime_error("no " + name);
    }
    // A reward model, as transformers' *ForSequenceClassification saves one:
    // a score head [1, d] (no bias), no language-model head, one label.
    std::string classifier;  // the architecture's name, empty for a language model
    void makeClassifier(const std::string& architecture, int64_t d, uint64_t seed = 17) {
        classifier = architecture;
        tensors.erase(std::remove_if(tensors.begin(), tensors.end(), [](const auto& t) { return t.first == "lm_head.weight"; }),
                      tensors.end());
        torch::manual_seed(seed);
        tensors.emplace_back("score.weight", at::randn({1, d}) * 0.5);
    }
    void markClassifier(QJsonObject& config) const {
        if (classifier.empty()) return;
        config["architectures"] = QJsonArray{QString::fromStdString(classifier)};
        config["id2label"] = QJsonObject{{"0", "LABEL_0"}};
        config["label2id"] = QJsonObject{{"LABEL_0", 0}};
    }
};

struct TinyGpt2 : NamedTensors {
    int64_t vocab = 260, d = 16, layers = 2, heads = 2, positions = 128;  // tensors: HF names, Conv1D layout

    explicit TinyGpt2(uint64_t seed = 5) {
        torch::manual_seed(seed);
        auto add = [&](const std::string& name, std::vector<int64_t> shape, double scale, double shift = 0.0) {
            tensors.emplace_back(name, at::randn(shape) * scale + shift);
        };
        add("wte.weight", {vocab, d}, 0.5);
        add("wpe.weight", {positions, d}, 0.2);
        for (int64_t i = 0; i < layers; ++i) {
            const std::string h = "h." + std::to_string(i) + ".";
            add(h + "ln_1.weight", {d}, 0.1, 1.0);
            add(h + "ln_1.bias", {d}, 0.1);
            add(h + "attn.c_attn.weight", {d, 3 * d}, 0.3);
            add(h + "attn.c_attn.bias", {3 * d}, 0.1);
            add(h + "attn.c_proj.weight", {d, d}, 0.3);
            add(h + "attn.c_proj.bias", {d}, 0.1);
            add(h + "ln_2.weight", {d}, 0.1, 1.0);
            add(h + "ln_2.bias", {d}, 0.1);
            add(h + "mlp.c_fc.weight", {d, 4 * d}, 0.3);
            add(h + "mlp.c_fc.bias", {4 * d}, 0.1);
            add(h + "mlp.c_proj.weight", {4 * d, d}, 0.3);
            add(h + "mlp.c_proj.bias", {d}, 0.1);
        }
        add("ln_f.weight", {d}, 0.1, 1.0);
        add("ln_f.bias", {d}, 0.1);
    }

    QJsonObject config() const {
        QJsonObject c{{"model_type", "gpt2"},          {"architectures", QJsonArray{"GPT2LMHeadModel"}},
                      {"vocab_size", double(vocab)},    {"n_embd", double(d)},
                      {"n_layer", double(layers)},      {"n_head", double(heads)},
                      {"n_positions", double(positions)}, {"n_inner", QJsonValue()},
                      {"activation_function", "gelu_new"}, {"layer_norm_epsilon", 1e-5}};
        markClassifier(c);
        return c;
    }

    // A byte-level tokenizer.json (GPT-2's byte symbols, no merges) with
    // <|endoftext|> at 256, and a tokenizer_config.json naming it.
    static void writeTokenizer(const QString& folder) {
        QJsonObject vocab;
        int next = 256;
        for (int b = 0; b < 256; ++b) {
            const bool direct = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            vocab[QString(QChar(direct ? b : next++))] = b;
        }
        QJsonObject model{{"type", "BPE"}, {"vocab", vocab}, {"merges", QJsonArray{}}};
        QJsonArray added{QJsonObject{{"id", 256}, {"content", "<|endoftext|>"}, {"special", true}}};
        QJsonObject pre{{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}};
        QFile t(folder + "/tokenizer.json");
        t.open(QIODevice::WriteOnly);
        t.write(QJsonDocument(QJsonObject{{"model", model}, {"added_tokens", added}, {"pre_tokenizer", pre}}).toJson());
        QFile c(folder + "/tokenizer_config.json");
        c.open(QIODevice::WriteOnly);
        c.write(QJsonDocument(QJsonObject{{"eos_token", "<|endoftext|>"}, {"bos_token", "<|endoftext|>"}}).toJson());
    }

    // layout: "single", "prefixed" (names under "transformer."), "sharded" (two files + index).
    void write(const QString& folder, const std::string& layout = "single", at::ScalarType dtype = at::kFloat) const {
        QDir().mkpath(folder);
        QFile cfg(folder + "/config.json");
        cfg.open(QIODevice::WriteOnly);
        cfg.write(QJsonDocument(config()).toJson());
        std::vector<std::pair<std::string, at::Tensor>> named;
        // The score head sits beside the body, unprefixed (as GPT2ForSequenceClassification saves it).
        for (const auto& [n, t] : tensors) {
            named.emplace_back(layout == "prefixed" && n != "score.weight" ? "transformer." + n : n, t.to(dtype));
        }
        if (layout != "sharded") {
            saveTensors((folder + "/model.safetensors").toStdString(), named, {{"format", "pt"}});
            return;
        }
        const size_t half = named.size() / 2;
        const std::vector<std::pair<std::string, at::Tensor>> a(named.begin(), named.begin() + static_cast<long>(half)),
            b(named.begin() + static_cast<long>(half), named.end());
        saveTensors((folder + "/model-00001-of-00002.safetensors").toStdString(), a);
        saveTensors((folder + "/model-00002-of-00002.safetensors").toStdString(), b);
        QJsonObject map;
        for (const auto& [n, t] : a) map[QString::fromStdString(n)] = "model-00001-of-00002.safetensors";
        for (const auto& [n, t] : b) map[QString::fromStdString(n)] = "model-00002-of-00002.safetensors";
        QFile index(folder + "/model.safetensors.index.json");
        index.open(QIODevice::WriteOnly);
        index.write(QJsonDocument(QJsonObject{{"metadata", QJsonObject{}}, {"weight_map", map}}).toJson());
    }
};

// A tiny Llama-family checkpoint: grouped-query attention (4 heads, 2 key/
// value heads), SwiGLU, RMSNorm; Qwen2 adds q/k/v biases; optional tied head
// and linear rope scaling.
struct TinyLlama : NamedTensors {
    std::string type = "llama";
    bool tied = false;
    double ropeScale = 1.0;
    bool llama3 = false;  // Llama 3 rope scaling (factor ropeScale, original context 16) instead of linear
    double theta = 500000.0;
    int64_t vocab = 260, d = 16, layers = 2, heads = 4, kvHeads = 2, ff = 24, positions = 128;

    bool biases() const { return type == "qwen2"; }
    bool qkNorm() const { return type == "qwen3"; }
    // Qwen3's heads have a size of their own: 8 here, so 4 heads span 32, not d = 16.
    int64_t headDim() const { return type == "qwen3" ? 8 : d / heads; }
    int64_t kv() const { return kvHeads * headDim(); }

    explicit TinyLlama(std::string modelType = "llama", bool tiedHead = false, double scale = 1.0, uint64_t seed = 9)
        : type(std::move(modelType)), tied(tiedHead), ropeScale(scale) {
        torch::manual_seed(seed);
        auto add = [&](const std::string& name, std::vector<int64_t> shape, double sd, double shift = 0.0) {
            tensors.emplace_back(name, at::randn(shape) * sd + shift);
        };
        add("model.embed_tokens.weight", {vocab, d}, 0.5);
        for (int64_t i = 0; i < layers; ++i) {
            const std::string h = "model.layers." + std::to_string(i) + ".";
            add(h + "input_layernorm.weight", {d}, 0.1, 1.0);
            add(h + "self_attn.q_proj.weight", {heads * headDim(), d}, 0.3);
            add(h + "self_attn.k_proj.weight", {kv(), d}, 0.3);
            add(h + "self_attn.v_proj.weight", {kv(), d}, 0.3);
            if (biases()) {
                add(h + "self_attn.q_proj.bias", {d}, 0.1);
                add(h + "self_attn.k_proj.bias", {kv()}, 0.1);
                add(h + "self_attn.v_proj.bias", {kv()}, 0.1);
            }
            if (qkNorm()) {
                add(h + "self_attn.q_norm.weight", {headDim()}, 0.1, 1.0);
                add(h + "self_attn.k_norm.weight", {headDim()}, 0.1, 1.0);
            }
            add(h + "self_attn.o_proj.weight", {d, heads * headDim()}, 0.3);
            add(h + "post_attention_layernorm.weight", {d}, 0.1, 1.0);
            add(h + "mlp.gate_proj.weight", {ff, d}, 0.3);
            add(h + "mlp.up_proj.weight", {ff, d}, 0.3);
            add(h + "mlp.down_proj.weight", {d, ff}, 0.3);
        }
        add("model.norm.weight", {d}, 0.1, 1.0);
        if (!tied) add("lm_head.weight", {vocab, d}, 0.5);
    }

    QJsonObject config() const {
        QJsonObject c{{"model_type", QString::fromStdString(type)},
                      {"vocab_size", double(vocab)},
                      {"hidden_size", double(d)},
                      {"intermediate_size", double(ff)},
                      {"num_hidden_layers", double(layers)},
                      {"num_attention_heads", double(heads)},
                      {"num_key_value_heads", double(kvHeads)},
                      {"max_position_embeddings", double(positions)},
                      {"rms_norm_eps", 1e-6},
                      {"rope_theta", theta},
                      {"hidden_act", "silu"},
                      {"tie_word_embeddings", tied}};
        if (type == "qwen3") c["head_dim"] = double(headDim());
        if (llama3) {
            c["rope_scaling"] = QJsonObject{{"rope_type", "llama3"}, {"factor", ropeScale}, {"low_freq_factor", 1.0},
                                            {"high_freq_factor", 4.0}, {"original_max_position_embeddings", 16}};
        } else if (ropeScale != 1.0) {
            c["rope_scaling"] = QJsonObject{{"type", "linear"}, {"factor", ropeScale}};
        }
        markClassifier(c);
        return c;
    }

    void write(const QString& folder) const {
        QDir().mkpath(folder);
        QFile cfg(folder + "/config.json");
        cfg.open(QIODevice::WriteOnly);
        cfg.write(QJsonDocument(config()).toJson());
        saveTensors((folder + "/model.safetensors").toStdString(), tensors, {{"format", "pt"}});
    }
};

// A short online DPO run on a model folder: small batches, short responses,
// no evaluation (evalEvery 0), checkpoints into checkpointDir.
inline LoopSetup smallFolderRun(const QString& folder, const QString& checkpointDir, int64_t steps) {
    LoopSetup setup;
    setup.modelPath = folder.toStdString();
    setup.checkpointDir = checkpointDir.toStdString();
    RunConfig& c = setup.config;
    c.algorithm = "online-dpo";
    c.steps = steps;
    c.batchSize = 4;
    c.generationBatch = 4;
    c.maxNewTokens = 12;
    c.evalEvery = 0;
    c.evalSamples = 8;
    c.prompts = 16;
    return setup;
}

// Steps `loop` until it stops training; true when it finished its steps.
inline bool runToEnd(OnlineLoop& loop) {
    std::atomic_bool cancel{false};
    StepOutcome o;
    while ((o = loop.step(cancel)) == StepOutcome::Trained) {
    }
    return o == StepOutcome::Finished;
}

}  // namespace preflab::test
