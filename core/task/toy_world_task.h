#pragma once
// The built-in demonstration task: short English prompts about a small world of
// animals, and a programmatic true reward a person would agree with at a glance.
// Deterministic from a seed; plain C++, immutable, shareable between threads.
//
// Prompts: "Tell me about the red fox." / "Where does the owl live?" /
//          "What does the cat like?"  / "Describe the brown dog."
// Responses are sentences of a tiny grammar, e.g.
//   "Sure! The fox is friendly. The fox lives in the forest."
//
// True reward (sum of the parts; see RewardBreakdown):
//   topic      +1.0 when the prompt's animal is mentioned, else -1.0;
//              -0.5 for each sentence about another animal
//   answer     +0.5 when a sentence answers the question asked (where/likes)
//   tone       +0.5 per kind word ("friendly", "Thanks for asking."),
//              -0.75 per unkind one ("grumpy", "Ugh, fine.")
//   concise    -0.3 per sentence beyond two
//   repetition -1.0 per sentence that repeats an earlier one
//   form       -1.5 per sentence outside the grammar (gibberish, cut off)
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace preflab {

struct TaskPrompt {
    std::string text;
    std::string animal;
    enum class Kind { About, Where, Likes, Describe } kind = Kind::About;
};

struct RewardBreakdown {
    double topic = 0, answer = 0, tone = 0, concise = 0, repetition = 0, form = 0;
    int sentences = 0;
    double total() const { return topic + answer + tone + concise + repetition + form; }
};

// The reward's parts by name (in RewardBreakdown's order), and those in
// which two responses' breakdowns differ: what a reward model must tell
// apart to order the pair (`preflab train-rm --json`'s accuracy_by_component).
enum class RewardComponent { Topic, Answer, Tone, Concise, Repetition, Form };
const std::vector<RewardComponent>& rewardComponents();
const char* rewardComponentName(RewardComponent c);
double componentValue(const RewardBreakdown& r, RewardComponent c);
std::vector<RewardComponent> differingComponents(const RewardBreakdown& a, const RewardBreakdown& b);

class ToyWorldTask {
public:
    // n prompts; the same seed gives the same prompts.
    std::vector<TaskPrompt> prompts(int n, uint64_t seed) const;
    // Parses a prompt this task generated (or any text naming one of its animals).
    TaskPrompt parsePrompt(const std::string& text) const;

    // A response from the broad pretraining distribution: on- or off-topic,
    // kind or unkind, short or long, sometimes repetitive.
    std::string sampleResponse(const TaskPrompt& prompt, std::mt19937_64& rng) const;

    RewardBreakdown score(const TaskPrompt& prompt, const std::string& response) const;
    double trueReward(const std::string& prompt, const std::string& response) const {
        return score(parsePrompt(prompt), response).total();
    }
};

}  // namespace preflab
