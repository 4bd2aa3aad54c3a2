#include "storage/data_paths.h"

#include <QDir>
#include <QStandardPaths>

#include <cstdlib>

namespace preflab {

std::string defaultDataDir() {
    QString dir;
    if (const char* env = std::getenv("PREFLAB_DATA_DIR"); env && *env) {
        dir = QString::fromLocal8Bit(env);
    } else {
        dir = QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation) + "/preflab";
    }
    QDir().mkpath(dir);
    return dir.toStdString();
}

std::string defaultDatabasePath() {
    return defaultDataDir() + "/preflab.db";
}

}  // namespace preflab
