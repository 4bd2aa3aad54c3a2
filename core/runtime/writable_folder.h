#pragma once
// Fail fast when a folder PrefLab must write into cannot be written: before a
// run spends a step (its checkpoints) or pretraining spends minutes (the
// starter model), not when the first file is due. No torch.
#include <string>

namespace preflab {

// Creates `folder` if needed and checks that this user may write into it;
// otherwise throws std::runtime_error naming the folder, the system's reason
// and `purpose` ("checkpoints go there", ...).
void requireWritableFolder(const std::string& folder, const std::string& purpose);

}  // namespace preflab
