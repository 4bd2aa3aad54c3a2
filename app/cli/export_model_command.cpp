// preflab export-model: writes a run's checkpoint of a Hugging Face model as
// a Hugging Face folder other tools load (model.safetensors + config.json +
// tokenizer files; LoRA adapters merged in), and a LoRA run's adapters in
// PEFT's layout:
//   preflab export-model --model FOLDER --checkpoint step-00000300.pt --out DIR [--dtype bf16] [--peft DIR]
// --adapter PEFT_FOLDER instead of --checkpoint merges an adapter made elsewhere.
#include "app/cli/commands.h"
#include "core/values/model_names.h"
#include "core/hf/hf_model.h"
#include "core/hf/peft_adapter.h"
#include "core/nn/model_file.h"

#include <QCommandLineParser>

#include <cstdio>

namespace preflab {

int runExportModelCommand(const QStringList& args) {
    QCommandLineParser p;
    p.setApplicationDescription("Writes a checkpoint of a Hugging Face model as a Hugging Face folder.");
    p.addHelpOption();
    p.addOption({"model", "the Hugging Face folder the run started from", "FOLDER"});
    p.addOption({"checkpoint", "a checkpoint of that run (step-*.pt); omitted: the folder's own weights", "FILE"});
    p.addOption({"adapter", "a PEFT LoRA adapter folder to apply instead of a checkpoint", "FOLDER"});
    p.addOption({"out", "the Hugging Face folder to write (adapters merged in)", "DIR"});
    p.addOption({"peft", "also write the LoRA adapters as a PEFT adapter folder", "DIR"});
    p.addOption({"dtype", "stored dtype: fp32 (default), bf16 or fp16", "DTYPE", "fp32"});
    p.process(QStringList{"preflab export-model"} + args);
    if (!p.isSet("model") || (!p.isSet("out") && !p.isSet("peft"))) {
        std::fprintf(stderr, "preflab export-model: --model FOLDER and --out DIR (or --peft DIR) are required\n");
        return 2;
    }
    if (p.isSet("checkpoint") && p.isSet("adapter")) {
        std::fprintf(stderr, "preflab export-model: give --checkpoint or --adapter, not both\n");
        return 2;
    }
    const QString dtypeName = p.value("dtype");
    const at::ScalarType dtype = dtypeName == "bf16" ? at::kBFloat16 : dtypeName == "fp16" ? at::kHalf : at::kFloat;
    if (dtypeName != "fp32" && dtypeName != "bf16" && dtypeName != "fp16") {
        std::fprintf(stderr, "preflab export-model: --dtype is fp32, bf16 or fp16\n");
        return 2;
    }
    try {
        const std::string folder = resolveModel(p.value("model").toStdString()).path;
        Transformer model = loadHfModel(folder);
        if (p.isSet("checkpoint")) loadModelInto(p.value("checkpoint").toStdString(), model);
        if (p.isSet("adapter")) loadPeftAdapter(model, p.value("adapter").toStdString());
        if (p.isSet("peft")) {
            exportPeftAdapter(model, folder, p.value("peft").toStdString());
            std::printf("wrote %s (adapter_config.json, adapter_model.safetensors: LoRA %s)\n",
                        qPrintable(p.value("peft")), model->lora().serialize().c_str());
        }
        if (p.isSet("out")) {
            exportHfFolder(model, folder, p.value("out").toStdString(), dtype);
            std::printf("wrote %s (model.safetensors, %s%s, with the source's config and tokenizer files)\n",
                        qPrintable(p.value("out")), qPrintable(dtypeName), model->hasLora() ? ", LoRA merged" : "");
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "preflab export-model: %s\n", e.what());
        return 1;
    }
    return 0;
}

}  // namespace preflab
