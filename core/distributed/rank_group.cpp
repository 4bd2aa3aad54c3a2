#include "core/distributed/rank_group.h"

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <chrono>
#include <cstdlib>
#include <stdexcept>

namespace preflab {

namespace {

// c10d's messages carry a C++ backtrace after the first line: keep the reason.
std::string reasonOf(const std::exception& e) {
    std::string s = e.what();
    for (const char* cut : {"\nException raised from", "Exception raised from", "\n"}) {
        const size_t at = s.find(cut);
        if (at != std::string::npos && at > 0) s.resize(at);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '.')) s.pop_back();
    return s;
}

bool isLoopback(const std::string& host) {
    return host == "127.0.0.1" || host == "localhost" || host == "::1";
}

std::string progressKey(int rank) {
    return "progress/" + std::to_string(rank);
}

}  // namespace

struct RankGroup::Impl {
    c10::intrusive_ptr<c10d::TCPStore> store;
    c10::intrusive_ptr<c10d::ProcessGroupGloo> group;
    std::chrono::milliseconds timeout{0};
};

RankGroup::RankGroup(const RankOptions& o) : d(std::make_unique<Impl>()), m_options(o) {
    if (o.worldSize < 1 || o.rank < 0 || o.rank >= o.worldSize) {
        throw std::runtime_error("rank " + std::to_string(o.rank) + " is not one of the " + std::to_string(o.worldSize) +
                                 " ranks of --world-size (ranks are 0 to world size - 1)");
    }
    if (o.masterPort < 1 || o.masterPort > 65535) {
        throw std::runtime_error("--master-port " + std::to_string(o.masterPort) + " is not a TCP port (1-65535)");
    }
    d->timeout = std::chrono::milliseconds(1000LL * std::max(1, o.timeoutSeconds));
    const std::string where = o.masterAddr + ":" + std::to_string(o.masterPort);
    c10d::TCPStoreOptions so;
    so.port = static_cast<std::uint16_t>(o.masterPort);
    so.isServer = o.leader();
    so.numWorkers = static_cast<size_t>(o.worldSize);
    so.waitWorkers = true;
    so.timeout = d->timeout;
    try {
        d->store = c10::make_intrusive<c10d::TCPStore>(o.masterAddr, so);
    } catch (const std::exception& e) {
        const std::string reason = reasonOf(e);
        if (o.leader() && reason.find("already in use") != std::string::npos) {
            throw std::runtime_error("rank 0 cannot listen on port " + std::to_string(o.masterPort) +
                                     ": the port is in use (choose another --master-port)");
        }
        if (o.leader()) {
            throw std::runtime_error("rank 0 waited " + std::to_string(o.timeoutSeconds) + " s on " + where + " for all " +
                                     std::to_string(o.worldSize) + " ranks to join: " + reason);
        }
        throw std::runtime_error("rank " + std::to_string(o.rank) + " cannot reach the master (rank 0) at " + where +
                                 " within " + std::to_string(o.timeoutSeconds) + " s: " + reason);
    }
}

RankGroup::~RankGroup() = default;

void RankGroup::connect() {
    auto options = c10d::ProcessGroupGloo::Options::create(d->timeout);
    try {
        // Gloo binds to an address the others can reach: loopback for one
        // host, GLOO_SOCKET_IFNAME's interface or this host's name otherwise
        // (as torch.distributed does).
        if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname && *ifname) {
            options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
        } else if (isLoopback(m_options.masterAddr)) {
            options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
        } else {
            options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
        }
        options->threads = 1;
        auto prefixed = c10::make_intrusive<c10d::PrefixStore>("gloo", d->store);
        d->group = c10::make_intrusive<c10d::ProcessGroupGloo>(prefixed, m_options.rank, m_options.worldSize, options);
    } catch (const std::exception& e) {
        throw std::runtime_error("rank " + std::to_string(m_options.rank) + " could not connect to the other ranks: " +
                                 reasonOf(e));
    }
}

void RankGroup::publish(const std::string& key, const std::string& value) {
    d->store->set(key, std::vector<uint8_t>(value.begin(), value.end()));
}

std::string RankGroup::fetch(const std::string& key, const std::string& waitingFor) {
    try {
        d->store->wait({key}, d->timeout);
        const std::vector<uint8_t> v = d->store->get(key);
        return std::string(v.begin(), v.end());
    } catch (const std::exception& e) {
        throw std::runtime_error("rank " + std::to_string(m_options.rank) + " waited for " + waitingFor + ": " +
                                 reasonOf(e));
    }
}

void RankGroup::remove(const std::string& key) {
    d->store->deleteKey(key);
}

void RankGroup::markProgress(int64_t step) {
    try {
        publish(progressKey(m_options.rank), std::to_string(step));
    } catch (const std::exception& e) {
        throw std::runtime_error(diagnose(step, "step " + std::to_string(step), reasonOf(e)));
    }
}

void RankGroup::allReduceSum(at::Tensor& tensor, int64_t step, const std::string& what) {
    markProgress(step);
    std::vector<at::Tensor> one{tensor};
    try {
        d->group->allreduce(one)->wait();
    } catch (const std::exception& e) {
        throw std::runtime_error(diagnose(step, what, reasonOf(e)));
    }
}

void RankGroup::broadcastFromLeader(std::vector<at::Tensor>& tensors) {
    markProgress(0);
    for (at::Tensor& t : tensors) {
        std::vector<at::Tensor> one{t};
        try {
            d->group->broadcast(one)->wait();
        } catch (const std::exception& e) {
            throw std::runtime_error(diagnose(0, "the start (rank 0's weights)", reasonOf(e)));
        }
    }
}

std::string RankGroup::diagnose(int64_t step, const std::string& what, const std::string& cause) {
    const std::string me = "rank " + std::to_string(m_options.rank);
    std::string behind;
    try {
        for (int r = 0; r < m_options.worldSize; ++r) {
            if (r == m_options.rank) continue;
            const std::string key = progressKey(r);
            bool reached = false;
            if (d->store->check({key})) {
                const std::vector<uint8_t> mark = d->store->get(key);
                reached = std::stoll(std::string(mark.begin(), mark.end())) >= step;
            }
            if (!reached) behind += (behind.empty() ? "" : ", ") + std::to_string(r);
        }
    } catch (const std::exception&) {
        if (!m_options.leader()) {
            return me + " stops: rank 0 (the master at " + m_options.masterAddr + ":" +
                   std::to_string(m_options.masterPort) + ") is gone, during " + what + " (" + cause + ")";
        }
    }
    const bool closed = cause.find("reset by peer") != std::string::npos || cause.find("closed") != std::string::npos ||
                        cause.find("Broken pipe") != std::string::npos;
    if (!behind.empty() && closed) {
        const bool several = behind.find(',') != std::string::npos;
        return me + " stops: rank" + (several ? "s " : " ") + behind + " left the run before " + what + " (" + cause + ")";
    }
    if (!behind.empty()) {
        const bool several = behind.find(',') != std::string::npos;
        return me + " stops: rank" + (several ? "s " : " ") + behind + " did not reach " + what + " within " +
               std::to_string(m_options.timeoutSeconds) + " s (" + (several ? "they have" : "it has") +
               " stopped or hang" + (several ? "" : "s") + "; " + cause + ")";
    }
    return me + " stops: " + what + " failed (" + cause + ")";
}

}  // namespace preflab
