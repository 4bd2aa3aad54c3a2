#include "core/values/proportion_interval.h"

#include <cmath>
#include <limits>

namespace preflab {

ProportionInterval wilsonInterval95(double p, double n) {
    if (!(n > 0)) return {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::quiet_NaN()};
    const double z = 1.959964, z2 = z * z;
    const double centre = (p + z2 / (2 * n)) / (1 + z2 / n);
    const double half = z * std::sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n);
    return {centre - half, centre + half};
}

ProportionInterval wilsonInterval95(int64_t successes, int64_t n) {
    if (n <= 0) return wilsonInterval95(0.0, 0.0);
    return wilsonInterval95(static_cast<double>(successes) / static_cast<double>(n), static_cast<double>(n));
}

}  // namespace preflab
