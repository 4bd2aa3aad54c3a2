#include "core/models/pair_context_check.h"

#include "core/hf/bpe_tokenizer.h"
#include "core/hf/chat_template.h"
#include "core/values/model_names.h"
#include "core/hf/hf_model.h"
#include "core/hf/prompt_ids.h"
#include "core/task/starter_model.h"
#include "core/nn/model_file.h"
#include "core/text/byte_tokenizer.h"
#include "core/text/context_fit.h"

#include <filesystem>
#include <optional>
#include <stdexcept>

namespace preflab {

struct PairContextCheck::Impl {
    std::string name;
    std::shared_ptr<const Tokenizer> tokenizer;
    std::optional<ChatTemplate> chat;
    int64_t context = 0;
};

PairContextCheck::PairContextCheck(const std::string& model) : d(std::make_unique<Impl>()) {
    if (isStarterModel(model)) {
        d->name = "the built-in starter model";
        d->tokenizer = std::make_shared<ByteTokenizer>();
        d->context = PretrainSpec{}.model.maxSeqLen;  // the shape the starter is pretrained with
        return;
    }
    const std::string path = resolveModel(model).path;
    d->name = path;
    if (std::filesystem::is_directory(path)) {
        d->tokenizer = loadFolderTokenizer(path);
        d->chat = readFolderChatTemplate(path);
        d->context = readHfModelConfig(path).config.maxSeqLen;
    } else {
        const ModelFileInfo info = readModelInfo(path);
        if (info.tokenizer != "byte") {
            throw std::runtime_error(path + ": tokenizer '" + info.tokenizer + "' is not supported (expected 'byte')");
        }
        d->tokenizer = std::make_shared<ByteTokenizer>();
        d->context = info.config.maxSeqLen;
    }
}

PairContextCheck::~PairContextCheck() = default;

bool PairContextCheck::wouldTruncate(const std::string& prompt, const std::string& chosen, const std::string& rejected,
                                     const std::string& promptMessagesJson) const {
    // As the loop builds them: the prompt in the model's format, each response
    // followed by EOS (dataset_pairs.cpp).
    TokenIds p = promptTokenIds(*d->tokenizer, d->chat, prompt, chatMessagesFromJson(promptMessagesJson));
    TokenIds c = d->tokenizer->encode(chosen), r = d->tokenizer->encode(rejected);
    c.push_back(d->tokenizer->special().eos);
    r.push_back(d->tokenizer->special().eos);
    return fitPairToContext(p, c, r, static_cast<size_t>(d->context), d->tokenizer->special().bos);
}

int64_t PairContextCheck::contextTokens() const {
    return d->context;
}

const std::string& PairContextCheck::modelName() const {
    return d->name;
}

}  // namespace preflab
