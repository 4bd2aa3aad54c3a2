#pragma once
// Agreement between annotators on the same pairs (issue 12): Krippendorff's
// alpha for nominal data over any number of annotators with missing values,
// and Cohen's kappa for each two annotators on the units both labelled.
// Labels are categories (a, b, tie, both_bad); a skip is a missing value.
// Plain C++, no Qt: checked against Krippendorff's published example.
//
// Written here rather than taken from a library: the stack has no statistics
// package for C++ (Debian's are R and Python), and both coefficients are a
// few lines over a coincidence (or contingency) matrix.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace preflab {

// One label: which unit (pair), who, which category.
struct CodedValue {
    int64_t unit = 0;
    std::string coder;
    std::string value;
};

struct AlphaResult {
    double alpha = 0;      // NaN when undefined (fewer than two values in pairable units, or one category only)
    int64_t units = 0;     // pairable units: those with at least two values
    int64_t values = 0;    // values in pairable units (n)
    double observedDisagreement = 0, expectedDisagreement = 0;
};

// Krippendorff's alpha, nominal metric: 1 - D_o / D_e from the coincidence
// matrix of the pairable units (each ordered pair of values of one unit
// counts 1 / (m_u - 1)). A coder's second value for a unit replaces the first.
AlphaResult krippendorffAlphaNominal(const std::vector<CodedValue>& values);

struct KappaResult {
    double kappa = 0;  // NaN when undefined (no common units, or p_e = 1)
    int64_t units = 0;  // units both coders labelled
    double observedAgreement = 0, chanceAgreement = 0;
};

// Cohen's kappa of two coders on the units both labelled.
KappaResult cohenKappa(const std::vector<CodedValue>& values, const std::string& coderA, const std::string& coderB);

// Every pair of coders (first < second), as "first|second".
std::map<std::string, KappaResult> pairwiseKappa(const std::vector<CodedValue>& values);

}  // namespace preflab
