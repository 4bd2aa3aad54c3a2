#pragma once
// Whether preference pairs fit a model's context, told without loading its
// weights: the model's tokenizer, prompt format and context length, and the
// one truncation rule training applies (context_fit.h). `preflab import`
// uses it to say how many imported pairs a model will see cut. No torch in
// this header.
#include <memory>
#include <string>

namespace preflab {

class PairContextCheck {
public:
    // A PrefLab model file, a Hugging Face folder or a cached repository id;
    // the starter's name (or empty): the built-in model, pretrained or not. Throws
    // std::runtime_error naming the model when it cannot be read.
    explicit PairContextCheck(const std::string& model);
    ~PairContextCheck();
    PairContextCheck(const PairContextCheck&) = delete;
    PairContextCheck& operator=(const PairContextCheck&) = delete;

    // True when training would cut this pair (prompt's start, responses' end).
    // An imported conversation passes its prompt's messages as stored (a JSON
    // list), which a chat template renders.
    bool wouldTruncate(const std::string& prompt, const std::string& chosen, const std::string& rejected,
                       const std::string& promptMessagesJson = {}) const;
    int64_t contextTokens() const;
    const std::string& modelName() const;

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

}  // namespace preflab
