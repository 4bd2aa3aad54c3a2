#pragma once
// What a lesson's runs need before they start (lesson.h's "prepare" and
// best-of-n runs), made the same way for `preflab lesson` and the
// workbench's lesson view: a reward model trained on a few task pairs, a file
// of task pairs sampled from the starter, and the best-of-n table of a
// prepared reward model. Each blocks for seconds to minutes: the CLI calls
// them on its thread, the lesson view on a worker thread. Plain values in and
// out (no torch here).
#include "core/judges/reward_model.h"
#include "core/values/best_of_n.h"
#include "core/values/lesson.h"
#include "core/values/loop_types.h"

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace preflab {

struct PreparedRewardModel {
    std::string path;  // the model file, in `dir`
    RewardModelReport report;
};
// A reward model trained on run.prepare.rewardModelPairs task pairs sampled
// from the starter with `seed`; its accuracy measured on 500 pairs of another
// seed (the figure the narration quotes). Written to dir/reward-model-RUN.pt.
// `cancel` stops the training early (the report then says not completed).
PreparedRewardModel prepareLessonRewardModel(const LessonRun& run, const std::string& starter, uint64_t seed,
                                             const std::string& dir, const std::atomic_bool* cancel = nullptr);
// The reward model's figures as the run's step-0 metrics, so that checks and
// texts can quote them.
std::vector<MetricSample> rewardModelLessonSamples(const RewardModelReport& report);

// run.prepare.offlinePairs task pairs sampled from the starter with `seed`,
// written as JSONL (prompt, chosen, rejected) to dir/pairs-RUN.jsonl.
std::string prepareLessonOfflinePairs(const LessonRun& run, const std::string& starter, uint64_t seed,
                                      const std::string& dir);

// A best-of-n run: run.bestOfN.samples samples of each of run.bestOfN.prompts
// prompts from the starter, scored by the reward model (the proxy) and the
// task's true reward, and best-of-n computed exactly over them for each n.
BestOfNTable lessonBestOfN(const LessonRun& run, const std::string& starter, const std::string& rewardModel,
                           uint64_t seed);
// A row as the metrics a lesson reads, at step n: gold/reward, objective/scores
// (the proxy) and kl/exact (from the sampled distribution).
std::vector<MetricSample> bestOfNLessonSamples(const BestOfNPoint& row);

}  // namespace preflab
