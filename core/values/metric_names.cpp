#include "core/values/metric_names.h"

#include <algorithm>

namespace preflab {

const std::vector<MetricInfo>& metricTable() {
    using M = Metric;
    using C = MetricCadence;
    using P = MetricPlot;
    constexpr auto pairwise = MethodFamily::Pairwise, ppo = MethodFamily::Ppo, causal = MethodFamily::Causal,
                   group = MethodFamily::Group;
    constexpr auto any = std::nullopt;
    // Columns: id, key, title, legend, unit, cadence, family, plot, headline, combine, interval.
    static const std::vector<MetricInfo> table = [&] {
        std::vector<MetricInfo> t = {
            {M::Loss, "loss", "Loss", "loss", "nats per pair", C::Step, any, P::Loss, true},
            {M::RewardsChosen, "rewards/chosen", "Implicit reward of the chosen response", "chosen", "nats", C::Step, pairwise, P::Rewards},
            {M::RewardsRejected, "rewards/rejected", "Implicit reward of the rejected response", "rejected", "nats", C::Step, pairwise, P::Rewards},
            {M::RewardsMargins, "rewards/margins", "Reward margin, own samples", "own samples", "nats", C::Step, pairwise, P::Margin, true},
            {M::RewardsAccuracies, "rewards/accuracies", "Reward accuracy, own samples", "own samples", "share of pairs", C::Step, pairwise, P::Accuracy, true},
            {M::LogpsChosen, "logps/chosen", "Log-probability of the chosen response", "chosen", "nats", C::Step, pairwise},
            {M::LogpsRejected, "logps/rejected", "Log-probability of the rejected response", "rejected", "nats", C::Step, pairwise},
            {M::GradNorm, "grad_norm", "Gradient norm (before clipping)", "gradient norm", "", C::Step, any},
            {M::LearningRate, "learning_rate", "Learning rate", "learning rate", "", C::Step, any},
            {M::TimeStepSeconds, "time/step_seconds", "Step time", "step time", "seconds", C::Step, any},
            {M::TimeGenerationShare, "time/generation_share", "Share of the step spent generating", "generation share", "share", C::Step, any},
            {M::TimeExchangeSeconds, "time/exchange_seconds", "Time exchanging gradients between ranks", "exchange time", "seconds", C::Step, any},
            {M::BufferStaleness, "buffer/staleness", "Staleness of the trained samples", "staleness", "steps", C::Step, any},
            {M::JudgeUntrainableShare, "judge/untrainable_share", "Untrainable share", "untrainable share", "share of pairs", C::Step, pairwise},
            {M::JudgeIdenticalShare, "judge/identical_share", "Identical-pair share", "identical share", "share of pairs", C::Step, pairwise},
            {M::GoldLabelAgreement, "gold/label_agreement", "Labels agreeing with the true reward", "label agreement", "share of pairs", C::Step, pairwise},
            {M::DataTruncatedPairs, "data/truncated_pairs", "Dataset pairs cut to fit the context", "truncated pairs", "pairs", C::Step, pairwise,
             P::None, false, RankCombine::Sum},
            {M::NllLoss, "nll_loss", "SFT term: the chosen response's NLL per token", "NLL", "nats per token", C::Step, pairwise},
            {M::LogOddsRatio, "log_odds_ratio", "ORPO: log s(log-odds of chosen - rejected)", "log odds ratio", "nats", C::Step,
             pairwise},
            {M::LogOddsChosen, "log_odds_chosen", "ORPO: log-odds of chosen minus rejected", "log odds", "nats", C::Step,
             pairwise},
            {M::KlTerm, "kl", "KL term of the loss (GRPO: mean k3 to the reference per token; RLOO: mean k1 per response, as its reward "
             "takes it; KTO: the reference point z_ref)",
             "KL term", "nats", C::Step, any},
            {M::SailExtraLoss, "sail/extra_loss", "SAIL's extra terms", "extra loss", "nats", C::Step, pairwise},
            {M::SailRouted, "sail/routed", "SAIL: share of pairs routed", "routed", "share of pairs", C::Step, pairwise},
            {M::SailSwapped, "sail/swapped", "SAIL-DP: share of preferences re-drawn", "swapped", "share of pairs", C::Step, pairwise},
            {M::SailKlK3, "sail/kl_k3", "SAIL-RevKL: k3 KL on fresh samples", "k3", "nats", C::Step, pairwise},
            {M::LossPolicy, "loss/policy_avg", "PPO policy loss", "policy loss", "", C::Step, ppo},
            {M::LossValue, "loss/value_avg", "PPO value loss", "value loss", "squared error", C::Step, ppo, P::Rewards},
            {M::PolicyApproxKl, "policy/approxkl_avg", "PPO approximate KL to the rollout policy", "approx KL", "nats", C::Step, ppo},
            {M::PolicyClipFraction, "policy/clipfrac_avg", "PPO clipped share of tokens", "clipped share of tokens", "share of tokens", C::Step, ppo, P::Accuracy},
            {M::ValueRatio, "val/ratio", "PPO mean policy ratio", "ratio", "", C::Step, ppo},
            {M::ValueClipFraction, "val/clipfrac_avg", "PPO clipped share of values", "value clip share", "share of tokens", C::Step, ppo},
            {M::PpoUpdates, "ppo/updates", "PPO optimizer updates in the step", "updates", "updates", C::Step, ppo},
            {M::ObjectiveScores, "objective/scores", "Rollout score (reward model or true reward)", "rollout score", "score per response", C::Step, ppo, P::Margin},
            {M::ObjectiveNonScoreReward, "objective/non_score_reward", "KL penalty in the reward", "KL penalty", "score per response", C::Step, ppo},
            {M::ObjectiveRlhfReward, "objective/rlhf_reward", "Score minus KL penalty", "score - KL penalty", "score per response", C::Step, ppo, P::Margin},
            {M::GoldRolloutReward, "gold/rollout_reward", "True reward of the rollouts", "rollout gold", "task points per response", C::Step, any},
            {M::EvalRolloutEosRate, "eval/rollout_eos_rate", "Rollouts that end with EOS", "EOS rate", "share of responses", C::Step, ppo},
            {M::GroupReward, "reward", "Mean reward of the samples (reward model's score, else the true reward)",
             "mean reward", "score per response", C::Step, group, P::Margin},
            {M::GroupRewardStd, "reward_std", "Spread of the rewards within a group (mean standard deviation)",
             "reward spread", "score per response", C::Step, group, P::Rewards},
            {M::FracRewardZeroStd, "frac_reward_zero_std", "Groups whose rewards all tie (they give no gradient)",
             "groups with tied rewards", "share of groups", C::Step, group, P::Accuracy},
            {M::ClipRatioLow, "clip_ratio/low_mean", "Ratio clipped below (negative advantage)", "clipped below", "share of tokens",
             C::Step, group},
            {M::ClipRatioHigh, "clip_ratio/high_mean", "Ratio clipped above (positive advantage)", "clipped above",
             "share of tokens", C::Step, group},
            {M::ClipRatioRegion, "clip_ratio/region_mean", "Ratio clipped (either side)", "clipped share", "share of tokens",
             C::Step, group, P::Accuracy},
            {M::CompletionsMeanLength, "completions/mean_length", "Mean length of the samples", "mean length",
             "tokens per response", C::Step, group},
            {M::CpoEss, "cpo/ess", "Effective sample size", "effective sample size", "responses", C::Step, causal, P::Accuracy},
            {M::CpoMaxWeight, "cpo/max_weight", "Largest importance weight", "largest weight", "", C::Step, causal, P::Rewards},
            {M::CpoValueEstimate, "cpo/value_estimate", "Estimated value of the policy", "estimated value of the policy", "outcome per response", C::Step, causal, P::Margin},
            {M::CpoMeanOutcome, "cpo/mean_outcome", "Mean outcome of the rated responses", "mean outcome", "outcome per response", C::Step, causal},
            {M::OutcomeMse, "outcome/mse", "Outcome model error", "outcome MSE", "squared error", C::Step, causal},
            {M::OutcomeFreshMean, "outcome/fresh_mean", "Outcome model on fresh samples", "fresh mean", "outcome per response", C::Step, causal},
            {M::OutcomeWarmupMse, "outcome/warmup_mse", "Outcome model error in warm-up", "warm-up MSE", "squared error", C::Step, causal},
            {M::ObjectiveKl, "objective/kl", "KL to reference (the run's kl_estimator)", "KL", "nats per response", C::Evaluation, any,
             P::None, true, RankCombine::Mean, M::ObjectiveKlCi95},
            {M::ObjectiveKlCi95, "objective/kl_ci95", "KL to reference, 95 % interval half-width", "95 % interval", "nats per response", C::Evaluation, any},
            {M::KlK1, "kl/k1", "KL to reference (k1 estimate)", "k1 estimate", "nats per response", C::Evaluation, any,
             P::None, false, RankCombine::Mean, M::KlK1Ci95},
            {M::KlK3, "kl/k3", "KL to reference (k3 estimate)", "k3 estimate", "nats per response", C::Evaluation, any,
             P::Kl, false, RankCombine::Mean, M::KlK3Ci95},
            {M::KlExact, "kl/exact", "KL to reference (exact, nats per response)", "exact, 95 % interval", "nats per response", C::Evaluation, any,
             P::Kl, false, RankCombine::Mean, M::KlExactCi95},
            {M::KlK1Ci95, "kl/k1_ci95", "k1 KL, 95 % interval half-width", "95 % interval", "nats per response", C::Evaluation, any},
            {M::KlK3Ci95, "kl/k3_ci95", "k3 KL, 95 % interval half-width", "95 % interval", "nats per response", C::Evaluation, any},
            {M::KlExactCi95, "kl/exact_ci95", "Exact KL, 95 % interval half-width", "95 % interval", "nats per response", C::Evaluation, any},
            {M::ObjectiveEntropy, "objective/entropy", "Policy entropy (nats per response)", "entropy", "nats per response", C::Evaluation, any},
            {M::GoldReward, "gold/reward", "Gold reward (true task reward)", "mean true reward", "task points per response", C::Evaluation, any,
             P::Gold, true},
            {M::EvalResponseTokens, "eval/response_tokens", "Mean response length (tokens)", "length (tokens, right axis)", "tokens per response",
             C::Evaluation, any, P::Gold},
            {M::EvalEosRate, "eval/eos_rate", "Samples that end with EOS", "EOS rate", "share of responses", C::Evaluation, any},
            {M::EvalRewardsMargins, "eval/rewards/margins", "Held-out reward margin (nats)", "held-out pairs", "nats", C::Evaluation, pairwise, P::Margin},
            {M::EvalRewardsAccuracies, "eval/rewards/accuracies", "Held-out preference accuracy", "held-out pairs", "share of pairs", C::Evaluation,
             pairwise, P::Accuracy},
            {M::EvalHeldOutPairs, "eval/held_out_pairs", "Pairs in the held-out set", "held-out pairs", "pairs", C::Evaluation, any},
            // The judge's name is the run's (win_rate.h's winRateDisplayName gives "win rate vs reference
            // (judge: X)"); the plot and summaries show it beside these.
            {M::WinRateVsRef, "eval/win_rate_vs_ref",
             "Win rate vs reference (judge: the run's machine judge; (wins + ties/2) / n over held-out prompts, "
             "Wilson 95 % interval with ties counted half)",
             "win rate, Wilson 95 % interval", "share of prompts", C::Evaluation, any, P::WinRate},
            {M::WinRateVsRefLow, "eval/win_rate_vs_ref_low", "Win rate vs reference, lower end of the Wilson 95 % interval",
             "95 % interval low", "share of prompts", C::Evaluation, any},
            {M::WinRateVsRefHigh, "eval/win_rate_vs_ref_high", "Win rate vs reference, upper end of the Wilson 95 % interval",
             "95 % interval high", "share of prompts", C::Evaluation, any},
            {M::WinRateTies, "eval/win_rate_ties", "Win rate vs reference: share of ties", "ties", "share of prompts",
             C::Evaluation, any, P::WinRate},
            {M::WinRatePrompts, "eval/win_rate_prompts", "Win rate vs reference: prompts judged", "prompts judged", "prompts",
             C::Evaluation, any},
            {M::TimeWinRateSeconds, "time/win_rate_seconds",
             "Time the win rate added to the evaluation (judging; the first also samples the reference's responses)",
             "win-rate time", "seconds", C::Evaluation, any},
            {M::ProxyGoldReward, "gold/proxy_reward",
             "Proxy gold (mean score of the gold_model reward model on fresh samples; not the true reward)",
             "proxy gold (reward model)", "reward-model score per response", C::Evaluation, any, P::ProxyGold},
            {M::JudgeFlipRate, "judge/flip_rate",
             "LLM judge: share of pairs whose verdict changed with the A/B order (counted as ties; position bias), "
             "on the win-rate pairs", "judge's order flips", "share of pairs", C::Evaluation, any, P::WinRate},
            {M::JudgeTrainFlipRate, "judge/train_flip_rate",
             "LLM judge: share of the step's judged pairs whose verdict changed with the A/B order (ties, so untrainable)",
             "order flips, training pairs", "share of pairs", C::Step, pairwise},
            {M::RmLoss, "rm/loss", "Reward model loss", "loss", "nats per pair", C::Step, any},
            {M::RmAccuracy, "rm/accuracy", "Reward model accuracy, training batch", "accuracy", "share of pairs", C::Step, any},
            {M::RmMargin, "rm/margin", "Reward model margin, training batch", "margin", "reward", C::Step, any},
            {M::RmRewardMin, "rm/reward_min", "Smallest reward in the batch", "min", "reward", C::Step, any},
            {M::RmRewardMean, "rm/reward_mean", "Mean reward in the batch", "mean", "reward", C::Step, any},
            {M::RmRewardMax, "rm/reward_max", "Largest reward in the batch", "max", "reward", C::Step, any},
            {M::EvalRmAccuracy, "eval/rm_accuracy", "Reward model held-out accuracy", "held-out accuracy", "share of pairs", C::Evaluation, any},
            {M::EvalRmMargin, "eval/rm_margin", "Reward model held-out margin", "held-out margin", "reward", C::Evaluation, any},
            {M::EvalRmLoss, "eval/rm_loss", "Reward model held-out loss", "held-out loss", "nats per pair", C::Evaluation, any},
        };
        std::sort(t.begin(), t.end(), [](const MetricInfo& a, const MetricInfo& b) { return a.id < b.id; });
        return t;
    }();
    return table;
}

const MetricInfo& metricInfo(Metric m) {
    return metricTable()[static_cast<size_t>(m)];
}

const MetricInfo* findMetric(std::string_view key) {
    for (const MetricInfo& m : metricTable()) {
        if (key == m.key) return &m;
    }
    return nullptr;
}

std::vector<Metric> headlineMetrics() {
    std::vector<Metric> out;
    for (const MetricInfo& m : metricTable()) {
        if (m.headline) out.push_back(m.id);
    }
    return out;
}

}  // namespace preflab
