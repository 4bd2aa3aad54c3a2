#pragma once
// The 95 % interval of a proportion (k successes of n), by Wilson's score
// method: unlike the normal approximation it stays inside [0, 1] and is not
// empty at 0 or n successes, which small counts (a reward model's errors, an
// annotator's gold pairs) often hit. Plain C++, any thread.
#include <cstdint>

namespace preflab {

struct ProportionInterval {
    double low = 0, high = 0;  // NaN for n = 0
};

ProportionInterval wilsonInterval95(int64_t successes, int64_t n);
// The same for a proportion p of n trials (n need not be whole).
ProportionInterval wilsonInterval95(double p, double n);

}  // namespace preflab
