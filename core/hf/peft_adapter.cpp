#include "core/hf/peft_adapter.h"

#include "core/runtime/atomic_file.h"

#include "core/hf/json_file.h"
#include "core/hf/safetensors_tensors.h"

#include <QJsonArray>
#include <QJsonDocument>

#include <filesystem>
#include <stdexcept>

namespace preflab {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void fail(const std::string& where, const std::string& what) {
    throw std::runtime_error(where + ": " + what);
}

// The HF name of layer i's module: "model.layers.3.self_attn.q_proj".
std::string hfModule(const TransformerConfig& c, size_t layer, const LoraSite& site) {
    return (c.llama ? "model.layers." : "transformer.h.") + std::to_string(layer) + "." + site.module;
}

std::string tensorName(const TransformerConfig& c, size_t layer, const LoraSite& site, const char* which) {
    return "base_model.model." + hfModule(c, layer, site) + ".lora_" + which + ".weight";
}

}  // namespace

void exportPeftAdapter(Transformer& model, const std::string& baseModel, const std::string& outFolder) {
    if (!model->hasLora()) fail(outFolder, "the model has no LoRA adapters to export");
    const TransformerConfig& c = model->config();
    const LoraConfig& lora = model->lora();
    std::error_code ec;
    fs::create_directories(outFolder, ec);
    if (ec) fail(outFolder, "cannot create the folder: " + ec.message());

    std::vector<std::pair<std::string, at::Tensor>> tensors;
    torch::NoGradGuard noGrad;
    for (size_t i = 0; i < model->blocks().size(); ++i) {
        for (const char* linear : {"qkv", "attn_out", "fc", "proj"}) {
            const LoraAdapter adapter = model->blocks()[i]->adapter(linear);
            if (!adapter) continue;
            for (size_t k = 0; k < adapter->sites().size(); ++k) {
                const LoraSite& site = adapter->sites()[k];
                tensors.emplace_back(tensorName(c, i, site, "A"), adapter->a(k).detach().to(at::kFloat).contiguous());
                tensors.emplace_back(tensorName(c, i, site, "B"), adapter->b(k).detach().to(at::kFloat).contiguous());
            }
        }
    }
    saveTensors((fs::path(outFolder) / "adapter_model.safetensors").string(), tensors, {{"format", "pt"}});

    QJsonArray targets;
    for (const std::string& t : lora.targets) targets.append(QString::fromStdString(t));
    QJsonObject config{
        {"peft_type", "LORA"},
        {"task_type", "CAUSAL_LM"},
        {"base_model_name_or_path", QString::fromStdString(baseModel)},
        {"r", static_cast<qint64>(lora.rank)},
        {"lora_alpha", lora.alpha},
        {"lora_dropout", lora.dropout},
        {"target_modules", targets},
        // GPT-2's projections are Conv1D layers ([in, out] weights); A and B keep
        // the nn.Linear layout either way, and PEFT needs the flag to merge.
        {"fan_in_fan_out", c.llama == 0},
        {"bias", "none"},
        {"inference_mode", true},
        {"init_lora_weights", true},
        {"use_rslora", false},
        {"use_dora", false},
        {"modules_to_save", QJsonValue()},
        {"layers_to_transform", QJsonValue()},
        {"rank_pattern", QJsonObject()},
        {"alpha_pattern", QJsonObject()},
    };
    const std::string path = (fs::path(outFolder) / "adapter_config.json").string();
    const QByteArray bytes = QJsonDocument(config).toJson(QJsonDocument::Indented);
    const std::string error = writeFileAtomically(path, std::string_view(bytes.constData(), static_cast<size_t>(bytes.size())));
    if (!error.empty()) fail(path, error);
}

void loadPeftAdapter(Transformer& model, const std::string& adapterFolder) {
    const std::string configPath = (fs::path(adapterFolder) / "adapter_config.json").string();
    if (!fs::exists(configPath)) fail(adapterFolder, "no adapter_config.json: not a PEFT adapter folder");
    const QJsonObject o = readJsonObjectFile(configPath);
    if (o.value("peft_type").toString() != "LORA") {
        fail(configPath, "peft_type '" + o.value("peft_type").toString().toStdString() + "' is not supported (LORA is)");
    }
    for (const char* flag : {"use_dora", "use_rslora"}) {
        if (o.value(flag).toBool(false)) fail(configPath, std::string(flag) + " = true is not supported");
    }
    for (const char* pattern : {"rank_pattern", "alpha_pattern"}) {
        if (!o.value(pattern).toObject().isEmpty()) fail(configPath, std::string(pattern) + " is not supported");
    }
    if (!o.value("layers_to_transform").isNull() && !o.value("layers_to_transform").isUndefined()) {
        fail(configPath, "layers_to_transform is not supported");
    }
    if (o.value("bias").toString("none") != "none") fail(configPath, "bias training is not supported (bias = none is)");
    const QJsonValue saved = o.value("modules_to_save");
    if (saved.isArray() && !saved.toArray().isEmpty()) fail(configPath, "modules_to_save is not supported");

    LoraConfig lora;
    lora.rank = o.value("r").toInt(0);
    lora.alpha = o.value("lora_alpha").toDouble(8.0);
    lora.dropout = o.value("lora_dropout").toDouble(0.0);
    const QJsonValue targets = o.value("target_modules");
    if (targets.isString()) {
        // PEFT also accepts a regular expression here; PrefLab takes plain names only.
        lora.targets = splitLoraTargets(targets.toString().toStdString());
    } else {
        for (const QJsonValue& t : targets.toArray()) lora.targets.push_back(t.toString().toStdString());
    }
    if (lora.rank <= 0) fail(configPath, "r must be a positive integer");
    if (lora.targets.empty()) fail(configPath, "target_modules is missing or empty");
    if (model->hasLora()) fail(adapterFolder, "the model already has adapters");
    try {
        model->addLora(lora);
    } catch (const std::invalid_argument& e) {
        fail(configPath, e.what());
    }

    const std::string weightsPath = (fs::path(adapterFolder) / "adapter_model.safetensors").string();
    if (!fs::exists(weightsPath)) fail(adapterFolder, "no adapter_model.safetensors (PrefLab reads safetensors adapters only)");
    const SafetensorsFile file(weightsPath);
    const TransformerConfig& c = model->config();
    torch::NoGradGuard noGrad;
    for (size_t i = 0; i < model->blocks().size(); ++i) {
        for (const char* linear : {"qkv", "attn_out", "fc", "proj"}) {
            LoraAdapter adapter = model->blocks()[i]->adapter(linear);
            if (!adapter) continue;
            for (size_t k = 0; k < adapter->sites().size(); ++k) {
                const LoraSite& site = adapter->sites()[k];
                for (const char* which : {"A", "B"}) {
                    const std::string name = tensorName(c, i, site, which);
                    at::Tensor dst = *which == 'A' ? adapter->a(k) : adapter->b(k);
                    const at::Tensor t = loadTensor(file, name, at::kFloat);
                    if (t.sizes() != dst.sizes()) {
                        fail(weightsPath, "tensor '" + name + "' has shape " + c10::str(t.sizes()) + ", expected " +
                                              c10::str(dst.sizes()));
                    }
                    dst.copy_(t);
                }
            }
        }
    }
}

}  // namespace preflab
