#pragma once
// The workbench's first run: the built-in starter model is pretrained once
// with a progress dialog, then the first lesson (or a bare demo run) is
// offered. UI thread.
#include "core/values/run_config.h"

#include <functional>

namespace preflab {

class MainWindow;
class RunController;
class Workbench;

// The demonstration run: the defaults, judged by the task's true reward.
RunConfig demoConfig();
// Pretrains the starter model with a progress dialog (cancellable), then
// calls `then` with whether the model is ready.
void pretrainWithDialog(MainWindow* window, RunController* controller, std::function<void(bool)> then);
// When the starter model is missing: pretrain it, then offer the first
// lesson (the demo run, narrated) or the bare demo run. Does nothing when the
// model is ready.
void offerFirstRun(Workbench* workbench);

}  // namespace preflab
