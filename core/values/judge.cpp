#include "core/values/judge.h"

namespace preflab {

void ImmediateJudge::submit(const std::vector<PairForJudging>& pairs) {
    const int64_t t = nowMs();
    for (const PairForJudging& p : pairs) {
        Judgement j;
        j.pairIndex = p.pairIndex;
        j.choice = decide(p);
        j.source = source();
        j.timeMs = t;
        m_ready.push_back(std::move(j));
    }
}

std::vector<Judgement> ImmediateJudge::collect() {
    std::vector<Judgement> out;
    out.swap(m_ready);
    return out;
}

}  // namespace preflab
