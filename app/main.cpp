// preflab: the single entry point. Without a subcommand it opens the desktop
// workbench; with --headless, or where no display exists, it runs the same
// built-in demonstration on the command line instead.
#include "app/cli/commands.h"
#include "app/gui/gui_app.h"
#include "core/nn/kernel_report.h"
#include "core/runtime/library_environment.h"
#include "preflab_version.h"

#include <clocale>
#include <QCoreApplication>

#include <cstdio>
#include <cstring>

namespace {

void printUsage() {
    std::printf(
        "PrefLab %s: align language models with preferences.\n\n"
        "Usage: preflab [--db FILE] [--screenshot FILE]   the desktop workbench\n"
        "       preflab --headless [run flags]           the built-in demonstration on the command line\n"
        "                                                (also used when no display exists)\n"
        "       preflab <command> [--help]\n\n"
        "Commands:\n"
        "  pretrain   pretrain (and cache) the built-in starter model\n"
        "  run        run the online loop: generate, judge, train, evaluate, store\n"
        "  import     import preference pairs from TRL JSON Lines\n"
        "  export     export labeled pairs (JSONL) and metrics (CSV)\n"
        "  runs       list runs with headline metrics (--json for scripts)\n"
        "  agreement  annotators' agreement: Krippendorff's alpha, Cohen's kappa per pair of annotators\n"
        "  adjudicate list the pairs annotators disagree on; set a reviewer's final label\n"
        "  annotate   label stored pairs without training: k annotators per pair, blind A/B order\n"
        "  guidelines the labeling guidelines annotators read: set from a Markdown file, or print\n"
        "  gold       gold pairs (a known answer) mixed into annotators' queues, never trained on\n"
        "  lesson     guided lessons: a run narrated as it goes, every claim checked on it (--list)\n"
        "  train-rm   train a reward model on stored or JSONL preferences\n"
        "  score      a reward model's score of a response, or its accuracy on a pairs file\n"
        "  export-model  write a checkpoint of a Hugging Face model as a Hugging Face folder\n"
        "  tokenize   print the token ids of each line on stdin (--model FOLDER|tokenizer.json|starter)\n"
        "  render-chat  print what a model's chat template renders for a JSON list of messages\n"
        "  version    print the version and the runtime settings\n",
        PREFLAB_CODE_VERSION);
}

}  // namespace

int main(int argc, char** argv) {
    // First: OpenMP/OpenBLAS/ATen read their settings when they load.
    preflab::applyLibraryEnvironment(argc, argv);
    bool headless = false, screenshot = false, subcommand = argc > 1 && argv[1][0] != '-';
    for (int i = 1; i < argc; ++i) {
        headless |= std::strcmp(argv[i], "--headless") == 0;
        screenshot |= std::strcmp(argv[i], "--screenshot") == 0;
    }
    const bool wantsHelp = argc > 1 && (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0 ||
                                        std::strcmp(argv[1], "--version") == 0);
    if (!subcommand && !headless && !wantsHelp && (screenshot || preflab::displayAvailable())) {
        return preflab::runGui(argc, argv);
    }
    if (!subcommand && !headless && !wantsHelp) {
        std::printf("preflab: no display found; running the demonstration on the command line "
                    "(preflab --headless does this on purpose).\n\n");
    }
    QCoreApplication app(argc, argv);
    // Qt adopts the environment's locale; numbers in files and on the command
    // line are read with the C library (strtod, stod), which must see "0.5".
    std::setlocale(LC_NUMERIC, "C");
    QCoreApplication::setApplicationName("preflab");
    QCoreApplication::setApplicationVersion(PREFLAB_VERSION);

    QStringList args = QCoreApplication::arguments().mid(1);
    const QString command = args.isEmpty() ? QString() : args.front();
    if (command == "help" || command == "--help" || command == "-h") {
        printUsage();
        return 0;
    }
    if (command == "version" || command == "--version") {
        std::printf("preflab %s\n", PREFLAB_CODE_VERSION);
        for (const std::string& line : preflab::runtimeSettingsReport()) std::printf("  %s\n", line.c_str());
        for (const std::string& line : preflab::kernelReport()) std::printf("  %s\n", line.c_str());
        return 0;
    }
    if (command == "pretrain") return preflab::runPretrainCommand(args.mid(1));
    if (command == "run") return preflab::runRunCommand(args.mid(1));
    if (command == "import") return preflab::runImportCommand(args.mid(1));
    if (command == "export") return preflab::runExportCommand(args.mid(1));
    if (command == "runs") return preflab::runRunsCommand(args.mid(1));
    if (command == "train-rm") return preflab::runTrainRewardModelCommand(args.mid(1));
    if (command == "score") return preflab::runScoreCommand(args.mid(1));
    if (command == "tokenize") return preflab::runTokenizeCommand(args.mid(1));
    if (command == "export-model") return preflab::runExportModelCommand(args.mid(1));
    if (command == "agreement") return preflab::runAgreementCommand(args.mid(1));
    if (command == "adjudicate") return preflab::runAdjudicateCommand(args.mid(1));
    if (command == "annotate") return preflab::runAnnotateCommand(args.mid(1));
    if (command == "guidelines") return preflab::runGuidelinesCommand(args.mid(1));
    if (command == "gold") return preflab::runGoldCommand(args.mid(1));
    if (command == "render-chat") return preflab::runRenderChatCommand(args.mid(1));
    if (command == "lesson") return preflab::runLessonCommand(args.mid(1));
    if (!command.isEmpty() && !command.startsWith('-')) {
        std::fprintf(stderr, "preflab: unknown command '%s'\n\n", qPrintable(command));
        printUsage();
        return 2;
    }
    args.removeAll("--headless");
    return preflab::runDemo(args);
}
