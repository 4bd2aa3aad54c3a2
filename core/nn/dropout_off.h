#pragma once
// Puts a model in eval mode (no dropout, LoRA dropout included) for a scope
// and restores its mode after: sampling, evaluation, and the forward passes
// whose log-probabilities must be those of the distribution that was
// sampled. Core-private (torch).
#include "core/nn/transformer.h"

namespace preflab {

class DropoutOff {
public:
    explicit DropoutOff(Transformer& model) : m_model(model), m_wasTraining(model->is_training()) { m_model->eval(); }
    ~DropoutOff() {
        if (m_wasTraining) m_model->train();
    }
    DropoutOff(const DropoutOff&) = delete;
    DropoutOff& operator=(const DropoutOff&) = delete;

private:
    Transformer& m_model;
    bool m_wasTraining;
};

}  // namespace preflab
