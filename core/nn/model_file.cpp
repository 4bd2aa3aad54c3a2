#include "core/nn/model_file.h"

#include "core/runtime/atomic_file.h"

#include <torch/serialize.h>


#include <filesystem>
#include <sstream>

namespace preflab {
namespace {

constexpr const char* kFormat = "preflab-model-1";

[[noreturn]] void fail(const std::string& path, const std::string& what) {
    throw ModelFileError(path + ": " + what);
}

std::string firstLine(const std::string& s) {
    return s.substr(0, s.find('\n'));
}

ModelFileInfo readInfo(torch::serialize::InputArchive& archive, const std::string& path) {
    c10::IValue format, config, tokenizer, counters;
    if (!archive.try_read("format", format) || !format.isString() || format.toStringRef() != kFormat) {
        fail(path, "not a PrefLab model file (missing or unknown format tag)");
    }
    if (!archive.try_read("config", config) || !config.isString()) fail(path, "model config missing");
    ModelFileInfo info;
    try {
        info.config = TransformerConfig::deserialize(config.toStringRef());
    } catch (const std::exception& e) {
        fail(path, e.what());
    }
    if (archive.try_read("tokenizer", tokenizer) && tokenizer.isString()) info.tokenizer = tokenizer.toStringRef();
    c10::IValue lora;
    if (archive.try_read("lora", lora) && lora.isString()) {
        try {
            info.lora = LoraConfig::deserialize(lora.toStringRef());
        } catch (const std::exception& e) {
            fail(path, e.what());
        }
    }
    torch::serialize::InputArchive countersArchive;
    if (archive.try_read("counters", countersArchive)) {
        for (const std::string& key : countersArchive.keys()) {
            c10::IValue v;
            countersArchive.read(key, v);
            if (v.isInt()) info.counters[key] = v.toInt();
        }
    }
    return info;
}

torch::serialize::InputArchive openArchive(const std::string& path) {
    if (!std::filesystem::exists(path)) fail(path, "file not found");
    torch::serialize::InputArchive archive;
    try {
        archive.load_from(path);
    } catch (const c10::Error& e) {
        fail(path, "cannot read model archive (truncated or not a model file): " + firstLine(e.what()));
    }
    return archive;
}

}  // namespace

void saveModelFile(const std::string& path, Transformer& model, const ModelFileInfo& info,
                   torch::optim::Optimizer* optimizer) {
    torch::serialize::OutputArchive archive;
    archive.write("format", c10::IValue(std::string(kFormat)));
    archive.write("config", c10::IValue(info.config.serialize()));
    archive.write("tokenizer", c10::IValue(info.tokenizer));
    if (model->hasLora()) archive.write("lora", c10::IValue(model->lora().serialize()));
    torch::serialize::OutputArchive counters;
    for (const auto& [key, value] : info.counters) counters.write(key, c10::IValue(value));
    archive.write("counters", counters);
    torch::serialize::OutputArchive weights;
    if (model->hasLora()) {
        for (const auto& item : model->named_parameters()) {
            if (item.value().requires_grad()) weights.write(item.key(), item.value());
        }
    } else {
        model->save(weights);
    }
    archive.write("model", weights);
    if (optimizer) {
        torch::serialize::OutputArchive opt;
        optimizer->save(opt);
        archive.write("optimizer", opt);
    }
    // LibTorch's archive writer reports a failed write (a full disk, a file
    // size limit) by throwing from its destructor, which terminates the
    // process. So the archive is serialised to memory, where writing cannot
    // fail, and the bytes go to disk through AtomicFile (every write and the
    // final rename checked): a failure is an error naming the file, the new
    // file's temporary is removed, and the previous file at `path` is untouched.
    std::ostringstream bytes(std::ios::binary);
    try {
        archive.save_to(bytes);
    } catch (const std::exception& e) {
        fail(path, std::string("cannot serialise the model: ") + firstLine(e.what()));
    }
    const std::string data = bytes.str();
    const std::string error = writeFileAtomically(path, data);
    if (!error.empty()) fail(path, error);
}

ModelFileInfo readModelInfo(const std::string& path) {
    torch::serialize::InputArchive archive = openArchive(path);
    return readInfo(archive, path);
}

ModelFileInfo loadModelInto(const std::string& path, Transformer& model, torch::optim::Optimizer* optimizer) {
    torch::serialize::InputArchive archive = openArchive(path);
    ModelFileInfo info = readInfo(archive, path);
    if (info.config.serialize() != model->config().serialize()) {
        fail(path, "model shape differs: file has " + info.config.serialize() + ", expected " +
                       model->config().serialize());
    }
    if (info.lora.rank > 0 && !model->hasLora()) model->addLora(info.lora);
    if (info.lora.rank > 0 && !(model->lora() == info.lora)) {
        fail(path, "LoRA settings differ: file has " + info.lora.serialize() + ", the run " + model->lora().serialize());
    }
    if (info.lora.rank == 0 && model->hasLora()) fail(path, "holds a whole model, not LoRA adapters");
    try {
        torch::serialize::InputArchive weights;
        if (!archive.try_read("model", weights)) fail(path, "weights missing");
        if (info.lora.rank > 0) {
            torch::NoGradGuard noGrad;
            for (auto& item : model->named_parameters()) {
                if (!item.value().requires_grad()) continue;
                at::Tensor stored;
                if (!weights.try_read(item.key(), stored)) fail(path, "adapter " + item.key() + " missing");
                if (stored.sizes() != item.value().sizes()) fail(path, "adapter " + item.key() + " has the wrong shape");
                item.value().copy_(stored);
            }
        } else {
            model->load(weights);
        }
        if (optimizer) {
            torch::serialize::InputArchive opt;
            if (!archive.try_read("optimizer", opt)) fail(path, "optimizer state missing (not a checkpoint)");
            optimizer->load(opt);
        }
    } catch (const c10::Error& e) {
        fail(path, "weights do not match the model: " + firstLine(e.what()));
    }
    return info;
}

Transformer loadModelFile(const std::string& path, ModelFileInfo* infoOut, torch::optim::Optimizer* optimizer) {
    const ModelFileInfo info = readModelInfo(path);
    if (info.lora.rank > 0) {
        fail(path, "holds LoRA adapters only; load it onto the model it was trained from (" + info.tokenizer + ")");
    }
    Transformer model(info.config);
    loadModelInto(path, model, optimizer);
    if (infoOut) *infoOut = info;
    return model;
}

}  // namespace preflab
