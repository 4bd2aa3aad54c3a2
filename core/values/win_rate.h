#pragma once
// Win rate against the reference (issue 30 item 4, algorithms.md §8): the
// policy's response and the reference's response to the same held-out
// prompt, judged by the run's machine judge. Counting, the interval, the
// rule that turns an order-dependent verdict into a tie, and the names the
// evaluator, the plots and summaries show for the judge and a proxy gold.
// Plain C++ (no torch), any thread; the UI links it.
#include "core/values/label.h"
#include "core/values/run_config.h"

#include <cstdint>
#include <string>

namespace preflab {

// Verdicts on (policy, reference) pairs: A is the policy's response.
struct WinRateCount {
    int64_t wins = 0, ties = 0, losses = 0;
    int64_t judged() const { return wins + ties + losses; }
    // A: a win, B: a loss, Tie and BothBad: a tie; Skip is not counted.
    void add(Choice policyIsA);
};

struct WinRate {
    int64_t n = 0;
    double rate = 0;  // (wins + ties / 2) / n; NaN for n = 0
    // Wilson's 95 % score interval of the proportion `rate` over n trials
    // (ties counted as half a win, as the rate counts them): inside [0, 1]
    // and not empty at 0 or n wins, which small evaluation sets often hit.
    double low = 0, high = 0;
};
WinRate winRate(const WinRateCount& c);

// The verdict of a judge asked in both orders. `firstOrder` answers
// (A, B); `swappedOrder` answers the same two responses shown as (B, A), in
// the swapped positions' terms (its A is the first order's B). Agreeing
// verdicts give the verdict; a verdict that flips with the order (the same
// position preferred both times) is a tie, as is any other disagreement.
Choice bothOrdersVerdict(Choice firstOrder, Choice swappedOrder);
// True when the two answers disagree once the positions are mapped back
// (what judge/flip_rate counts).
bool verdictFlips(Choice firstOrder, Choice swappedOrder);
// A with B exchanged (Tie, BothBad and Skip unchanged).
Choice swapped(Choice c);

// Which judge scores the win rate of a run with this config, as people read
// it ("task's true reward", "reward model rm.pt", ...); empty when there is
// none, and then `whyNone` says why (a person judging with no machine
// fallback, the policy judging itself).
std::string winRateJudgeName(const RunConfig& c, std::string* whyNone = nullptr);
// "win rate vs reference (judge: X)" for this config.
std::string winRateDisplayName(const RunConfig& c);
// With gold_model set: "proxy gold (reward model NAME)"; empty otherwise.
std::string proxyGoldDisplayName(const RunConfig& c);

}  // namespace preflab
