#include "core/judges/llm_judge.h"

#include "core/hf/bpe_tokenizer.h"
#include "core/hf/chat_template.h"
#include "core/hf/hf_model.h"
#include "core/hf/prompt_ids.h"
#include "core/judges/default_judge_prompt.h"
#include "core/nn/transformer.h"
#include "core/values/model_names.h"
#include "core/values/win_rate.h"

#include <stdexcept>

namespace preflab {
namespace {

const char* const kPlaceholders[] = {"{prompt}", "{response_a}", "{response_b}"};

}  // namespace

std::string fillJudgePrompt(const std::string& tmpl, const std::string& prompt, const std::string& responseA,
                            const std::string& responseB) {
    const std::string* values[] = {&prompt, &responseA, &responseB};
    std::string out;
    size_t i = 0;
    while (i < tmpl.size()) {
        bool replaced = false;
        if (tmpl[i] == '{') {
            for (size_t k = 0; k < 3; ++k) {
                const std::string key = kPlaceholders[k];
                if (tmpl.compare(i, key.size(), key) == 0) {
                    out += *values[k];
                    i += key.size();
                    replaced = true;
                    break;
                }
            }
        }
        if (!replaced) out += tmpl[i++];
    }
    return out;
}

std::string defaultJudgePrompt() {
    return kDefaultJudgePrompt;
}

struct LlmJudge::Impl {
    std::string folder;
    std::string tmpl;
    Transformer model{nullptr};
    std::unique_ptr<Tokenizer> tokenizer;
    std::optional<ChatTemplate> chat;
    int32_t tokenA = -1, tokenB = -1;
    OrderChecks checks;

    int32_t singleToken(const std::string& letter) const {
        const TokenIds ids = tokenizer->encode(letter);
        if (ids.size() != 1) {
            throw std::runtime_error(folder + ": the answer \"" + letter + "\" is " + std::to_string(ids.size()) +
                                     " tokens in this model's tokenizer; the LLM judge reads one token");
        }
        return ids[0];
    }
};

LlmJudge::LlmJudge(const std::string& path, const std::string& promptTemplate) : d(std::make_unique<Impl>()) {
    const ResolvedModel resolved = resolveModel(path);
    if (resolved.kind != ModelKind::HfFolder) {
        throw std::runtime_error(path + ": the LLM judge needs a Hugging Face causal-LM folder (or a cached model id)");
    }
    d->folder = resolved.path;
    d->tmpl = promptTemplate.empty() ? defaultJudgePrompt() : promptTemplate;
    for (const char* p : kPlaceholders) {
        if (d->tmpl.find(p) == std::string::npos) {
            throw std::runtime_error(std::string("the judge prompt has no ") + p +
                                     " (it needs {prompt}, {response_a} and {response_b})");
        }
    }
    HfModelInfo info;
    d->model = loadHfModel(d->folder, at::kFloat, &info);
    if (info.sequenceClassifier) {
        throw std::runtime_error(d->folder + ": a reward model (a classifier), not an instruct model: use it with "
                                             "judge reward_model");
    }
    d->model->eval();
    d->tokenizer = loadFolderTokenizer(d->folder);
    d->chat = readFolderChatTemplate(d->folder);
    d->tokenA = d->singleToken("A");
    d->tokenB = d->singleToken("B");
}

LlmJudge::~LlmJudge() = default;

OrderChecks LlmJudge::takeOrderChecks() {
    OrderChecks out = d->checks;
    d->checks = {};
    return out;
}

std::string LlmJudge::renderedPrompt(const std::string& prompt, const std::string& first,
                                     const std::string& second) const {
    return d->chat->apply(fillJudgePrompt(d->tmpl, prompt, first, second));
}

double LlmJudge::preferenceLogit(const std::string& prompt, const std::string& first, const std::string& second) {
    torch::NoGradGuard noGrad;
    const TokenIds ids = promptTokenIds(*d->tokenizer, d->chat, fillJudgePrompt(d->tmpl, prompt, first, second));
    const int64_t maxLen = d->model->config().maxSeqLen;
    if (ids.empty() || static_cast<int64_t>(ids.size()) > maxLen) {
        throw std::runtime_error(d->folder + ": the judge prompt is " + std::to_string(ids.size()) +
                                 " tokens, longer than the model's " + std::to_string(maxLen) +
                                 " (shorten judge_prompt or max_new_tokens)");
    }
    const int64_t T = static_cast<int64_t>(ids.size());
    at::Tensor x = at::empty({1, T}, at::kLong);
    for (int64_t t = 0; t < T; ++t) x[0][t] = static_cast<int64_t>(ids[static_cast<size_t>(t)]);
    const at::Tensor logits = d->model->forward(x, at::ones({1, T}, at::kLong))[0][T - 1].to(at::kDouble);
    // The softmax's normaliser cancels: log p(A) - log p(B) = logit(A) - logit(B).
    return logits[d->tokenA].item<double>() - logits[d->tokenB].item<double>();
}

Choice LlmJudge::decide(const PairForJudging& pair) {
    auto verdict = [](double logit) { return logit > 0 ? Choice::A : logit < 0 ? Choice::B : Choice::Tie; };
    const Choice first = verdict(preferenceLogit(pair.prompt, pair.responseA, pair.responseB));
    const Choice second = verdict(preferenceLogit(pair.prompt, pair.responseB, pair.responseA));
    ++d->checks.asked;
    if (verdictFlips(first, second)) ++d->checks.flipped;
    return bothOrdersVerdict(first, second);
}

}  // namespace preflab
