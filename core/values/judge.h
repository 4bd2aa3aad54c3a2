#pragma once
// The judge interface of the online loop. The loop submits pairs and collects
// judgements, so a judge may answer at once (task, self) or later (a person).
// A judge is used from the training thread; HumanLabelQueue is the only part
// other threads touch.
#include "core/values/label.h"

#include <vector>

namespace preflab {

class Judge {
public:
    virtual ~Judge() = default;
    virtual LabelSource source() const = 0;
    virtual void submit(const std::vector<PairForJudging>& pairs) = 0;
    // Judgements made since the last call.
    virtual std::vector<Judgement> collect() = 0;
    // Pairs submitted and not yet judged.
    virtual size_t outstanding() const { return 0; }
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
