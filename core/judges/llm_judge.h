#pragma once
// An instruct model as judge (issue 30 item 3): a Hugging Face causal-LM
// folder is shown the judge prompt (judge_prompt: a template with {prompt},
// {response_a} and {response_b}; empty: resources/judge_prompt.txt) as one
// user turn in its chat template, and its verdict is whichever of the
// next tokens "A" and "B" it finds more likely. Every pair is asked in both
// orders; a verdict that changes with the order is a tie (position bias, the
// known weakness of LLM judges, is counted: takeOrderChecks, judge/flip_rate).
// Runs on the calling thread (the training thread); no torch in this header.
#include "core/values/judge.h"

#include <memory>
#include <string>

namespace preflab {

// The judge prompt for one pair: `tmpl` with each {prompt}, {response_a} and
// {response_b} replaced in one pass (a response that contains a placeholder
// is not expanded again).
std::string fillJudgePrompt(const std::string& tmpl, const std::string& prompt, const std::string& responseA,
                            const std::string& responseB);
// The default judge prompt (resources/judge_prompt.txt).
std::string defaultJudgePrompt();

class LlmJudge final : public ImmediateJudge {
public:
    // Throws std::runtime_error naming the folder (a reward model, no
    // tokenizer, "A" or "B" not one token) or the template (a placeholder missing).
    LlmJudge(const std::string& folder, const std::string& promptTemplate);
    ~LlmJudge() override;
    LabelSource source() const override { return LabelSource::Llm; }
    OrderChecks takeOrderChecks() override;

    // log p("A") - log p("B") for the next token after the judge prompt of
    // (prompt, first, second), as the model's chat template renders it.
    double preferenceLogit(const std::string& prompt, const std::string& first, const std::string& second);
    // The text the model is shown for one order (the template filled in and rendered).
    std::string renderedPrompt(const std::string& prompt, const std::string& first, const std::string& second) const;

protected:
    Choice decide(const PairForJudging& pair) override;

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

}  // namespace preflab
