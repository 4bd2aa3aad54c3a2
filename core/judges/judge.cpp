#include "core/judges/judge.h"

namespace preflab {

void ImmediateJudge::submit(const std::vector<PairForJudging>& pairs) {
    const int64_t t = nowMs();
    for (const PairForJudging& p : pairs) m_ready.push_back({p.pairIndex, decide(p), source(), {}, t});
}

std::vector<Judgement> ImmediateJudge::collect() {
    std::vector<Judgement> out;
    out.swap(m_ready);
    return out;
}

}  // namespace preflab
