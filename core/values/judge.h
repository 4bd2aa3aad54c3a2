#pragma once
// The judge interface of the online loop. The loop submits pairs and collects
// judgements, so a judge may answer at once (task, self) or later (a person).
// A judge is used from the training thread; HumanLabelQueue is the only part
// other threads touch.
#include "core/values/label.h"

#include <vector>

namespace preflab {

// How often a judge asked in both A/B orders changed its verdict with the
// order (position bias: the known weakness of LLM judges).
struct OrderChecks {
    int64_t asked = 0;    // pairs asked in both orders
    int64_t flipped = 0;  // of them, verdicts that changed with the order (counted as ties)
};

class Judge {
public:
    virtual ~Judge() = default;
    virtual LabelSource source() const = 0;
    virtual void submit(const std::vector<PairForJudging>& pairs) = 0;
    // Judgements made since the last call.
    virtual std::vector<Judgement> collect() = 0;
    // Pairs submitted and not yet judged.
    virtual size_t outstanding() const { return 0; }
    // Pairs asked in both orders since the last call (judges that ask once: none).
    virtual OrderChecks takeOrderChecks() { return {}; }
};

// Base for judges that decide at submission time.
class ImmediateJudge : public Judge {
public:
    void submit(const std::vector<PairForJudging>& pairs) override;
    std::vector<Judgement> collect() override;

protected:
    virtual Choice decide(const PairForJudging& pair) = 0;

private:
    std::vector<Judgement> m_ready;
};

}  // namespace preflab
