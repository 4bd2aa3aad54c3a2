#include "core/loop/outcome_model.h"

#include "core/loop/shuffled_cycle.h"

#include <algorithm>
#include <cmath>

namespace preflab {

OutcomeModel::OutcomeModel(LoopContext& ctx, LoopModels& models, ParameterUpdate& update)
    : m_ctx(ctx), m_models(models), m_update(update) {
    m_side.model = withScalarHead(models.policy);
    m_side.optimizer = std::make_unique<torch::optim::AdamW>(
        m_side.model->parameters(), torch::optim::AdamWOptions(ctx.cfg.outcomeLr).weight_decay(0.0));
    update.track(*m_side.optimizer);
}

double OutcomeModel::fit(const std::vector<RatedItem>& items) {
    std::vector<TokenIds> prompts, responses;
    std::vector<float> targets;
    for (const RatedItem& r : items) {
        prompts.push_back(r.prompt);
        responses.push_back(r.response);
        targets.push_back(static_cast<float>(r.outcome + m_ctx.cfg.outcomeLengthBias * r.sentences));
    }
    const SequenceBatch seqs = packSequences(prompts, responses, m_models.pad());
    Transformer& g = m_side.model;
    g->train();
    m_side.optimizer->zero_grad();
    const at::Tensor mse = (g->scalar(seqs.ids, seqs.attention).to(at::kFloat) - at::tensor(targets)).pow(2).mean();
    const double v = mse.item<double>();
    if (!std::isfinite(v)) return v;
    // A regression step at outcome_lr: not the policy's update (no warm-up, no halt).
    mse.backward();
    m_update.clipGradients(g);
    m_side.optimizer->step();
    return v;
}

void OutcomeModel::warmUp(const std::vector<RatedItem>& stored, const std::atomic_bool& cancel) {
    m_fitted = true;
    const RunConfig& cfg = m_ctx.cfg;
    if (stored.empty() || cfg.outcomeWarmupSteps == 0) return;
    ShuffledCycle cycle;
    const size_t n = std::max<size_t>(16, static_cast<size_t>(cfg.batchSize));
    double recent = 0;
    int64_t count = 0;
    for (int64_t i = 0; i < cfg.outcomeWarmupSteps; ++i) {
        if (cancel.load()) return;
        std::vector<RatedItem> batch;
        while (batch.size() < n) batch.push_back(stored[cycle.next(stored.size(), m_ctx.seed(), 0x0C7E)]);
        const double mse = fit(batch);
        if (i >= cfg.outcomeWarmupSteps - 10) {
            recent += mse;
            ++count;
        }
    }
    m_ctx.report({{"outcome/warmup_mse", recent / static_cast<double>(std::max<int64_t>(1, count))}});
}

at::Tensor OutcomeModel::predict(const SequenceBatch& batch) {
    torch::NoGradGuard noGrad;
    m_side.model->eval();
    return m_side.model->scalar(batch.ids, batch.attention).to(at::kFloat);
}

}  // namespace preflab
