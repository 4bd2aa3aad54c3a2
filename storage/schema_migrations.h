#pragma once
// PrefLab's schema as a list of migrations: migration i takes user_version i to
// i+1. They are applied in one transaction on open. Never edit a released step;
// append a new one.
#include <string>
#include <vector>

namespace preflab {

const std::vector<std::string>& schemaMigrations();
inline int latestSchemaVersion() { return static_cast<int>(schemaMigrations().size()); }

}  // namespace preflab
