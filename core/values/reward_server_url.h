#pragma once
// The address of a reward server (core/judges/reward_server_client.h): what
// the run config accepts and how it is shown. Credentials never belong in the
// address (the bearer token comes from the environment), so an address with a
// user name or password is refused, and every address PrefLab prints is shown
// without user information, query or fragment. Plain C++ over QtCore; any
// thread.
#include <string>

namespace preflab {

// The environment variable whose value is sent as "Authorization: Bearer ...".
inline constexpr char kRewardServerTokenVariable[] = "PREFLAB_REWARD_SERVER_TOKEN";
// An optional PEM file of extra certificate authorities to trust (a private
// CA, or a self-signed server certificate).
inline constexpr char kRewardServerCaFileVariable[] = "PREFLAB_REWARD_SERVER_CA_FILE";

// Why `url` cannot name a reward server ("" when it can): not http or https,
// no host, or credentials in it. The message never repeats the credentials.
std::string rewardServerUrlProblem(const std::string& url);
// The address as PrefLab shows it: scheme, host, port and path only; an empty
// path becomes OpenRLHF's /get_reward (the address requests go to).
std::string rewardServerDisplayUrl(const std::string& url);

}  // namespace preflab
