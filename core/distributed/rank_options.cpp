#include "core/distributed/rank_options.h"

namespace preflab {

std::string dataParallelProblem(const RunConfig& config, int worldSize) {
    if (worldSize <= 1) return {};
    const MethodInfo* method = findMethod(config.algorithm);
    if (method && method->family != MethodFamily::Pairwise) {
        return "data-parallel training covers the pairwise methods (the DPO family and SAIL) so far; " +
               config.algorithm + " runs on one process";
    }
    if (judgeNeedsPerson(config.judge)) {
        return "a person labels on one process: data-parallel training needs judge task, self or reward_model";
    }
    if (config.batchSize % worldSize != 0) {
        return "batch size " + std::to_string(config.batchSize) + " does not split evenly over " +
               std::to_string(worldSize) + " processes";
    }
    return {};
}

}  // namespace preflab
