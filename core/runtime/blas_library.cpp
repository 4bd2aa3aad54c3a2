#include "core/runtime/blas_library.h"

#include <dlfcn.h>

#include <filesystem>

namespace preflab {

LoadedBlas loadedBlas() {
    LoadedBlas out;
    Dl_info info{};
    void* sgemm = dlsym(RTLD_DEFAULT, "sgemm_");
    if (sgemm && dladdr(sgemm, &info) != 0 && info.dli_fname) {
        std::error_code ec;
        const std::filesystem::path real = std::filesystem::canonical(info.dli_fname, ec);
        out.path = ec ? std::string(info.dli_fname) : real.string();
    }
    using GetParallel = int (*)();
    // 0: sequential, 1: pthreads, 2: OpenMP (OpenBLAS's cblas.h).
    if (auto parallel = reinterpret_cast<GetParallel>(dlsym(RTLD_DEFAULT, "openblas_get_parallel"))) {
        switch (parallel()) {
            case 0: out.threading = BlasThreading::Sequential; break;
            case 1: out.threading = BlasThreading::Pthreads; break;
            case 2: out.threading = BlasThreading::OpenMp; break;
            default: break;
        }
    }
    return out;
}

std::string openMpBlasFolderBeside(const std::string& loadedPath) {
    if (loadedPath.empty()) return {};
    const std::filesystem::path folder = std::filesystem::path(loadedPath).parent_path();
    const std::filesystem::path candidate = folder.parent_path() / kOpenMpBlasFolderName;
    std::error_code ec;
    if (candidate == folder || !std::filesystem::is_regular_file(candidate / "libblas.so.3", ec)) return {};
    return candidate.string();
}

std::string blasThreadingName(BlasThreading t) {
    switch (t) {
        case BlasThreading::Sequential: return "OpenBLAS, serial build";
        case BlasThreading::Pthreads: return "OpenBLAS, pthread build";
        case BlasThreading::OpenMp: return "OpenBLAS, OpenMP build";
        case BlasThreading::NotOpenBlas: break;
    }
    return "not OpenBLAS";
}

}  // namespace preflab
