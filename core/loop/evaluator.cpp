#include "core/loop/evaluator.h"
#include "core/values/metric_names.h"

#include "core/algo/kl_estimators.h"
#include "core/judges/make_judge.h"
#include "core/judges/reward_scorer.h"
#include "core/values/seed_mix.h"
#include "core/values/win_rate.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>

namespace preflab {
namespace {

// Puts torch's default generator back when the scope ends: loading a model
// may initialise weights from it before reading the file's, and the training
// that follows must draw what it would have drawn without the evaluation.
class TorchRngRestore {
public:
    TorchRngRestore() {
        auto gen = at::detail::getDefaultCPUGenerator();
        std::lock_guard<std::mutex> lock(gen.mutex());
        m_state = gen.get_state();
    }
    ~TorchRngRestore() {
        auto gen = at::detail::getDefaultCPUGenerator();
        std::lock_guard<std::mutex> lock(gen.mutex());
        gen.set_state(m_state);
    }
    TorchRngRestore(const TorchRngRestore&) = delete;
    TorchRngRestore& operator=(const TorchRngRestore&) = delete;

private:
    at::Tensor m_state;
};

// Responses per reward-model scoring call.
constexpr size_t kScoreChunk = 32;

}  // namespace

Evaluator::Evaluator(LoopContext& ctx, LoopModels& models, HeldOutPreferences& heldOut)
    : m_ctx(ctx), m_models(models), m_heldOut(heldOut),
      m_winRatePrompts(std::min<int64_t>(ctx.cfg.winRatePrompts, static_cast<int64_t>(ctx.evalPrompts.size()))) {}

Evaluator::~Evaluator() = default;

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
    std::vector<std::string> texts;  // each evaluation prompt's response, for the win rate and the proxy gold
    texts.reserve(evalPrompts.size());
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
            texts.push_back(m_models.tokenizer->decode(s.tokens[i]));
            gold += m_ctx.task.score(evalPrompts[start + i], texts.back()).total();
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
    if (!m_ctx.cfg.goldModel.empty()) addProxyGold(texts, metrics);
    const Clock::time_point winRateBegan = Clock::now();  // the first time includes sampling the reference
    if (m_winRatePrompts > 0 && prepareWinRate(cancel)) addWinRate(texts, metrics, winRateBegan, cancel);
    if (cancel.load()) return;
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

bool Evaluator::prepareWinRate(const std::atomic_bool& cancel) {
    if (m_winRateTried) return m_winRateJudge && m_referenceTexts.size() == static_cast<size_t>(m_winRatePrompts);
    std::string whyNone;
    if (winRateJudgeName(m_ctx.cfg, &whyNone).empty()) {
        m_winRateTried = true;
        if (m_ctx.observer) {
            m_ctx.observer->noticeRaised({"win_rate", m_ctx.step, "no win rate against the reference: " + whyNone,
                                          "set win_rate_prompts 0 to silence this"});
        }
        return false;
    }
    if (!m_winRateJudge) {
        const TorchRngRestore keep;
        m_winRateJudge = makeEvaluationJudge(m_ctx.cfg);
    }
    // The reference never changes: its responses are sampled once, each with
    // a seed of its own (the tempered distribution, untruncated, as the
    // policy's evaluation samples).
    SamplingParams sampling = m_models.sampling;
    sampling.topK = 0;
    sampling.topP = 1.0;
    std::vector<std::string> out;
    for (int64_t start = 0; start < m_winRatePrompts; start += 64) {
        if (cancel.load()) return false;
        const int64_t end = std::min<int64_t>(m_winRatePrompts, start + 64);
        std::vector<TokenIds> prompts;
        std::vector<uint64_t> seeds;
        for (int64_t i = start; i < end; ++i) {
            prompts.push_back(m_models.promptIds(m_ctx.evalPrompts[i].text));
            seeds.push_back(mixSeed(m_ctx.seed() ^ 0x7EF5ull, 0, static_cast<uint64_t>(i)));
        }
        ReferenceScope ref(m_models);
        const SampledSequences s =
            sampleBatch(ref.get(), prompts, sampling, seeds, m_models.eos(), m_models.pad(), &cancel);
        if (s.cancelled) return false;
        for (const TokenIds& t : s.tokens) out.push_back(m_models.tokenizer->decode(t));
    }
    m_referenceTexts = std::move(out);
    m_winRateTried = true;
    return true;
}

void Evaluator::addWinRate(const std::vector<std::string>& policyTexts, Metrics& metrics, Clock::time_point began,
                           const std::atomic_bool& cancel) {
    std::vector<PairForJudging> pairs;
    for (int64_t i = 0; i < m_winRatePrompts && i < static_cast<int64_t>(policyTexts.size()); ++i) {
        PairForJudging p;
        p.pairIndex = i;
        p.prompt = m_ctx.evalPrompts[i].text;
        p.responseA = policyTexts[i];
        p.responseB = m_referenceTexts[i];
        p.generatedAtStep = m_ctx.step;
        pairs.push_back(std::move(p));
    }
    {
        // A judge that waits on a server stops waiting when the run is stopped.
        const ScorerCancelScope stoppable(dynamic_cast<RewardScorer*>(m_winRateJudge.get()), cancel);
        m_winRateJudge->submit(pairs);
    }
    WinRateCount count;
    for (const Judgement& j : m_winRateJudge->collect()) count.add(j.choice);
    const OrderChecks order = m_winRateJudge->takeOrderChecks();
    const WinRate w = winRate(count);
    if (w.n == 0) return;
    metrics.push_back({metricKey(Metric::WinRateVsRef), w.rate});
    metrics.push_back({metricKey(Metric::WinRateVsRefLow), w.low});
    metrics.push_back({metricKey(Metric::WinRateVsRefHigh), w.high});
    metrics.push_back({metricKey(Metric::WinRateTies), static_cast<double>(count.ties) / static_cast<double>(w.n)});
    metrics.push_back({metricKey(Metric::WinRatePrompts), static_cast<double>(w.n)});
    if (order.asked > 0) {
        metrics.push_back({metricKey(Metric::JudgeFlipRate),
                           static_cast<double>(order.flipped) / static_cast<double>(order.asked)});
    }
    metrics.push_back({metricKey(Metric::TimeWinRateSeconds), secondsSince(began)});
}

void Evaluator::addProxyGold(const std::vector<std::string>& texts, Metrics& metrics) {
    if (texts.empty()) return;
    if (!m_goldModel) {
        const TorchRngRestore keep;
        m_goldModel = std::make_unique<RewardModelJudge>(m_ctx.cfg.goldModel);
    }
    double sum = 0;
    for (size_t start = 0; start < texts.size(); start += kScoreChunk) {
        const size_t end = std::min(texts.size(), start + kScoreChunk);
        std::vector<std::string> prompts;
        for (size_t i = start; i < end; ++i) prompts.push_back(m_ctx.evalPrompts[i].text);
        for (double v : m_goldModel->score(prompts, std::vector<std::string>(texts.begin() + start, texts.begin() + end))) {
            sum += v;
        }
    }
    metrics.push_back({metricKey(Metric::ProxyGoldReward), sum / static_cast<double>(texts.size())});
}

}  // namespace preflab
