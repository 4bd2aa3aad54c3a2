#include "core/values/best_of_n.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace preflab {

double bestOfNKlWithoutTies(int64_t n) {
    const double d = static_cast<double>(n);
    return std::log(d) - (d - 1) / d;
}

BestOfNPoint bestOfN(const std::vector<double>& proxy, const std::vector<double>& gold, int64_t n) {
    if (proxy.empty() || proxy.size() != gold.size())
        throw std::invalid_argument("bestOfN: proxy and gold differ in length or are empty");
    if (n < 1) throw std::invalid_argument("bestOfN: n must be at least 1");
    std::vector<size_t> order(proxy.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return proxy[a] < proxy[b]; });
    const double m = static_cast<double>(proxy.size());
    BestOfNPoint out;
    out.n = n;
    double below = 0;  // F_{l-1}
    for (size_t i = 0; i < order.size();) {
        size_t j = i;
        double goldSum = 0;
        while (j < order.size() && proxy[order[j]] == proxy[order[i]]) goldSum += gold[order[j++]];
        const double count = static_cast<double>(j - i);
        out.ties = out.ties || count > 1;
        const double p = count / m, upto = below + p;
        const double q = std::pow(upto, static_cast<double>(n)) - std::pow(below, static_cast<double>(n));
        out.gold += q * goldSum / count;
        out.proxy += q * proxy[order[i]];
        if (q > 0) out.kl += q * std::log(q / p);
        below = upto;
        i = j;
    }
    return out;
}

}  // namespace preflab
