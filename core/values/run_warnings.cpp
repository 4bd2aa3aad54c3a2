#include "core/values/run_warnings.h"
#include "core/values/metric_names.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace preflab {

const std::vector<std::string>& runWarningKinds() {
    static const std::vector<std::string> kinds = {"mode_collapse",       "kl_runaway",   "reward_hacking",
                                                   "length_exploitation", "flat_rewards", "negative_k1"};
    return kinds;
}

namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string fmt(const char* format, double a, double b = 0, double c = 0, double d = 0) {
    char buf[256];
    std::snprintf(buf, sizeof buf, format, a, b, c, d);
    return buf;
}

// Pearson correlation of two equally long lists; NaN when either is constant.
double correlation(const std::vector<double>& x, const std::vector<double>& y) {
    const size_t n = x.size();
    if (n < 2 || y.size() != n) return kNaN;
    double mx = 0, my = 0;
    for (size_t i = 0; i < n; ++i) {
        mx += x[i];
        my += y[i];
    }
    mx /= static_cast<double>(n);
    my /= static_cast<double>(n);
    double sxy = 0, sxx = 0, syy = 0;
    for (size_t i = 0; i < n; ++i) {
        sxy += (x[i] - mx) * (y[i] - my);
        sxx += (x[i] - mx) * (x[i] - mx);
        syy += (y[i] - my) * (y[i] - my);
    }
    return sxx > 0 && syy > 0 ? sxy / std::sqrt(sxx * syy) : kNaN;
}

}  // namespace

const RunWarningMonitor::Series* RunWarningMonitor::series(const std::string& name) const {
    const auto it = m_series.find(name);
    return it == m_series.end() || it->second.empty() ? nullptr : &it->second;
}

double RunWarningMonitor::windowMean(const Series& s, int64_t step) const {
    double sum = 0;
    int n = 0;
    for (const auto& [at, value] : s) {
        if (at <= step && at > step - m_t.window) {
            sum += value;
            ++n;
        }
    }
    return n > 0 ? sum / n : kNaN;
}

std::vector<RunWarning> RunWarningMonitor::observe(const std::vector<MetricSample>& samples) {
    std::vector<RunWarning> out;
    if (samples.empty()) return out;
    int64_t step = 0;
    for (const MetricSample& m : samples) {
        if (!std::isfinite(m.value)) continue;
        m_series[m.name].emplace_back(m.step, m.value);
        step = std::max(step, m.step);
    }
    check(step, out);
    return out;
}

void RunWarningMonitor::raise(RunWarning w, std::vector<RunWarning>& out) {
    if (!m_raised.insert(w.kind).second) return;
    out.push_back(std::move(w));
}

void RunWarningMonitor::check(int64_t step, std::vector<RunWarning>& out) {
    // Mode collapse: the policy's entropy has fallen and its pairs no longer
    // teach anything (ties, identical samples).
    if (const Series* entropy = series(metricKey(Metric::ObjectiveEntropy)); entropy && entropy->size() >= 2 && !raised("mode_collapse")) {
        const double first = entropy->front().second, last = entropy->back().second;
        const Series* untrainable = series(metricKey(Metric::JudgeUntrainableShare));
        const Series* identical = series(metricKey(Metric::JudgeIdenticalShare));
        const double u = untrainable ? windowMean(*untrainable, step) : kNaN;
        const double same = identical ? windowMean(*identical, step) : kNaN;
        const bool pairsBarren = (std::isfinite(u) && u >= m_t.collapseShare) || (std::isfinite(same) && same >= m_t.collapseShare);
        // Methods without pairs (PPO, CPO) have only the entropy to go on.
        const bool noPairs = !untrainable && !identical;
        if (first > 0 && last < m_t.collapseEntropyFraction * first && (pairsBarren || noPairs)) {
            std::string msg = fmt("Mode collapse: the policy's entropy fell from %.1f to %.1f nats per response (%.0f %% lower)",
                                  first, last, 100.0 * (1.0 - last / first));
            if (std::isfinite(u)) msg += fmt("; %.0f %% of the last steps' pairs were untrainable", 100.0 * u);
            if (std::isfinite(same)) msg += fmt(" (%.0f %% identical samples)", 100.0 * same);
            raise({"mode_collapse", step, msg + ".",
                   "Lower the learning rate or raise beta; sample at a higher temperature; "
                   "an earlier checkpoint may be the better policy."},
                  out);
        }
    }

    // KL runaway: above a limit, or growing faster than linearly.
    const Series* kl = series(metricKey(Metric::KlExact));
    if (!kl) kl = series(metricKey(Metric::ObjectiveKl));
    if (kl && !raised("kl_runaway")) {
        const auto& [klStep, klNow] = kl->back();
        if (klNow > m_t.klLimit) {
            raise({"kl_runaway", klStep,
                   fmt("KL to the reference is %.1f nats per response at step %.0f, above %.0f: the policy has moved far from "
                       "the model it started as.",
                       klNow, static_cast<double>(klStep), m_t.klLimit),
                   "Raise beta (the KL knob of the DPO family; the KL coefficient for PPO), lower the learning rate, "
                   "or stop at an earlier checkpoint."},
                  out);
        } else if (kl->size() >= 6) {
            // The least-squares slope over the last four evaluations against
            // the average rate before them: evaluation noise makes any four
            // points look curved, a rate that has doubled does not.
            const auto* p = kl->data() + kl->size() - 4;
            double meanX = 0, meanY = 0;
            for (int i = 0; i < 4; ++i) {
                meanX += static_cast<double>(p[i].first) / 4.0;
                meanY += p[i].second / 4.0;
            }
            double sxy = 0, sxx = 0;
            for (int i = 0; i < 4; ++i) {
                sxy += (static_cast<double>(p[i].first) - meanX) * (p[i].second - meanY);
                sxx += (static_cast<double>(p[i].first) - meanX) * (static_cast<double>(p[i].first) - meanX);
            }
            const double late = sxx > 0 ? sxy / sxx : 0;
            const auto& before = p[-1];
            const auto& start = kl->front();
            const double earlier = before.first > start.first
                                       ? (before.second - start.second) / static_cast<double>(before.first - start.first)
                                       : 0;
            if (earlier > 0 && late >= m_t.klAcceleration * earlier && klNow > m_t.klGrowthFloor) {
                raise({"kl_runaway", klStep,
                       fmt("KL to the reference is growing faster than linearly: %.3f nats per step over the last four "
                           "evaluations against %.3f on average before step %.0f; now %.1f nats.",
                           late, earlier, static_cast<double>(before.first), klNow),
                       "Raise beta or lower the learning rate before the policy collapses; watch gold reward, which "
                       "often peaks before KL takes off."},
                      out);
            }
        }
    }

    // Reward hacking: the optimised score keeps rising while gold falls.
    const Series* gold = series(metricKey(Metric::GoldReward));
    const Series* proxy = series(metricKey(Metric::ObjectiveScores));
    if (gold && proxy && gold->size() >= 3 && !raised("reward_hacking")) {
        const auto best = std::max_element(gold->begin(), gold->end(),
                                           [](const auto& a, const auto& b) { return a.second < b.second; });
        const auto& [goldStep, goldNow] = gold->back();
        const double proxyThen = windowMean(*proxy, best->first), proxyNow = windowMean(*proxy, goldStep);
        if (goldStep > best->first && goldNow < best->second - m_t.goldDrop && std::isfinite(proxyThen) &&
            std::isfinite(proxyNow) && proxyNow > proxyThen) {
            raise({"reward_hacking", goldStep,
                   fmt("Reward hacking: the score being optimised rose from %.2f to %.2f while gold reward fell from %.2f "
                       "(step %.0f) to ",
                       proxyThen, proxyNow, best->second, static_cast<double>(best->first)) +
                       fmt("%.2f.", goldNow),
                   "The reward model or judge rewards something the task does not: check its held-out accuracy, add "
                   "labelled pairs where it is wrong, or raise the KL coefficient."},
                  out);
        }
    }

    // Length exploitation: responses grow with the margin.
    const Series* length = series(metricKey(Metric::EvalResponseTokens));
    const Series* margin = series(metricKey(Metric::EvalRewardsMargins));
    const bool perStepMargin = !margin;
    if (!margin) margin = series(metricKey(Metric::RewardsMargins));
    if (length && margin && length->size() >= 3 && !raised("length_exploitation")) {
        const double first = length->front().second, last = length->back().second;
        std::vector<double> lengths, margins;
        for (const auto& [at, value] : *length) {
            double m = kNaN;
            if (perStepMargin) {
                m = windowMean(*margin, at);
            } else {
                for (const auto& [ms, mv] : *margin) {
                    if (ms == at) m = mv;
                }
            }
            if (!std::isfinite(m)) continue;
            lengths.push_back(value);
            margins.push_back(m);
        }
        const double r = correlation(lengths, margins);
        if (lengths.size() >= 3 && last >= (1.0 + m_t.lengthRise) * first && last - first >= m_t.lengthRiseTokens &&
            std::isfinite(r) && r >= m_t.lengthCorrelation) {
            raise({"length_exploitation", length->back().first,
                   fmt("Length exploitation: responses grew from %.0f to %.0f tokens (%+.0f %%) while the reward margin rose "
                       "with them (correlation %.2f",
                       first, last, 100.0 * (last / first - 1.0), r) +
                       fmt(" over %.0f evaluations).", static_cast<double>(lengths.size())),
                   "Check whether the judge prefers longer answers: compare gold reward at equal length, or train on "
                   "per-token log-probabilities (ipo with --ipo-token-mean 1)."},
                  out);
        }
    }

    // Flat group rewards (GRPO, RLOO): a group whose samples all score the
    // same has advantages of 0 and teaches nothing; when most groups are like
    // that the loss and the gradient sit near 0 (trl#3452, trl#3857).
    if (const Series* flat = series(metricKey(Metric::FracRewardZeroStd)); flat && !raised("flat_rewards")) {
        const int steps = std::min<int>(m_t.flatRewardSteps, static_cast<int>(flat->size()));
        double mean = 0;
        for (int i = 0; i < steps; ++i) mean += (*flat)[flat->size() - 1 - static_cast<size_t>(i)].second / steps;
        if (steps >= m_t.flatRewardSteps && mean > m_t.flatRewardShare) {
            raise({"flat_rewards", step,
                   fmt("%.0f %% of the groups over the last %d steps scored every sample the same: their advantages are "
                       "0, so they give no gradient and the loss sits near 0.",
                       100.0 * mean, steps),
                   "Sample more diverse responses (a higher temperature, more num_generations), or use a reward that "
                   "tells close responses apart (a reward model rather than a coarse score)."},
                  out);
        }
    }

    // A negative k1: the estimate is unbiased but too noisy at this KL.
    if (const Series* k1 = series(metricKey(Metric::KlK1)); k1 && !raised("negative_k1")) {
        const auto& [at, value] = k1->back();
        if (at > 0 && value < m_t.negativeK1) {
            raise({"negative_k1", at,
                   fmt("The k1 estimate of KL was %.3f nats at step %.0f. KL is never negative: k1 averages log-ratios "
                       "that can be negative one by one, and this evaluation had too few samples to average them out.",
                       value, static_cast<double>(at)),
                   "Read the exact or k3 estimate (never negative), or raise --eval-samples."},
                  out);
        }
    }
}

}  // namespace preflab
