#include "core/distributed/rank_relay.h"
#include "core/values/metric_names.h"

#include <QByteArray>
#include <QDataStream>
#include <QIODevice>

#include <map>
#include <stdexcept>

namespace preflab {

namespace {

enum class Kind : quint8 { Generated = 1, Judged = 2, Trained = 3, Metrics = 4 };

void put(QDataStream& out, const std::string& s) {
    out << QByteArray(s.data(), static_cast<int>(s.size()));
}

std::string getString(QDataStream& in) {
    QByteArray b;
    in >> b;
    return b.toStdString();
}

void put(QDataStream& out, const std::optional<double>& v) {
    out << v.has_value() << v.value_or(0.0);
}

std::optional<double> getOptional(QDataStream& in) {
    bool has = false;
    double v = 0;
    in >> has >> v;
    return has ? std::optional<double>(v) : std::nullopt;
}

void put(QDataStream& out, const GeneratedResponse& r) {
    put(out, r.text);
    out << qint64(r.tokenCount) << r.endedWithEos << r.policyLogprob << r.samplingLogprob << r.refLogprob;
    put(out, r.goldReward);
}

GeneratedResponse getResponse(QDataStream& in) {
    GeneratedResponse r;
    r.text = getString(in);
    qint64 tokens = 0;
    in >> tokens >> r.endedWithEos >> r.policyLogprob >> r.samplingLogprob >> r.refLogprob;
    r.tokenCount = tokens;
    r.goldReward = getOptional(in);
    return r;
}

template <typename Write>
void append(std::string& bytes, Kind kind, Write write) {
    QByteArray block;
    {
        QDataStream out(&block, QIODevice::WriteOnly);
        out.setVersion(QDataStream::Qt_6_0);
        out << static_cast<quint8>(kind);
        write(out);
    }
    bytes.append(block.constData(), static_cast<size_t>(block.size()));
}

}  // namespace

void EventLog::pairsGenerated(const std::vector<PairRecord>& pairs) {
    append(m_bytes, Kind::Generated, [&](QDataStream& out) {
        out << quint32(pairs.size());
        for (const PairRecord& p : pairs) {
            out << qint64(p.pairIndex) << qint64(p.generatedAtStep);
            put(out, p.prompt);
            put(out, p.a);
            put(out, p.b);
        }
    });
}

void EventLog::pairsJudged(const std::vector<Judgement>& judgements) {
    append(m_bytes, Kind::Judged, [&](QDataStream& out) {
        out << quint32(judgements.size());
        for (const Judgement& j : judgements) {
            out << qint64(j.pairIndex) << quint8(j.choice) << quint8(j.source);
            put(out, j.annotator);
            out << qint64(j.timeMs);
            put(out, j.ratingA);
            put(out, j.ratingB);
            out << j.stored;
        }
    });
}

void EventLog::pairsTrained(int64_t step, const std::vector<int64_t>& pairIndices) {
    append(m_bytes, Kind::Trained, [&](QDataStream& out) {
        out << qint64(step) << quint32(pairIndices.size());
        for (int64_t i : pairIndices) out << qint64(i);
    });
}

void EventLog::metricsLogged(const std::vector<MetricSample>& samples) {
    append(m_bytes, Kind::Metrics, [&](QDataStream& out) {
        out << quint32(samples.size());
        for (const MetricSample& s : samples) {
            out << qint64(s.step);
            put(out, s.name);
            out << s.value << qint64(s.timeMs);
        }
    });
}

std::string EventLog::take() {
    std::string out;
    out.swap(m_bytes);
    return out;
}

RankEvents decodeEvents(const std::string& bytes) {
    RankEvents ev;
    const QByteArray block = QByteArray::fromRawData(bytes.data(), static_cast<int>(bytes.size()));
    QDataStream in(block);
    in.setVersion(QDataStream::Qt_6_0);
    auto count = [&] {
        quint32 n = 0;
        in >> n;
        // Every item takes at least one byte: a count beyond the bytes left is corrupt.
        if (in.status() != QDataStream::Ok || n > static_cast<quint32>(bytes.size())) {
            throw std::runtime_error("a relayed event log is corrupt (item count " + std::to_string(n) + ")");
        }
        return n;
    };
    while (!in.atEnd()) {
        quint8 kind = 0;
        in >> kind;
        switch (static_cast<Kind>(kind)) {
        case Kind::Generated: {
            std::vector<PairRecord> pairs(count());
            for (PairRecord& p : pairs) {
                qint64 index = 0, at = 0;
                in >> index >> at;
                p.pairIndex = index;
                p.generatedAtStep = at;
                p.prompt = getString(in);
                p.a = getResponse(in);
                p.b = getResponse(in);
            }
            ev.generated.push_back(std::move(pairs));
            break;
        }
        case Kind::Judged: {
            std::vector<Judgement> judged(count());
            for (Judgement& j : judged) {
                qint64 index = 0, t = 0;
                quint8 choice = 0, source = 0;
                in >> index >> choice >> source;
                j.pairIndex = index;
                j.choice = static_cast<Choice>(choice);
                j.source = static_cast<LabelSource>(source);
                j.annotator = getString(in);
                in >> t;
                j.timeMs = t;
                j.ratingA = getOptional(in);
                j.ratingB = getOptional(in);
                in >> j.stored;
            }
            ev.judged.push_back(std::move(judged));
            break;
        }
        case Kind::Trained: {
            qint64 step = 0;
            in >> step;
            std::vector<int64_t> indices(count());
            for (int64_t& i : indices) {
                qint64 v = 0;
                in >> v;
                i = v;
            }
            ev.trained.emplace_back(step, std::move(indices));
            break;
        }
        case Kind::Metrics: {
            std::vector<MetricSample> samples(count());
            for (MetricSample& s : samples) {
                qint64 step = 0, t = 0;
                in >> step;
                s.step = step;
                s.name = getString(in);
                in >> s.value >> t;
                s.timeMs = t;
            }
            ev.metrics.push_back(std::move(samples));
            break;
        }
        default: throw std::runtime_error("a relayed event log is corrupt (event kind " + std::to_string(kind) + ")");
        }
        if (in.status() != QDataStream::Ok) throw std::runtime_error("a relayed event log is truncated");
    }
    return ev;
}

std::vector<MetricSample> averageMetrics(const std::vector<std::vector<MetricSample>>& perRank) {
    struct Sum {
        size_t order;
        double total = 0;
        int count = 0;
        int64_t timeMs = 0;
    };
    std::map<std::pair<int64_t, std::string>, Sum> sums;
    for (const auto& rank : perRank) {
        for (const MetricSample& s : rank) {
            auto [it, fresh] = sums.try_emplace({s.step, s.name}, Sum{sums.size()});
            it->second.total += s.value;
            it->second.count += 1;
            it->second.timeMs = std::max(it->second.timeMs, s.timeMs);
        }
    }
    // Counts add up over ranks; everything else is a per-pair mean or rate.
    auto summed = [](const std::string& name) {
        const MetricInfo* m = findMetric(name);
        return m && m->combine == RankCombine::Sum;
    };
    std::vector<MetricSample> out(sums.size());
    for (const auto& [key, sum] : sums) {
        out[sum.order] = {key.first, key.second, summed(key.second) ? sum.total : sum.total / sum.count, sum.timeMs};
    }
    return out;
}

void StepMerger::finishStep(const std::vector<std::string>& relayed) {
    m_holding = false;
    std::vector<RankEvents> ranks;
    ranks.push_back(decodeEvents(m_own.take()));
    for (const std::string& bytes : relayed) ranks.push_back(decodeEvents(bytes));
    m_lastMerged.clear();
    if (!m_target) return;
    // Pairs first (every rank's, in rank order), so that the pairs a step
    // trained on are stored before they are marked as trained.
    for (const RankEvents& r : ranks) {
        for (const auto& g : r.generated) m_target->pairsGenerated(g);
        for (const auto& j : r.judged) m_target->pairsJudged(j);
    }
    for (const RankEvents& r : ranks) {
        for (const auto& [step, indices] : r.trained) m_target->pairsTrained(step, indices);
    }
    std::vector<std::vector<MetricSample>> perRank;
    for (const RankEvents& r : ranks) {
        std::vector<MetricSample> all;
        for (const auto& m : r.metrics) all.insert(all.end(), m.begin(), m.end());
        perRank.push_back(std::move(all));
    }
    m_lastMerged = averageMetrics(perRank);
    if (!m_lastMerged.empty()) m_target->metricsLogged(m_lastMerged);
}

void StepMerger::pairsGenerated(const std::vector<PairRecord>& p) {
    if (m_holding) m_own.pairsGenerated(p);
    else if (m_target) m_target->pairsGenerated(p);
}

void StepMerger::pairsJudged(const std::vector<Judgement>& j) {
    if (m_holding) m_own.pairsJudged(j);
    else if (m_target) m_target->pairsJudged(j);
}

void StepMerger::pairsTrained(int64_t step, const std::vector<int64_t>& i) {
    if (m_holding) m_own.pairsTrained(step, i);
    else if (m_target) m_target->pairsTrained(step, i);
}

void StepMerger::metricsLogged(const std::vector<MetricSample>& m) {
    if (m_holding) m_own.metricsLogged(m);
    else if (m_target) m_target->metricsLogged(m);
}

void StepMerger::checkpointSaved(const CheckpointRecord& c) {
    if (m_target) m_target->checkpointSaved(c);
}

void StepMerger::evaluationSamples(int64_t step, const std::vector<EvalSample>& s) {
    if (m_target) m_target->evaluationSamples(step, s);
}

}  // namespace preflab
