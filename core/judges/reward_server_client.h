#pragma once
// A client of a reward server over HTTP(S) that speaks OpenRLHF's /get_reward
// protocol: it posts texts, the server answers one scalar reward per text.
// One attempt waits at most a timeout; connection failures, timeouts and 5xx
// answers are retried with exponential backoff; a 4xx answer or a malformed
// reply is not (trying again would get the same answer). The bearer token is
// read from PREFLAB_REWARD_SERVER_TOKEN and never appears in a message.
// Every failure throws RewardServerError naming the server (its address
// without credentials). score() blocks the calling thread (the training
// thread) until the answer; the network runs on the client's own thread.
// No torch, no Qt in this header.
#include <atomic>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace preflab {

// What went wrong, for callers and tests; the message says it for people.
enum class RewardServerFault {
    Refused,         // nothing listens at the address
    Timeout,         // no complete answer within the timeout
    Network,         // another connection failure (host not found, closed, ...)
    Tls,             // the TLS handshake failed (certificate, protocol)
    HttpStatus,      // an HTTP error status (or a redirect, which is not followed)
    NotJson,         // the body is not a JSON object
    MissingRewards,  // no "rewards" list in it
    WrongCount,      // a different number of rewards than texts sent
    NonFinite,       // NaN, infinity, null or a non-number among the rewards
    Oversized,       // the body is larger than the cap
    Cancelled,       // the cancel flag was raised while waiting
};

class RewardServerError : public std::runtime_error {
public:
    RewardServerError(RewardServerFault fault, int attempts, const std::string& message)
        : std::runtime_error(message), m_fault(fault), m_attempts(attempts) {}
    RewardServerFault fault() const { return m_fault; }
    int attempts() const { return m_attempts; }

private:
    RewardServerFault m_fault;
    int m_attempts;
};

struct RewardServerOptions {
    // One attempt's limit, from sending to the last byte of the answer
    // (OpenRLHF's own client waits 180 s; a reward model on a GPU answers a
    // batch of a few hundred texts in seconds).
    int64_t timeoutMs = 120'000;
    int attempts = 5;         // tries in all (OpenRLHF's client: 5)
    int64_t backoffMs = 1000; // the wait before the second try, doubled before each next
    int64_t maxBackoffMs = 30'000;
    // Larger answers are refused as they arrive, without holding them: 10 MB
    // is ~500 000 rewards as JSON numbers.
    int64_t maxBodyBytes = 10 * 1000 * 1000;
    // Extra certificate authorities (a PEM file) to trust for https; empty:
    // PREFLAB_REWARD_SERVER_CA_FILE when set, else only the system's.
    std::string caFile;
};

class RewardServerClient {
public:
    // Throws std::invalid_argument for an address that cannot name a server
    // (core/values/reward_server_url.h) or an unreadable CA file.
    explicit RewardServerClient(const std::string& url, RewardServerOptions options = {});
    ~RewardServerClient();
    RewardServerClient(const RewardServerClient&) = delete;
    RewardServerClient& operator=(const RewardServerClient&) = delete;

    // One reward per (prompt, response), in one request: "query" holds each
    // prompt followed by its response, "prompts" the prompts, "labels" empty
    // strings (PrefLab has no reference answers). Throws RewardServerError.
    std::vector<double> score(const std::vector<std::string>& prompts, const std::vector<std::string>& responses);

    // A flag (the run's stop request) that ends a wait for the server early:
    // the request is aborted and score() throws a Cancelled error. Null: none.
    void setCancelFlag(const std::atomic_bool* cancel);

    // The address as shown in messages: no credentials, query or fragment.
    const std::string& displayUrl() const;
    // Requests sent so far, retries included.
    int64_t requestsSent() const;

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

}  // namespace preflab
