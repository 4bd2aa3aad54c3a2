#include "core/runtime/writable_folder.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <system_error>
#include <unistd.h>

namespace preflab {

void requireWritableFolder(const std::string& given, const std::string& purpose) {
    const std::string folder = given.empty() ? std::string(".") : given;
    std::error_code ec;
    std::filesystem::create_directories(folder, ec);
    std::string why;
    if (ec) why = ec.message();
    else if (access(folder.c_str(), W_OK | X_OK) != 0) why = std::strerror(errno);
    if (!why.empty()) throw std::runtime_error(folder + ": the folder is not writable (" + why + "); " + purpose);
}

}  // namespace preflab
