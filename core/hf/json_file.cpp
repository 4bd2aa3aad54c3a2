#include "core/hf/json_file.h"

#include <QFile>
#include <QJsonDocument>

#include <stdexcept>

namespace preflab {

QJsonObject parseJsonObject(const std::string& text, const std::string& name) {
    QJsonParseError err;
    const QJsonDocument doc = QJsonDocument::fromJson(QByteArray::fromStdString(text), &err);
    if (doc.isNull()) {
        throw std::runtime_error(name + ": not valid JSON: " + err.errorString().toStdString() + " at offset " +
                                 std::to_string(err.offset));
    }
    if (!doc.isObject()) throw std::runtime_error(name + ": expected a JSON object");
    return doc.object();
}

QJsonObject readJsonObjectFile(const std::string& path) {
    QFile f(QString::fromStdString(path));
    if (!f.open(QIODevice::ReadOnly)) throw std::runtime_error(path + ": cannot open: " + f.errorString().toStdString());
    return parseJsonObject(f.readAll().toStdString(), path);
}

std::string tokenContent(const QJsonValue& v) {
    return (v.isObject() ? v.toObject().value(QStringLiteral("content")).toString() : v.toString()).toStdString();
}

}  // namespace preflab
