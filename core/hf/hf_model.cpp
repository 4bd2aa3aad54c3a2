#include "core/hf/hf_model.h"

#include "core/hf/json_file.h"
#include "core/hf/safetensors_tensors.h"
#include "core/runtime/atomic_file.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonObject>

#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>

namespace preflab {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void fail(const std::string& where, const std::string& what) {
    throw std::runtime_error(where + ": " + what);
}

int64_t positiveInt(const QJsonObject& o, const char* key, const std::string& file) {
    const QJsonValue v = o.value(QLatin1String(key));
    const double d = v.toDouble(-1);
    if (!v.isDouble() || d < 1 || d != static_cast<double>(static_cast<int64_t>(d))) {
        fail(file, std::string("'") + key + "' is missing or not a positive integer");
    }
    return static_cast<int64_t>(d);
}

// Every tensor of the checkpoint, by name, with the file that holds it.
class WeightSet {
public:
    explicit WeightSet(const std::string& folder) {
        const fs::path dir(folder);
        const fs::path single = dir / "model.safetensors", index = dir / "model.safetensors.index.json";
        std::vector<std::string> files;
        if (fs::exists(index)) {
            const QJsonObject map = readJsonObjectFile(index.string()).value(QStringLiteral("weight_map")).toObject();
            if (map.isEmpty()) fail(index.string(), "weight_map is missing or empty");
            std::set<std::string> unique;
            for (auto it = map.begin(); it != map.end(); ++it) {
                const std::string file = it.value().toString().toStdString();
                if (file.empty() || file.find('/') != std::string::npos || file.find("..") != std::string::npos) {
                    fail(index.string(), "weight_map entry '" + it.key().toStdString() + "' names no file in the folder");
                }
                unique.insert(file);
            }
            files.assign(unique.begin(), unique.end());
        } else if (fs::exists(single)) {
            files.push_back("model.safetensors");
        } else {
            fail(folder, "no model.safetensors or model.safetensors.index.json (PrefLab reads safetensors weights only)");
        }
        for (const std::string& f : files) {
            m_files.push_back(std::make_unique<SafetensorsFile>((dir / f).string()));
            for (const StTensorInfo& t : m_files.back()->tensors()) m_where[t.name] = {m_files.back().get(), &t};
        }
    }

    std::vector<std::string> paths() const {
        std::vector<std::string> out;
        for (const auto& f : m_files) out.push_back(f->path());
        return out;
    }
    bool has(const std::string& name) const { return m_where.count(name) != 0; }
    std::vector<std::string> names() const {
        std::vector<std::string> out;
        for (const auto& [name, where] : m_where) out.push_back(name);
        return out;
    }

    // The tensor, checked against the expected shape, converted to dtype.
    at::Tensor load(const std::string& name, const std::vector<int64_t>& shape, at::ScalarType dtype) const {
        const auto it = m_where.find(name);
        if (it == m_where.end()) fail(m_files.front()->path(), "tensor '" + name + "' is missing from the checkpoint");
        const auto& [file, info] = it->second;
        if (info->shape != shape) {
            std::string want, got;
            for (int64_t d : shape) want += (want.empty() ? "" : ", ") + std::to_string(d);
            for (int64_t d : info->shape) got += (got.empty() ? "" : ", ") + std::to_string(d);
            fail(file->path(), "tensor '" + name + "' has shape [" + got + "], config.json implies [" + want + "]");
        }
        if (info->dtype != StDtype::F32 && info->dtype != StDtype::F16 && info->dtype != StDtype::BF16) {
            fail(file->path(), "tensor '" + name + "' is " + dtypeName(info->dtype) + "; weights must be F32, F16 or BF16");
        }
        return loadTensor(*file, *info, dtype);
    }

private:
    std::vector<std::unique_ptr<SafetensorsFile>> m_files;
    std::map<std::string, std::pair<const SafetensorsFile*, const StTensorInfo*>> m_where;
};

// PrefLab's tensors and the HF tensors they come from (concatenated along
// dim 0 when several: fused q/k/v, fused gate/up), each with its HF shape;
// GPT-2's Conv1D weights are stored [in, out] and are transposed.
struct HfTensorMapping {
    std::string ours;
    std::vector<std::pair<std::string, std::vector<int64_t>>> theirs;
    bool transpose = false;
};

std::vector<HfTensorMapping> hfTensorMap(const TransformerConfig& c) {
    const int64_t D = c.dModel, F = c.dFF;
    std::vector<HfTensorMapping> map;
    if (!c.llama) {
        map = {{"tokens.weight", {{"wte.weight", {c.vocabSize, D}}}},
               {"positions.weight", {{"wpe.weight", {c.maxSeqLen, D}}}},
               {"ln_final.weight", {{"ln_f.weight", {D}}}},
               {"ln_final.bias", {{"ln_f.bias", {D}}}}};
        for (int64_t i = 0; i < c.nLayers; ++i) {
            const std::string b = "block" + std::to_string(i) + ".", h = "h." + std::to_string(i) + ".";
            map.push_back({b + "ln1.weight", {{h + "ln_1.weight", {D}}}});
            map.push_back({b + "ln1.bias", {{h + "ln_1.bias", {D}}}});
            map.push_back({b + "qkv.weight", {{h + "attn.c_attn.weight", {D, 3 * D}}}, true});
            map.push_back({b + "qkv.bias", {{h + "attn.c_attn.bias", {3 * D}}}});
            map.push_back({b + "attn_out.weight", {{h + "attn.c_proj.weight", {D, D}}}, true});
            map.push_back({b + "attn_out.bias", {{h + "attn.c_proj.bias", {D}}}});
            map.push_back({b + "ln2.weight", {{h + "ln_2.weight", {D}}}});
            map.push_back({b + "ln2.bias", {{h + "ln_2.bias", {D}}}});
            map.push_back({b + "fc.weight", {{h + "mlp.c_fc.weight", {D, F}}}, true});
            map.push_back({b + "fc.bias", {{h + "mlp.c_fc.bias", {F}}}});
            map.push_back({b + "proj.weight", {{h + "mlp.c_proj.weight", {F, D}}}, true});
            map.push_back({b + "proj.bias", {{h + "mlp.c_proj.bias", {D}}}});
        }
    } else {
        const int64_t kv = c.keyValueHeads() * c.headDim(), Q = c.attentionWidth(), Dh = c.headDim();
        map = {{"tokens.weight", {{"model.embed_tokens.weight", {c.vocabSize, D}}}},
               {"ln_final.weight", {{"model.norm.weight", {D}}}}};
        if (!c.tiedHead && !c.scalarHead) map.push_back({"lm_head.weight", {{"lm_head.weight", {c.vocabSize, D}}}});
        for (int64_t i = 0; i < c.nLayers; ++i) {
            const std::string b = "block" + std::to_string(i) + ".", h = "model.layers." + std::to_string(i) + ".";
            map.push_back({b + "ln1.weight", {{h + "input_layernorm.weight", {D}}}});
            map.push_back({b + "qkv.weight",
                           {{h + "self_attn.q_proj.weight", {Q, D}}, {h + "self_attn.k_proj.weight", {kv, D}},
                            {h + "self_attn.v_proj.weight", {kv, D}}}});
            if (c.qkvBias) {
                map.push_back({b + "qkv.bias",
                               {{h + "self_attn.q_proj.bias", {Q}}, {h + "self_attn.k_proj.bias", {kv}},
                                {h + "self_attn.v_proj.bias", {kv}}}});
            }
            if (c.qkNorm) {
                map.push_back({b + "q_norm.weight", {{h + "self_attn.q_norm.weight", {Dh}}}});
                map.push_back({b + "k_norm.weight", {{h + "self_attn.k_norm.weight", {Dh}}}});
            }
            map.push_back({b + "attn_out.weight", {{h + "self_attn.o_proj.weight", {D, Q}}}});
            map.push_back({b + "ln2.weight", {{h + "post_attention_layernorm.weight", {D}}}});
            map.push_back({b + "fc.weight", {{h + "mlp.gate_proj.weight", {F, D}}, {h + "mlp.up_proj.weight", {F, D}}}});
            map.push_back({b + "proj.weight", {{h + "mlp.down_proj.weight", {D, F}}}});
        }
    }
    return map;
}

}  // namespace

const std::vector<std::string>& supportedHfModelTypes() {
    static const std::vector<std::string> types = {"gpt2", "llama", "qwen2", "qwen3", "mistral"};
    return types;
}

namespace {

void readGpt2Config(const QJsonObject& c, const std::string& path, TransformerConfig& t) {
    t.vocabSize = positiveInt(c, "vocab_size", path);
    t.dModel = positiveInt(c, "n_embd", path);
    t.nLayers = positiveInt(c, "n_layer", path);
    t.nHeads = positiveInt(c, "n_head", path);
    t.maxSeqLen = positiveInt(c, "n_positions", path);
    t.dFF = c.contains(QStringLiteral("n_inner")) && !c.value(QStringLiteral("n_inner")).isNull()
                ? positiveInt(c, "n_inner", path)
                : 4 * t.dModel;
    const QString activation = c.value(QStringLiteral("activation_function")).toString(QStringLiteral("gelu_new"));
    if (activation != QStringLiteral("gelu_new") && activation != QStringLiteral("gelu_pytorch_tanh")) {
        fail(path, "activation_function '" + activation.toStdString() + "' is not supported (gelu_new is)");
    }
    const double eps = c.value(QStringLiteral("layer_norm_epsilon")).toDouble(1e-5);
    if (std::abs(eps - 1e-5) > 1e-12) fail(path, "layer_norm_epsilon " + std::to_string(eps) + " is not supported (1e-5 is)");
    if (!c.value(QStringLiteral("tie_word_embeddings")).toBool(true)) fail(path, "an untied GPT-2 head is not supported");
}

// Llama, Mistral (without sliding windows), Qwen2 (q/k/v biases) and Qwen3
// (per-head q/k RMSNorm, a head size of its own, no biases).
void readLlamaConfig(const QJsonObject& c, const std::string& path, const std::string& type, TransformerConfig& t) {
    t.llama = 1;
    t.vocabSize = positiveInt(c, "vocab_size", path);
    t.dModel = positiveInt(c, "hidden_size", path);
    t.nLayers = positiveInt(c, "num_hidden_layers", path);
    t.nHeads = positiveInt(c, "num_attention_heads", path);
    t.kvHeads = c.contains(QStringLiteral("num_key_value_heads")) ? positiveInt(c, "num_key_value_heads", path) : t.nHeads;
    t.dFF = positiveInt(c, "intermediate_size", path);
    // PrefLab's context limit; longer configured contexts are cut to it.
    t.maxSeqLen = std::min<int64_t>(positiveInt(c, "max_position_embeddings", path), 131072);
    t.normEps = c.value(QStringLiteral("rms_norm_eps")).toDouble(1e-6);
    t.ropeTheta = c.value(QStringLiteral("rope_theta")).toDouble(10000.0);
    t.tiedHead = c.value(QStringLiteral("tie_word_embeddings")).toBool(false) ? 1 : 0;
    t.qkvBias = type == "qwen2" || c.value(QStringLiteral("attention_bias")).toBool(false) ? 1 : 0;
    if (c.value(QStringLiteral("mlp_bias")).toBool(false)) fail(path, "mlp_bias = true is not supported");
    const QString act = c.value(QStringLiteral("hidden_act")).toString(QStringLiteral("silu"));
    if (act != QStringLiteral("silu")) fail(path, "hidden_act '" + act.toStdString() + "' is not supported (silu is)");
    // A head size other than hidden_size / heads (Qwen3-0.6B: 16 heads of 128
    // over 1024) is kept as its own; the same one is left implicit.
    if (c.contains(QStringLiteral("head_dim")) && !c.value(QStringLiteral("head_dim")).isNull()) {
        const int64_t headDim = positiveInt(c, "head_dim", path);
        if (headDim * t.nHeads != t.dModel) t.headSize = headDim;
    }
    t.qkNorm = type == "qwen3" ? 1 : 0;
    if (type == "qwen3" && c.value(QStringLiteral("use_sliding_window")).toBool(false))
        fail(path, "sliding-window attention is not supported");
    const QJsonValue scaling = c.value(QStringLiteral("rope_scaling"));
    if (scaling.isObject()) {
        const QJsonObject o = scaling.toObject();
        const QString kind = o.value(QStringLiteral("rope_type")).toString(o.value(QStringLiteral("type")).toString());
        if (kind != QStringLiteral("linear") && kind != QStringLiteral("llama3")) {
            fail(path, "rope_scaling of type '" + kind.toStdString() + "' is not supported (none, linear or llama3 are)");
        }
        t.ropeScale = o.value(QStringLiteral("factor")).toDouble(1.0);
        if (kind == QStringLiteral("llama3")) {
            t.ropeOriginalContext = positiveInt(o, "original_max_position_embeddings", path);
            t.ropeLowFreqFactor = o.value(QStringLiteral("low_freq_factor")).toDouble(1.0);
            t.ropeHighFreqFactor = o.value(QStringLiteral("high_freq_factor")).toDouble(4.0);
        }
    }
    const QJsonValue window = c.value(QStringLiteral("sliding_window"));
    if (type == "mistral" && window.isDouble() && window.toDouble() < static_cast<double>(t.maxSeqLen) &&
        !c.value(QStringLiteral("use_sliding_window")).isUndefined() && c.value(QStringLiteral("use_sliding_window")).toBool()) {
        fail(path, "sliding-window attention is not supported");
    }
}

}  // namespace

HfModelInfo readHfModelConfig(const std::string& folder) {
    const std::string path = (fs::path(folder) / "config.json").string();
    if (!fs::exists(path)) fail(folder, "no config.json: not a Hugging Face model folder");
    const QJsonObject c = readJsonObjectFile(path);
    HfModelInfo info;
    info.folder = folder;
    info.modelType = c.value(QStringLiteral("model_type")).toString().toStdString();
    const auto& supported = supportedHfModelTypes();
    if (std::find(supported.begin(), supported.end(), info.modelType) == supported.end()) {
        std::string list;
        for (const auto& t : supported) list += (list.empty() ? "" : ", ") + t;
        fail(path, "model_type '" + info.modelType + "' is not supported (supported: " + list + ")");
    }
    if (info.modelType == "gpt2") readGpt2Config(c, path, info.config);
    else readLlamaConfig(c, path, info.modelType, info.config);
    for (const QJsonValue& a : c.value(QStringLiteral("architectures")).toArray()) {
        info.sequenceClassifier = info.sequenceClassifier || a.toString().endsWith(QStringLiteral("ForSequenceClassification"));
    }
    if (info.sequenceClassifier) {
        // transformers counts labels by id2label (num_labels is not always written).
        const QJsonValue labels = c.value(QStringLiteral("id2label"));
        const int n = labels.isObject() ? static_cast<int>(labels.toObject().size()) : c.value(QStringLiteral("num_labels")).toInt(2);
        if (n != 1) fail(path, "a sequence classifier with " + std::to_string(n) + " labels is not a reward model (one label is)");
        info.config.scalarHead = 1;
    }
    const std::string err = info.config.validationError();
    if (!err.empty()) fail(path, err);
    return info;
}

Transformer loadHfModel(const std::string& folder, at::ScalarType dtype, HfModelInfo* infoOut,
                        const std::function<void(int64_t, int64_t)>& progress, const std::atomic_bool* cancel) {
    HfModelInfo info = readHfModelConfig(folder);
    const WeightSet weights(folder);
    info.weightFiles = weights.paths();
    const TransformerConfig& c = info.config;
    // Checkpoints saved from GPT2LMHeadModel (and GPT2ForSequenceClassification)
    // prefix the names with "transformer.".
    const std::string prefix = weights.has("transformer.wte.weight") ? "transformer." : "";

    Transformer model(c);
    model->to(dtype);
    auto params = model->named_parameters();
    const std::vector<HfTensorMapping> map = hfTensorMap(c);
    torch::NoGradGuard noGrad;
    const int64_t total = static_cast<int64_t>(map.size());
    for (int64_t k = 0; k < total; ++k) {
        if (cancel && cancel->load()) throw std::runtime_error("cancelled");
        const HfTensorMapping& m = map[static_cast<size_t>(k)];
        std::vector<at::Tensor> parts;
        for (const auto& [name, shape] : m.theirs) parts.push_back(weights.load(prefix + name, shape, dtype));
        at::Tensor t = parts.size() == 1 ? parts.front() : at::cat(parts, 0);
        if (m.transpose) t = t.t();
        params[m.ours].copy_(t);
        if (progress) progress(k + 1, total);
    }
    if (info.sequenceClassifier) {
        // transformers' score head: Linear(hidden, num_labels = 1, bias=False).
        params["scalar_head.weight"].copy_(weights.load("score.weight", {1, c.dModel}, dtype));
        params["scalar_head.bias"].zero_();
    }
    // GPT-2: a stored lm_head must be the tied embedding.
    if (!c.llama && !info.sequenceClassifier && weights.has("lm_head.weight")) {
        const at::Tensor head = weights.load("lm_head.weight", {c.vocabSize, c.dModel}, dtype);
        if (!at::equal(head, params["tokens.weight"])) {
            fail(info.weightFiles.front(), "lm_head.weight differs from the token embedding; an untied GPT-2 head is not supported");
        }
    }
    info.tensorsRead = total;
    if (infoOut) *infoOut = info;
    return model;
}

namespace {

// A copy cut short (a full disk, a file size limit) is an error naming the
// file and leaves the earlier file, not a partial one
// (std::filesystem::copy_file writes in place).
void copyAtomically(const fs::path& from, const fs::path& to) {
    QFile in(QString::fromStdString(from.string()));
    if (!in.open(QIODevice::ReadOnly)) fail(from.string(), "cannot read: " + in.errorString().toStdString());
    const QByteArray data = in.readAll();  // config and tokenizer files: a few MB at most
    const std::string error = writeFileAtomically(to.string(), std::string_view(data.constData(), static_cast<size_t>(data.size())));
    if (!error.empty()) fail(to.string(), error);
}

}  // namespace

void exportHfFolder(Transformer& model, const std::string& sourceFolder, const std::string& outFolder, at::ScalarType dtype) {
    const HfModelInfo info = readHfModelConfig(sourceFolder);
    const TransformerConfig& c = model->config();
    if (c.serialize() != info.config.serialize()) {
        fail(sourceFolder, "the model's shape (" + c.serialize() + ") is not this folder's (" + info.config.serialize() + ")");
    }
    std::error_code ec;
    fs::create_directories(outFolder, ec);
    if (ec) fail(outFolder, "cannot create the folder: " + ec.message());
    // A LoRA model is exported with its adapters merged into the weights.
    Transformer merged = model->hasLora() ? mergeLora(model) : model;
    auto params = merged->named_parameters();
    std::vector<std::pair<std::string, at::Tensor>> out;
    torch::NoGradGuard noGrad;
    for (const HfTensorMapping& m : hfTensorMap(c)) {
        at::Tensor t = params[m.ours].detach();
        if (m.transpose) t = t.t();
        int64_t row = 0;
        for (const auto& [name, shape] : m.theirs) {
            const int64_t rows = shape.front();
            out.emplace_back(name, t.narrow(0, row, rows).to(dtype).contiguous());
            row += rows;
        }
    }
    saveTensors((fs::path(outFolder) / "model.safetensors").string(), out, {{"format", "pt"}});
    // config.json and the tokenizer files are the source's: the shape is unchanged.
    for (const char* name : {"config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json",
                             "special_tokens_map.json", "vocab.json", "merges.txt", "tokenizer.model", "chat_template.jinja"}) {
        const fs::path from = fs::path(sourceFolder) / name;
        if (!fs::exists(from)) continue;
        copyAtomically(from, fs::path(outFolder) / name);
    }
}

}  // namespace preflab
