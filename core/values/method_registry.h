#pragma once
// The preference-optimization methods PrefLab runs, in one table: each
// method's name (the --algorithm value), one line of help, its family, what
// data and judges it needs, and which plots show it. This is the only place a
// method's name is spelled: the config's choices and help, --help, the run
// panel, the loop's dispatch and the plots all read it. Plain C++ (no torch),
// so the UI links it too.
#include "core/values/judge_registry.h"

#include <optional>
#include <string>
#include <vector>

namespace preflab {

enum class Method {
    Dpo, Ipo, Slic, SlicHf, Cdpo, Rdpo, Kto, Orpo, Simpo, OnlineDpo, SailPr, SailPp, SailDp, Ppo, Grpo, Rloo, Cpo, DrCpo,
    OoRlhf,
};

// Which training step runs the method (core/loop/*_step.cpp).
enum class MethodFamily {
    Pairwise,  // a pairwise loss on labeled pairs (DPO family, SAIL)
    Ppo,       // one sample per prompt, scored; GAE and clipped losses
    Causal,    // importance-weighted numeric outcomes (CPO family)
    Group,     // k samples per prompt, scored; advantages within the group, no value model (GRPO, RLOO)
};

// Where the method's training data comes from.
enum class MethodData {
    PairsOnlineOrOffline,  // judged policy pairs, or stored pairs with `pairs`
    PolicyPairs,           // generates its own pairs; `pairs` not accepted
    PolicyPairsMixable,    // generates its own pairs; `pairs` mixes dataset pairs in
    DatasetPairs,          // needs `pairs`
    PolicySamples,         // one scored sample per prompt (PPO)
    PolicyGroups,          // k scored samples per prompt (GRPO, RLOO)
    Ratings,               // rated responses: stored (`ratings`) or fresh ones
};

struct MethodInfo {
    Method id;
    const char* name;  // the --algorithm value
    const char* help;  // one line for --help and the run panel
    MethodFamily family;
    MethodData data;
    std::optional<JudgeKind> requiredJudge;  // the judge the method needs, if only one will do
    bool outcomeModel = false;            // trains an outcome model beside the policy (dr-cpo, oo-rlhf)
    bool referenceFree = false;           // its loss has no reference model (its KL to the reference is still measured)
    // The setting that holds the policy near the reference (its KL knob, a
    // run config key); nullptr: none, the learning rate moves it.
    const char* klKnob = "beta";
};

// Every method, in the order --help and the run panel list them.
const std::vector<MethodInfo>& methods();
// The entry named `name`, or nullptr.
const MethodInfo* findMethod(const std::string& name);
// The entry of `m`.
const MethodInfo& methodInfo(Method m);
inline const char* methodName(Method m) { return methodInfo(m).name; }
// The family of the method named `name` (Pairwise for an unknown name, which
// config validation refuses before any run).
MethodFamily methodFamily(const std::string& name);
// True when the config's `algorithm` names method `m`.
inline bool isMethod(const std::string& name, Method m) { return name == methodName(m); }
// True for the methods that generate their own training samples from the policy.
bool generatesOwnSamples(const MethodInfo& m);

}  // namespace preflab
