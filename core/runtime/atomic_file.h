#pragma once
// Writing a file so that it appears complete or not at all: bytes go to a
// temporary beside it, every write's count is checked, and only a complete
// file is renamed into place. A failure (a full disk, a file size limit)
// leaves the earlier file untouched and no temporary behind.
//
// Built on QSaveFile, but unbuffered and with each write's count checked by
// hand: measured with Qt 6.4, a buffered QSaveFile under a file size limit
// accepted 6000 bytes, committed, and replaced a good file with its first
// 3000 bytes; unbuffered, write() returns the short count but commit() still
// succeeds. No torch.
#include <memory>
#include <string>
#include <string_view>

namespace preflab {

class AtomicFile {
public:
    explicit AtomicFile(const std::string& path);
    ~AtomicFile();  // without a successful commit(): the temporary is removed
    AtomicFile(const AtomicFile&) = delete;
    AtomicFile& operator=(const AtomicFile&) = delete;

    // False once anything failed (later writes are ignored); error() says why.
    bool write(const char* data, size_t size);
    bool write(std::string_view bytes) { return write(bytes.data(), bytes.size()); }
    // Puts the file in place. False, with error(), when anything failed.
    bool commit();
    const std::string& error() const { return m_error; }

private:
    struct Impl;
    std::unique_ptr<Impl> d;
    std::string m_path, m_error;
    size_t m_written = 0;
};

// The whole of `bytes` as `path`; "" on success, else the reason (without the path).
std::string writeFileAtomically(const std::string& path, std::string_view bytes);

}  // namespace preflab
