#pragma once
// The state of a run as the UI and the CLI show it, and the Qt metatypes of
// the plain values that cross from the training thread to the UI thread
// through queued signals (metrics, pairs waiting for a person). No torch.
#include "core/values/label.h"
#include "core/values/loop_types.h"
#include "core/values/run_config.h"

#include <QMetaType>
#include <QString>
#include <QVector>

namespace preflab {

enum class RunState { Starting, Running, WaitingForLabels, Paused, Finished, Stopped, Failed };
QString toDisplayString(RunState s);
// True for the states in which a run has ended.
inline bool isFinal(RunState s) { return s == RunState::Finished || s == RunState::Stopped || s == RunState::Failed; }

// Registers the types below with Qt's meta-type system (idempotent).
void registerRunValueMetaTypes();

}  // namespace preflab

Q_DECLARE_METATYPE(preflab::MetricSample)
Q_DECLARE_METATYPE(QVector<preflab::MetricSample>)
Q_DECLARE_METATYPE(preflab::RunState)
Q_DECLARE_METATYPE(preflab::PairForJudging)
Q_DECLARE_METATYPE(QVector<preflab::PairForJudging>)
Q_DECLARE_METATYPE(preflab::RunConfig)
