#pragma once
// Writing export files: whole or not at all, and CSV fields quoted by RFC 4180.
#include <cstdint>
#include <fstream>
#include <functional>
#include <string>

namespace preflab {

// Writes through `body` into path.partial, then renames it into place, so the
// file appears complete or not at all. Returns what body returns; throws
// StorageError naming the file when it cannot be written (disk full, ...).
int64_t writeFileAtomically(const std::string& path, const std::function<int64_t(std::ofstream&)>& body);

// A CSV field, quoted when it holds a comma, a quote or a line break.
std::string csvField(const std::string& s);

// A JSON string literal (quotes and escapes included).
std::string jsonString(const std::string& s);

}  // namespace preflab
