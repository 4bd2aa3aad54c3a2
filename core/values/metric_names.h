#pragma once
// Every metric PrefLab logs, in one table (as method_registry.h does for
// methods and llama.cpp's LLM_KV_NAMES for its keys): the key stored in the
// database and written to files (TRL's names where TRL has one), what it is
// called on its own and in its plot's legend, its unit, how often it is
// measured, which method family reports it, which plot shows it, and how
// ranks combine it. Producers, the plots, the run comparison, run history,
// the CLI's summaries and storage's run summaries all name metrics through
// Metric, so a plot cannot name a metric the table lacks (it would not
// compile), and a renamed key changes everywhere at once. Plain C++.
#include "core/values/method_registry.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace preflab {

enum class Metric {
    // Every training step of a pairwise method (algo/pairwise_loss.cpp).
    Loss, RewardsChosen, RewardsRejected, RewardsMargins, RewardsAccuracies, LogpsChosen, LogpsRejected,
    // Every step, every method (the parameter update, the loop's clocks and buffers).
    GradNorm, LearningRate, TimeStepSeconds, TimeGenerationShare, TimeExchangeSeconds, BufferStaleness,
    JudgeUntrainableShare, JudgeIdenticalShare, GoldLabelAgreement, DataTruncatedPairs,
    // The SFT term (RPO, ORPO), ORPO's odds ratio, and the KL term of KTO and GRPO.
    NllLoss, LogOddsRatio, LogOddsChosen, KlTerm,
    // SAIL's extra terms.
    SailExtraLoss, SailRouted, SailSwapped, SailKlK3,
    // PPO.
    LossPolicy, LossValue, PolicyApproxKl, PolicyClipFraction, ValueRatio, ValueClipFraction, PpoUpdates,
    ObjectiveScores, ObjectiveNonScoreReward, ObjectiveRlhfReward, GoldRolloutReward, EvalRolloutEosRate,
    // GRPO and RLOO.
    GroupReward, GroupRewardStd, FracRewardZeroStd, ClipRatioLow, ClipRatioHigh, ClipRatioRegion, CompletionsMeanLength,
    // The CPO family and its outcome model.
    CpoEss, CpoMaxWeight, CpoValueEstimate, CpoMeanOutcome, OutcomeMse, OutcomeFreshMean, OutcomeWarmupMse,
    // Each evaluation, on fresh samples and the held-out pairs (loop/evaluator.cpp).
    ObjectiveKl, ObjectiveKlCi95, KlExact, KlK1, KlK3, KlExactCi95, KlK1Ci95, KlK3Ci95, ObjectiveEntropy,
    GoldReward, EvalResponseTokens, EvalEosRate, EvalRewardsMargins, EvalRewardsAccuracies, EvalHeldOutPairs,
    // Win rate against the reference and a reward model's proxy gold (issue 30).
    WinRateVsRef, WinRateVsRefLow, WinRateVsRefHigh, WinRateTies, WinRatePrompts, TimeWinRateSeconds, ProxyGoldReward, JudgeFlipRate, JudgeTrainFlipRate,
    // Training a reward model (judges/reward_model.cpp).
    RmLoss, RmAccuracy, RmMargin, RmRewardMin, RmRewardMean, RmRewardMax, EvalRmAccuracy, EvalRmMargin, EvalRmLoss,
};

// How often a metric is measured: each training step (noisy; plots smooth
// it and comparisons average it over steps) or at each evaluation.
enum class MetricCadence { Step, Evaluation };

// The workbench's live plots (ui/metric_plots.cpp), one panel each.
enum class MetricPlot { None, Margin, Kl, Loss, Accuracy, Gold, Rewards, WinRate, ProxyGold };

// How the ranks of a data-parallel run combine one step's values.
enum class RankCombine { Mean, Sum };

struct MetricInfo {
    Metric id;
    const char* key;     // stored and written name (rewards/margins, TRL's)
    const char* title;   // its name on its own, with the quantity's meaning ("Gold reward (true task reward)")
    const char* legend;  // its name in its plot's legend ("held-out pairs")
    const char* unit;    // "nats", "tokens", "share", "" ...
    MetricCadence cadence;
    std::optional<MethodFamily> family;  // the family that reports it; none: every method
    MetricPlot plot = MetricPlot::None;
    bool headline = false;    // a run's headline numbers (run history, `preflab runs`, stored summaries)
    RankCombine combine = RankCombine::Mean;
    std::optional<Metric> interval;  // the metric holding this one's 95 % interval half-width
};

// Every metric, in the order of the enum.
const std::vector<MetricInfo>& metricTable();
const MetricInfo& metricInfo(Metric m);
inline const char* metricKey(Metric m) { return metricInfo(m).key; }
// The entry stored under `key`, or nullptr (an unknown key: a metric of a
// newer or older PrefLab, shown by its key).
const MetricInfo* findMetric(std::string_view key);
// The headline metrics, in table order.
std::vector<Metric> headlineMetrics();

}  // namespace preflab
