#include "core/judges/hf_reward_model.h"

#include "core/hf/bpe_tokenizer.h"
#include "core/hf/hf_model.h"
#include "core/hf/json_file.h"

#include <QJsonObject>

#include <algorithm>
#include <filesystem>
#include <stdexcept>

namespace preflab {
namespace {

constexpr size_t kBatch = 16;  // sequences per forward pass

}  // namespace

HfRewardModel::HfRewardModel(const std::string& folder) : m_folder(folder) {
    HfModelInfo info;
    m_model = loadHfModel(folder, at::kFloat, &info);
    if (!info.sequenceClassifier) {
        throw std::runtime_error(folder + ": a language model, not a reward model (config.json's architectures name no "
                                          "*ForSequenceClassification)");
    }
    m_model->eval();
    m_tokenizer = loadFolderTokenizer(folder);
    m_chat = readFolderChatTemplate(folder);
    const std::filesystem::path config = std::filesystem::path(folder) / "tokenizer_config.json";
    if (std::filesystem::exists(config)) {
        m_addBos = readJsonObjectFile(config.string()).value(QStringLiteral("add_bos_token")).toBool(false);
    }
}

HfRewardModel::~HfRewardModel() = default;

std::string HfRewardModel::describe() const {
    return m_chat.describe();
}

TokenIds HfRewardModel::ids(const std::string& prompt, const std::string& response) const {
    TokenIds out;
    if (m_chat.plain() && m_addBos && m_tokenizer->special().bos >= 0) out.push_back(m_tokenizer->special().bos);
    const TokenIds body = m_tokenizer->encode(m_chat.applyExchange(prompt, response));
    out.insert(out.end(), body.begin(), body.end());
    return out;
}

std::vector<double> HfRewardModel::scoreIds(const std::vector<TokenIds>& sequences) {
    torch::NoGradGuard noGrad;
    const int64_t maxLen = m_model->config().maxSeqLen;
    std::vector<double> out;
    for (size_t start = 0; start < sequences.size(); start += kBatch) {
        const size_t end = std::min(sequences.size(), start + kBatch);
        size_t longest = 1;
        for (size_t i = start; i < end; ++i) {
            if (sequences[i].empty()) throw std::runtime_error(m_folder + ": an empty text has no token to score");
            if (static_cast<int64_t>(sequences[i].size()) > maxLen) {
                throw std::runtime_error(m_folder + ": a text of " + std::to_string(sequences[i].size()) +
                                         " tokens is longer than the model's " + std::to_string(maxLen));
            }
            longest = std::max(longest, sequences[i].size());
        }
        const int64_t B = static_cast<int64_t>(end - start), T = static_cast<int64_t>(longest);
        // Right padding: every real token keeps its position, and the scalar
        // head reads each row's last real token (TransformerImpl::scalar).
        at::Tensor idsT = at::zeros({B, T}, at::kLong), mask = at::zeros({B, T}, at::kLong);
        for (int64_t b = 0; b < B; ++b) {
            const TokenIds& s = sequences[start + static_cast<size_t>(b)];
            for (size_t t = 0; t < s.size(); ++t) {
                idsT[b][static_cast<int64_t>(t)] = s[t];
                mask[b][static_cast<int64_t>(t)] = 1;
            }
        }
        const at::Tensor v = m_model->scalar(idsT, mask).to(at::kDouble).contiguous();
        out.insert(out.end(), v.data_ptr<double>(), v.data_ptr<double>() + v.numel());
    }
    return out;
}

std::vector<double> HfRewardModel::score(const std::vector<std::string>& prompts, const std::vector<std::string>& responses) {
    if (prompts.size() != responses.size()) throw std::invalid_argument("HfRewardModel::score: one prompt per response");
    std::vector<TokenIds> sequences;
    for (size_t i = 0; i < prompts.size(); ++i) sequences.push_back(ids(prompts[i], responses[i]));
    return scoreIds(sequences);
}

}  // namespace preflab
