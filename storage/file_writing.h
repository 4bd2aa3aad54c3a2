#pragma once
// Writing export files, and CSV and JSON quoting.
#include <cstdint>
#include <functional>
#include <ostream>
#include <string>

namespace preflab {

// Writes through `body` to `path` and returns what body returns; throws
// StorageError naming the file and why when it cannot be written. Where the
// bytes go depends on what `path` is:
//  - a regular file, or none yet: complete or not at all (a temporary file
//    beside it, renamed into place: QSaveFile); an existing file keeps its
//    permissions and, where the system lets this user, its owner and group;
//  - a symbolic link: the file it points to, the same way (the link stays);
//  - "-", /dev/stdout, /dev/stderr, /dev/fd/N or /proc/self/fd/N: this
//    process's own stream, written as it goes;
//  - a FIFO or a character or block device: opened and written as it goes
//    (it cannot be replaced, and a reader may be waiting on it);
//  - a folder, a missing folder, or a folder this user cannot write in:
//    refused, saying which, before anything is written.
int64_t writeFileAtomically(const std::string& path, const std::function<int64_t(std::ostream&)>& body);

// Whether `path` names this process's standard output ("-", /dev/stdout):
// a command then prints its own messages elsewhere.
bool isStandardOutput(const std::string& path);

// A CSV field, quoted when it holds a comma, a quote or a line break.
std::string csvField(const std::string& s);

// A JSON string literal (quotes and escapes included).
std::string jsonString(const std::string& s);
// A finite number as the shortest text that reads back to the same double
// (3.217, not 3.2170000000000001), so an export round-trips exactly.
std::string shortestNumber(double v);

}  // namespace preflab
