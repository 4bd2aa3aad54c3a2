#include "core/task/toy_world_task.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <set>
#include <sstream>

namespace preflab {
namespace {

const std::vector<std::string> kAnimals = {"cat", "dog", "fox", "owl", "bear", "duck", "frog", "horse"};
const std::vector<std::string> kColors = {"red", "brown", "white", "black", "grey", "small"};
const std::vector<std::string> kPlaces = {"forest", "garden", "barn", "pond", "meadow", "house"};
const std::vector<std::string> kFoods = {"apples", "fish", "seeds", "honey", "carrots", "bread"};
const std::vector<std::string> kToys = {"ball", "stick", "rope", "leaf"};
const std::vector<std::string> kKind = {"friendly", "gentle", "lovely", "kind", "happy"};
const std::vector<std::string> kNeutral = {"quiet", "big", "young", "old", "fast"};
const std::vector<std::string> kUnkind = {"grumpy", "nasty", "lazy", "awful", "mean"};
const std::vector<std::string> kKindOpeners = {"Sure!", "Thanks for asking."};
const std::vector<std::string> kUnkindOpeners = {"Ugh, fine.", "Whatever."};

template <typename T>
const T& pick(const std::vector<T>& v, std::mt19937_64& rng) {
    return v[rng() % v.size()];
}
bool chance(double p, std::mt19937_64& rng) {
    return std::uniform_real_distribution<double>(0.0, 1.0)(rng) < p;
}
bool contains(const std::vector<std::string>& v, const std::string& w) {
    return std::find(v.begin(), v.end(), w) != v.end();
}

std::vector<std::string> splitWords(const std::string& s) {
    std::vector<std::string> out;
    std::istringstream in(s);
    std::string w;
    while (in >> w) out.push_back(w);
    return out;
}

// Splits after '.', '!' or '?'; a trailing fragment without one is kept (and
// later counted as malformed).
std::vector<std::string> splitSentences(const std::string& text) {
    std::vector<std::string> out;
    std::string cur;
    for (char c : text) {
        cur.push_back(c);
        if (c == '.' || c == '!' || c == '?') {
            const auto b = cur.find_first_not_of(' ');
            if (b != std::string::npos) out.push_back(cur.substr(b));
            cur.clear();
        }
    }
    const auto b = cur.find_first_not_of(' ');
    if (b != std::string::npos) out.push_back(cur.substr(b));
    return out;
}

struct Sentence {
    enum class Kind { Opener, Is, Lives, Likes, Plays, Malformed } kind = Kind::Malformed;
    std::string animal;
    int kindWords = 0;
    int unkindWords = 0;
};

// Recognises exactly the sentences of the grammar sampleResponse() writes.
Sentence parseSentence(const std::string& s) {
    Sentence out;
    if (contains(kKindOpeners, s)) {
        out.kind = Sentence::Kind::Opener;
        out.kindWords = 1;
        return out;
    }
    if (contains(kUnkindOpeners, s)) {
        out.kind = Sentence::Kind::Opener;
        out.unkindWords = 1;
        return out;
    }
    if (s.empty() || s.back() != '.') return out;
    const std::vector<std::string> w = splitWords(s.substr(0, s.size() - 1));
    if (w.size() < 4 || w[0] != "The" || !contains(kAnimals, w[1])) return out;
    out.animal = w[1];
    if (w.size() == 4 && w[2] == "is") {
        if (contains(kKind, w[3])) out.kindWords = 1;
        else if (contains(kUnkind, w[3])) out.unkindWords = 1;
        else if (!contains(kNeutral, w[3])) return out;
        out.kind = Sentence::Kind::Is;
    } else if (w.size() == 6 && w[2] == "lives" && w[3] == "in" && w[4] == "the" && contains(kPlaces, w[5])) {
        out.kind = Sentence::Kind::Lives;
    } else if (w.size() == 4 && w[2] == "likes" && contains(kFoods, w[3])) {
        out.kind = Sentence::Kind::Likes;
    } else if (w.size() == 6 && w[2] == "plays" && w[3] == "with" && w[4] == "the" && contains(kToys, w[5])) {
        out.kind = Sentence::Kind::Plays;
    } else {
        out.animal.clear();
    }
    return out;
}

}  // namespace

std::vector<TaskPrompt> ToyWorldTask::prompts(int n, uint64_t seed) const {
    std::mt19937_64 rng(seed);
    std::vector<TaskPrompt> out;
    out.reserve(static_cast<size_t>(std::max(0, n)));
    for (int i = 0; i < n; ++i) {
        TaskPrompt p;
        p.animal = pick(kAnimals, rng);
        switch (rng() % 4) {
        case 0:
            p.kind = TaskPrompt::Kind::About;
            p.text = "Tell me about the " + pick(kColors, rng) + " " + p.animal + ".";
            break;
        case 1:
            p.kind = TaskPrompt::Kind::Where;
            p.text = "Where does the " + p.animal + " live?";
            break;
        case 2:
            p.kind = TaskPrompt::Kind::Likes;
            p.text = "What does the " + p.animal + " like?";
            break;
        default:
            p.kind = TaskPrompt::Kind::Describe;
            p.text = "Describe the " + pick(kColors, rng) + " " + p.animal + ".";
            break;
        }
        out.push_back(std::move(p));
    }
    return out;
}

TaskPrompt ToyWorldTask::parsePrompt(const std::string& text) const {
    TaskPrompt p;
    p.text = text;
    std::string cleaned;
    for (char c : text) cleaned.push_back((c == '.' || c == '?' || c == '!') ? ' ' : c);
    for (const std::string& w : splitWords(cleaned)) {
        if (contains(kAnimals, w)) p.animal = w;
    }
    if (text.rfind("Where", 0) == 0) p.kind = TaskPrompt::Kind::Where;
    else if (text.rfind("What does", 0) == 0) p.kind = TaskPrompt::Kind::Likes;
    else if (text.rfind("Describe", 0) == 0) p.kind = TaskPrompt::Kind::Describe;
    return p;
}

std::string ToyWorldTask::sampleResponse(const TaskPrompt& prompt, std::mt19937_64& rng) const {
    std::vector<std::string> sentences;
    if (chance(0.35, rng)) sentences.push_back(pick(kKindOpeners, rng));
    else if (chance(0.2, rng)) sentences.push_back(pick(kUnkindOpeners, rng));
    const int n = 1 + static_cast<int>(rng() % 3);
    for (int i = 0; i < n; ++i) {
        if (i > 0 && chance(0.15, rng)) {  // repeat an earlier sentence
            sentences.push_back(sentences[rng() % sentences.size()]);
            continue;
        }
        const std::string& a = chance(0.6, rng) ? prompt.animal : pick(kAnimals, rng);
        const std::string subject = "The " + a;
        switch (rng() % 4) {
        case 0: {
            const int tone = static_cast<int>(rng() % 3);
            const std::string& adj = tone == 0 ? pick(kKind, rng) : tone == 1 ? pick(kNeutral, rng) : pick(kUnkind, rng);
            sentences.push_back(subject + " is " + adj + ".");
            break;
        }
        case 1: sentences.push_back(subject + " lives in the " + pick(kPlaces, rng) + "."); break;
        case 2: sentences.push_back(subject + " likes " + pick(kFoods, rng) + "."); break;
        default: sentences.push_back(subject + " plays with the " + pick(kToys, rng) + "."); break;
        }
    }
    std::string out;
    for (const std::string& s : sentences) {
        if (!out.empty()) out += ' ';
        out += s;
    }
    return out;
}

RewardBreakdown ToyWorldTask::score(const TaskPrompt& prompt, const std::string& response) const {
    RewardBreakdown r;
    bool mentioned = false;
    bool answered = false;
    int content = 0;
    std::set<std::string> seen;
    for (const std::string& text : splitSentences(response)) {
        ++r.sentences;
        if (!seen.insert(text).second) r.repetition -= 1.0;
        const Sentence s = parseSentence(text);
        if (s.kind == Sentence::Kind::Malformed) {
            r.form -= 1.5;
            continue;
        }
        r.tone += 0.5 * s.kindWords - 0.75 * s.unkindWords;
        if (s.kind == Sentence::Kind::Opener) continue;
        ++content;
        if (s.animal == prompt.animal) {
            mentioned = true;
            if ((prompt.kind == TaskPrompt::Kind::Where && s.kind == Sentence::Kind::Lives) ||
                (prompt.kind == TaskPrompt::Kind::Likes && s.kind == Sentence::Kind::Likes)) {
                answered = true;
            }
        } else {
            r.topic -= 0.5;
        }
    }
    r.topic += mentioned ? 1.0 : -1.0;
    if (answered) r.answer = 0.5;
    if (content > 2) r.concise = -0.3 * (content - 2);
    return r;
}

const std::vector<RewardComponent>& rewardComponents() {
    static const std::vector<RewardComponent> all = {RewardComponent::Topic,   RewardComponent::Answer,
                                                     RewardComponent::Tone,    RewardComponent::Concise,
                                                     RewardComponent::Repetition, RewardComponent::Form};
    return all;
}

const char* rewardComponentName(RewardComponent c) {
    switch (c) {
    case RewardComponent::Topic: return "topic";
    case RewardComponent::Answer: return "answer";
    case RewardComponent::Tone: return "tone";
    case RewardComponent::Concise: return "concise";
    case RewardComponent::Repetition: return "repetition";
    case RewardComponent::Form: return "form";
    }
    return "";
}

double componentValue(const RewardBreakdown& r, RewardComponent c) {
    switch (c) {
    case RewardComponent::Topic: return r.topic;
    case RewardComponent::Answer: return r.answer;
    case RewardComponent::Tone: return r.tone;
    case RewardComponent::Concise: return r.concise;
    case RewardComponent::Repetition: return r.repetition;
    case RewardComponent::Form: return r.form;
    }
    return 0;
}

std::vector<RewardComponent> differingComponents(const RewardBreakdown& a, const RewardBreakdown& b) {
    std::vector<RewardComponent> out;
    for (RewardComponent c : rewardComponents()) {
        // The parts are sums of multiples of 0.05: a difference below that is rounding.
        if (std::abs(componentValue(a, c) - componentValue(b, c)) > 1e-9) out.push_back(c);
    }
    return out;
}

}  // namespace preflab
