// preflab annotate: a labeling project on the terminal (storage/labeling_project.h).
// Reads one answer per line from standard input, so it works at a keyboard
// and from a script; every label is on disk before the next pair is shown.
#include "app/cli/commands.h"
#include "core/values/label.h"
#include "storage/data_paths.h"
#include "storage/database.h"
#include "storage/guidelines_store.h"
#include "storage/labeling_project.h"
#include "core/values/person_names.h"

#include <QCommandLineParser>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <set>
#include <cstdio>
#include <iostream>
#include <string>

namespace preflab {
namespace {

// The seconds from the pair (or response) being printed to its answer being
// read: the terminal's own label time. A terminal cannot tell whether its
// window is in front, so time away from it counts here (the GUI pauses).
class AnswerClock {
public:
    double seconds() const {
        const auto ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - m_start);
        return static_cast<double>(ms.count()) / 1000.0;  // whole milliseconds, as the GUI stores them
    }

private:
    const std::chrono::steady_clock::time_point m_start = std::chrono::steady_clock::now();  // printed now
};

void printProgress(LabelingProject& project, int overlap) {
    std::printf("%lld of %lld pairs have %d annotators\n", static_cast<long long>(project.completeCount()),
                static_cast<long long>(project.pairCount()), overlap);
    for (const AnnotatorProgress& a : project.progress()) {
        std::printf("  %-16s %6lld labels (%lld skipped)  %s labels/min  %lld pairs open to them\n",
                    terminalSafe(a.annotator).c_str(),
                    static_cast<long long>(a.labels), static_cast<long long>(a.skips),
                    std::isnan(a.perMinute) ? "   -" : QByteArray::number(a.perMinute, 'f', 1).rightJustified(4).constData(),
                    static_cast<long long>(project.remainingFor(a.annotator)));
    }
}

// The guidelines in force (preflab guidelines), printed at the start of a
// session and again for the answer g.
void printGuidelines(const std::string& guidelines) {
    if (guidelines.empty()) return;
    std::printf("\n— guidelines —\n%s\n— (answer g to read them again) —\n", terminalSafe(guidelines, true).c_str());
    std::fflush(stdout);
}

// --thumbs: one response at a time, thumbs up or down (KTO's unpaired labels).
int annotateThumbs(LabelingProject& project, const std::string& annotator, const std::string& guidelines) {
    int64_t given = 0;
    std::set<int64_t> skipped;  // this session's: a skip stores nothing, the response stays open
    for (;;) {
        const std::vector<ProjectResponse> next = project.nextResponses(annotator, static_cast<int>(skipped.size()) + 1);
        const auto it = std::find_if(next.begin(), next.end(), [&](const ProjectResponse& r) { return !skipped.count(r.responseId); });
        if (it == next.end()) {
            std::printf("Nothing left for %s: every other response has its annotators.\n", annotator.c_str());
            break;
        }
        const ProjectResponse& r = *it;
        std::printf("\n— response %lld · %lld labelled this session —\nPrompt: %s\n\nResponse: %s\n\n"
                    "u (thumbs up) / d (thumbs down) / s (skip) / q (quit)? ",
                    static_cast<long long>(r.responseId), static_cast<long long>(given),
                    terminalSafe(r.prompt, true).c_str(), terminalSafe(r.text, true).c_str());
        std::fflush(stdout);
        AnswerClock clock;
        std::string answer;
        for (;;) {
            if (!std::getline(std::cin, answer) || answer == "q") {
                std::printf("\n%lld labels stored for %s.\n", static_cast<long long>(given), annotator.c_str());
                return 0;
            }
            if (answer == "u" || answer == "d" || answer == "s") break;
            if (answer == "g" && !guidelines.empty())
                printGuidelines(guidelines);
            else
                std::printf("'%s'? ", terminalSafe(answer).c_str());
            std::printf("u / d / s / q: ");
            std::fflush(stdout);
        }
        if (answer == "s") {
            skipped.insert(r.responseId);
            continue;
        }
        project.labelResponse(r.responseId, answer == "u", annotator, nowMs(), clock.seconds());
        ++given;
    }
    std::printf("%lld labels stored for %s.\n", static_cast<long long>(given), annotator.c_str());
    return 0;
}

}  // namespace

int runAnnotateCommand(const QStringList& args) {
    QCommandLineParser p;
    p.setApplicationDescription(
        "Label stored pairs without training (a labeling project): each pair is shown until --overlap annotators have "
        "labelled it, in an A/B order of each annotator's own, without anyone else's label or any model's score. "
        "Answer each pair with a line: a, b, t (tie), x (both bad), s (skip) or q (quit). The guidelines in force "
        "(`preflab guidelines`) are printed first, and again for g. Each label stores the seconds from the pair "
        "printed to the answer read. Gold pairs (`preflab gold`) are mixed in unannounced at the gold share. "
        "--progress prints each annotator's labels, speed and open pairs instead.");
    p.addHelpOption();
    p.addOption(databaseCommandLineOption());
    p.addOption({"annotator", "Your name (required to label).", "name"});
    p.addOption({"overlap", "Annotators per pair (default 2).", "k", "2"});
    p.addOption({"run", "Only this run's pairs (default: every stored pair).", "id"});
    p.addOption({"progress", "Print the project's progress and exit."});
    p.addOption({"thumbs", "Thumbs mode: one response at a time (both sides of each stored pair), answered u (thumbs up), "
                           "d (thumbs down), s (skip) or q (quit); stored as unpaired labels (KTO's data; "
                           "`preflab export --unpaired` writes them in TRL's format)."});
    p.process(QStringList{"preflab annotate"} + args);
    bool ok = false;
    const int overlap = p.value("overlap").toInt(&ok);
    if (!ok || overlap < 1) {
        std::fprintf(stderr, "preflab annotate: --overlap takes a positive number, not '%s'\n", qPrintable(p.value("overlap")));
        return 2;
    }
    std::string annotator;
    if (!p.isSet("progress")) {
        if (!p.isSet("annotator")) {
            std::fprintf(stderr, "preflab annotate: give your name with --annotator NAME (labels are counted per annotator)\n");
            return 2;
        }
        if (const std::string e = normalizeName(p.value("annotator").toStdString(), annotator); !e.empty()) {
            std::fprintf(stderr, "preflab annotate: --annotator: %s\n", e.c_str());
            return 2;
        }
    }
    std::optional<int64_t> run;
    if (!idOption(p, "annotate", "run", run)) return 2;
    try {
        auto db = Database::open(p.isSet("db") ? p.value("db").toStdString() : defaultDatabasePath(), Database::Mode::OpenExisting);
        LabelingProject project(*db, overlap, run);
        if (p.isSet("progress")) {
            printProgress(project, overlap);
            return 0;
        }
        const std::optional<GuidelinesRow> g = GuidelinesStore(*db).current(run);
        const std::string guidelines = g ? g->text : std::string();
        printGuidelines(guidelines);
        if (p.isSet("thumbs")) return annotateThumbs(project, annotator, guidelines);
        int64_t given = 0;
        for (;;) {
            const std::optional<ProjectPair> pair = project.next(annotator);
            if (!pair) {
                std::printf("Nothing left for %s: every other pair has %d annotators.\n", annotator.c_str(), overlap);
                break;
            }
            std::printf("\n— pair %lld · %lld open to you · %lld labelled this session —\nPrompt: %s\n\nA: %s\n\nB: %s\n\n"
                        "a / b / t (tie) / x (both bad) / s (skip) / q (quit)? ",
                        static_cast<long long>(pair->pairId), static_cast<long long>(project.remainingFor(annotator)),
                        static_cast<long long>(given), terminalSafe(pair->prompt, true).c_str(),
                        terminalSafe(pair->first, true).c_str(), terminalSafe(pair->second, true).c_str());
            std::fflush(stdout);
            AnswerClock clock;  // A (the pair's `first`) is printed first: the label records that
            std::string answer;
            std::string choice;
            while (choice.empty()) {
                if (!std::getline(std::cin, answer) || answer == "q") {
                    std::printf("\n%lld labels stored for %s.\n", static_cast<long long>(given), annotator.c_str());
                    return 0;
                }
                if (answer == "a" || answer == "b") choice = answer;
                else if (answer == "t") choice = "tie";
                else if (answer == "x") choice = "both_bad";
                else if (answer == "s") choice = "skip";
                else if (answer == "g" && !guidelines.empty())
                    printGuidelines(guidelines), std::printf("a / b / t / x / s / q: ");
                else
                    std::printf("'%s'? a / b / t / x / s / q: ", terminalSafe(answer).c_str());
                std::fflush(stdout);
            }
            project.label(*pair, choice, annotator, nowMs(), clock.seconds());
            ++given;
        }
        std::printf("%lld labels stored for %s.\n", static_cast<long long>(given), annotator.c_str());
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "preflab annotate: %s\n", e.what());
        return 1;
    }
}

}  // namespace preflab
