#pragma once
// Models in the local Hugging Face cache, found offline: a repository id
// ("HuggingFaceTB/SmolLM-135M", "gpt2") names the snapshot that
// huggingface_hub downloaded into <hub>/models--ORG--NAME/snapshots/<commit>,
// the one refs/main points at (or the only / newest snapshot). <hub> is
// $HF_HUB_CACHE, else $HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub,
// else ~/.cache/huggingface/hub. QtCore-free, no torch.
#include <string>
#include <vector>

namespace preflab {

std::string hfHubCacheDir();

struct CachedModel {
    std::string repoId;    // "org/name"
    std::string snapshot;  // the folder to load
};

// Every cached model whose snapshot has a config.json, sorted by id.
std::vector<CachedModel> listCachedModels();

// An existing file or folder is returned as given; otherwise the cached
// snapshot of the repository id. Throws std::runtime_error saying where it
// looked when it is neither. Callers name models through resolveModel
// (model_names.h), which also knows the starter.
std::string cachedModelPath(const std::string& nameOrPath);

}  // namespace preflab
