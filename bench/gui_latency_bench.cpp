// preflab-gui-bench: how the workbench feels while a run trains and generates.
// Opens the main window (offscreen unless a display is set) with a Person +
// task judge run on a starter-sized model, labels a pair every 150 ms from
// the keyboard (a fast annotator, ~400 a minute), and measures
//  - the UI event loop's stalls: gaps between ticks of a 1 ms precise timer;
//  - label-to-next-pair latency: the keypress handled and the view repainted.
// Targets (issue 3): stall p99 < 16 ms, max < 50 ms; latency < 50 ms.
#include "app/gui/workbench.h"
#include "core/values/judge_registry.h"
#include "app/session/training_worker.h"
#include "core/task/starter_model.h"
#include "core/runtime/library_environment.h"
#include "ui/labeling_view.h"
#include "storage/database.h"
#include "ui/main_window.h"

#include <clocale>
#include <QApplication>
#include <QElapsedTimer>
#include <QKeyEvent>
#include <QTemporaryDir>
#include <QTimer>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <vector>

using namespace preflab;

namespace {

double percentile(std::vector<double> v, double q) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[static_cast<size_t>(q * static_cast<double>(v.size() - 1))];
}

}  // namespace

int main(int argc, char** argv) {
    applyLibraryEnvironment(argc, argv);
    if (!qEnvironmentVariableIsSet("DISPLAY") && !qEnvironmentVariableIsSet("QT_QPA_PLATFORM")) {
        qputenv("QT_QPA_PLATFORM", "offscreen");
    }
    int seconds = 20;
    for (int i = 1; i + 1 < argc; ++i) {
        if (std::strcmp(argv[i], "--seconds") == 0) seconds = std::atoi(argv[i + 1]);
    }
    QApplication app(argc, argv);
    // Qt adopts the environment's locale; numbers in files and on the command
    // line are read with the C library (strtod, stod), which must see "0.5".
    std::setlocale(LC_NUMERIC, "C");
    QTemporaryDir dir;
    const QString model = dir.path() + "/model.pt";
    // A starter-sized model, barely trained (the full pretraining takes minutes):
    // its responses run long, which makes generation the worst case.
    PretrainSpec spec;
    spec.steps = 20;
    pretrainStarterModel(spec, model.toStdString());
    const QString db = dir.path() + "/bench.db";
    Database::open(db.toStdString());

    Workbench workbench(db, dir.path());
    RunController& controller = *workbench.controller();
    MainWindow& window = *workbench.window();
    window.resize(1440, 900);
    window.show();
    RunConfig config;
    config.judge = judgeName(JudgeKind::HumanTask);
    config.annotator = "bench";
    config.model = model.toStdString();
    config.steps = 100000;
    config.evalEvery = 10;
    config.evalSamples = 32;
    qint64 steps = 0;
    QObject::connect(&controller, &RunController::runStarting, &app, [&](TrainingWorker* w) {
        QObject::connect(w, &TrainingWorker::progress, &app, [&](qint64 s, qint64) { steps = s; });
    });
    if (!workbench.startRun(config)) {
        std::fprintf(stderr, "preflab-gui-bench: the run did not start\n");
        return 1;
    }

    std::vector<double> gaps, latencies;
    int misses = 0;
    QElapsedTimer clock;
    clock.start();
    qint64 lastTick = -1;
    QTimer ticker;
    ticker.setTimerType(Qt::PreciseTimer);
    ticker.setInterval(1);
    QObject::connect(&ticker, &QTimer::timeout, [&] {
        const qint64 now = clock.nsecsElapsed();
        if (lastTick >= 0) gaps.push_back(static_cast<double>(now - lastTick) / 1e6);
        lastTick = now;
    });
    QTimer annotator;
    annotator.setInterval(150);
    LabelingView* view = window.labelingView();
    QObject::connect(&annotator, &QTimer::timeout, [&] {
        if (view->currentPairIndex() < 0) {
            ++misses;  // nothing generated yet: the person would wait
            return;
        }
        QElapsedTimer t;
        t.start();
        QKeyEvent press(QEvent::KeyPress, Qt::Key_1, Qt::NoModifier, QStringLiteral("1"));
        QCoreApplication::sendEvent(view, &press);
        view->repaint();  // the next pair drawn, not just queued
        latencies.push_back(static_cast<double>(t.nsecsElapsed()) / 1e6);
    });
    // Measure after the start-up (model load, first generation).
    QTimer::singleShot(3000, [&] {
        gaps.clear();
        lastTick = -1;
        ticker.start();
        annotator.start();
    });
    QTimer::singleShot(3000 + seconds * 1000, [&] {
        ticker.stop();
        annotator.stop();
        controller.stop();
    });
    QObject::connect(&controller, &RunController::runEnded, &app, &QApplication::quit);
    app.exec();

    std::vector<double> stalls;
    for (double g : gaps) stalls.push_back(std::max(0.0, g - 1.0));
    std::printf("preflab-gui-bench: %d s of a Person + task judge run, window 1440x900\n", seconds);
    std::printf("  steps trained                 %lld\n", static_cast<long long>(steps));
    std::printf("  labels given by keyboard      %zu (no pair ready at %d presses)\n", latencies.size(), misses);
    std::printf("  event-loop stall p50/p99/max  %.2f / %.2f / %.2f ms   (target p99 < 16, max < 50)\n",
                percentile(stalls, 0.5), percentile(stalls, 0.99), stalls.empty() ? 0.0 : *std::max_element(stalls.begin(), stalls.end()));
    std::printf("  label -> next pair p50/p99/max %.2f / %.2f / %.2f ms   (target < 50)\n", percentile(latencies, 0.5),
                percentile(latencies, 0.99), latencies.empty() ? 0.0 : *std::max_element(latencies.begin(), latencies.end()));
    return 0;
}
