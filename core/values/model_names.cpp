#include "core/values/model_names.h"

#include "core/values/hf_cache.h"

#include <filesystem>
#include <stdexcept>

namespace preflab {

bool isStarterModel(const std::string& name) {
    return name.empty() || name == kStarterModelName;
}

ResolvedModel resolveModel(const std::string& name, const std::string& starterPath) {
    if (isStarterModel(name)) {
        if (starterPath.empty()) {
            throw std::runtime_error(std::string(kStarterModelName) +
                                     ": the built-in model has no file here (name a model file or a Hugging Face folder)");
        }
        return {ModelKind::Starter, starterPath};
    }
    const std::string path = cachedModelPath(name);
    return {std::filesystem::is_directory(path) ? ModelKind::HfFolder : ModelKind::ModelFile, path};
}

}  // namespace preflab
