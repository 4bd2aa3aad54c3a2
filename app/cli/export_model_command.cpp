// preflab export-model: writes a run's checkpoint of a Hugging Face model as
// a Hugging Face folder other tools load (model.safetensors + config.json +
// tokenizer files):
//   preflab export-model --model FOLDER --checkpoint step-00000300.pt --out DIR [--dtype bf16]
#include "app/cli/commands.h"
#include "core/hf/hf_model.h"
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
    p.addOption({"out", "the folder to write", "DIR"});
    p.addOption({"dtype", "stored dtype: fp32 (default), bf16 or fp16", "DTYPE", "fp32"});
    p.process(QStringList{"preflab export-model"} + args);
    if (!p.isSet("model") || !p.isSet("out")) {
        std::fprintf(stderr, "preflab export-model: --model FOLDER and --out DIR are required\n");
        return 2;
    }
    const QString dtypeName = p.value("dtype");
    const at::ScalarType dtype = dtypeName == "bf16" ? at::kBFloat16 : dtypeName == "fp16" ? at::kHalf : at::kFloat;
    if (dtypeName != "fp32" && dtypeName != "bf16" && dtypeName != "fp16") {
        std::fprintf(stderr, "preflab export-model: --dtype is fp32, bf16 or fp16\n");
        return 2;
    }
    try {
        Transformer model = loadHfModel(p.value("model").toStdString());
        if (p.isSet("checkpoint")) loadModelInto(p.value("checkpoint").toStdString(), model);
        exportHfFolder(model, p.value("model").toStdString(), p.value("out").toStdString(), dtype);
        std::printf("wrote %s (model.safetensors, %s, with the source's config and tokenizer files)\n",
                    qPrintable(p.value("out")), qPrintable(dtypeName));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "preflab export-model: %s\n", e.what());
        return 1;
    }
    return 0;
}

}  // namespace preflab
