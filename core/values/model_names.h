#pragma once
// What a model name means, in one place: the built-in starter model's name,
// and the one resolution every command, the workbench and the import's
// context check use for a name a user gives (the starter, a PrefLab model
// file, a Hugging Face folder, or a repository id in the local Hugging Face
// cache). Plain C++ (no torch, no Qt), so the UI links it too.
#include <string>

namespace preflab {

// The built-in model, as configs, the command line and the run panel name it.
inline constexpr char kStarterModelName[] = "starter";
// The reward model's own base (task/reward_base_model.h): `preflab train-rm --base`.
inline constexpr char kRewardBaseModelName[] = "reward-base";

// True for the starter's name, or no name at all (the default model).
bool isStarterModel(const std::string& name);

enum class ModelKind {
    Starter,    // the built-in model (a PrefLab model file, pretrained once and cached)
    ModelFile,  // a PrefLab model file (.pt)
    HfFolder,   // a Hugging Face model folder (config.json, safetensors, tokenizer.json)
};

struct ResolvedModel {
    ModelKind kind = ModelKind::Starter;
    std::string path;  // the file or folder to load
};

// The model `name` means. The starter resolves to `starterPath` (the cached
// file, task/starter_model.h's starterModelPath; its existence is the
// caller's business: it may still need pretraining). An existing file or
// folder is itself; a repository id ("org/name") is its cached snapshot.
// Throws std::runtime_error saying where it looked when it is none of them,
// or naming the starter when no starterPath was given.
ResolvedModel resolveModel(const std::string& name, const std::string& starterPath = {});

}  // namespace preflab
