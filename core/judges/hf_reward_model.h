#pragma once
// A Hugging Face reward model (a *ForSequenceClassification folder with one
// label: GPT-2's, Llama's, Qwen2's) scoring responses as transformers does:
// the prompt and response as one user turn and its answer in the model's
// chat template (core/hf/chat_template.h; no template: the two texts
// concatenated, with the tokenizer's BOS in front where its
// tokenizer_config.json sets add_bos_token), through the body, and the
// score head at the last token. The template is rendered as transformers
// renders it (Jinja; Qwen2's default system turn included). Runs on the calling
// thread (the training thread or a command's); core-private (torch).
#include "core/hf/chat_template.h"
#include "core/nn/transformer.h"
#include "core/text/tokenizer.h"

#include <memory>
#include <string>
#include <vector>

namespace preflab {

class HfRewardModel {
public:
    // Throws std::runtime_error naming the folder and what is wrong (not a
    // classifier, more than one label, a missing tokenizer).
    explicit HfRewardModel(const std::string& folder);
    ~HfRewardModel();

    // One score per (prompt, response), batched.
    std::vector<double> score(const std::vector<std::string>& prompts, const std::vector<std::string>& responses);
    // The token ids scored for one pair (what score() feeds the body).
    TokenIds ids(const std::string& prompt, const std::string& response) const;
    // The ids' scores, each read at its last token.
    std::vector<double> scoreIds(const std::vector<TokenIds>& sequences);
    // "ChatML template", "plain (no template)", ...
    std::string describe() const;

private:
    std::string m_folder;
    Transformer m_model{nullptr};
    std::unique_ptr<Tokenizer> m_tokenizer;
    ChatTemplate m_chat;
    bool m_addBos = false;
};

}  // namespace preflab
