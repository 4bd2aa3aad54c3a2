#pragma once
// Everything that defines a run, so that a run can be repeated from its stored
// row. One table of fields (runConfigFields) drives the JSON config file, the
// CLI flags (--batch-size for batch_size), validation and help text.
// Plain C++ (JSON through QtCore); value type.
#include "core/values/judge_registry.h"
#include "core/values/method_registry.h"
#include "core/values/model_names.h"

#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace preflab {

// The `pairs` value that trains kto on the stored unpaired labels (thumbs up
// or down on one response) instead of pairs.
inline constexpr char kUnpairedSource[] = "unpaired";

struct RunConfig {
    std::string name;
    std::string algorithm = methodName(Method::Dpo);
    std::string judge = "task";  // task | self | human
    std::string annotator;
    std::string model = kStarterModelName;  // model_names.h: the starter, a model file, a folder or a cached id
    // Chosen by the sweep in docs/results.md (the built-in task, 300 steps):
    // lr 2e-4 and beta 0.1 over-optimised into collapse (exact KL 12.6).
    double beta = 0.3;
    double lr = 5e-5;
    int64_t batchSize = 8;        // pairs per gradient step
    int64_t generationBatch = 8;  // prompts per generation round (two samples each)
    int64_t steps = 300;
    double temperature = 1.0;
    int64_t topK = 0;
    double topP = 1.0;
    int64_t maxNewTokens = 80;
    int64_t seed = 1;
    int64_t evalEvery = 20;
    int64_t evalSamples = 128;  // gold and KL standard errors ~0.1 and ~0.25 nats at the demo's end
    std::string klEstimator = "k3";
    int64_t checkpointEvery = 100;
    // How many of a run's newest checkpoints stay on disk (0 = all): a long run
    // must not fill the disk (the soak: 5.7 MB per checkpoint of the built-in
    // model, 1.1 GB in two hours at the defaults; a 124 M model's is ~1.5 GB).
    int64_t keepCheckpoints = 5;
    // Pairs in the fixed held-out preference set (held_out_preferences.h; 0 = off).
    int64_t heldOutPairs = 128;
    // Evaluation prompts on which the policy's response is judged against
    // the reference's (eval/win_rate_vs_ref; 0 = off): the first N of the
    // evaluation prompts, the reference's responses sampled once.
    int64_t winRatePrompts = 64;
    // A reward model (a preflab train-rm file or a Hugging Face reward-model
    // folder) whose mean score on the evaluation samples is logged as the
    // proxy gold (gold/proxy_reward), beside the task's true reward; "" = none.
    std::string goldModel;
    // With a person judging, the share of their A/B labels held back from
    // training (chosen by pair index) to make the held-out set, until it holds
    // heldOutPairs pairs.
    double heldOutShare = 0.125;
    double judgeNoise = 0.0;
    double flipRate = 0.0;
    double maxGradNorm = 1.0;
    int64_t warmupSteps = 10;
    int64_t prompts = 512;
    std::string computeDtype = "auto";  // auto | fp32 | bf16
    int64_t threads = 0;
    // Offline data: "" generates pairs online; "db" trains on every stored
    // preference, "db:ID" on run ID's, anything else is a TRL JSON Lines file.
    std::string pairs;
    // Which stored label of a pair counts (storage's LabelPolicy): consensus
    // (a reviewer's, else the annotators' majority, else none) or latest.
    std::string labelPolicy = "consensus";
    // Dataset pairs' reference log-probabilities: "cache" computes each
    // pair's once (and keeps a stored pair's in the database for later runs
    // with the same reference); "recompute" computes them every time a pair
    // is drawn (as before issue 33; the same values).
    std::string refLogprobs = "cache";
    // Pairwise method options (algorithms.md §1).
    double labelSmoothing = 0.1;  // cdpo / rdpo epsilon
    int64_t ipoTokenMean = 0;
    double slicDelta = 1.0;
    double slicLambda = 0.1;
    // The SFT term of the DPO family (RPO; TRL's rpo_alpha): + alpha times the
    // chosen response's per-token NLL; 0 = off.
    double rpoAlpha = 0.0;
    // KTO (§7; TRL's defaults): weights of the desirable and undesirable terms.
    double ktoDesirableWeight = 1.0;
    double ktoUndesirableWeight = 1.0;
    double orpoLambda = 0.1;  // ORPO's weight of the odds-ratio term (TRL's beta)
    double simpoGamma = 0.5;  // SimPO's target margin gamma (TRL's simpo_gamma)
    // GRPO and RLOO (§7): samples per prompt (0 = the method's TRL default:
    // 8 for grpo, 2 for rloo), passes over each batch (TRL's num_iterations),
    // clip epsilon, GRPO's reward scaling and loss aggregation, and the KL
    // coefficients (GRPO: k3 per token in the loss, TRL default 0; RLOO: in
    // the reward, TRL default 0.05). batch_size counts samples, not prompts.
    int64_t numGenerations = 0;
    int64_t groupEpochs = 1;
    double groupClip = 0.2;
    std::string scaleRewards = "group";
    std::string grpoLossType = "dapo";
    double grpoBeta = 0.0;
    double rlooBeta = 0.05;
    // SAIL (§2): routing probability per pair, coefficients, exploration form.
    double sailProb = 0.3;
    double sailGamma = 0.3;  // SAIL-PR exploration
    double sailPi = 0.2;     // SAIL-PP self-judged term and exploration
    double sailDpProb = 0.4; // SAIL-DP routing probability r
    double sailRho = 0.2;    // SAIL-DP self-judged term rho
    // SAIL-RevKL (§2): + lambda * KL(pi_theta || pi_ref) on the fresh samples
    // of every policy pair (k3 value, unbiased score-function gradient); 0 = off.
    double sailKlCoef = 0.0;
    std::string explorationForm = "score_function";
    int64_t explorationBaseline = 1;
    std::string rewardModel;  // a reward model file, for judge = reward_model, and PPO's reward
    // A reward server's address (OpenRLHF's /get_reward), for judge =
    // reward_server and as PPO's reward; never credentials (the token comes
    // from PREFLAB_REWARD_SERVER_TOKEN).
    std::string rewardServer;
    // judge = llm: an instruct model (a Hugging Face causal-LM folder or cached
    // id) and the prompt it is asked with ({prompt}, {response_a},
    // {response_b}; "" = resources/judge_prompt.txt).
    std::string judgeModel;
    std::string judgePrompt;
    // PPO (§4)
    double ppoKlCoef = 0.05;
    double ppoClip = 0.2;
    double ppoValueClip = 0.2;
    double ppoValueCoef = 0.1;
    double ppoGamma = 1.0;
    double ppoLambda = 0.95;
    double ppoNoEosPenalty = -10.0;
    int64_t ppoEpochs = 4;       // passes over each rollout batch (TRL's default)
    int64_t ppoMinibatches = 1;  // minibatches per pass
    // LoRA (Hu et al. 2021): rank 0 trains every weight; otherwise adapters on
    // lora_targets (HF module names, comma-separated; empty = PEFT's default
    // for the architecture) and the base is frozen and doubles as the reference.
    int64_t loraRank = 0;
    double loraAlpha = 16.0;
    double loraDropout = 0.05;
    std::string loraTargets;
    int64_t gradientCheckpointing = 0;  // recompute block activations in backward (less memory)
    // Pairwise training packs each pair's prompt once with both responses
    // after it (the same log-probabilities, fewer tokens); 0 packs each
    // response with its own copy of the prompt (--no-prefix-sharing).
    int64_t prefixSharing = 1;
    // CPO / DR-CPO / OO-RLHF (§3): rated responses "" (rate fresh policy
    // samples: the task's true reward, or a person's ratings), "db", "db:RUN".
    std::string ratings;
    double cpoClip = 0.0;  // pessimistic clipping c of the weights to [1 - c, 1 + c] (0 = off)
    double outcomeLr = 3e-4;
    int64_t outcomeWarmupSteps = 100;  // outcome-model fits on the rated data before the first policy step
    // A deliberately confounded outcome model (for the comparison bench):
    // its regression targets get + bias per sentence of the response.
    double outcomeLengthBias = 0.0;
};

// How the run panel edits a field beyond what its type says (choices: a
// list; a whole number in [0, 1]: a check box; anything else: a text field).
enum class FieldEditor {
    Auto,
    Model,   // a model file or folder, or a cached Hugging Face model id, with a chooser
    File,    // a file name (or db / db:RUN), with a file chooser
    Method,  // the method: choosing one opens the section of its own settings
};

struct ConfigField {
    using Member = std::variant<int64_t RunConfig::*, double RunConfig::*, std::string RunConfig::*>;
    std::string key;  // JSON key; the CLI flag is the key with '-' for '_'
    Member member;
    double min = 0, max = 0;  // numeric range, inclusive unless minExclusive
    bool minExclusive = false;
    std::vector<std::string> choices;  // allowed strings; empty = free text
    std::string help;
    std::string group;  // the run panel's section
    std::string label;  // the run panel's name for it
    FieldEditor editor = FieldEditor::Auto;
    std::string placeholder;  // what an empty text field shows (and means)
    std::string blankValue;   // the value an empty text field stands for ("" = the empty string)
    std::vector<std::string> choiceLabels;  // what the run panel shows for each choice (default: the choice)
    std::vector<std::string> choiceHelp;    // one line per choice, for tooltips
    bool isFlag() const;  // a whole number that is 0 or 1
};

// The field named `key`, or nullptr.
const ConfigField* findConfigField(const std::string& key);
// A field's value in `config` as text that setRunConfigValue reads back
// exactly (numbers in their shortest exact form).
std::string configValueText(const RunConfig& config, const ConfigField& field);

const std::vector<ConfigField>& runConfigFields();

// Whether a person's A/B label of pair `pairIndex` is held back from training
// for the held-out set (held_out_share): a fixed pseudo-random choice of the
// run's seed and the index, at rate `share`.
bool heldBackPair(uint64_t seed, int64_t pairIndex, double share);

// True when sampling draws from the full tempered distribution (top_k 0,
// top_p 1, temperature > 0): the distribution whose log-probabilities enter
// ratios, KL penalties and score-function terms (algorithms.md 5b).
bool fullSamplingDistribution(const RunConfig& config);

// True when a pairwise method's loss differentiates the sampling distribution:
// SAIL-PR's exploration term (sail_gamma > 0), SAIL-PP's terms (sail_pi > 0)
// or SAIL-RevKL's reverse-KL term (sail_kl_coef > 0). Validation then needs
// fullSamplingDistribution, and the step runs with dropout off.
bool pairwiseDifferentiatesSampling(const RunConfig& config);

// Sets one field from text; returns an error message, empty on success.
std::string setRunConfigValue(RunConfig& config, const std::string& key, const std::string& value);
// Reads a JSON object; unknown keys and bad values are errors (all reported).
std::vector<std::string> parseRunConfigJson(const std::string& json, RunConfig& config);
// A run's stored settings (to resume it): settings added after the run was
// stored take the value that matches what the run did before they existed
// (keep_checkpoints 0: keep all; held_out_pairs 0: no new metric mid-run).
std::vector<std::string> parseStoredRunConfigJson(const std::string& json, RunConfig& config);
// GRPO's and RLOO's samples per prompt: num_generations, or the method's
// default (TRL's: 8 for grpo, 2 for rloo).
int64_t groupSize(const RunConfig& config);
// The method's KL knob and its value as the run panel names it ("β (KL
// strength) 0.3", "KL coefficient 0.05"), or the learning rate where the
// method has no KL knob: what a run's title and the comparison show.
std::string klKnobText(const RunConfig& config);
// Cross-field checks and ranges; empty when the config is usable.
std::vector<std::string> validateRunConfig(const RunConfig& config);
// Whether the run panel shows field `key` for these settings: a judge's own
// fields only with that judge (judge_model and judge_prompt with llm;
// reward_server with reward_server, or as the reward of PPO, GRPO and RLOO).
// Every other field is always shown; the panel also shows any field that holds a value.
bool configFieldShown(const RunConfig& config, const std::string& key);
std::string runConfigToJson(const RunConfig& config);

}  // namespace preflab
