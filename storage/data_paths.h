#pragma once
// Where PrefLab keeps its data by default: the user data directory
// (QStandardPaths::GenericDataLocation + "/preflab"), or PREFLAB_DATA_DIR.
#include <string>

namespace preflab {

std::string defaultDataDir();
std::string defaultDatabasePath();

}  // namespace preflab
