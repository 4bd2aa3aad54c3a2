#include "core/distributed/rank_options.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace preflab {

std::string dataParallelProblem(const RunConfig& config, int worldSize) {
    if (worldSize <= 1) return {};
    const MethodInfo* method = findMethod(config.algorithm);
    if (method && method->family != MethodFamily::Pairwise) {
        return "data-parallel training covers the pairwise methods (the DPO family and SAIL) so far; " +
               config.algorithm + " runs on one process";
    }
    if (judgeNeedsPerson(config.judge)) {
        return "a person labels on one process: data-parallel training needs judge task, self or reward_model";
    }
    if (config.batchSize % worldSize != 0) {
        return "batch size " + std::to_string(config.batchSize) + " does not split evenly over " +
               std::to_string(worldSize) + " processes";
    }
    return {};
}

int freeLoopbackPort() {
    // Bound to port 0, the kernel picks a free port; it is closed again at
    // once for rank 0 to take (a race with another program is possible, and
    // then rank 0 says the port is in use).
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return 0;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    int port = 0;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
        port = ntohs(addr.sin_port);
    }
    ::close(fd);
    return port;
}

}  // namespace preflab
