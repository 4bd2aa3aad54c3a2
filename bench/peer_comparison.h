#pragma once
// `preflab-bench --peer`: PrefLab and its Python peer (bench/peer/peer.py, a
// plain PyTorch loop doing the same work with the same shapes) measured in one
// run, the peer both as-is and with PrefLab's runtime settings. Prints each
// figure's min, median and max over repetitions, and the ratios of the peer's
// median time to PrefLab's for the same work (above 1: PrefLab is faster).
#include <string>

namespace preflab::bench {

struct PeerOptions {
    std::string python = "/usr/bin/python3";  // Debian's, whose python3-torch the peer imports
    std::string script;  // bench/peer/peer.py
    int repetitions = 5;
    bool json = false;
};

// Returns the process exit code (non-zero when the peer could not run).
int runPeerComparison(const PeerOptions& options);

}  // namespace preflab::bench
