#include "core/values/hf_cache.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace preflab {
namespace {

namespace fs = std::filesystem;

std::string env(const char* name) {
    const char* v = std::getenv(name);
    return v ? std::string(v) : std::string();
}

// "org/name" -> "models--org--name" (huggingface_hub's repo folder name).
std::string repoFolderName(const std::string& repoId) {
    std::string out = "models--";
    for (char ch : repoId) out += ch == '/' ? std::string("--") : std::string(1, ch);
    return out;
}

bool looksLikeRepoId(const std::string& s) {
    if (s.empty() || s.front() == '/' || s.front() == '.' || s.back() == '/' || std::count(s.begin(), s.end(), '/') > 1) {
        return false;
    }
    return std::all_of(s.begin(), s.end(), [](char ch) {
        return std::isalnum(static_cast<unsigned char>(ch)) || ch == '/' || ch == '-' || ch == '_' || ch == '.';
    });
}

// The snapshot refs/main names; else the only, or most recently written, one.
std::string snapshotOf(const fs::path& repo) {
    std::ifstream ref(repo / "refs" / "main");
    std::string commit;
    if (ref && std::getline(ref, commit) && !commit.empty() && fs::is_directory(repo / "snapshots" / commit)) {
        return (repo / "snapshots" / commit).string();
    }
    std::error_code ec;
    fs::path newest;
    fs::file_time_type newestTime{};
    for (const auto& entry : fs::directory_iterator(repo / "snapshots", ec)) {
        if (!entry.is_directory()) continue;
        const auto t = entry.last_write_time(ec);
        if (newest.empty() || t > newestTime) {
            newest = entry.path();
            newestTime = t;
        }
    }
    return newest.string();
}

}  // namespace

std::string hfHubCacheDir() {
    if (!env("HF_HUB_CACHE").empty()) return env("HF_HUB_CACHE");
    if (!env("HF_HOME").empty()) return (fs::path(env("HF_HOME")) / "hub").string();
    if (!env("XDG_CACHE_HOME").empty()) return (fs::path(env("XDG_CACHE_HOME")) / "huggingface" / "hub").string();
    return (fs::path(env("HOME")) / ".cache" / "huggingface" / "hub").string();
}

std::vector<CachedModel> listCachedModels() {
    std::vector<CachedModel> out;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(hfHubCacheDir(), ec)) {
        const std::string name = entry.path().filename().string();
        if (!entry.is_directory() || name.rfind("models--", 0) != 0) continue;
        const std::string snapshot = snapshotOf(entry.path());
        if (snapshot.empty() || !fs::exists(fs::path(snapshot) / "config.json")) continue;
        std::string id = name.substr(8);
        const auto sep = id.find("--");
        if (sep != std::string::npos) id.replace(sep, 2, "/");
        out.push_back({id, snapshot});
    }
    std::sort(out.begin(), out.end(), [](const CachedModel& a, const CachedModel& b) { return a.repoId < b.repoId; });
    return out;
}

std::string cachedModelPath(const std::string& nameOrPath) {
    if (fs::exists(nameOrPath)) return nameOrPath;
    if (!looksLikeRepoId(nameOrPath)) throw std::runtime_error(nameOrPath + ": no such file or folder");
    const fs::path repo = fs::path(hfHubCacheDir()) / repoFolderName(nameOrPath);
    if (!fs::is_directory(repo)) {
        throw std::runtime_error(nameOrPath + ": no such file or folder, and not in the Hugging Face cache (" +
                                 repo.string() + " does not exist; downloads are not made: fetch it with "
                                 "huggingface-cli on a connected machine, or set HF_HOME)");
    }
    const std::string snapshot = snapshotOf(repo);
    if (snapshot.empty()) throw std::runtime_error(repo.string() + ": the cache entry has no snapshot");
    return snapshot;
}

}  // namespace preflab
