#include "core/values/lesson_state.h"

#include "core/values/lesson.h"

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>

namespace preflab {
namespace {
constexpr int kFormat = 1;
}

std::string lessonStateJson(const LessonState& s) {
    const QJsonObject o{{"preflab_lesson_state", kFormat},
                        {"lesson", QString::fromStdString(s.lesson)},
                        {"seed", static_cast<qint64>(s.seed)},
                        {"step_mode", s.stepMode},
                        {"reached_cue", QString::fromStdString(s.reachedCue)}};
    return QJsonDocument(o).toJson(QJsonDocument::Indented).toStdString();
}

LessonState parseLessonState(const std::string& json, const std::string& file) {
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(QByteArray::fromStdString(json), &error);
    if (error.error != QJsonParseError::NoError)
        throw LessonError(file + ": not JSON (" + error.errorString().toStdString() + " at offset " +
                          std::to_string(error.offset) + ")");
    if (!doc.isObject()) throw LessonError(file + ": expected a JSON object");
    const QJsonObject o = doc.object();
    if (o.value("preflab_lesson_state").toInt(-1) != kFormat)
        throw LessonError(file + ": preflab_lesson_state: expected 1 (not a PrefLab lesson state file, or a newer one)");
    for (auto it = o.begin(); it != o.end(); ++it) {
        static const QStringList known{"preflab_lesson_state", "lesson", "seed", "step_mode", "reached_cue"};
        if (!known.contains(it.key())) throw LessonError(file + ": unknown key '" + it.key().toStdString() + "'");
    }
    LessonState s;
    if (!o.value("lesson").isString() || o.value("lesson").toString().isEmpty())
        throw LessonError(file + ": lesson: expected the lesson's id");
    s.lesson = o.value("lesson").toString().toStdString();
    const QJsonValue seed = o.value("seed");
    if (!seed.isDouble() || seed.toDouble() < 0 || seed.toDouble() != static_cast<double>(seed.toInteger()))
        throw LessonError(file + ": seed: expected a whole number >= 0");
    s.seed = seed.toInteger();
    if (o.contains("step_mode")) {
        if (!o.value("step_mode").isBool()) throw LessonError(file + ": step_mode: expected true or false");
        s.stepMode = o.value("step_mode").toBool();
    }
    if (o.contains("reached_cue")) {
        if (!o.value("reached_cue").isString()) throw LessonError(file + ": reached_cue: expected a cue id");
        s.reachedCue = o.value("reached_cue").toString().toStdString();
    }
    return s;
}

void writeLessonStateFile(const LessonState& state, const std::string& path) {
    QSaveFile f(QString::fromStdString(path));
    if (!f.open(QIODevice::WriteOnly)) throw LessonError(path + ": cannot write: " + f.errorString().toStdString());
    const std::string text = lessonStateJson(state);
    f.write(text.data(), static_cast<qint64>(text.size()));
    if (!f.commit()) throw LessonError(path + ": cannot write: " + f.errorString().toStdString());
}

LessonState readLessonStateFile(const std::string& path) {
    QFile f(QString::fromStdString(path));
    if (!f.open(QIODevice::ReadOnly)) throw LessonError(path + ": cannot read: " + f.errorString().toStdString());
    return parseLessonState(f.readAll().toStdString(), path);
}

}  // namespace preflab
