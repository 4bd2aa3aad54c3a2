#pragma once
// Dataset pairs' reference log-probabilities, computed once per pair
// (ref_logprobs = cache; issue 33): the reference never changes during a run,
// so a pair drawn again in a later epoch reuses its values, and a stored
// pair's values come from the database when an earlier run computed them
// under the same reference. A stored value is used only when its fingerprint
// (reference weights, compute type, tokenizer, context length, prefix sharing) and its
// tokens key (the pair's token ids as fitted) match this run's; an unusable
// one (not a finite log-probability) is recomputed and reported once.
// Core-private (torch); the training thread owns it.
#include "core/loop/loop_context.h"
#include "core/loop/loop_items.h"
#include "core/loop/loop_models.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace preflab {

// The fingerprint of the reference a run computes log-probabilities under:
// a hash of its weights (with LoRA: the base weights, adapters excluded),
// the compute type, the tokenizer, the context length and whether pairs are
// packed with their prompt once, as text.
std::string referenceFingerprint(LoopModels& models, bool prefixSharing);

// A key of a pair's token ids as the reference sees them (prompt, chosen,
// rejected, the rejected response's own prompt): any change of tokenizer,
// prompt format or fitting changes it.
int64_t pairTokensKey(const TrainablePair& pair);

class ReferenceCache {
public:
    ReferenceCache(LoopContext& ctx, LoopModels& models) : m_ctx(ctx), m_models(models) {}

    // Sets refChosen and refRejected of `pairs`, each drawn from
    // setup.offlinePairs at pairs[i].index: from the cache where it holds
    // them, the rest in one reference pass (reported to the observer for
    // stored pairs). With ref_logprobs = recompute, all in one pass.
    void fill(std::vector<TrainablePair>& pairs);

private:
    struct Known {
        int64_t tokensKey = 0;
        double chosen = 0, rejected = 0;
    };
    // The values for dataset pair `index` with tokens key `key`, if usable.
    std::optional<Known> lookUp(size_t index, int64_t key);
    const std::string& fingerprint();

    LoopContext& m_ctx;
    LoopModels& m_models;
    std::string m_fingerprint;            // computed on first use
    std::vector<std::optional<Known>> m_known;  // by dataset pair index
    bool m_noticed = false;               // an unusable stored value was reported
};

}  // namespace preflab
