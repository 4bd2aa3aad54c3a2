#include "core/values/run_state.h"

namespace preflab {

QString toDisplayString(RunState s) {
    switch (s) {
    case RunState::Starting: return QStringLiteral("starting");
    case RunState::Running: return QStringLiteral("running");
    case RunState::WaitingForLabels: return QStringLiteral("waiting for labels");
    case RunState::Paused: return QStringLiteral("paused");
    case RunState::Finished: return QStringLiteral("finished");
    case RunState::Stopped: return QStringLiteral("stopped");
    case RunState::Failed: return QStringLiteral("failed");
    }
    return {};
}

void registerRunValueMetaTypes() {
    qRegisterMetaType<preflab::MetricSample>();
    qRegisterMetaType<QVector<preflab::MetricSample>>();
    qRegisterMetaType<preflab::RunState>();
    qRegisterMetaType<preflab::PairForJudging>();
    qRegisterMetaType<QVector<preflab::PairForJudging>>();
    qRegisterMetaType<preflab::RunConfig>();
}

}  // namespace preflab
