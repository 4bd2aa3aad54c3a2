#include "core/loop/evaluator.h"
#include "core/values/metric_names.h"

#include "core/algo/kl_estimators.h"
#include "core/values/seed_mix.h"

#include <algorithm>
#include <cmath>

namespace preflab {

void Evaluator::run(const std::atomic_bool& cancel) {
    torch::NoGradGuard noGrad;
    // Evaluation measures the policy without dropout (adapters' included).
    const DropoutOff off(m_models.policy);
    // Fresh samples from the full tempered distribution (top-k/top-p are not
    // applied here: under truncation the reference could give a sampled token
    // probability 0 and the KL would be infinite); KL is that of the tempered
    // policy to the tempered reference, the pair the run's samples come from.
    SamplingParams sampling = m_models.sampling;
    sampling.topK = 0;
    sampling.topP = 1.0;
    const std::vector<TaskPrompt>& evalPrompts = m_ctx.evalPrompts;
    const int64_t total = static_cast<int64_t>(evalPrompts.size());
    const int64_t chunk = 64;
    double k1 = 0, k3 = 0, exact = 0, entropy = 0, gold = 0, tokens = 0, eos = 0;
    double k1Sq = 0, k3Sq = 0, exactSq = 0;  // sums of squares, for the estimates' intervals
    for (int64_t start = 0; start < total; start += chunk) {
        if (cancel.load()) return;
        const int64_t count = std::min(chunk, total - start);
        std::vector<TokenIds> prompts;
        std::vector<uint64_t> seeds;
        for (int64_t i = start; i < start + count; ++i) {
            prompts.push_back(m_models.promptIds(evalPrompts[i].text));
            seeds.push_back(mixSeed(m_ctx.seed() ^ 0xE7A1ull, static_cast<uint64_t>(m_ctx.step), static_cast<uint64_t>(i)));
        }
        const SampledSequences s =
            sampleBatch(m_models.policy, prompts, sampling, seeds, m_models.eos(), m_models.pad(), &cancel);
        if (s.cancelled) return;
        const SequenceBatch batch = packSequences(prompts, s.tokens, m_models.pad());
        const KlPerSequence kl = klPerSequence(m_models.sampledLogits(m_models.policyLogits(batch)),
                                               m_models.sampledLogits(m_models.referenceLogits(batch)), batch);
        k1 += kl.k1.sum().item<double>();
        k3 += kl.k3.sum().item<double>();
        exact += kl.exact.sum().item<double>();
        k1Sq += kl.k1.square().sum().item<double>();
        k3Sq += kl.k3.square().sum().item<double>();
        exactSq += kl.exact.square().sum().item<double>();
        entropy += kl.entropy.sum().item<double>();
        for (int64_t i = 0; i < count; ++i) {
            gold += m_ctx.task.score(evalPrompts[start + i], m_models.tokenizer->decode(s.tokens[i])).total();
            tokens += static_cast<double>(s.tokens[i].size());
            eos += s.endedWithEos[i] ? 1.0 : 0.0;
        }
    }
    const double n = static_cast<double>(total);
    // Half-width of the normal 95 % interval of a mean over the n sampled
    // responses (each estimator is a mean of per-response values).
    auto ci95 = [n](double sum, double sumSq) {
        if (n < 2) return 0.0;
        const double mean = sum / n;
        const double variance = std::max(0.0, (sumSq - n * mean * mean) / (n - 1));
        return 1.96 * std::sqrt(variance / n);
    };
    const std::string& estimator = m_ctx.cfg.klEstimator;
    const double chosen = estimator == "k1" ? k1 : estimator == "exact" ? exact : k3;
    const double chosenCi = estimator == "k1" ? ci95(k1, k1Sq) : estimator == "exact" ? ci95(exact, exactSq) : ci95(k3, k3Sq);
    Metrics metrics{{metricKey(Metric::ObjectiveKl), chosen / n},
                    {metricKey(Metric::ObjectiveKlCi95), chosenCi},
                    {metricKey(Metric::KlK1), k1 / n},
                    {metricKey(Metric::KlK3), k3 / n},
                    {metricKey(Metric::KlExact), exact / n},
                    {metricKey(Metric::KlK1Ci95), ci95(k1, k1Sq)},
                    {metricKey(Metric::KlK3Ci95), ci95(k3, k3Sq)},
                    {metricKey(Metric::KlExactCi95), ci95(exact, exactSq)},
                    {metricKey(Metric::ObjectiveEntropy), entropy / n},
                    {metricKey(Metric::GoldReward), gold / n},
                    {metricKey(Metric::EvalResponseTokens), tokens / n},
                    {metricKey(Metric::EvalEosRate), eos / n}};
    std::vector<EvalSample> display = displaySamples(cancel);
    HeldOutStats heldOut;
    if (m_heldOut.evaluate(cancel, &heldOut)) {
        metrics.push_back({metricKey(Metric::EvalRewardsAccuracies), heldOut.accuracy});
        metrics.push_back({metricKey(Metric::EvalRewardsMargins), heldOut.margin});
        metrics.push_back({metricKey(Metric::EvalHeldOutPairs), static_cast<double>(m_heldOut.pairCount())});
    }
    if (cancel.load()) return;
    m_ctx.report(metrics);
    if (m_ctx.observer && !display.empty()) m_ctx.observer->evaluationSamples(m_ctx.step, display);
}

std::vector<EvalSample> Evaluator::displaySamples(const std::atomic_bool& cancel) {
    // The first few evaluation prompts, each sampled with one seed that does
    // not depend on the step (common random numbers): while the policy is the
    // reference the response stays the same, and where it changes, the policy
    // changed. At the run's temperature, without top-k/top-p, as above.
    SamplingParams sampling = m_models.sampling;
    sampling.topK = 0;
    sampling.topP = 1.0;
    const int64_t count = std::min<int64_t>(kDisplayPrompts, static_cast<int64_t>(m_ctx.evalPrompts.size()));
    std::vector<TokenIds> prompts;
    std::vector<uint64_t> seeds;
    for (int64_t i = 0; i < count; ++i) {
        prompts.push_back(m_models.promptIds(m_ctx.evalPrompts[i].text));
        seeds.push_back(mixSeed(m_ctx.seed() ^ 0xD15Bull, 0, static_cast<uint64_t>(i)));
    }
    std::vector<EvalSample> out;
    if (count == 0 || cancel.load()) return out;
    const SampledSequences s = sampleBatch(m_models.policy, prompts, sampling, seeds, m_models.eos(), m_models.pad(), &cancel);
    if (s.cancelled) return out;
    for (int64_t i = 0; i < count; ++i) {
        const TaskPrompt& p = m_ctx.evalPrompts[i];
        const std::string text = m_models.tokenizer->decode(s.tokens[i]);
        out.push_back({i, p.text, text, m_ctx.task.score(p, text).total()});
    }
    return out;
}

}  // namespace preflab
