#include "storage/file_writing.h"

#include "storage/sql_connection.h"

#include <QJsonArray>
#include <QJsonDocument>

#include <cstdio>

namespace preflab {

int64_t writeFileAtomically(const std::string& path, const std::function<int64_t(std::ofstream&)>& body) {
    const std::string tmp = path + ".partial";
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw StorageError(path + ": cannot open the file for writing");
    const int64_t count = body(out);
    out.flush();
    const bool ok = static_cast<bool>(out);
    out.close();
    if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
        std::remove(tmp.c_str());
        throw StorageError(path + (ok ? ": cannot move the file into place" : ": write failed (disk full?)"));
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

}  // namespace preflab
