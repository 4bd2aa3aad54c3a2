#pragma once
// The processes of one data-parallel run, through LibTorch's c10d: a TCPStore
// that rank 0 hosts (rendezvous, the setup handshake, progress marks and the
// events other ranks relay to rank 0) and a Gloo process group (gradient
// all-reduce, parameter broadcast). Every failure is a std::runtime_error
// that names the rank and what it was waiting for. Core-private (torch); c10d
// stays in the implementation.
#include "core/distributed/rank_options.h"

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace preflab {

class RankGroup {
public:
    // Connects to the store (rank 0 listens on masterPort and waits for all
    // ranks) within options.timeoutSeconds. Throws with a clear message on a
    // port in use, an unreachable master or a rank that never came.
    explicit RankGroup(const RankOptions& options);
    ~RankGroup();
    RankGroup(const RankGroup&) = delete;
    RankGroup& operator=(const RankGroup&) = delete;

    const RankOptions& options() const { return m_options; }
    int rank() const { return m_options.rank; }
    int worldSize() const { return m_options.worldSize; }

    // Starts the Gloo process group (after the handshake agreed).
    void connect();

    // The store: small values (bytes) under a key; fetch() waits up to the
    // timeout for the key, `waitingFor` names in the error what (whom) it waited for.
    void publish(const std::string& key, const std::string& value);
    std::string fetch(const std::string& key, const std::string& waitingFor);
    void remove(const std::string& key);

    // Notes that this rank reached the collective of `step` (read back by
    // diagnose() on the others when a collective fails).
    void markProgress(int64_t step);
    // Sums `tensor` (contiguous, float) over all ranks in place. `step` and
    // `what` word the error when a rank does not take part in time.
    void allReduceSum(at::Tensor& tensor, int64_t step, const std::string& what);
    // Copies rank 0's values of `tensors` into every rank's.
    void broadcastFromLeader(std::vector<at::Tensor>& tensors);

private:
    // Why a collective at `step` failed: the ranks whose progress mark is
    // behind `step`, or rank 0 itself when its store is gone.
    std::string diagnose(int64_t step, const std::string& what, const std::string& cause);

    struct Impl;
    std::unique_ptr<Impl> d;
    RankOptions m_options;
};

}  // namespace preflab
