#pragma once
// The timed work preflab-bench measures, shared by its default figures and
// by --peer (bench/peer/peer.py does the same work in plain PyTorch).
// Each function returns the seconds of `repetitions` runs after one warm-up.
#include "core/nn/transformer_config.h"

#include <vector>

namespace preflab::bench {

TransformerConfig tenMillionConfig();  // d384 x 6 layers, 6 heads, ff 1536, context 128: 10.8 M parameters
TransformerConfig d128Config();        // d128 x 4 layers, 4 heads, ff 512

// One DPO training step: policy forward and backward over 2 x pairs
// sequences of seqLen tokens, AdamW; reference log-probs precomputed.
// With libtorchAdamW, LibTorch's own AdamW instead of PrefLab's FusedAdamW
// (to show what the fused update takes off the step).
std::vector<double> dpoStepSeconds(const TransformerConfig& cfg, int pairs, int seqLen, bool bf16, int repetitions,
                                   bool libtorchAdamW = false);
// FLOPs of that step (6 N per token for the dense layers plus attention scores).
double dpoStepFlops(const TransformerConfig& cfg, int pairs, int seqLen);

// KV-cache sampling of `newTokens` for `prompts` copies of a promptTokens-long
// prompt, EOS off (every sequence runs to the end), on the thread count a run
// on this model uses.
std::vector<double> samplingSeconds(const TransformerConfig& cfg, int prompts, int newTokens, int promptTokens,
                                    int repetitions);

// The online loop's step on the built-in model's shape (random weights): 8
// task prompts x 2 samples of up to 80 new tokens, both scored by the toy
// task's rule, the better one chosen, reference log-probs, one DPO update
// (AdamW, lr 5e-5), on the thread count a run on this model uses.
// *tokensPerStep: the tokens sampled per timed step, on average.
std::vector<double> onlineDpoStepSeconds(int repetitions, double* tokensPerStep);

// fp32 (or bf16) GFLOP/s of a 1024^3 matrix product, the best of five timings: the machine's peak
// that other figures are reported against.
double matmulPeakGflops(bool bf16);

double median(std::vector<double> v);

}  // namespace preflab::bench
