#include "core/loop/outcome_model.h"
#include "core/values/metric_names.h"

#include "core/loop/shuffled_cycle.h"
#include "core/nn/fused_adamw.h"

#include <algorithm>
#include <cmath>

namespace preflab {

OutcomeModel::OutcomeModel(LoopContext& ctx, LoopModels& models, ParameterUpdate& update)
    : m_ctx(ctx), m_models(models), m_update(update) {
    for (SideModel& side : m_fold) {
        side.model = withScalarHead(models.policy);
        side.optimizer = std::make_unique<FusedAdamW>(
            side.model->parameters(), torch::optim::AdamWOptions(ctx.cfg.outcomeLr).weight_decay(0.0));
        update.track(*side.optimizer);
    }
}

double OutcomeModel::fitFold(int k, const std::vector<const RatedItem*>& items) {
    std::vector<TokenIds> prompts, responses;
    std::vector<float> targets;
    for (const RatedItem* r : items) {
        prompts.push_back(r->prompt);
        responses.push_back(r->response);
        targets.push_back(static_cast<float>(r->outcome + m_ctx.cfg.outcomeLengthBias * r->sentences));
    }
    const SequenceBatch seqs = packSequences(prompts, responses, m_models.pad());
    SideModel& side = m_fold[static_cast<size_t>(k)];
    Transformer& g = side.model;
    g->train();
    side.optimizer->zero_grad();
    const at::Tensor mse = (g->scalar(seqs.ids, seqs.attention).to(at::kFloat) - at::tensor(targets)).pow(2).mean();
    const double v = mse.item<double>();
    if (!std::isfinite(v)) return v;
    // A regression step at outcome_lr: not the policy's update (no warm-up, no halt).
    mse.backward();
    m_update.clipGradients(g);
    side.optimizer->step();
    return v;
}

double OutcomeModel::fit(const std::vector<RatedItem>& items) {
    double sum = 0, weight = 0;
    for (int k = 0; k < 2; ++k) {
        std::vector<const RatedItem*> mine;
        for (const RatedItem& r : items) {
            if (r.fold == k) mine.push_back(&r);
        }
        if (mine.empty()) continue;
        sum += fitFold(k, mine) * static_cast<double>(mine.size());
        weight += static_cast<double>(mine.size());
    }
    return weight > 0 ? sum / weight : 0.0;
}

void OutcomeModel::warmUp(const std::vector<RatedItem>& stored, const std::atomic_bool& cancel) {
    m_fitted = true;
    const RunConfig& cfg = m_ctx.cfg;
    if (stored.empty() || cfg.outcomeWarmupSteps == 0) return;
    const size_t n = std::max<size_t>(16, static_cast<size_t>(cfg.batchSize));
    double recent = 0;
    int64_t count = 0;
    for (int k = 0; k < 2; ++k) {
        std::vector<const RatedItem*> fold;
        for (const RatedItem& r : stored) {
            if (r.fold == k) fold.push_back(&r);
        }
        if (fold.empty()) continue;
        ShuffledCycle cycle;
        for (int64_t i = 0; i < cfg.outcomeWarmupSteps; ++i) {
            if (cancel.load()) return;
            std::vector<const RatedItem*> batch;
            while (batch.size() < n) batch.push_back(fold[cycle.next(fold.size(), m_ctx.seed(), 0x0C7E + k)]);
            const double mse = fitFold(k, batch);
            if (i >= cfg.outcomeWarmupSteps - 10) {
                recent += mse;
                ++count;
            }
        }
    }
    m_ctx.report({{metricKey(Metric::OutcomeWarmupMse), recent / static_cast<double>(std::max<int64_t>(1, count))}});
}

at::Tensor OutcomeModel::predict(int k, const SequenceBatch& batch) {
    torch::NoGradGuard noGrad;
    Transformer& g = m_fold[static_cast<size_t>(k)].model;
    g->eval();
    return g->scalar(batch.ids, batch.attention).to(at::kFloat);
}

at::Tensor OutcomeModel::predictHeldOut(const std::vector<RatedItem>& items, const SequenceBatch& batch) {
    const at::Tensor g0 = predict(0, batch), g1 = predict(1, batch);
    std::vector<uint8_t> inFold0;
    for (const RatedItem& r : items) inFold0.push_back(r.fold == 0);
    // An item of fold 0 is predicted by fold 1's model, and the other way round.
    return at::where(at::tensor(inFold0).to(at::kBool), g1, g0);
}

at::Tensor OutcomeModel::predictFresh(const SequenceBatch& batch) {
    return 0.5 * (predict(0, batch) + predict(1, batch));
}

}  // namespace preflab
