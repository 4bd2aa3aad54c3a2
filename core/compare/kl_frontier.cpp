#include "core/compare/kl_frontier.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

namespace preflab {
namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();

// Two-sided 95 % Student t quantiles for 1..30 degrees of freedom.
double tQuantile(int dof) {
    static const double t[] = {0,     12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
                               2.201, 2.179,  2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
                               2.080, 2.074,  2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042};
    return dof <= 0 ? 0 : dof <= 30 ? t[dof] : 1.96;
}

}  // namespace

double goldAtKl(const std::vector<TrajectoryPoint>& t, double kl) {
    if (t.empty()) return kNaN;
    if (t.front().kl >= kl) return t.front().gold;
    for (size_t i = 1; i < t.size(); ++i) {
        const TrajectoryPoint &a = t[i - 1], &b = t[i];
        if (b.kl >= kl && a.kl < kl) {
            const double f = (kl - a.kl) / (b.kl - a.kl);
            return a.gold + f * (b.gold - a.gold);
        }
    }
    return kNaN;
}

double maxKl(const std::vector<TrajectoryPoint>& t) {
    double m = kNaN;
    for (const TrajectoryPoint& p : t) m = std::isnan(m) ? p.kl : std::max(m, p.kl);
    return m;
}

Estimate estimate(const std::vector<double>& v) {
    Estimate e;
    e.n = static_cast<int>(v.size());
    if (v.empty()) {
        e.mean = kNaN;
        return e;
    }
    for (double x : v) e.mean += x / static_cast<double>(v.size());
    if (v.size() < 2) return e;
    double ss = 0;
    for (double x : v) ss += (x - e.mean) * (x - e.mean);
    const double sd = std::sqrt(ss / static_cast<double>(v.size() - 1));
    e.halfWidth = tQuantile(e.n - 1) * sd / std::sqrt(static_cast<double>(v.size()));
    return e;
}

std::vector<std::string> KlFrontier::methods() const {
    std::vector<std::string> out;
    for (const CompareRun& r : m_runs) {
        if (std::find(out.begin(), out.end(), r.method) == out.end()) out.push_back(r.method);
    }
    return out;
}

std::vector<int64_t> KlFrontier::seeds(const std::string& method) const {
    std::set<int64_t> s;
    for (const CompareRun& r : m_runs) {
        if (r.method == method) s.insert(r.seed);
    }
    return {s.begin(), s.end()};
}

double KlFrontier::frontier(const std::string& method, int64_t seed, double kl) const {
    double best = kNaN;
    for (const CompareRun& r : m_runs) {
        if (r.method != method || r.seed != seed) continue;
        const double g = goldAtKl(r.trajectory, kl);
        if (!std::isnan(g)) best = std::isnan(best) ? g : std::max(best, g);
    }
    return best;
}

Estimate KlFrontier::frontier(const std::string& method, double kl) const {
    std::vector<double> values;
    for (int64_t s : seeds(method)) {
        const double g = frontier(method, s, kl);
        if (std::isnan(g)) return estimate({});
        values.push_back(g);
    }
    return estimate(values);
}

Estimate KlFrontier::difference(const std::string& a, const std::string& b, double kl) const {
    return contrast({{a, 1.0, kl}, {b, -1.0, kl}});
}

Estimate KlFrontier::contrast(const std::vector<FrontierTerm>& terms) const {
    if (terms.empty()) return estimate({});
    std::vector<double> values;
    for (int64_t s : seeds(terms.front().method)) {
        double sum = 0;
        bool everyMethod = true;
        for (const FrontierTerm& t : terms) {
            const std::vector<int64_t> own = seeds(t.method);
            if (std::find(own.begin(), own.end(), s) == own.end()) {
                everyMethod = false;
                break;
            }
            const double g = frontier(t.method, s, t.kl);
            if (std::isnan(g)) return estimate({});
            sum += t.weight * g;
        }
        if (everyMethod) values.push_back(sum);
    }
    return estimate(values);
}

double KlFrontier::sharedKl(const std::vector<std::string>& methods) const {
    double shared = kNaN;
    for (const std::string& m : methods) {
        for (int64_t s : seeds(m)) {
            double reached = kNaN;  // the furthest any knob setting of this seed went
            for (const CompareRun& r : m_runs) {
                if (r.method != m || r.seed != s) continue;
                const double k = maxKl(r.trajectory);
                if (!std::isnan(k)) reached = std::isnan(reached) ? k : std::max(reached, k);
            }
            if (std::isnan(reached)) return kNaN;
            shared = std::isnan(shared) ? reached : std::min(shared, reached);
        }
        if (seeds(m).empty()) return kNaN;
    }
    return shared;
}

}  // namespace preflab
