#include "core/runtime/atomic_file.h"

#include <QSaveFile>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace preflab {

struct AtomicFile::Impl {
    QSaveFile file;
    explicit Impl(const std::string& path) : file(QString::fromStdString(path)) {}
};

AtomicFile::AtomicFile(const std::string& path) : d(std::make_unique<Impl>(path)), m_path(path) {
    std::error_code ec;
    const std::filesystem::path folder = std::filesystem::path(path).parent_path();
    if (!folder.empty()) std::filesystem::create_directories(folder, ec);
    if (ec) m_error = "cannot create the folder " + folder.string() + ": " + ec.message();
    else if (!d->file.open(QIODevice::WriteOnly | QIODevice::Unbuffered)) m_error = "cannot write: " + d->file.errorString().toStdString();
}

AtomicFile::~AtomicFile() {
    if (d->file.isOpen()) d->file.cancelWriting();
}

bool AtomicFile::write(const char* data, size_t size) {
    if (!m_error.empty()) return false;
    errno = 0;
    const qint64 n = d->file.write(data, static_cast<qint64>(size));
    if (n >= 0) m_written += static_cast<size_t>(n);
    if (n == static_cast<qint64>(size)) return true;
    const int err = errno;
    m_error = "only " + std::to_string(m_written) + " bytes could be written (disk full or file size limit?)";
    if (err != 0) m_error += ": " + std::string(std::strerror(err));
    d->file.cancelWriting();
    return false;
}

bool AtomicFile::commit() {
    if (!m_error.empty()) return false;
    if (!d->file.commit()) {
        m_error = "cannot put the file in place: " + d->file.errorString().toStdString();
        return false;
    }
    return true;
}

std::string writeFileAtomically(const std::string& path, std::string_view bytes) {
    AtomicFile f(path);
    f.write(bytes);
    f.commit();
    return f.error();
}

}  // namespace preflab
