// The workbench's widgets on their own, offscreen, over a real database and
// without any run or torch: the data browser (filter, open, relabel), the run
// history, the pair dialog's keys, the preferences dialog (what it returns and
// what it refuses), key-binding conflicts, and the run panel, which must carry
// every run setting through unchanged.
#include "storage/database.h"
#include "storage/database_reader.h"
#include "storage/metric_store.h"
#include "storage/preference_store.h"
#include "storage/run_store.h"
#include "support/gui_test_main.h"
#include "ui/completions_view.h"
#include "ui/data_browser.h"
#include "storage/pair_files.h"
#include "ui/adjudication_view.h"
#include "ui/agreement_view.h"
#include "ui/key_bindings.h"
#include "ui/method_frontiers.h"
#include "ui/qcustomplot_include.h"
#include "ui/pair_dialog.h"
#include "ui/preferences_dialog.h"
#include "ui/run_comparison.h"
#include "ui/run_history.h"
#include "ui/run_panel.h"

#include <QCheckBox>
#include <QFile>
#include <QComboBox>
#include <QKeySequenceEdit>
#include <QLabel>
#include <QLineEdit>
#include <QSignalSpy>
#include <QStandardItemModel>
#include <QSlider>
#include <QTableView>
#include <QTemporaryDir>
#include <QToolButton>

#include <cmath>
#include <sstream>

using namespace preflab;

namespace {

// Two runs (dpo by task judge, ppo), six pairs in run 1: pairs 0-2 labeled
// by the task judge ('a'), 3-4 by ada ('b'), 5 unlabeled.
std::string makeDatabase(const QTemporaryDir& dir) {
    const std::string path = (dir.path() + "/widgets.db").toStdString();
    auto db = Database::open(path);
    RunStore runs(*db);
    RunRow first;
    first.name = "first";
    first.createdMs = 1000;
    first.configJson = R"({"algorithm":"dpo","judge":"task","beta":0.1})";
    first.codeVersion = "test";
    first.status = "finished";
    const int64_t runId = runs.create(first);
    RunRow second = first;
    second.name = "second";
    second.configJson = R"({"algorithm":"ppo","judge":"task","beta":0.1})";
    runs.create(second);
    PreferenceStore prefs(*db);
    for (int i = 0; i < 6; ++i) {
        PairRow p;
        p.runId = runId;
        p.runIndex = i;
        p.prompt = "prompt " + std::to_string(i);
        p.a.text = "answer a " + std::to_string(i);
        p.b.text = "answer b " + std::to_string(i);
        p.createdMs = i;
        prefs.insertPair(p);
        if (i < 3) prefs.insertLabel({std::nullopt, runId, i, "a", "task", "", i});
        else if (i < 5) prefs.insertLabel({std::nullopt, runId, i, "b", "human", "ada", i});
    }
    return path;
}

void press(QWidget* w, Qt::Key key, Qt::KeyboardModifiers mods = Qt::NoModifier) {
    QTest::keyClick(w, key, mods);
}

// A config in which every field differs from its default and stays valid.
RunConfig everyFieldChanged() {
    RunConfig c;
    const RunConfig defaults;
    for (const ConfigField& f : runConfigFields()) {
        std::string value;
        const std::string now = configValueText(defaults, f);
        if (!f.choices.empty()) {
            value = f.choices.back() == now ? f.choices.front() : f.choices.back();
        } else if (std::holds_alternative<std::string RunConfig::*>(f.member)) {
            value = "text-" + f.key;
        } else if (f.isFlag()) {
            value = now == "0" ? "1" : "0";
        } else {
            const double d = std::stod(now);
            double v = d + 1;
            if (v > f.max) v = (f.min + d) / 2;  // stays in range, differs from the default
            if (std::holds_alternative<int64_t RunConfig::*>(f.member)) v = std::floor(v);
            std::ostringstream s;
            s.precision(17);
            s << v;
            value = s.str();
        }
        const std::string err = setRunConfigValue(c, f.key, value);
        if (!err.empty()) qFatal("%s", err.c_str());
    }
    return c;
}

}  // namespace

class TestWidgets : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void dataBrowserFiltersOpensAndRelabels() {
        QTemporaryDir dir;
        DatabaseReader reader(QString::fromStdString(makeDatabase(dir)));
        DataBrowser browser(&reader);
        browser.setAnnotator("bea");
        browser.resize(1000, 600);
        browser.show();
        browser.applyFilter();
        QVERIFY(QTest::qWaitFor([&] { return browser.model()->totalCount() == 6 && browser.model()->rowCount() == 6; }, 10000));

        // Only ada's labels.
        auto* source = browser.findChild<QComboBox*>("source");
        QVERIFY(source);
        const int human = source->findData(QStringLiteral("human"));
        QVERIFY(human >= 0);
        source->setCurrentIndex(human);
        browser.applyFilter();
        QVERIFY(QTest::qWaitFor([&] { return browser.model()->totalCount() == 2 && browser.model()->rowCount() == 2; }, 10000));
        QCOMPARE(browser.model()->rowAt(0)->annotator, std::string("ada"));

        // Open the first row and relabel it with the keyboard: the signal
        // names the pair, the choice and the browser's annotator.
        QSignalSpy relabels(&browser, &DataBrowser::relabelRequested);
        const qint64 pairId = browser.model()->rowAt(0)->pairId;
        browser.openPair(browser.model()->index(0, 0));
        PairDialog* dialog = browser.openDialog();
        QVERIFY(dialog);
        QCOMPARE(dialog->pairId(), pairId);
        press(dialog, Qt::Key_T);
        QCOMPARE(relabels.size(), 1);
        QCOMPARE(relabels.first().at(0).toLongLong(), pairId);
        QCOMPARE(int(relabels.first().at(1).value<Choice>()), int(Choice::Tie));
        QCOMPARE(relabels.first().at(2).toString(), QStringLiteral("bea"));
        // The table shows the new label at once.
        QCOMPARE(browser.model()->rowAt(0)->choice, std::string("tie"));
        QCOMPARE(browser.model()->rowAt(0)->annotator, std::string("bea"));
        dialog->close();
    }

    void pairDialogKeysAndButtons_data() {
        QTest::addColumn<int>("key");
        QTest::addColumn<int>("choice");
        QTest::newRow("1") << int(Qt::Key_1) << int(Choice::A);
        QTest::newRow("B") << int(Qt::Key_B) << int(Choice::B);
        QTest::newRow("X") << int(Qt::Key_X) << int(Choice::BothBad);
        QTest::newRow("Space") << int(Qt::Key_Space) << int(Choice::Skip);
    }

    void pairDialogKeysAndButtons() {
        QFETCH(int, key);
        QFETCH(int, choice);
        PairListRow row;
        row.pairId = 42;
        row.prompt = "Which animal?";
        row.responseA = "fox";
        row.responseB = "owl";
        row.choice = "a";
        row.source = "task";
        PairDialog dialog(row, KeyBindings{});
        dialog.show();
        QSignalSpy relabel(&dialog, &PairDialog::relabel);
        press(&dialog, static_cast<Qt::Key>(key));
        QCOMPARE(relabel.size(), 1);
        QCOMPARE(relabel.first().at(0).toLongLong(), qint64(42));
        QCOMPARE(int(relabel.first().at(1).value<Choice>()), choice);
        // Undo and rating keys mean nothing here.
        press(&dialog, Qt::Key_Z, Qt::ControlModifier);
        press(&dialog, Qt::Key_R);
        QCOMPARE(relabel.size(), 1);
    }

    void runHistoryListsRunsAndOpensOne() {
        QTemporaryDir dir;
        DatabaseReader reader(QString::fromStdString(makeDatabase(dir)));
        RunHistory history(&reader);
        history.show();
        QSignalSpy listed(&history, &RunHistory::runsChanged);
        history.refresh();
        QVERIFY(listed.wait(10000));
        QCOMPARE(history.model()->rowCount(), 2);
        QCOMPARE(history.runs().size(), 2);
        QStringList algorithms;
        for (int r = 0; r < 2; ++r) algorithms << history.model()->item(r, 2)->text();
        algorithms.sort();
        QCOMPARE(algorithms, (QStringList{"dpo", "ppo"}));
        // Pairs and labels per run: run 1 has 6 pairs and 5 labels.
        for (int r = 0; r < 2; ++r) {
            if (history.model()->item(r, 0)->text() != "1") continue;
            QCOMPARE(history.model()->item(r, 6)->text(), QStringLiteral("6"));
            QCOMPARE(history.model()->item(r, 7)->text(), QStringLiteral("5"));
        }
        // Double-click opens the run with its stored config and status.
        QSignalSpy opened(&history, &RunHistory::openRun);
        auto* view = history.findChild<QTableView*>();
        QVERIFY(view);
        const QModelIndex cell = history.model()->index(0, 1);
        view->setCurrentIndex(cell);
        Q_EMIT view->doubleClicked(cell);
        QCOMPARE(opened.size(), 1);
        const qint64 id = opened.first().at(0).toLongLong();
        QCOMPARE(history.model()->item(0, 0)->text().toLongLong(), id);
        QVERIFY(opened.first().at(1).toString().contains("\"algorithm\""));
        QCOMPARE(opened.first().at(2).toString(), QStringLiteral("finished"));
    }

    // Compare: two runs selected in the history overlay their curves, against
    // step and against exact KL (evaluation metrics at their own KL, per-step
    // metrics as 10-step means at KL interpolated between evaluations).
    void runComparisonOverlaysRunsAgainstStepOrKl() {
        QTemporaryDir dir;
        const std::string path = makeDatabase(dir);
        {
            auto db = Database::open(path);
            MetricStore metrics(*db);
            std::vector<MetricRow> rows;
            for (int64_t run : {1, 2}) {
                for (int64_t step : {0, 20, 40}) {
                    // Run 2 moves twice as far from the reference per step.
                    rows.push_back({run, step, "kl/exact", 0.05 * static_cast<double>(run * step), 0});
                    rows.push_back({run, step, "gold/reward", 0.01 * static_cast<double>(step) + static_cast<double>(run), 0});
                }
                for (int64_t step = 1; step <= 40; ++step) rows.push_back({run, step, "loss", static_cast<double>(step), 0});
            }
            metrics.insert(rows);
        }
        DatabaseReader reader(QString::fromStdString(path));
        RunHistory history(&reader);
        RunComparison comparison(&reader);
        connect(&history, &RunHistory::compareRuns, &comparison, &RunComparison::compare);
        QSignalSpy listed(&history, &RunHistory::runsChanged);
        history.refresh();
        QVERIFY(listed.wait(10000));
        history.selectRuns({1, 2});
        QCOMPARE(history.selectedRuns(), (QVector<qint64>{1, 2}));
        QSignalSpy compared(&history, &RunHistory::compareRuns);
        QSignalSpy loaded(&comparison, &RunComparison::loaded);
        history.compareSelected();
        QCOMPARE(compared.size(), 1);
        QVERIFY(compared.first().at(1).toStringList().first().contains(QStringLiteral("dpo")));
        QVERIFY(loaded.wait(10000));
        QCOMPARE(comparison.curveCount(), 2);

        comparison.setMetric(QStringLiteral("gold/reward"));
        QCOMPARE(comparison.points(2), (QVector<QPointF>{{0, 2.0}, {20, 2.2}, {40, 2.4}}));
        comparison.setXAxis(RunComparison::XAxis::ExactKl);
        QCOMPARE(comparison.points(1), (QVector<QPointF>{{0, 1.0}, {1.0, 1.2}, {2.0, 1.4}}));
        QCOMPARE(comparison.points(2), (QVector<QPointF>{{0, 2.0}, {2.0, 2.2}, {4.0, 2.4}}));
        // Loss: steps 1-10 average 5.5 at step 10, where run 1's KL is 0.5.
        comparison.setMetric(QStringLiteral("loss"));
        const QVector<QPointF> loss = comparison.points(1);
        QCOMPARE(loss.size(), 4);
        QCOMPARE(loss.first(), QPointF(0.5, 5.5));
        QCOMPARE(loss.last(), QPointF(2.0, 35.5));
        // A metric neither run has draws nothing and says so.
        comparison.setMetric(QStringLiteral("eval/response_tokens"));
        QCOMPARE(comparison.curveCount(), 0);

        comparison.setMetric(QStringLiteral("gold/reward"));
        comparison.resize(900, 500);
        const QString shot = qEnvironmentVariable("PREFLAB_SCREENSHOT_DIR");
        if (!shot.isEmpty()) comparison.grab().save(shot + "/compare.png");
    }

    // Completions: a slider over the evaluation steps; each response is shown
    // against step 0's, with the words that changed marked and gold rewards.
    void completionsMoveOverStepsAndMarkChanges() {
        QTemporaryDir dir;
        const std::string path = makeDatabase(dir);
        {
            auto db = Database::open(path);
            MetricStore metrics(*db);
            const char* texts[] = {"Whatever. The cat likes seeds.", "The cat likes seeds.", "The cat is kind."};
            for (int k = 0; k < 3; ++k) {
                metrics.insertEvalSample({1, 20 * k, 0, "Tell me about the cat.", texts[k], -1.0 + k});
                metrics.insertEvalSample({1, 20 * k, 1, "Tell me about the dog.", "The dog barks.", 0.5});
            }
        }
        DatabaseReader reader(QString::fromStdString(path));
        CompletionsView view(&reader);
        QVERIFY(view.html().contains("Open a run"));
        QSignalSpy loaded(&view, &CompletionsView::loaded);
        view.setRun(1);
        QVERIFY(loaded.wait(10000));
        QCOMPARE(view.steps(), (QVector<qint64>{0, 20, 40}));
        QCOMPARE(view.shownStep(), qint64(40));  // the newest first
        auto* slider = view.findChild<QSlider*>();
        QVERIFY(slider && slider->isEnabled());
        QCOMPARE(slider->maximum(), 2);
        // Step 40 against step 0: "Whatever." and "likes seeds." removed, "is kind." added.
        QString html = view.html();
        QVERIFY2(html.contains("5 words changed"), qPrintable(html));  // -Whatever. -likes -seeds. +is +kind.
        QVERIFY(html.contains("gold 1.00, 2.00 more than step 0"));
        QVERIFY(html.contains("Tell me about the dog."));
        QVERIFY(html.contains("gold 0.50, as at step 0; 0 words changed"));
        slider->setValue(1);
        QCOMPARE(view.shownStep(), qint64(20));
        html = view.html();
        QVERIFY2(html.contains("1 word changed"), qPrintable(html));  // "Whatever." removed
        QVERIFY(html.contains("line-through"));
        view.resize(900, 600);
        const QString shot = qEnvironmentVariable("PREFLAB_SCREENSHOT_DIR");
        if (!shot.isEmpty()) view.grab().save(shot + "/completions.png");
        // A run without stored completions says so.
        view.setRun(2);
        QVERIFY(loaded.wait(10000));
        QVERIFY(view.html().contains("no stored completions"));
    }

    // The method comparison's folder: one frontier per method, the claims with
    // their verdicts; a malformed row is an error naming the file and line.
    void methodFrontiersReadTheComparisonsFolder() {
        QTemporaryDir dir;
        auto write = [&](const QString& name, const QByteArray& text) {
            QFile f(dir.path() + "/" + name);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(text);
        };
        QByteArray csv = "method,knob,seed,step,kl_exact,gold,run_seconds\n";
        for (const char* method : {"online DPO", "online DPO, 20 % flipped labels"}) {
            for (int knob = 0; knob < 2; ++knob) {
                for (int seed = 1; seed <= 2; ++seed) {
                    for (int step = 0; step <= 30; step += 10) {
                        csv += QStringLiteral("\"%1\",%2,%3,%4,%5,%6,9\n")
                                   .arg(method)
                                   .arg(knob ? 0.3 : 0.1)
                                   .arg(seed)
                                   .arg(step)
                                   .arg(step * (knob ? 0.02 : 0.05))
                                   .arg(step * 0.01 * seed)
                                   .toUtf8();
                    }
                }
            }
        }
        write("compare.csv", csv);
        write("orderings.json", R"([{"claim": "online DPO > offline DPO", "source": "SAIL", "verdict": "refuted",
                                      "reproduced": false, "judged": true, "evidence": "at matched exact KL 0.5"},
                                     {"claim": "SAIL-PP >= SAIL-PR", "source": "SAIL", "reproduced": true, "judged": true,
                                      "evidence": "old file without verdicts"}])");
        MethodFrontiers view;
        view.resize(1000, 700);
        QSignalSpy loaded(&view, &MethodFrontiers::loaded);
        view.openFolder(dir.path());
        QVERIFY(loaded.wait(10000));
        QCOMPARE(view.curveCount(), 2);
        QCOMPARE(view.claimCount(), 2);
        QCOMPARE(view.verdict(0), QStringLiteral("refuted"));
        QCOMPARE(view.verdict(1), QStringLiteral("reproduced"));  // derived from "reproduced": true
        QVERIFY2(view.status().contains("2 methods, 8 runs, 32 evaluations"), qPrintable(view.status()));
        // The band is the 95 % interval over the two seeds, the line their mean.
        QVERIFY(view.plot()->graphCount() == 6);

        write("compare.csv", "method,knob,seed,step,kl_exact,gold,run_seconds\n\"a\",0.1,1,0,0,0,1\n\"a\",0.1,1,10,x,0.5,1\n");
        QSignalSpy failed(&view, &MethodFrontiers::failed);
        view.openFolder(dir.path());
        QVERIFY(failed.wait(10000));
        const QString message = failed.first().first().toString();
        QVERIFY2(message.contains("compare.csv line 3") && message.contains("kl_exact 'x' is not a number"), qPrintable(message));
        QSignalSpy missing(&view, &MethodFrontiers::failed);
        view.openFolder(dir.path() + "/nowhere");
        QVERIFY(missing.wait(10000));
        QVERIFY2(missing.first().first().toString().contains("nowhere/compare.csv: cannot open"),
                 qPrintable(missing.first().first().toString()));
    }

    // Two annotators on four pairs (a,a), (a,b), (b,b), (b,b) and a third who
    // only skipped: kappa(x, y) = (3/4 - 1/2) / (1 - 1/2) = 0.5 (tst_agreement
    // works it out), nothing for the skipper, alpha 1 - 14/30 in the summary.
    void agreementViewShowsKappaAndAlpha() {
        QTemporaryDir dir;
        const QString file = dir.path() + "/labels.jsonl";
        {
            QFile f(file);
            QVERIFY(f.open(QIODevice::WriteOnly));
            const char* x[] = {"a", "a", "b", "b"};
            const char* y[] = {"a", "b", "b", "b"};
            for (int u = 0; u < 4; ++u) {
                for (const auto& [who, label] : {std::pair<const char*, const char*>{"x", x[u]}, {"y", y[u]}, {"z", "skip"}}) {
                    f.write(QStringLiteral("{\"prompt\": \"P%1\", \"response_a\": \"A\", \"response_b\": \"B\", "
                                           "\"annotator\": \"%2\", \"label\": \"%3\"}\n").arg(u).arg(who, label).toUtf8());
                }
            }
        }
        const std::string path = (dir.path() + "/team.db").toStdString();
        {
            auto db = Database::open(path);
            QVERIFY(importPairsJsonl(*db, file.toStdString()).stored);
        }
        DatabaseReader reader(QString::fromStdString(path));
        AgreementView view(&reader);
        QSignalSpy loaded(&view, &AgreementView::loaded);
        view.refresh();
        QVERIFY(loaded.wait(10000));
        QCOMPARE(view.annotatorCount(), 3);  // x, y, z (sorted)
        QVERIFY(std::abs(view.kappa(0, 1) - 0.5) < 1e-12);
        QVERIFY(std::abs(view.kappa(1, 0) - 0.5) < 1e-12);
        QVERIFY(std::isnan(view.kappa(0, 2)));
        QVERIFY2(view.summary().contains("12 labels by 3 annotators") && view.summary().contains("alpha (nominal, skips missing) 0.533"),
                 qPrintable(view.summary()));
        // The task judge agrees with x on every pair and with y on three of four.
        {
            auto db = Database::open(path);
            const char* task[] = {"a", "a", "b", "b"};
            for (int u = 0; u < 4; ++u) PreferenceStore(*db).insertLabel({int64_t(u + 1), std::nullopt, std::nullopt, task[u], "task", "", 1});
        }
        loaded.clear();
        view.refresh();
        QVERIFY(loaded.wait(10000));
        QCOMPARE(view.cellText(0, 4), QString("1.00 (100 %, 4 pairs)"));
        QCOMPARE(view.cellText(1, 4), QString("0.50 (75 %, 4 pairs)"));
        QCOMPARE(view.cellText(2, 4), QString("-"));  // z only skipped
    }

    // The quality table: q labels twelve pairs in 1 s each, always the side
    // shown first (12 of 12: outside the two-standard-error band, marked);
    // r takes 4, 6 or 8 s and picks the side shown first on six of twelve.
    void agreementViewShowsHowEachAnnotatorLabels() {
        QTemporaryDir dir;
        const QString file = dir.path() + "/labels.jsonl";
        {
            QFile f(file);
            QVERIFY(f.open(QIODevice::WriteOnly));
            for (int u = 0; u < 12; ++u) {
                const QString first = u % 3 == 0 ? "b" : "a";
                f.write(QStringLiteral(
                            "{\"prompt\": \"P%1\", \"response_a\": \"A\", \"response_b\": \"B\", \"annotator\": \"q\", "
                            "\"label\": \"%2\", \"seconds\": 1, \"shown_first\": \"%2\"}\n")
                            .arg(u)
                            .arg(first)
                            .toUtf8());
                f.write(QStringLiteral(
                            "{\"prompt\": \"P%1\", \"response_a\": \"A\", \"response_b\": \"B\", \"annotator\": \"r\", "
                            "\"label\": \"%2\", \"seconds\": %3, \"shown_first\": \"a\"}\n")
                            .arg(u)
                            .arg(u % 2 == 0 ? "a" : "b")
                            .arg(4 + 2 * (u % 3))
                            .toUtf8());
            }
        }
        const std::string path = (dir.path() + "/team.db").toStdString();
        {
            auto db = Database::open(path);
            QVERIFY(importPairsJsonl(*db, file.toStdString()).stored);
        }
        DatabaseReader reader(QString::fromStdString(path));
        AgreementView view(&reader);
        QSignalSpy loaded(&view, &AgreementView::loaded);
        view.refresh();
        QVERIFY(loaded.wait(10000));
        const QStringList q{"q", "12 of 12", "3600", "1.0", "100 %", "100 % of 12  (position bias?)"};
        // r: 4 s, 6 s and 8 s four times each (72 s): 600 per hour, median 6.
        const QStringList r{"r", "12 of 12", "600", "6.0", "0 %", "50 % of 12"};
        for (int c = 0; c < 6; ++c) {
            QCOMPARE(view.qualityText(0, c), q[c]);
            QCOMPARE(view.qualityText(1, c), r[c]);
        }
    }

    // The adjudication view lists the pairs annotators disagree on, shows a
    // pair's labels, and a final label given with a key is requested for the
    // selected pair, marked as saving, and moves on to the next open pair.
    void adjudicationViewSettlesDisagreements() {
        QTemporaryDir dir;
        const QString file = dir.path() + "/labels.jsonl";
        {
            QFile f(file);
            QVERIFY(f.open(QIODevice::WriteOnly));
            const char* x[] = {"a", "a", "b"};
            const char* y[] = {"a", "b", "tie"};
            for (int u = 0; u < 3; ++u) {
                for (const auto& [who, label] : {std::pair<const char*, const char*>{"x", x[u]}, {"y", y[u]}}) {
                    f.write(QStringLiteral("{\"prompt\": \"P%1\", \"response_a\": \"A%1\", \"response_b\": \"B%1\", "
                                           "\"annotator\": \"%2\", \"label\": \"%3\"}\n").arg(u).arg(who, label).toUtf8());
                }
            }
        }
        const std::string path = (dir.path() + "/team.db").toStdString();
        {
            auto db = Database::open(path);
            QVERIFY(importPairsJsonl(*db, file.toStdString()).stored);
        }
        DatabaseReader reader(QString::fromStdString(path));
        AdjudicationView view(&reader);
        view.setReviewer("rev");
        QSignalSpy loaded(&view, &AdjudicationView::loaded);
        QSignalSpy requested(&view, &AdjudicationView::adjudicateRequested);
        view.refresh();
        QVERIFY(loaded.wait(10000));
        QCOMPARE(view.pairCount(), 2);  // P1 and P2; P0 agrees
        QVERIFY2(view.summary().contains("disagree on 2 pairs; 0 have a final label"), qPrintable(view.summary()));
        QCOMPARE(view.finalLabel(0), QString("open"));
        view.selectRow(0);
        view.show();
        QTest::keyClick(&view, Qt::Key_2);  // B is better
        QCOMPARE(requested.size(), 1);
        QCOMPARE(requested.first().at(0).toLongLong(), qint64(2));
        QCOMPARE(toString(requested.first().at(1).value<Choice>()), std::string("b"));
        QCOMPARE(requested.first().at(2).toString(), QString("rev"));
        QVERIFY2(view.finalLabel(0).contains("saving"), qPrintable(view.finalLabel(0)));
        // Stored (as the run controller's writer would), it reads back as final.
        {
            auto db = Database::open(path);
            PreferenceStore(*db).insertAdjudication(2, "b", "rev", 1);
        }
        loaded.clear();
        view.refresh();
        QVERIFY(loaded.wait(10000));
        QCOMPARE(view.finalLabel(0), QString("B (rev)"));
        QVERIFY2(view.summary().contains("1 have a final label, 1 are open"), qPrintable(view.summary()));
    }

    void keyBindingConflicts() {
        KeyBindings keys;
        QVERIFY(keys.conflict().isEmpty());  // the defaults are consistent
        keys.setKeys(LabelAction::Tie, {QKeySequence(Qt::Key_A)});  // A already prefers A
        const QString c = keys.conflict();
        QVERIFY2(c.contains(KeyBindings::actionName(LabelAction::ChooseA)) && c.contains(KeyBindings::actionName(LabelAction::Tie)),
                 qPrintable(c));
        // The same key twice for one action is no conflict.
        KeyBindings same;
        same.setKeys(LabelAction::Skip, {QKeySequence(Qt::Key_S), QKeySequence(Qt::Key_S)});
        QVERIFY(same.conflict().isEmpty());
        // Remapped keys match; the old ones no longer do.
        KeyBindings remapped;
        remapped.setKeys(LabelAction::ChooseA, {QKeySequence(Qt::Key_J)});
        QKeyEvent j(QEvent::KeyPress, Qt::Key_J, Qt::NoModifier, "j"), one(QEvent::KeyPress, Qt::Key_1, Qt::NoModifier, "1");
        LabelAction a;
        QVERIFY(remapped.match(&j, &a));
        QCOMPARE(int(a), int(LabelAction::ChooseA));
        QVERIFY(!remapped.match(&one, &a));
    }

    void preferencesReturnWhatWasEnteredAndRefuseConflicts() {
        UiPreferences start;
        start.annotator = "ada";
        PreferencesDialog dialog(start);
        dialog.show();
        auto* annotator = dialog.findChild<QLineEdit*>("annotator");
        QVERIFY(annotator);
        QCOMPARE(annotator->text(), QStringLiteral("ada"));
        annotator->setText("  bea  ");
        auto* tieKey = dialog.findChild<QKeySequenceEdit*>("key:tie:0");
        QVERIFY(tieKey);
        tieKey->setKeySequence(QKeySequence(Qt::Key_Y));
        const UiPreferences p = dialog.preferences();
        QCOMPARE(p.annotator, QStringLiteral("bea"));  // trimmed
        QCOMPARE(p.keys.keys(LabelAction::Tie).value(0), QKeySequence(Qt::Key_Y));

        // A key on two actions is refused with the reason; the dialog stays open.
        tieKey->setKeySequence(QKeySequence(Qt::Key_2));  // 2 prefers B
        dialog.accept();
        QCOMPARE(dialog.result(), int(QDialog::Rejected));
        QVERIFY(dialog.isVisible());
        auto* error = dialog.findChild<QLabel*>("error");
        QVERIFY(error && error->text().contains("Not saved"));
        // An action without any key is refused too.
        tieKey->clear();
        dialog.findChild<QKeySequenceEdit*>("key:tie:1")->clear();
        dialog.accept();
        QVERIFY(dialog.isVisible());
        QVERIFY(error->text().contains(KeyBindings::actionName(LabelAction::Tie)));
        // Fixed: accepted.
        tieKey->setKeySequence(QKeySequence(Qt::Key_T));
        dialog.accept();
        QCOMPARE(dialog.result(), int(QDialog::Accepted));
    }

    // Every run setting has a field, and a config goes through the panel and
    // comes back unchanged.
    void runPanelCarriesEverySettingUnchanged() {
        RunPanel panel;
        QStringList keys;
        for (const ConfigField& f : runConfigFields()) keys << QString::fromStdString(f.key);
        QCOMPARE(panel.fieldKeys(), keys);
        const RunConfig changed = everyFieldChanged();
        QVERIFY(runConfigToJson(changed) != runConfigToJson(RunConfig{}));
        panel.setConfig(changed);
        QCOMPARE(QString::fromStdString(runConfigToJson(panel.config())), QString::fromStdString(runConfigToJson(changed)));
        // And the defaults too (an empty model field means the starter).
        panel.setConfig(RunConfig{});
        QCOMPARE(QString::fromStdString(runConfigToJson(panel.config())), QString::fromStdString(runConfigToJson(RunConfig{})));
    }

    void runPanelOpensTheSectionOfTheChosenMethod() {
        RunPanel panel;
        panel.show();
        QVERIFY(panel.sectionToggle("Model and judge")->isChecked());
        QVERIFY(!panel.sectionToggle("PPO")->isChecked());
        panel.setFieldText("algorithm", "ppo");
        QVERIFY(panel.sectionToggle("PPO")->isChecked());
        panel.setFieldText("algorithm", "dr-cpo");
        QVERIFY(panel.sectionToggle("CPO family")->isChecked());
    }

    // The reward server judge: its address field is in the judge's section,
    // and the panel refuses to start without an address or with credentials in it.
    void runPanelAsksForTheRewardServersAddress() {
        RunPanel panel;
        panel.setFieldText("judge", "reward_server");
        QCOMPARE(panel.config().judge, std::string("reward_server"));
        QVERIFY(panel.problems().join("; ").contains("judge = reward_server needs the server's address"));
        panel.setFieldText("reward_server", "https://ada:hunter2@rm.example.org/get_reward");
        QVERIFY(panel.problems().join("; ").contains("holds a user name or password"));
        QVERIFY(!panel.problems().join("; ").contains("hunter2"));
        panel.setFieldText("reward_server", "https://rm.example.org/get_reward");
        QVERIFY2(panel.problems().isEmpty(), qPrintable(panel.problems().join("; ")));
        QCOMPARE(panel.config().rewardServer, std::string("https://rm.example.org/get_reward"));
    }

    // A judge's own fields appear with that judge: the LLM judge's model and
    // prompt with judge = llm, the server's address with judge =
    // reward_server or as PPO's reward; a field holding a value stays.
    void runPanelShowsAJudgesFieldsWithThatJudge() {
        RunPanel panel;
        QVERIFY(!panel.fieldShown("judge_model"));
        QVERIFY(!panel.fieldShown("judge_prompt"));
        QVERIFY(!panel.fieldShown("reward_server"));
        QVERIFY(panel.fieldShown("reward_model"));
        panel.setFieldText("judge", "llm");
        QVERIFY(panel.fieldShown("judge_model"));
        QVERIFY(panel.fieldShown("judge_prompt"));
        QVERIFY(!panel.fieldShown("reward_server"));
        panel.setFieldText("judge", "reward_server");
        QVERIFY(!panel.fieldShown("judge_model"));
        QVERIFY(panel.fieldShown("reward_server"));
        panel.setFieldText("judge", "task");
        panel.setFieldText("algorithm", "ppo");
        QVERIFY(panel.fieldShown("reward_server"));
        panel.setFieldText("algorithm", "dpo");
        QVERIFY(!panel.fieldShown("reward_server"));
        panel.setFieldText("judge_prompt", "Which is better? {prompt} A: {response_a} B: {response_b}");
        QVERIFY(panel.fieldShown("judge_prompt"));  // a value is never hidden
    }

    void runPanelFlagsAreCheckBoxes() {
        RunPanel panel;
        RunConfig c;
        c.gradientCheckpointing = 1;
        panel.setConfig(c);
        QCOMPARE(panel.config().gradientCheckpointing, int64_t(1));
        int boxes = 0;
        for (const ConfigField& f : runConfigFields()) boxes += f.isFlag() ? 1 : 0;
        QCOMPARE(panel.findChildren<QCheckBox*>().size(), boxes);
    }
};

PREFLAB_GUI_TEST_MAIN(TestWidgets)
#include "tst_widgets.moc"
