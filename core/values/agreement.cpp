#include "core/values/agreement.h"

#include <cmath>
#include <set>

namespace preflab {

namespace {

// unit -> coder -> value (the last value a coder gave a unit)
using Table = std::map<int64_t, std::map<std::string, std::string>>;

Table tabulate(const std::vector<CodedValue>& values) {
    Table t;
    for (const CodedValue& v : values) t[v.unit][v.coder] = v.value;
    return t;
}

}  // namespace

AlphaResult krippendorffAlphaNominal(const std::vector<CodedValue>& values) {
    AlphaResult r;
    const Table table = tabulate(values);
    std::map<std::pair<std::string, std::string>, double> coincidence;  // o_ck
    std::map<std::string, double> marginal;                              // n_c
    for (const auto& [unit, coders] : table) {
        const size_t m = coders.size();
        if (m < 2) continue;
        ++r.units;
        r.values += static_cast<int64_t>(m);
        // Every ordered pair of values from two different coders of the unit.
        for (auto i = coders.begin(); i != coders.end(); ++i) {
            for (auto j = coders.begin(); j != coders.end(); ++j) {
                if (i == j) continue;
                coincidence[{i->second, j->second}] += 1.0 / static_cast<double>(m - 1);
            }
        }
    }
    for (const auto& [ck, o] : coincidence) marginal[ck.first] += o;
    const double n = static_cast<double>(r.values);
    double disagreeing = 0;  // sum over c != k of o_ck
    for (const auto& [ck, o] : coincidence) {
        if (ck.first != ck.second) disagreeing += o;
    }
    double chance = 0;  // sum over c != k of n_c n_k
    for (const auto& [c, nc] : marginal) {
        for (const auto& [k, nk] : marginal) {
            if (c != k) chance += nc * nk;
        }
    }
    r.observedDisagreement = n > 0 ? disagreeing / n : 0;
    r.expectedDisagreement = n > 1 ? chance / (n * (n - 1)) : 0;
    r.alpha = n > 1 && chance > 0 ? 1.0 - (n - 1) * disagreeing / chance : std::nan("");
    return r;
}

KappaResult cohenKappa(const std::vector<CodedValue>& values, const std::string& coderA, const std::string& coderB) {
    KappaResult r;
    std::map<std::string, double> a, b;
    double agree = 0;
    for (const auto& [unit, coders] : tabulate(values)) {
        const auto x = coders.find(coderA), y = coders.find(coderB);
        if (x == coders.end() || y == coders.end()) continue;
        ++r.units;
        a[x->second] += 1;
        b[y->second] += 1;
        agree += x->second == y->second ? 1 : 0;
    }
    if (r.units == 0) {
        r.kappa = std::nan("");
        return r;
    }
    const double n = static_cast<double>(r.units);
    r.observedAgreement = agree / n;
    for (const auto& [category, count] : a) {
        const auto other = b.find(category);
        if (other != b.end()) r.chanceAgreement += (count / n) * (other->second / n);
    }
    r.kappa = r.chanceAgreement < 1 ? (r.observedAgreement - r.chanceAgreement) / (1 - r.chanceAgreement) : std::nan("");
    return r;
}

std::map<std::string, KappaResult> pairwiseKappa(const std::vector<CodedValue>& values) {
    std::set<std::string> coders;
    for (const CodedValue& v : values) coders.insert(v.coder);
    std::map<std::string, KappaResult> out;
    for (auto i = coders.begin(); i != coders.end(); ++i) {
        for (auto j = std::next(i); j != coders.end(); ++j) out[*i + "|" + *j] = cohenKappa(values, *i, *j);
    }
    return out;
}

}  // namespace preflab
