#pragma once
// The units the online loop trains on, as they move from generation through
// judging into a batch: a generated pair awaiting its judgement, a judged pair
// ready for a pairwise step, and a rated response for the CPO family.
// Token ids and numbers only; core-private.
#include "core/task/toy_world_task.h"
#include "core/text/tokenizer.h"

#include <cstdint>
#include <optional>

namespace preflab {

struct Candidate {  // a generated pair waiting for its judgement
    const TaskPrompt* taskPrompt = nullptr;  // in LoopContext::trainPrompts
    TokenIds prompt, a, b;
    double refA = 0, refB = 0, goldA = 0, goldB = 0;
    double samplingA = 0, samplingB = 0;  // log-probability under the distribution sampled
    int64_t generatedAt = 0;
};

struct TrainablePair {  // a judged pair: the pairwise family's unit
    int64_t index = 0;
    TokenIds prompt, chosen, rejected;
    TokenIds rejectedPrompt;  // KTO's unpaired examples: the rejected response's own prompt (empty: `prompt`)
    double refChosen = 0, refRejected = 0;
    int64_t generatedAt = 0;
    std::optional<bool> agreesWithGold;
    bool online = true;  // false: a dataset pair (offline methods, SAIL's mixed-in share)
};

struct RatedItem {  // one response with its outcome: the CPO family's unit
    TokenIds prompt, response;
    double outcome = 0;
    double behaviourLogprob = 0;  // log P^R: the presenting policy's sampling probability
    double sentences = 0;         // for the confounded outcome model of the bench
    int64_t generatedAt = 0;
    int64_t pairIndex = -1;       // the generated pair it came from (-1: stored data)
    int fold = 0;                 // cross-fitting fold: the outcome model that fits it (0 or 1)
};

}  // namespace preflab
