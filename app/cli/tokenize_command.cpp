// preflab tokenize --model PATH: reads text on standard input and prints the
// token ids of each line (space-separated, one output line per input line),
// so prompts can be debugged and tokenizers compared by script. PATH is a
// Hugging Face model folder (its tokenizer.json), a tokenizer.json file, or
// the starter (the built-in byte tokenizer).
#include "app/cli/commands.h"
#include "core/hf/bpe_tokenizer.h"
#include "core/values/model_names.h"
#include "core/text/byte_tokenizer.h"

#include <QCommandLineParser>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>

namespace preflab {

int runTokenizeCommand(const QStringList& args) {
    QCommandLineParser p;
    p.setApplicationDescription(
        "Prints the token ids of each line read on standard input, space-separated, one line per input line.");
    p.addHelpOption();
    p.addOption({"model", QStringLiteral("a Hugging Face model folder, a cached model id (org/name), a tokenizer.json file, or '%1'")
                              .arg(kStarterModelName), "PATH"});
    p.process(QStringList{"preflab tokenize"} + args);
    if (!p.isSet("model")) {
        std::fprintf(stderr, "preflab tokenize: --model PATH is required\n");
        return 2;
    }
    std::unique_ptr<Tokenizer> tokenizer;
    try {
        const std::string model = p.value("model").toStdString();
        if (isStarterModel(model)) {
            tokenizer = std::make_unique<ByteTokenizer>();
        } else if (const ResolvedModel m = resolveModel(model); m.kind == ModelKind::HfFolder) {
            tokenizer = loadFolderTokenizer(m.path);
        } else {
            tokenizer = std::make_unique<BpeTokenizer>(m.path);
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "preflab tokenize: %s\n", e.what());
        return 1;
    }
    std::string line;
    std::string out;
    while (std::getline(std::cin, line)) {
        out.clear();
        for (int32_t id : tokenizer->encode(line)) {
            if (!out.empty()) out.push_back(' ');
            out += std::to_string(id);
        }
        out.push_back('\n');
        std::fwrite(out.data(), 1, out.size(), stdout);
    }
    return 0;
}

}  // namespace preflab
