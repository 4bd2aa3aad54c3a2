#include "core/values/label.h"

#include <chrono>

namespace preflab {

std::string toString(Choice c) {
    switch (c) {
    case Choice::A: return "a";
    case Choice::B: return "b";
    case Choice::Tie: return "tie";
    case Choice::BothBad: return "both_bad";
    case Choice::Skip: return "skip";
    }
    return "skip";
}

std::string toString(LabelSource s) {
    switch (s) {
    case LabelSource::Human: return "human";
    case LabelSource::Self: return "self";
    case LabelSource::RewardModel: return "reward_model";
    case LabelSource::Task: return "task";
    case LabelSource::Import: return "import";
    case LabelSource::Adjudicated: return "adjudicated";
    case LabelSource::Llm: return "llm";
    }
    return "task";
}

std::optional<Choice> choiceFromString(const std::string& s) {
    for (Choice c : {Choice::A, Choice::B, Choice::Tie, Choice::BothBad, Choice::Skip}) {
        if (toString(c) == s) return c;
    }
    return std::nullopt;
}

std::optional<LabelSource> labelSourceFromString(const std::string& s) {
    for (LabelSource v : {LabelSource::Human, LabelSource::Self, LabelSource::RewardModel, LabelSource::Task,
                          LabelSource::Import, LabelSource::Adjudicated, LabelSource::Llm}) {
        if (toString(v) == s) return v;
    }
    return std::nullopt;
}

int64_t nowMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace preflab
