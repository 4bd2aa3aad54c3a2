#include "core/values/run_config.h"

#include "core/values/person_names.h"
#include "core/values/reward_server_url.h"
#include "core/values/seed_mix.h"
#include "core/values/method_registry.h"

#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <sstream>

namespace preflab {
namespace {

// Makes a field's choices from a registry: value, display name and help of each entry.
template <typename Table, typename Label>
ConfigField withChoices(ConfigField f, const Table& table, Label label) {
    for (const auto& e : table) {
        f.choices.emplace_back(e.name);
        f.choiceLabels.emplace_back(label(e));
        f.choiceHelp.emplace_back(e.help);
    }
    return f;
}

ConfigField withBlank(ConfigField f, std::string placeholder, std::string blankValue = {}) {
    f.placeholder = std::move(placeholder);
    f.blankValue = std::move(blankValue);
    return f;
}

}  // namespace

const std::vector<ConfigField>& runConfigFields() {
    using R = RunConfig;
    static const std::vector<ConfigField> fields = {
        {"name", &R::name, 0, 0, false, {}, "a name for the run",
         "Model and judge", "Run name", FieldEditor::Auto},
        withChoices({"algorithm", &R::algorithm, 0, 0, false, {},
                     "preference-optimization method (preflab run --help lists them)",
                     "Model and judge", "Algorithm", FieldEditor::Method},
                    methods(), [](const MethodInfo& m) { return m.name; }),
        withChoices({"judge", &R::judge, 0, 0, false, {},
                     "who labels pairs: task (true reward), self (implicit reward), reward_model (--reward-model), llm (an instruct "
                     "model, --judge-model), human, "
                     "or a person helped by task/self (the person labels what they can; pairs not reached when the next "
                     "round is ready go to the task or self judge, so training never waits)",
                     "Model and judge", "Judge", FieldEditor::Auto},
                    judges(), [](const JudgeInfo& j) { return j.displayName; }),
        {"reward_model", &R::rewardModel, 0, 0, false, {}, "reward model for judge = reward_model, PPO, GRPO and RLOO: a file preflab train-rm makes, or a Hugging Face "
         "*ForSequenceClassification folder (GPT-2, Llama, Qwen2); its score is a proxy for the true reward",
         "Model and judge", "Reward model", FieldEditor::Model},
        withBlank({"reward_server", &R::rewardServer, 0, 0, false, {},
                   "reward server for judge = reward_server, PPO, GRPO and RLOO: an http(s) address speaking OpenRLHF's "
                   "/get_reward (e.g. http://127.0.0.1:5000/get_reward); a bearer token is read from "
                   "PREFLAB_REWARD_SERVER_TOKEN, extra CA certificates from PREFLAB_REWARD_SERVER_CA_FILE",
                   "Model and judge", "Reward server URL", FieldEditor::Auto},
                  "http(s)://host:port/get_reward"),
        {"judge_model", &R::judgeModel, 0, 0, false, {},
         "judge = llm: an instruct model (a Hugging Face causal-LM folder, or a model id in the local Hugging Face "
         "cache) asked which of two responses is better",
         "Model and judge", "Judge model (LLM judge)", FieldEditor::Model},
        withBlank({"judge_prompt", &R::judgePrompt, 0, 0, false, {},
                   "judge = llm: the question the judge model is asked, with {prompt}, {response_a} and {response_b}; "
                   "asked in both orders, its answer read from the next-token probabilities of A and B (empty = the "
                   "default prompt)",
                   "Model and judge", "Judge prompt (LLM judge)", FieldEditor::Auto},
                  "default judge prompt"),
        {"annotator", &R::annotator, 0, 0, false, {}, "annotator name stored with human labels",
         "Model and judge", "Annotator", FieldEditor::Auto},
        withBlank({"model", &R::model, 0, 0, false, {},
                   std::string("'") + kStarterModelName + "' (built-in, pretrained on first use), a model file, a Hugging Face model folder "
                   "(GPT-2, Llama, Qwen2, Mistral), or a model id in the local Hugging Face cache (org/name)",
                   "Model and judge", "Model", FieldEditor::Model},
                  kStarterModelName, kStarterModelName),
        {"beta", &R::beta, 0, 100, true, {}, "DPO inverse temperature beta (> 0)",
         "Optimisation", "\u03b2 (KL strength)", FieldEditor::Auto},
        {"lr", &R::lr, 0, 1, true, {}, "learning rate (AdamW)",
         "Optimisation", "Learning rate", FieldEditor::Auto},
        {"batch_size", &R::batchSize, 1, 1024, false, {},
         "examples per gradient step: preference pairs; ppo, grpo and rloo: samples; the CPO family: rated responses",
         "Optimisation", "Batch size", FieldEditor::Auto},
        {"generation_batch", &R::generationBatch, 1, 1024, false, {}, "prompts per generation round (2 samples each)",
         "Generation", "Prompts per round", FieldEditor::Auto},
        {"steps", &R::steps, 1, 10'000'000, false, {}, "gradient steps to run",
         "Optimisation", "Steps", FieldEditor::Auto},
        {"temperature", &R::temperature, 0, 10, false, {}, "sampling temperature (0 = greedy)",
         "Generation", "Temperature", FieldEditor::Auto},
        {"top_k", &R::topK, 0, 1'000'000, false, {}, "top-k sampling (0 = off)",
         "Generation", "Top-k (0 = off)", FieldEditor::Auto},
        {"top_p", &R::topP, 0, 1, true, {}, "nucleus sampling mass (1 = off)",
         "Generation", "Top-p", FieldEditor::Auto},
        {"max_new_tokens", &R::maxNewTokens, 1, 4096, false, {}, "longest response in tokens",
         "Generation", "Max new tokens", FieldEditor::Auto},
        {"seed", &R::seed, 0, 9.0e15, false, {}, "random seed (prompts, sampling, judges)",
         "Optimisation", "Seed", FieldEditor::Auto},
        {"eval_every", &R::evalEvery, 0, 1'000'000, false, {}, "evaluate on fresh samples every N steps (0 = off)",
         "Evaluation", "Evaluate every (steps)", FieldEditor::Auto},
        {"eval_samples", &R::evalSamples, 1, 100'000, false, {}, "fresh samples per evaluation",
         "Evaluation", "Samples per evaluation", FieldEditor::Auto},
        {"kl_estimator", &R::klEstimator, 0, 0, false, {"k1", "k3", "exact"}, "estimator logged as objective/kl",
         "Evaluation", "KL estimator", FieldEditor::Auto},
        {"checkpoint_every", &R::checkpointEvery, 0, 1'000'000, false, {}, "checkpoint every N steps (0 = at the end only)",
         "Evaluation", "Checkpoint every (steps)", FieldEditor::Auto},
        {"held_out_pairs", &R::heldOutPairs, 0, 4096, false, {},
         "held-out preference pairs on which eval/rewards/* are measured: sampled once from the reference and labelled "
         "by the true reward (judge task or self) or the reward model (judge reward_model); with a person judging, "
         "labels held back from training (0 = off)",
         "Evaluation", "Held-out pairs", FieldEditor::Auto},
        {"win_rate_prompts", &R::winRatePrompts, 0, 100'000, false, {},
         "evaluation prompts on which the policy's response is judged against the reference's by the run's machine judge "
         "(eval/win_rate_vs_ref with a Wilson 95 % interval, ties counting half; the reference's responses are sampled "
         "once; 0 = off)",
         "Evaluation", "Win-rate prompts", FieldEditor::Auto},
        {"gold_model", &R::goldModel, 0, 0, false, {},
         "a reward model (a file preflab train-rm makes, or a Hugging Face *ForSequenceClassification folder) whose mean "
         "score on the evaluation samples is logged as a proxy gold (gold/proxy_reward): the gold of a run with no true "
         "reward; empty = none",
         "Evaluation", "Proxy gold model", FieldEditor::Model},
        {"held_out_share", &R::heldOutShare, 0, 0.5, false, {},
         "with a person judging: share of their A/B labels held back from training for the held-out set",
         "Evaluation", "Held-back share of labels", FieldEditor::Auto},
        {"keep_checkpoints", &R::keepCheckpoints, 0, 1'000'000, false, {}, "newest checkpoints kept on disk (0 = all)",
         "Evaluation", "Checkpoints kept", FieldEditor::Auto},
        {"judge_noise", &R::judgeNoise, 0, 100, false, {}, "Bradley-Terry temperature of the task, reward-model and reward-server judges: A is chosen with probability sigmoid((s_A - s_B) / T) (0 = noiseless)",
         "Task judge", "Task judge noise", FieldEditor::Auto},
        {"flip_rate", &R::flipRate, 0, 0.5, false, {}, "task judge label-flip probability",
         "Task judge", "Task judge flip rate", FieldEditor::Auto},
        {"max_grad_norm", &R::maxGradNorm, 0, 1e6, false, {}, "gradient clipping norm (0 = off)",
         "Optimisation", "Gradient clip norm", FieldEditor::Auto},
        {"warmup_steps", &R::warmupSteps, 0, 1'000'000, false, {}, "linear learning-rate warm-up steps",
         "Optimisation", "Warm-up steps", FieldEditor::Auto},
        {"prompts", &R::prompts, 1, 1'000'000, false, {}, "size of the training prompt set",
         "Data", "Training prompts", FieldEditor::Auto},
        {"compute_dtype", &R::computeDtype, 0, 0, false, {"auto", "fp32", "bf16"},
         "auto: bf16 only where the CPU has native bf16 and the model is large",
         "Compute", "Compute type", FieldEditor::Auto},
        {"threads", &R::threads, 0, 256, false, {}, "intra-op threads (0 = PREFLAB_THREADS when set, else every core this process may use; models up to 2 M parameters: one, their batches split into two row groups computed side by side, or in turn on one core; a count given here or in PREFLAB_THREADS: that many intra-op threads, one group)",
         "Compute", "Threads (0 = automatic)", FieldEditor::Auto},
        {"lora_rank", &R::loraRank, 0, 4096, false, {}, "LoRA adapter rank (0 = train every weight)",
         "Adapters (LoRA)", "LoRA rank (0 = all weights)", FieldEditor::Auto},
        {"lora_alpha", &R::loraAlpha, 0, 1e6, true, {}, "LoRA alpha: adapters are scaled by alpha / rank",
         "Adapters (LoRA)", "LoRA \u03b1", FieldEditor::Auto},
        {"lora_dropout", &R::loraDropout, 0, 0.95, false, {}, "dropout on the adapters' input while training",
         "Adapters (LoRA)", "LoRA dropout", FieldEditor::Auto},
        withBlank({"lora_targets", &R::loraTargets, 0, 0, false, {},
                   "projections with adapters, HF names (q_proj,v_proj / c_attn / all-linear ...); empty = PEFT's default",
                   "Adapters (LoRA)", "LoRA targets", FieldEditor::Auto},
                  "PEFT default"),
        {"gradient_checkpointing", &R::gradientCheckpointing, 0, 1, false, {},
         "recompute activations in the backward pass: less memory, about a third more time",
         "Adapters (LoRA)", "Gradient checkpointing", FieldEditor::Auto},
        {"prefix_sharing", &R::prefixSharing, 0, 1, false, {},
         "pairwise methods on dataset pairs (stored or a file's): each pair's prompt computed once, both responses after it "
         "under an attention mask that keeps them apart (the same log-probabilities, fewer tokens); 0 = each response with "
         "its own copy of the prompt",
         "Compute", "Share each pair's prompt", FieldEditor::Auto},
        withBlank({"pairs", &R::pairs, 0, 0, false, {},
                   "offline pairs to train on: db (every stored preference), db:RUN, or a TRL .jsonl file; for kto also unpaired "
                   "(the stored thumbs-up and thumbs-down labels); empty = generate online. "
                   "sail-pp / sail-pr mix them in: each example is a policy pair with probability sail_prob, else a dataset pair",
                   "Data", "Offline pairs", FieldEditor::File},
                  "generate online"),
        {"label_policy", &R::labelPolicy, 0, 0, false, {"consensus", "latest"},
         "which stored label of a pair trains (pairs = db): consensus = a reviewer's final label, else the majority of "
         "the annotators' latest labels (where no person labelled, the judges'; no majority, tie or both bad: the pair "
         "is left out); latest = a reviewer's, else the latest label",
         "Data", "Label policy", FieldEditor::Auto},
        {"ref_logprobs", &R::refLogprobs, 0, 0, false, {"cache", "recompute"},
         "dataset pairs' reference log-probabilities: cache = computed once per pair and, for stored pairs (pairs = db), "
         "kept in the database for later runs with the same reference model, tokenizer and context length; "
         "recompute = every time a pair is drawn (the same values, slower)",
         "Data", "Reference log-probs", FieldEditor::Auto},
        {"label_smoothing", &R::labelSmoothing, 0, 0.499, false, {}, "epsilon of cdpo / rdpo (assumed label-flip rate)",
         "DPO family", "cDPO / rDPO \u03b5", FieldEditor::Auto},
        {"ipo_token_mean", &R::ipoTokenMean, 0, 1, false, {}, "ipo on per-token mean log-probs (1) or sums (0)",
         "DPO family", "IPO on token means", FieldEditor::Auto},
        {"slic_delta", &R::slicDelta, 0, 1000, false, {}, "slic-hf hinge margin delta",
         "DPO family", "SLiC-HF \u03b4", FieldEditor::Auto},
        {"slic_lambda", &R::slicLambda, 0, 1000, false, {}, "slic-hf weight of the chosen response's log-likelihood",
         "DPO family", "SLiC-HF \u03bb", FieldEditor::Auto},
        {"rpo_alpha", &R::rpoAlpha, 0, 1000, false, {},
         "SFT term (RPO, TRL's rpo_alpha): + alpha x the chosen response's per-token NLL, for dpo, ipo, cdpo, rdpo and the "
         "online and SAIL methods (0 = off)",
         "DPO family", "SFT term \u03b1 (RPO)", FieldEditor::Auto},
        {"kto_desirable_weight", &R::ktoDesirableWeight, 0, 1000, false, {}, "kto: weight lambda_D of the desirable responses",
         "DPO family", "KTO desirable weight", FieldEditor::Auto},
        {"kto_undesirable_weight", &R::ktoUndesirableWeight, 0, 1000, false, {},
         "kto: weight lambda_U of the undesirable responses", "DPO family", "KTO undesirable weight", FieldEditor::Auto},
        {"orpo_lambda", &R::orpoLambda, 0, 1000, false, {}, "orpo: weight lambda of the odds-ratio term (TRL's beta)",
         "DPO family", "ORPO \u03bb", FieldEditor::Auto},
        {"simpo_gamma", &R::simpoGamma, 0, 1000, false, {}, "simpo: target reward margin gamma (with beta)",
         "DPO family", "SimPO \u03b3", FieldEditor::Auto},
        {"sail_prob", &R::sailProb, 0, 1, false, {},
         "SAIL p / g: with pairs, the share of policy pairs (the rest are dataset pairs); without, the share of pairs given the SAIL terms",
         "SAIL", "SAIL p / g (policy share)", FieldEditor::Auto},
        {"sail_gamma", &R::sailGamma, 0, 100, false, {}, "sail-pr exploration coefficient gamma",
         "SAIL", "SAIL-PR \u03b3", FieldEditor::Auto},
        {"sail_pi", &R::sailPi, 0, 100, false, {}, "sail-pp coefficient pi (self-judged term and exploration)",
         "SAIL", "SAIL-PP \u03c0", FieldEditor::Auto},
        {"sail_dp_prob", &R::sailDpProb, 0, 1, false, {}, "sail-dp: probability r that a dataset pair's preference is re-drawn",
         "SAIL", "SAIL-DP r", FieldEditor::Auto},
        {"sail_rho", &R::sailRho, 0, 100, false, {}, "sail-dp coefficient rho of -1/2 rho ell^2",
         "SAIL", "SAIL-DP \u03c1", FieldEditor::Auto},
        {"sail_kl_coef", &R::sailKlCoef, 0, 100, false, {},
         "SAIL-RevKL lambda: + lambda KL(policy || reference) on fresh samples (0 = off; 0.1 with lr 5e-5 and dataset pairs mixed in keeps sail-pp from running away, docs/methods.md)",
         "SAIL", "SAIL-RevKL \u03bb", FieldEditor::Auto},
        {"exploration_form", &R::explorationForm, 0, 0, false, {"score_function", "reference_code"},
         "SAIL exploration term: score-function surrogate, or the authors' code (different sign and scale)",
         "SAIL", "Exploration form", FieldEditor::Auto},
        {"exploration_baseline", &R::explorationBaseline, 0, 1, false, {}, "subtract the batch-mean ell in score_function",
         "SAIL", "Exploration baseline", FieldEditor::Auto},
        {"ppo_kl_coef", &R::ppoKlCoef, 0, 100, false, {}, "PPO: per-token KL penalty in the reward (k1)",
         "PPO", "KL coefficient", FieldEditor::Auto},
        {"ppo_clip", &R::ppoClip, 0, 1, true, {}, "PPO: policy ratio clip",
         "PPO", "Policy clip", FieldEditor::Auto},
        {"ppo_value_clip", &R::ppoValueClip, 0, 1000, true, {}, "PPO: value clip",
         "PPO", "Value clip", FieldEditor::Auto},
        {"ppo_value_coef", &R::ppoValueCoef, 0, 100, false, {}, "PPO: value loss coefficient",
         "PPO", "Value coefficient", FieldEditor::Auto},
        {"ppo_gamma", &R::ppoGamma, 0, 1, false, {}, "PPO: GAE discount gamma",
         "PPO", "GAE \u03b3", FieldEditor::Auto},
        {"ppo_lambda", &R::ppoLambda, 0, 1, false, {}, "PPO: GAE lambda",
         "PPO", "GAE \u03bb", FieldEditor::Auto},
        {"ppo_no_eos_penalty", &R::ppoNoEosPenalty, -1e6, 1e6, false, {}, "PPO: score of a response cut off before EOS",
         "PPO", "Score without EOS", FieldEditor::Auto},
        {"ppo_epochs", &R::ppoEpochs, 1, 1000, false, {},
         "PPO: passes over each rollout batch, old log-probs, values and advantages fixed at rollout time",
         "PPO", "Epochs per rollout", FieldEditor::Auto},
        {"ppo_minibatches", &R::ppoMinibatches, 1, 1024, false, {}, "PPO: minibatches (optimizer steps) per pass",
         "PPO", "Minibatches per epoch", FieldEditor::Auto},
        {"num_generations", &R::numGenerations, 0, 256, false, {},
         "grpo / rloo: samples per prompt (0 = TRL's default: 8 for grpo, 2 for rloo); batch_size counts samples",
         "Group methods (GRPO, RLOO)", "Samples per prompt", FieldEditor::Auto},
        {"group_epochs", &R::groupEpochs, 1, 1000, false, {},
         "grpo / rloo: passes over each batch, old log-probs fixed at sampling (TRL's num_iterations; 1 = on-policy)",
         "Group methods (GRPO, RLOO)", "Passes per batch", FieldEditor::Auto},
        {"group_clip", &R::groupClip, 0, 1, true, {}, "grpo / rloo: ratio clip epsilon", "Group methods (GRPO, RLOO)",
         "Clip \u03b5", FieldEditor::Auto},
        {"scale_rewards", &R::scaleRewards, 0, 0, false, {"group", "batch", "none"},
         "grpo: divide centred rewards by the group's standard deviation (TRL's default), the batch's, or not (Dr. GRPO)",
         "Group methods (GRPO, RLOO)", "Reward scaling", FieldEditor::Auto},
        {"grpo_loss_type", &R::grpoLossType, 0, 0, false, {"dapo", "grpo", "dr_grpo", "bnpo"},
         "grpo: how token losses are summed (dapo: over the batch's tokens, TRL's default; grpo: per sequence; dr_grpo: "
         "by a constant)",
         "Group methods (GRPO, RLOO)", "Loss aggregation", FieldEditor::Auto},
        {"grpo_beta", &R::grpoBeta, 0, 100, false, {}, "grpo: k3 KL to the reference per token in the loss (TRL's default 0)",
         "Group methods (GRPO, RLOO)", "GRPO KL \u03b2", FieldEditor::Auto},
        {"rloo_beta", &R::rlooBeta, 0, 100, false, {}, "rloo: KL penalty (k1, summed over the response) in the reward",
         "Group methods (GRPO, RLOO)", "RLOO KL \u03b2", FieldEditor::Auto},
        withBlank({"ratings", &R::ratings, 0, 0, false, {},
                   "cpo / dr-cpo / oo-rlhf data: db (every stored rating), db:RUN; empty = rate fresh policy samples",
                   "Data", "Ratings (CPO family)", FieldEditor::Auto},
                  "rate fresh samples"),
        {"cpo_clip", &R::cpoClip, 0, 1, false, {}, "CPO: pessimistic clipping of the weights to [1-c, 1+c] (0 = off)",
         "CPO family", "Weight clip c", FieldEditor::Auto},
        {"outcome_lr", &R::outcomeLr, 0, 1, true, {}, "dr-cpo / oo-rlhf: outcome model learning rate",
         "CPO family", "Outcome model lr", FieldEditor::Auto},
        {"outcome_warmup_steps", &R::outcomeWarmupSteps, 0, 1'000'000, false, {},
         "dr-cpo / oo-rlhf: outcome-model fits on stored ratings before the first policy step",
         "CPO family", "Outcome warm-up fits", FieldEditor::Auto},
        {"outcome_length_bias", &R::outcomeLengthBias, -100, 100, false, {},
         "confounds the outcome model on purpose: + bias per sentence in its targets (comparison bench)",
         "CPO family", "Outcome confound per sentence", FieldEditor::Auto},
    };
    return fields;
}

bool fullSamplingDistribution(const RunConfig& c) {
    return c.topK == 0 && c.topP >= 1.0 && c.temperature > 0;
}

bool pairwiseDifferentiatesSampling(const RunConfig& c) {
    return c.sailKlCoef > 0 || (c.algorithm == methodName(Method::SailPr) && c.sailGamma > 0) ||
           (c.algorithm == methodName(Method::SailPp) && c.sailPi > 0);
}

bool heldBackPair(uint64_t seed, int64_t pairIndex, double share) {
    const uint64_t k = mixSeed(seed, 0x4E1DBAC, static_cast<uint64_t>(pairIndex));
    return static_cast<double>(k % 1'000'000) < share * 1e6;
}

bool ConfigField::isFlag() const {
    return std::holds_alternative<int64_t RunConfig::*>(member) && min == 0 && max == 1;
}

const ConfigField* findConfigField(const std::string& key) {
    const auto& fields = runConfigFields();
    const auto it = std::find_if(fields.begin(), fields.end(), [&](const ConfigField& f) { return f.key == key; });
    return it == fields.end() ? nullptr : &*it;
}

std::string configValueText(const RunConfig& c, const ConfigField& f) {
    if (auto p = std::get_if<std::string RunConfig::*>(&f.member)) return c.*(*p);
    if (auto p = std::get_if<int64_t RunConfig::*>(&f.member)) return std::to_string(c.*(*p));
    // The shortest text that reads back as the same double: 0.1, not 0.10000000000000001.
    char text[64];
    const auto r = std::to_chars(text, text + sizeof text, c.*std::get<double RunConfig::*>(f.member));
    return std::string(text, r.ptr);
}

namespace {

std::string rangeError(const ConfigField& f, double v) {
    const bool low = f.minExclusive ? v <= f.min : v < f.min;
    if (!low && v <= f.max && std::isfinite(v)) return {};
    std::ostringstream s;
    s << f.key << " = " << v << " is out of range: expected " << (f.minExclusive ? "> " : ">= ") << f.min
      << " and <= " << f.max;
    return s.str();
}

std::string setString(RunConfig& c, const ConfigField& f, const std::string& value) {
    if (!f.choices.empty() && std::find(f.choices.begin(), f.choices.end(), value) == f.choices.end()) {
        std::string list;
        for (const auto& ch : f.choices) list += (list.empty() ? "" : ", ") + ch;
        return f.key + " = '" + value + "' is not one of: " + list;
    }
    c.*std::get<std::string RunConfig::*>(f.member) = value;
    return {};
}

}  // namespace

std::string setRunConfigValue(RunConfig& c, const std::string& key, const std::string& value) {
    const ConfigField* f = findConfigField(key);
    if (!f) return "unknown setting '" + key + "'";
    if (std::holds_alternative<std::string RunConfig::*>(f->member)) return setString(c, *f, value);
    char* end = nullptr;
    const double v = std::strtod(value.c_str(), &end);
    if (value.empty() || end == nullptr || *end != '\0') return key + " = '" + value + "' is not a number";
    if (std::holds_alternative<int64_t RunConfig::*>(f->member)) {
        if (v != std::floor(v)) return key + " = '" + value + "' is not a whole number";
        const std::string err = rangeError(*f, v);
        if (!err.empty()) return err;
        c.*std::get<int64_t RunConfig::*>(f->member) = static_cast<int64_t>(v);
        return {};
    }
    const std::string err = rangeError(*f, v);
    if (!err.empty()) return err;
    c.*std::get<double RunConfig::*>(f->member) = v;
    return {};
}

std::vector<std::string> parseRunConfigJson(const std::string& json, RunConfig& c) {
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(QByteArray::fromStdString(json), &parseError);
    if (doc.isNull()) return {"not valid JSON: " + parseError.errorString().toStdString() + " at offset " +
                              std::to_string(parseError.offset)};
    if (!doc.isObject()) return {"expected a JSON object of settings"};
    std::vector<std::string> errors;
    const QJsonObject obj = doc.object();
    for (auto it = obj.begin(); it != obj.end(); ++it) {
        const std::string key = it.key().toStdString();
        std::string text;
        if (it.value().isString()) text = it.value().toString().toStdString();
        else if (it.value().isDouble()) {
            std::ostringstream s;
            s.precision(17);
            s << it.value().toDouble();
            text = s.str();
        } else {
            errors.push_back(key + ": expected a number or a string");
            continue;
        }
        const std::string err = setRunConfigValue(c, key, text);
        if (!err.empty()) errors.push_back(err);
    }
    return errors;
}

std::vector<std::string> parseStoredRunConfigJson(const std::string& json, RunConfig& c) {
    const QJsonObject obj = QJsonDocument::fromJson(QByteArray::fromStdString(json)).object();
    if (!obj.contains(QStringLiteral("keep_checkpoints"))) c.keepCheckpoints = 0;
    if (!obj.contains(QStringLiteral("held_out_pairs"))) c.heldOutPairs = 0;
    if (!obj.contains(QStringLiteral("held_out_share"))) c.heldOutShare = 0;  // runs from before labels were held back
    if (!obj.contains(QStringLiteral("win_rate_prompts"))) c.winRatePrompts = 0;  // runs from before issue 30's win rate
    return parseRunConfigJson(json, c);
}

std::vector<std::string> validateRunConfig(const RunConfig& c) {
    std::vector<std::string> errors;
    RunConfig probe = c;
    // Re-apply every field through the setter so ranges and choices are checked once, in one place.
    for (const ConfigField& f : runConfigFields()) {
        const std::string err = setRunConfigValue(probe, f.key, configValueText(c, f));
        if (!err.empty()) errors.push_back(err);
    }
    if (judgeNeedsPerson(c.judge) && c.annotator.empty()) errors.push_back("judge = " + c.judge + " needs an annotator name");
    if (const JudgeInfo* j = findJudge(c.judge); j && j->needsRewardModelFile && c.rewardModel.empty()) {
        errors.push_back("judge = reward_model needs a reward model file (reward_model; preflab train-rm makes one)");
    }
    if (isJudge(c.judge, JudgeKind::RewardServer) && c.rewardServer.empty()) {
        errors.push_back("judge = reward_server needs the server's address (reward_server, e.g. http://127.0.0.1:5000/get_reward)");
    }
    if (!c.rewardServer.empty()) {
        if (const std::string problem = rewardServerUrlProblem(c.rewardServer); !problem.empty()) errors.push_back(problem);
        if (!c.rewardModel.empty()) {
            errors.push_back("reward_model and reward_server both name the run's reward: set one of them");
        }
    }
    if (const JudgeInfo* j = findJudge(c.judge); j && j->needsJudgeModel && c.judgeModel.empty()) {
        errors.push_back("judge = " + c.judge + " needs an instruct model (judge_model: a Hugging Face causal-LM folder)");
    }
    if (!c.judgePrompt.empty()) {
        for (const char* p : {"{prompt}", "{response_a}", "{response_b}"}) {
            if (c.judgePrompt.find(p) == std::string::npos) {
                errors.push_back(std::string("judge_prompt has no ") + p + " (it needs {prompt}, {response_a} and {response_b})");
            }
        }
    }
    // What the method needs (method_registry.h); an unknown method was refused above.
    if (const MethodInfo* m = findMethod(c.algorithm)) {
        if (m->requiredJudge && !isJudge(c.judge, *m->requiredJudge)) {
            errors.push_back(c.algorithm + " needs judge = " + judgeName(*m->requiredJudge) +
                             " (it labels its own pairs from its implicit reward)");
        }
        if (m->data == MethodData::DatasetPairs && c.pairs.empty()) {
            errors.push_back(c.algorithm + " trains on dataset pairs: set pairs (db, db:RUN or a .jsonl file)");
        }
        if (!c.pairs.empty() && (m->data == MethodData::PolicyPairs || m->data == MethodData::PolicySamples ||
                                 m->data == MethodData::PolicyGroups)) {
            errors.push_back(c.algorithm + " generates its own pairs: leave 'pairs' empty, or pick an offline method (dpo, ipo, ...)");
        }
        if (m->data == MethodData::Ratings) {
            if (!c.pairs.empty()) errors.push_back(c.algorithm + " trains on ratings, not pairs: use 'ratings' (db or db:RUN)");
            if (const JudgeInfo* j = findJudge(c.judge); !j || !j->numericOutcomes) {
                errors.push_back(c.algorithm + " needs numeric outcomes: judge = task (true reward) or human (rating mode)");
            }
            // The weights P^f/P^R compare the policy's full tempered distribution
            // with the one that was sampled; truncation would make them wrong.
            if (!fullSamplingDistribution(c)) {
                errors.push_back(c.algorithm + " needs propensities of the full sampling distribution: top_k 0, top_p 1, temperature > 0");
            }
        } else if (!c.ratings.empty()) {
            errors.push_back("'ratings' is the data of the methods that train on rated responses; " + c.algorithm +
                             " trains on pairs");
        }
    }
    // Ratios, KL penalties and score-function terms are exact only on the
    // full tempered distribution (algorithms.md 5b).
    if (c.algorithm == methodName(Method::Ppo) && !fullSamplingDistribution(c)) {
        errors.push_back("ppo's ratio and KL penalty need the full sampling distribution: top_k 0, top_p 1, temperature > 0");
    }
    if (c.algorithm == methodName(Method::Ppo) && c.ppoMinibatches > c.batchSize) {
        errors.push_back("ppo_minibatches (" + std::to_string(c.ppoMinibatches) + ") cannot exceed batch_size (" +
                         std::to_string(c.batchSize) + ")");
    }
    const bool sail = c.algorithm == methodName(Method::SailPr) || c.algorithm == methodName(Method::SailPp) ||
                      c.algorithm == methodName(Method::SailDp) || c.algorithm == methodName(Method::OnlineDpo);
    if (c.sailKlCoef > 0 && !sail) {
        errors.push_back("sail_kl_coef is SAIL-RevKL's reverse-KL term: online-dpo, sail-pr, sail-pp and sail-dp take it, " +
                         c.algorithm + " does not");
    }
    if (sail && pairwiseDifferentiatesSampling(c) && !fullSamplingDistribution(c)) {
        errors.push_back(c.algorithm + "'s exploration and reverse-KL terms differentiate the sampling distribution: "
                         "top_k 0, top_p 1, temperature > 0 (or set their coefficients to 0)");
    }
    if (c.loraRank == 0 && !c.loraTargets.empty()) errors.push_back("lora_targets needs lora_rank > 0");
    if (const MethodInfo* m = findMethod(c.algorithm); m && m->family == MethodFamily::Group) {
        const int64_t k = groupSize(c);
        if (k < 2) {
            errors.push_back(c.algorithm + " needs num_generations >= 2 (a group of one has no baseline)");
        } else if (c.batchSize % k != 0) {
            errors.push_back(c.algorithm + ": batch_size (" + std::to_string(c.batchSize) +
                             " samples) must be a multiple of num_generations (" + std::to_string(k) + ")");
        }
        if (!fullSamplingDistribution(c)) {
            errors.push_back(c.algorithm + "'s ratios and KL need the full sampling distribution: top_k 0, top_p 1, temperature > 0");
        }
    }
    if (std::string stored; !c.annotator.empty()) {
        if (const std::string e = normalizeName(c.annotator, stored, "annotator", false); !e.empty()) {
            errors.push_back("annotator: " + e);
        }
    }
    if (c.pairs == kUnpairedSource && c.algorithm != methodName(Method::Kto)) {
        errors.push_back(std::string("pairs = ") + kUnpairedSource + " (the stored unpaired labels) trains kto only, not " +
                         c.algorithm);
    }
    if (c.rpoAlpha > 0) {
        const MethodInfo* m = findMethod(c.algorithm);
        const bool dpoLoss = m && m->family == MethodFamily::Pairwise && !m->referenceFree && m->id != Method::Kto &&
                             m->id != Method::Slic && m->id != Method::SlicHf;
        if (!dpoLoss) errors.push_back("rpo_alpha is the DPO family's SFT term; " + c.algorithm + " does not take it");
    }
    return errors;
}

std::string klKnobText(const RunConfig& c) {
    const MethodInfo* m = findMethod(c.algorithm);
    const ConfigField* f = findConfigField(m && m->klKnob ? m->klKnob : (m ? "lr" : "beta"));
    return f->label + " " + configValueText(c, *f);
}

int64_t groupSize(const RunConfig& c) {
    if (c.numGenerations > 0) return c.numGenerations;
    return c.algorithm == methodName(Method::Rloo) ? 2 : 8;
}

bool configFieldShown(const RunConfig& c, const std::string& key) {
    if (key == "judge_model" || key == "judge_prompt") return isJudge(c.judge, JudgeKind::Llm);
    if (key == "reward_server") {
        const MethodFamily family = methodFamily(c.algorithm);
        return isJudge(c.judge, JudgeKind::RewardServer) || family == MethodFamily::Ppo || family == MethodFamily::Group;
    }
    return true;
}

std::string runConfigToJson(const RunConfig& c) {
    QJsonObject obj;
    for (const ConfigField& f : runConfigFields()) {
        const QString key = QString::fromStdString(f.key);
        if (auto p = std::get_if<std::string RunConfig::*>(&f.member)) obj[key] = QString::fromStdString(c.*(*p));
        else if (auto p = std::get_if<int64_t RunConfig::*>(&f.member)) obj[key] = static_cast<qint64>(c.*(*p));
        else obj[key] = c.*std::get<double RunConfig::*>(f.member);
    }
    return QJsonDocument(obj).toJson(QJsonDocument::Compact).toStdString();
}

}  // namespace preflab
