#include "storage/file_writing.h"

#include "storage/sql_connection.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSaveFile>

#include <charconv>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <streambuf>
#include <sys/stat.h>
#include <unistd.h>

namespace preflab {
namespace {

// A std::ostream onto a QIODevice that checks every write: a short write (a
// full disk, a file size limit, a closed pipe) is remembered with errno's
// reason, and nothing after it is written.
class DeviceBuffer : public std::streambuf {
public:
    explicit DeviceBuffer(QIODevice& device) : m_device(device) { setp(m_buffer, m_buffer + sizeof m_buffer); }
    ~DeviceBuffer() override = default;
    bool failed() const { return !m_error.empty(); }
    const std::string& error() const { return m_error; }
    bool drain() {
        const std::ptrdiff_t n = pptr() - pbase();
        if (n > 0 && m_error.empty()) {
            errno = 0;
            const qint64 written = m_device.write(pbase(), n);
            if (written != n) {
                const int err = errno;
                m_error = err ? std::strerror(err) : m_device.errorString().toStdString();
            }
        }
        setp(m_buffer, m_buffer + sizeof m_buffer);
        return m_error.empty();
    }

protected:
    int_type overflow(int_type c) override {
        if (!drain()) return traits_type::eof();
        if (!traits_type::eq_int_type(c, traits_type::eof())) {
            *pptr() = traits_type::to_char_type(c);
            pbump(1);
        }
        return traits_type::not_eof(c);
    }
    int sync() override { return drain() ? 0 : -1; }

private:
    QIODevice& m_device;
    char m_buffer[64 * 1024];
    std::string m_error;
};

int64_t writeThrough(QIODevice& device, const std::string& path, const std::function<int64_t(std::ostream&)>& body,
                     const std::function<bool()>& finish) {
    DeviceBuffer buffer(device);
    std::ostream out(&buffer);
    const int64_t count = body(out);
    out.flush();
    if (buffer.failed() || !out) {
        throw StorageError(path + ": write failed (" + (buffer.error().empty() ? "stream error" : buffer.error()) +
                           "; disk full or file size limit?)");
    }
    if (!finish()) throw StorageError(path + ": cannot put the file in place: " + device.errorString().toStdString());
    return count;
}

// The process's own descriptor that `path` names, or -1.
int ownDescriptor(const std::string& path) {
    if (path == "-" || path == "/dev/stdout") return 1;
    if (path == "/dev/stderr") return 2;
    for (const char* prefix : {"/dev/fd/", "/proc/self/fd/"}) {
        const std::string p = prefix;
        if (path.rfind(p, 0) == 0 && path.size() > p.size() &&
            path.find_first_not_of("0123456789", p.size()) == std::string::npos && path.size() - p.size() < 9) {
            return std::stoi(path.substr(p.size()));
        }
    }
    return -1;
}

// Follows symbolic links to the path they end at (which may not exist yet:
// a link to a file an export creates). QFileInfo::symLinkTarget gives one
// link's target, absolute.
QString finalTarget(const QString& path) {
    QFileInfo info(path);
    for (int depth = 0; depth < 40 && info.isSymLink(); ++depth) info.setFile(info.symLinkTarget());
    return info.filePath();
}

}  // namespace

bool isStandardOutput(const std::string& path) {
    return ownDescriptor(path) == 1;
}

int64_t writeFileAtomically(const std::string& path, const std::function<int64_t(std::ostream&)>& body) {
    if (path.empty()) throw StorageError("no file given: the export path is empty");
    if (const int fd = ownDescriptor(path); fd >= 0) {
        std::fflush(nullptr);  // what was printed before comes first
        QFile stream;
        if (!stream.open(fd, QIODevice::WriteOnly | QIODevice::Unbuffered, QFileDevice::DontCloseHandle)) {
            throw StorageError(path + ": cannot write to it: " + stream.errorString().toStdString());
        }
        return writeThrough(stream, path, body, [] { return true; });
    }
    const QString target = finalTarget(QString::fromStdString(path));
    struct stat st {};
    const bool exists = ::stat(target.toLocal8Bit().constData(), &st) == 0;
    if (exists && S_ISDIR(st.st_mode)) throw StorageError(path + ": is a folder; give a file name");
    if (exists && !S_ISREG(st.st_mode)) {
        // A FIFO, a terminal, a device: written in place, as the shell's '>' would.
        QFile stream(target);
        if (!stream.open(QIODevice::WriteOnly | QIODevice::Unbuffered)) {
            throw StorageError(path + ": cannot write to it: " + stream.errorString().toStdString());
        }
        return writeThrough(stream, path, body, [] { return true; });
    }
    const QFileInfo where(target);
    const QString folder = where.absolutePath();
    if (!QFileInfo(folder).isDir()) {
        throw StorageError(path + ": the folder " + folder.toStdString() + " does not exist; nothing was written");
    }
    if (::access(folder.toLocal8Bit().constData(), W_OK | X_OK) != 0) {
        throw StorageError(path + ": cannot write in the folder " + folder.toStdString() + " (" + std::strerror(errno) +
                           "): the file is written beside its place and then renamed; nothing was written");
    }
    QSaveFile file(target);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Unbuffered)) {
        throw StorageError(path + ": cannot open the file for writing: " + file.errorString().toStdString());
    }
    const int64_t count = writeThrough(file, path, body, [&] { return file.commit(); });
    // QSaveFile keeps an existing file's permissions; its owner and group
    // come back where this user may set them (root, or a group of theirs).
    if (exists) {
        const QByteArray local = target.toLocal8Bit();
        if (::chown(local.constData(), st.st_uid, st.st_gid) != 0 && st.st_gid != ::getegid()) {
            [[maybe_unused]] const int ignored = ::chown(local.constData(), static_cast<uid_t>(-1), st.st_gid);
        }
    }
    return count;
}

std::string csvField(const std::string& s) {
    if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
    std::string out = "\"";
    for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
}

std::string jsonString(const std::string& s) {
    // Qt writes a value only inside an array or object: write ["s"] and keep the middle.
    const QByteArray a = QJsonDocument(QJsonArray{QString::fromStdString(s)}).toJson(QJsonDocument::Compact);
    return a.mid(1, a.size() - 2).toStdString();
}

std::string shortestNumber(double v) {
    char buf[32];
    const auto res = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, res.ptr);
}

}  // namespace preflab
