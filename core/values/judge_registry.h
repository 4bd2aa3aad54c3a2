#pragma once
// The judges a run can name, in one table (as method_registry.h does for
// methods): the config value, the name people read, whether it needs a
// person, what it produces, the label source its labels are stored under and
// the judge that labels what a person leaves. The config's choices and
// validation, the run panel, make_judge, the session and storage's judge
// names all read it; adding a judge is one entry here plus its own file in
// core/judges/. Plain C++ (no torch), so the UI links it too.
#include "core/values/label.h"

#include <optional>
#include <string>
#include <vector>

namespace preflab {

enum class JudgeKind { Task, Self, RewardModel, RewardServer, Human, HumanTask, HumanSelf, Llm };

// What a judge's verdict is.
enum class JudgeOutput {
    Choice,           // an A/B label (tie, both bad, skip)
    ChoiceOrRating,   // an A/B label, or a person's 1-7 rating of each side
};

struct JudgeInfo {
    JudgeKind id;
    const char* name;         // the --judge value
    const char* displayName;  // what the run panel and summaries show
    const char* help;         // one line for --help and tooltips
    bool needsPerson;         // a person labels (an annotator name is required)
    JudgeOutput output;
    LabelSource source;       // the source its own labels are stored under
    std::optional<JudgeKind> fallback;  // labels what the person leaves (human+task)
    bool numericOutcomes;     // can give the CPO family its outcomes (true reward, ratings)
    bool needsRewardModelFile = false;
    bool needsJudgeModel = false;  // an instruct model folder (judge_model)
};

// Every judge, in the order --help and the run panel list them.
const std::vector<JudgeInfo>& judges();
// The entry named `name`, or nullptr.
const JudgeInfo* findJudge(const std::string& name);
const JudgeInfo& judgeInfo(JudgeKind k);
inline const char* judgeName(JudgeKind k) { return judgeInfo(k).name; }
// The judges' --judge values, in table order (the config's choices).
std::vector<std::string> judgeNames();
// True when the judge named `name` needs a person's labels (false for an
// unknown name, which config validation refuses).
bool judgeNeedsPerson(const std::string& name);
inline bool isJudge(const std::string& name, JudgeKind k) { return name == judgeName(k); }
// The name people read for a judge that stored labels under `source`
// ("task judge", "reward model", ...), for agreement reports.
std::string labelSourceDisplayName(LabelSource source);
// The same for a stored source name; an unknown name is returned as it is.
std::string labelSourceDisplayName(const std::string& sourceName);

}  // namespace preflab
