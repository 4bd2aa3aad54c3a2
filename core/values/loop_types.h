#pragma once
// Plain value types the online loop reports through LoopObserver. They cross
// threads (training -> storage, training -> UI) and carry no tensors.
#include "core/values/chat_message.h"
#include "core/values/label.h"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace preflab {

struct MetricSample {
    int64_t step = 0;
    std::string name;
    double value = 0;
    int64_t timeMs = 0;
};

struct GeneratedResponse {
    std::string text;
    int64_t tokenCount = 0;
    bool endedWithEos = false;
    double policyLogprob = 0;    // c_theta under the generating policy
    double samplingLogprob = 0;  // under the distribution actually sampled (temperature, top-k/p)
    double refLogprob = 0;       // c_ref
    std::optional<double> goldReward;
};

struct PairRecord {
    int64_t pairIndex = 0;        // run-local, increasing
    int64_t generatedAtStep = 0;  // the policy's step when it sampled the pair
    std::string prompt;
    GeneratedResponse a, b;
};

// A pair's reference log-probabilities (summed over each response's tokens)
// computed once and kept with the stored pair (schema v13, issue 33). They
// hold only for the reference they were computed under (`fingerprint`: its
// weights, compute type, tokenizer and context length) and for the token ids
// they were computed on (`tokensKey`: the prompt and responses as tokenized
// and fitted to the context); otherwise they are recomputed.
struct CachedReferenceLogprobs {
    std::string fingerprint;
    int64_t tokensKey = 0;
    double chosen = 0, rejected = 0;
};

// A stored or imported preference: the offline methods train on these.
struct OfflinePair {
    std::string prompt, chosen, rejected;
    // An imported conversation's prompt turns; a Hugging Face model's chat
    // template renders them (the built-in model reads `prompt`, their plain text).
    std::vector<ChatMessage> promptMessages;
    // KTO on unpaired labels: the undesirable response's own prompt (a
    // desirable and an undesirable example need not share one); empty: `prompt`.
    std::string rejectedPrompt;
    // The stored pair (pairs.id; 0: not stored, e.g. a file's line) and
    // which of its responses, a or b, is `chosen` here.
    int64_t pairId = 0;
    bool chosenIsA = true;
    // What the database keeps for it, as read (possibly stale or unusable:
    // the loop checks it before use).
    std::optional<CachedReferenceLogprobs> cachedRef;
};

// Reference log-probabilities a run computed for a stored pair, to keep with it.
struct ReferenceLogprobRecord {
    int64_t pairId = 0;
    bool chosenIsA = true;
    CachedReferenceLogprobs values;
};

// Something about a run the loop itself noticed (not read from the metrics:
// those are run_warnings.h's), with what to do about it. Raised once per kind.
struct LoopNotice {
    std::string kind;
    int64_t step = 0;
    std::string message;
    std::string advice;
};

// A response with a numeric outcome (a 1-7 rating, or the task's true
// reward) and the log-probability under which the presenting policy sampled
// it: the CPO family's data (algorithms.md §3).
struct RatedResponse {
    std::string prompt, response;
    bool endedWithEos = true;
    double outcome = 0;
    double behaviourLogprob = 0;  // log P^R(response | prompt), summed over tokens
};

// The policy's response to one of the fixed display prompts at an evaluation
// (the completions view shows them across steps). Sampled with the same seed
// at every evaluation, so a response changes only where the policy did.
struct EvalSample {
    int64_t promptIndex = 0;
    std::string prompt;
    std::string text;
    double goldReward = 0;
};

struct CheckpointRecord {
    int64_t step = 0;
    std::string path;
    std::vector<std::pair<std::string, double>> metrics;
};

class LoopObserver {
public:
    virtual ~LoopObserver() = default;
    virtual void pairsGenerated(const std::vector<PairRecord>&) {}
    virtual void pairsJudged(const std::vector<Judgement>&) {}
    // Pairs used by the gradient step `step`.
    virtual void pairsTrained(int64_t /*step*/, const std::vector<int64_t>& /*pairIndices*/) {}
    virtual void metricsLogged(const std::vector<MetricSample>&) {}
    virtual void checkpointSaved(const CheckpointRecord&) {}
    virtual void evaluationSamples(int64_t /*step*/, const std::vector<EvalSample>&) {}
    // Reference log-probabilities computed for stored pairs (ref_logprobs = cache).
    virtual void referenceLogprobsComputed(const std::vector<ReferenceLogprobRecord>&) {}
    virtual void noticeRaised(const LoopNotice&) {}
};

}  // namespace preflab
