// preflab gold: gold pairs (storage/gold_pair_store.h), a lead's pairs with a
// known answer, mixed unannounced into every annotator's queue at the gold
// share and never trained on; `preflab agreement` reports each annotator's
// accuracy on them.
#include "app/cli/commands.h"
#include "core/values/label.h"
#include "core/values/person_names.h"
#include "storage/data_paths.h"
#include "storage/database.h"
#include "storage/gold_pair_store.h"
#include "storage/pair_files.h"
#include "storage/preference_store.h"

#include <QCommandLineParser>

#include <cstdio>

namespace preflab {

int runGoldCommand(const QStringList& args) {
    QCommandLineParser p;
    p.setApplicationDescription(
        "Gold pairs: stored pairs whose answer you know, mixed unannounced into each annotator's queue (the workbench's "
        "labeling project and `preflab annotate`) at the gold share, and never trained on or exported. `preflab "
        "agreement` then gives each annotator's accuracy on them. Without an action, lists the gold pairs and the share.");
    p.addHelpOption();
    p.addOption(databaseCommandLineOption());
    p.addOption({"import", "Store each pair of a preference file (TRL's formats: chosen is the right answer) as a gold "
                           "pair; pairs already stored are marked, not copied.",
                 "file.jsonl"});
    p.addOption({"mark", "Mark this stored pair gold (with --answer).", "pair-id"});
    p.addOption({"answer", "The answer of --mark, in the pair's own order: a, b, tie or both_bad.", "choice"});
    p.addOption({"unmark", "This pair is gold no more (its labels stay).", "pair-id"});
    p.addOption({"share", "The share of each annotator's queue given to gold pairs, 0 to 0.5 (default 0: none mixed in).",
                 "fraction"});
    p.addOption({"author", "Who set them (stored with them).", "name"});
    p.process(QStringList{"preflab gold"} + args);
    std::optional<int64_t> mark, unmark;
    if (!idOption(p, "gold", "mark", mark) || !idOption(p, "gold", "unmark", unmark)) return 2;
    if (mark && !p.isSet("answer")) {
        std::fprintf(stderr, "preflab gold: --mark needs --answer a|b|tie|both_bad (the pair's own a and b)\n");
        return 2;
    }
    std::optional<double> share;
    if (p.isSet("share")) {
        bool ok = false;
        share = p.value("share").toDouble(&ok);
        if (!ok || !(*share >= 0 && *share <= kMaxGoldShare)) {
            std::fprintf(stderr, "preflab gold: --share takes a fraction from 0 to %g, not '%s'\n", kMaxGoldShare,
                         qPrintable(p.value("share")));
            return 2;
        }
    }
    const std::string author = p.value("author").toStdString();
    try {
        auto db = Database::open(p.isSet("db") ? p.value("db").toStdString() : defaultDatabasePath(),
                                 Database::Mode::OpenExisting);
        GoldPairStore gold(*db);
        const bool acting = p.isSet("import") || mark || unmark || share;
        // Every change in one transaction: a bad line or id changes nothing.
        Transaction tx(db->connection());
        if (p.isSet("import")) {
            const std::string file = p.value("import").toStdString();
            std::vector<PairRow> pairs;
            const ImportReport read = readPairsJsonl(file, pairs);
            if (!read.errors.empty()) {
                std::fprintf(stderr, "preflab gold: nothing stored, %s\n", read.describe().c_str());
                return 1;
            }
            PreferenceStore store(*db);
            int64_t added = 0;
            for (PairRow& pair : pairs) {
                pair.source = "import";
                const ImportedPair stored = store.findOrInsertImportedPair(pair);
                added += stored.created ? 1 : 0;
                // The file's chosen response is pair.a: the right answer is
                // whichever side of the stored pair holds it.
                gold.mark({stored.id, stored.swapped ? "b" : "a", author, nowMs()});
            }
            std::printf("%zu gold pairs from %s (%lld stored anew, %lld already stored).\n", pairs.size(), file.c_str(),
                        static_cast<long long>(added), static_cast<long long>(static_cast<int64_t>(pairs.size()) - added));
        }
        if (mark) {
            gold.mark({*mark, p.value("answer").toStdString(), author, nowMs()});
            std::printf("Pair %lld is gold, answer %s.\n", static_cast<long long>(*mark), qPrintable(p.value("answer")));
        }
        if (unmark) {
            std::printf(gold.unmark(*unmark) ? "Pair %lld is gold no more.\n" : "Pair %lld was not gold.\n",
                        static_cast<long long>(*unmark));
        }
        if (share) {
            gold.setShare(*share, author, nowMs());
            std::printf("Gold share %g: about %.0f in 100 pairs each annotator sees are gold while gold pairs remain.\n",
                        *share, 100.0 * *share);
        }
        tx.commit();
        if (acting) return 0;
        const std::vector<GoldPairRow> rows = gold.all();
        std::printf("%zu gold pairs, gold share %g%s\n", rows.size(), gold.share(),
                    rows.empty() ? " (`preflab gold --import FILE` or --mark ID --answer a|b|tie|both_bad adds them)" : "");
        for (const GoldPairRow& r : rows) {
            std::printf("  pair %-8lld answer %-8s set by %s\n", static_cast<long long>(r.pairId), r.answer.c_str(),
                        r.author.empty() ? "-" : terminalSafe(r.author).c_str());
        }
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "preflab gold: %s\n", e.what());
        return 1;
    }
}

}  // namespace preflab
