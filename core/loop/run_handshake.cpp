#include "core/loop/run_handshake.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>

#include <stdexcept>

namespace preflab {

namespace {

// Settings that may differ between ranks: each host sets its own threads.
bool rankLocal(const QString& key) {
    return key == QLatin1String("threads");
}

void hashFileEnds(QCryptographicHash& h, const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) return;
    constexpr qint64 kChunk = 1 << 20;
    h.addData(f.read(kChunk));
    if (f.size() > kChunk) {
        f.seek(std::max(kChunk, f.size() - kChunk));
        h.addData(f.readAll());
    }
}

std::string dataDigest(const LoopSetup& setup) {
    QCryptographicHash h(QCryptographicHash::Sha1);
    auto add = [&](const std::string& s) {
        h.addData(QByteArray::number(static_cast<qint64>(s.size())));
        h.addData(QByteArrayView(s.data(), static_cast<qsizetype>(s.size())));
    };
    for (const OfflinePair& p : setup.offlinePairs) {
        add(p.prompt);
        add(p.chosen);
        add(p.rejected);
    }
    for (const RatedResponse& r : setup.ratedResponses) {
        add(r.prompt);
        add(r.response);
        h.addData(QByteArray::number(r.outcome, 'g', 17));
    }
    return std::to_string(setup.offlinePairs.size()) + " pairs, " + std::to_string(setup.ratedResponses.size()) +
           " ratings, " + h.result().toHex().left(16).toStdString();
}

QJsonObject describe(const LoopSetup& setup) {
    QJsonObject o;
    o["config"] = QJsonDocument::fromJson(QByteArray::fromStdString(runConfigToJson(setup.config))).object();
    o["model"] = QString::fromStdString(modelDigest(setup.modelPath));
    o["data"] = QString::fromStdString(dataDigest(setup));
    o["world_size"] = setup.ranks.worldSize;
    o["resume_from"] = QString::fromStdString(setup.resumeFrom);
    o["first_pair_index"] = static_cast<qint64>(setup.firstPairIndex);
    return o;
}

QString shown(const QJsonValue& v) {
    if (v.isUndefined()) return QStringLiteral("(not set)");
    if (v.isString()) return v.toString();
    return QString::fromUtf8(QJsonDocument(QJsonObject{{"v", v}}).toJson(QJsonDocument::Compact)).mid(5).chopped(1);
}

// The first difference between rank 0's description and this rank's, or "".
std::string firstDifference(const QJsonObject& leader, const QJsonObject& mine, int rank) {
    const std::string r = " on rank " + std::to_string(rank);
    if (leader["world_size"] != mine["world_size"]) {
        return "--world-size is " + shown(leader["world_size"]).toStdString() + " on rank 0 and " +
               shown(mine["world_size"]).toStdString() + r;
    }
    const QJsonObject a = leader["config"].toObject(), b = mine["config"].toObject();
    QStringList keys = a.keys();
    for (const QString& k : b.keys()) {
        if (!a.contains(k)) keys << k;
    }
    for (const QString& k : keys) {
        if (rankLocal(k) || a.value(k) == b.value(k)) continue;
        return "setting " + k.toStdString() + " is " + shown(a.value(k)).toStdString() + " on rank 0 and " +
               shown(b.value(k)).toStdString() + r;
    }
    if (leader["model"] != mine["model"]) {
        return "the model differs: " + leader["model"].toString().toStdString() + " on rank 0, " +
               mine["model"].toString().toStdString() + r;
    }
    if (leader["data"] != mine["data"]) {
        return "the training data differs: " + leader["data"].toString().toStdString() + " on rank 0, " +
               mine["data"].toString().toStdString() + r;
    }
    return {};
}

}  // namespace

std::string modelDigest(const std::string& path) {
    const QString p = QString::fromStdString(path);
    const QFileInfo info(p);
    QCryptographicHash h(QCryptographicHash::Sha1);
    if (info.isDir()) {
        const QDir dir(p);
        for (const QFileInfo& f : dir.entryInfoList(QDir::Files, QDir::Name)) {
            h.addData(f.fileName().toUtf8() + ':' + QByteArray::number(f.size()) + ';');
        }
        hashFileEnds(h, dir.filePath(QStringLiteral("config.json")));
        return "folder " + h.result().toHex().left(16).toStdString();
    }
    if (!info.exists()) return "missing";
    hashFileEnds(h, p);
    return std::to_string(info.size()) + " bytes, " + h.result().toHex().left(16).toStdString();
}

void agreeOnSetup(RankGroup& group, LoopSetup& setup) {
    const int rank = group.rank();
    const QJsonObject mine = describe(setup);
    if (group.options().leader()) {
        group.publish("setup", QJsonDocument(mine).toJson(QJsonDocument::Compact).toStdString());
        std::string problems;
        for (int r = 1; r < group.worldSize(); ++r) {
            const std::string verdict = group.fetch("verdict/" + std::to_string(r), "rank " + std::to_string(r) + "'s setup");
            if (!verdict.empty() && problems.empty()) problems = verdict;
        }
        // Every rank waits for this answer before it connects, so a mismatch
        // stops them all now rather than at their rendezvous timeout.
        group.publish("go", problems);
        if (!problems.empty()) throw std::runtime_error("the ranks do not run the same thing: " + problems);
        return;
    }
    const QJsonObject leader =
        QJsonDocument::fromJson(QByteArray::fromStdString(group.fetch("setup", "rank 0's setup"))).object();
    const std::string difference = firstDifference(leader, mine, rank);
    group.publish("verdict/" + std::to_string(rank), difference);
    if (!difference.empty()) throw std::runtime_error("the ranks do not run the same thing: " + difference);
    const std::string go = group.fetch("go", "rank 0's answer to every rank's setup");
    if (!go.empty()) throw std::runtime_error("rank 0 stopped the run: the ranks do not run the same thing: " + go);
    setup.resumeFrom = leader["resume_from"].toString().toStdString();
    setup.firstPairIndex = leader["first_pair_index"].toInteger();
}

}  // namespace preflab
