#pragma once
// Intra-op thread count for LibTorch. It starts at 1 on this platform, so every
// executable sets it explicitly: PREFLAB_THREADS, else the hardware threads.
namespace preflab {

int defaultComputeThreads();
// Sets the intra-op thread count (n <= 0: the default). Returns the count set.
int configureComputeThreads(int n = 0);

}  // namespace preflab
