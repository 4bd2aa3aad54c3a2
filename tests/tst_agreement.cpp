// Agreement coefficients against published and hand-worked answers.
#include "core/values/agreement.h"
#include "storage/database.h"
#include "storage/pair_files.h"
#include "storage/preference_store.h"
#include "support/test_main.h"

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QJsonArray>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>

#include "support/test_database.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>

using namespace preflab;

namespace {

// Rows: coders; columns: units 1..n; "." is a missing value.
std::vector<CodedValue> table(const std::vector<std::pair<std::string, std::vector<std::string>>>& rows) {
    std::vector<CodedValue> out;
    for (const auto& [coder, values] : rows) {
        for (size_t u = 0; u < values.size(); ++u) {
            if (values[u] != ".") out.push_back({static_cast<int64_t>(u + 1), coder, values[u]});
        }
    }
    return out;
}

// `preflab agreement --json` on a database.
QJsonObject agreementJson(const std::string& db) {
    QProcess p;
    p.start(QStringLiteral(PREFLAB_CLI), {"agreement", "--db", QString::fromStdString(db), "--json"});
    if (!p.waitForFinished(60000) || p.exitCode() != 0) return {};
    return QJsonDocument::fromJson(p.readAllStandardOutput().trimmed().split('\n').last()).object();
}

}  // namespace

class TestAgreement : public QObject {
    Q_OBJECT
private Q_SLOTS:
    // Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability",
    // section C: four observers, twelve units, missing values; nominal
    // alpha = 0.743.
    void krippendorffsPublishedExample() {
        const auto values = table({{"A", {"1", "2", "3", "3", "2", "1", "4", "1", "2", ".", ".", "."}},
                                   {"B", {"1", "2", "3", "3", "2", "2", "4", "1", "2", "5", ".", "3"}},
                                   {"C", {".", "3", "3", "3", "2", "3", "4", "2", "2", "5", "1", "."}},
                                   {"D", {"1", "2", "3", "3", "2", "4", "4", "1", "2", "5", "1", "."}}});
        const AlphaResult r = krippendorffAlphaNominal(values);
        QCOMPARE(r.units, int64_t(11));  // unit 12 has one value: not pairable
        QCOMPARE(r.values, int64_t(40));
        QVERIFY2(std::abs(r.alpha - 0.743) < 5e-4, qPrintable(QString::number(r.alpha, 'g', 10)));
    }

    // By hand: units (a,a), (a,b), (b,b), (b,b). Coincidences o_aa = 2,
    // o_ab = o_ba = 1, o_bb = 4; n_a = 3, n_b = 5, n = 8;
    // alpha = 1 - (n-1) * 2 / (2 * 3 * 5) = 1 - 14/30.
    void alphaByHand() {
        const auto values = table({{"x", {"a", "a", "b", "b"}}, {"y", {"a", "b", "b", "b"}}});
        const AlphaResult r = krippendorffAlphaNominal(values);
        QVERIFY(std::abs(r.alpha - (1.0 - 14.0 / 30.0)) < 1e-12);
        // Perfect agreement is 1; a single category leaves alpha undefined.
        QCOMPARE(krippendorffAlphaNominal(table({{"x", {"a", "b"}}, {"y", {"a", "b"}}})).alpha, 1.0);
        QVERIFY(std::isnan(krippendorffAlphaNominal(table({{"x", {"a", "a"}}, {"y", {"a", "a"}}})).alpha));
        QVERIFY(std::isnan(krippendorffAlphaNominal(table({{"x", {"a", "."}}, {"y", {".", "b"}}})).alpha));
    }

    // By hand: ten units, 7 agreements (p_o = 0.7); marginals A (a 5, b 3,
    // tie 2), B (a 5, b 4, tie 1): p_e = .5*.5 + .3*.4 + .2*.1 = 0.39;
    // kappa = (0.7 - 0.39) / 0.61.
    void kappaByHand() {
        const auto values = table({{"A", {"a", "a", "a", "a", "b", "b", "b", "tie", "tie", "a", "b"}},
                                   {"B", {"a", "a", "a", "b", "b", "b", "a", "tie", "b", "a", "."}}});
        const KappaResult k = cohenKappa(values, "A", "B");
        QCOMPARE(k.units, int64_t(10));  // unit 11: only A
        QVERIFY(std::abs(k.observedAgreement - 0.7) < 1e-12);
        QVERIFY(std::abs(k.chanceAgreement - 0.39) < 1e-12);
        QVERIFY(std::abs(k.kappa - 0.31 / 0.61) < 1e-12);
        const auto all = pairwiseKappa(values);
        QCOMPARE(all.size(), size_t(1));
        QVERIFY(std::abs(all.at("A|B").kappa - k.kappa) < 1e-15);
        QVERIFY(std::isnan(cohenKappa(values, "A", "nobody").kappa));
    }

    // A label file from three annotators, imported: rows of one pair merge
    // into one pair with each annotator's label, a skip is a missing value,
    // and `preflab agreement --json` gives the hand-worked figures of
    // alphaByHand (x and y) with kappa(x, y) = (3/4 - 1/2) / (1 - 1/2).
    void labelFilesMergeAndAgreementIsReported() {
        QTemporaryDir dir;
        const QString path = dir.path() + "/labels.jsonl";
        {
            QFile f(path);
            QVERIFY(f.open(QIODevice::WriteOnly));
            const char* x[] = {"a", "a", "b", "b"};
            const char* y[] = {"a", "b", "b", "b"};
            for (int unit = 0; unit < 4; ++unit) {
                for (const auto& [who, label] : {std::pair<const char*, const char*>{"x", x[unit]}, {"y", y[unit]}}) {
                    f.write(QStringLiteral("{\"prompt\": \"Where does fox %1 live?\", \"response_a\": \"In the forest.\", "
                                           "\"response_b\": \"Nowhere.\", \"annotator\": \"%2\", \"label\": \"%3\"}\n")
                                .arg(unit).arg(who, label).toUtf8());
                }
            }
            f.write("{\"prompt\": \"Where does fox 0 live?\", \"response_a\": \"In the forest.\", \"response_b\": "
                    "\"Nowhere.\", \"annotator\": \"z\", \"label\": \"skip\"}\n");
            f.write("{\"prompt\": \"p\", \"response_a\": \"r\", \"response_b\": \"s\", \"annotator\": \"z\", \"label\": \"maybe\"}\n");
        }
        const std::string db = test::testDatabase(dir, "team");
        {
            auto d = Database::open(db);
            const ImportReport r = importPairsJsonl(*d, path.toStdString(), true);
            QCOMPARE(r.pairsStored, int64_t(4));
            QCOMPARE(r.labelsStored, int64_t(9));
            QCOMPARE(r.errors.size(), size_t(1));
            QVERIFY2(r.errors[0].message.find("expected a, b, tie, both_bad or skip") != std::string::npos,
                     r.errors[0].message.c_str());
            QCOMPARE(PreferenceStore(*d).countPairs(), int64_t(4));
        }
        QProcess p;
        p.start(QStringLiteral(PREFLAB_CLI), {"agreement", "--db", QString::fromStdString(db), "--json"});
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitCode(), 0);
        const QByteArray out = p.readAllStandardOutput().trimmed();
        const QJsonObject o = QJsonDocument::fromJson(out.split('\n').last()).object();
        QVERIFY2(std::abs(o["krippendorff_alpha"].toDouble() - (1.0 - 14.0 / 30.0)) < 1e-12, out.constData());
        QCOMPARE(o["units"].toInt(), 4);
        QCOMPARE(o["labels"].toInt(), 9);
        QVERIFY2(std::abs(o["cohen_kappa"].toObject()["x|y"].toDouble() - 0.5) < 1e-12, out.constData());
        // z only skipped (a missing value): no coefficient involves z, but z's label is counted.
        QVERIFY(!o["cohen_kappa"].toObject().contains("x|z"));
        QCOMPARE(o["annotators"].toObject().value("z").toInt(), 1);
    }

    // Per annotator, how they labelled: x's four timed labels (1, 3, 4 and
    // 8 s, 16 s in all) give 900 labels per hour, a median of 3.5 s and one
    // of four under 2 s; of x's three A/B labels with the side shown first
    // known, two picked it. y's label has neither: nulls, not zeros.
    void qualitySignalsPerAnnotator() {
        QTemporaryDir dir;
        const QString path = dir.path() + "/labels.jsonl";
        {
            QFile f(path);
            QVERIFY(f.open(QIODevice::WriteOnly));
            const char* rows[][4] = {
                {"a", "1", "a", "x"}, {"b", "3", "a", "x"}, {"b", "4", "b", "x"}, {"tie", "8", "a", "x"}};
            int unit = 0;
            for (const auto& r : rows) {
                f.write(
                    QStringLiteral(
                        "{\"prompt\": \"p%1\", \"response_a\": \"r\", \"response_b\": \"s\", \"annotator\": \"%2\", "
                        "\"label\": \"%3\", \"seconds\": %4, \"shown_first\": \"%5\"}\n")
                        .arg(unit++)
                        .arg(r[3], r[0], r[1], r[2])
                        .toUtf8());
            }
            f.write(
                "{\"prompt\": \"p0\", \"response_a\": \"r\", \"response_b\": \"s\", \"annotator\": \"y\", \"label\": "
                "\"b\"}\n");
        }
        const std::string db = test::testDatabase(dir, "quality");
        {
            auto d = Database::open(db);
            QVERIFY(importPairsJsonl(*d, path.toStdString()).stored);
        }
        const QJsonObject o = agreementJson(db);
        QCOMPARE(o["fast_label_seconds"].toDouble(), 2.0);
        const QJsonObject x = o["annotator_quality"].toObject()["x"].toObject();
        QCOMPARE(x["timed_labels"].toInt(), 4);
        QCOMPARE(x["labels_per_hour"].toDouble(), 900.0);
        QCOMPARE(x["median_seconds"].toDouble(), 3.5);
        QCOMPARE(x["fast_share"].toDouble(), 0.25);
        QCOMPARE(x["first_shown_labels"].toInt(), 3);
        QCOMPARE(x["first_shown_share"].toDouble(), 2.0 / 3.0);
        const QJsonObject y = o["annotator_quality"].toObject()["y"].toObject();
        QCOMPARE(y["timed_labels"].toInt(), 0);
        QVERIFY(y["median_seconds"].isNull() && y["first_shown_share"].isNull());
    }

    // The labels of `preflab annotate` carry their seconds and side: w picks
    // A (printed first) every time, v picks B; `--json` gives each a median
    // and first_shown_share 1 and 0. Exported and imported into a fresh
    // database, the labels give the same figures.
    void annotateLabelsGiveQualitySignals() {
        QTemporaryDir dir;
        const QString path = dir.path() + "/pairs.jsonl";
        {
            QFile f(path);
            QVERIFY(f.open(QIODevice::WriteOnly));
            for (int i = 1; i <= 4; ++i) {
                f.write(QStringLiteral("{\"prompt\": \"P%1\", \"chosen\": \"good %1\", \"rejected\": \"bad %1\"}\n")
                            .arg(i)
                            .toUtf8());
            }
        }
        const std::string db = test::testDatabase(dir, "annotated");
        {
            auto d = Database::open(db);
            QVERIFY(importPairsJsonl(*d, path.toStdString()).stored);
        }
        for (const auto& [who, answers] :
             {std::pair<QString, QByteArray>{"w", "a\na\na\nt\n"}, {"v", "b\nb\nb\nb\n"}}) {
            QProcess p;
            p.start(QStringLiteral(PREFLAB_CLI),
                    {"annotate", "--db", QString::fromStdString(db), "--annotator", who, "--overlap", "2"});
            QVERIFY(p.waitForStarted());
            p.write(answers);
            p.closeWriteChannel();
            QVERIFY(p.waitForFinished(60000));
            QCOMPARE(p.exitCode(), 0);
        }
        const QJsonObject o = agreementJson(db);
        const QJsonObject q = o["annotator_quality"].toObject();
        QCOMPARE(q["w"].toObject()["timed_labels"].toInt(), 4);
        QCOMPARE(q["w"].toObject()["first_shown_labels"].toInt(), 3);  // the tie is neither side
        QCOMPARE(q["w"].toObject()["first_shown_share"].toDouble(), 1.0);
        QCOMPARE(q["v"].toObject()["first_shown_share"].toDouble(), 0.0);
        for (const QString who : {"w", "v"}) {
            const QJsonValue median = q[who].toObject()["median_seconds"];
            QVERIFY2(median.isDouble() && median.toDouble() >= 0 && median.toDouble() < 60, qPrintable(who));
        }
        const std::string file = (dir.path() + "/labels.jsonl").toStdString();
        {
            auto d = Database::open(db);
            QCOMPARE(exportLabelsJsonl(*d, file), int64_t(8));
        }
        const std::string fresh = test::testDatabase(dir, "fresh");
        {
            auto d = Database::open(fresh);
            QVERIFY(importPairsJsonl(*d, file).stored);
        }
        QCOMPARE(agreementJson(fresh)["annotator_quality"].toObject(), q);
    }

    // Each annotator against the judges: the task judge's verdict from the
    // stored true rewards (a, a, b, and equal rewards: tie) against x's
    // labels a, b, b, tie: agreement 3/4, chance (1/4)(2/4) + (2/4)(1/4) +
    // (1/4)(1/4) = 5/16, kappa (12/16 - 5/16) / (11/16) = 7/11. The policy's
    // own (self) label b on one pair x called a: p_o = 0, p_e = 0, kappa 0.
    // Finding 2: the labels a team delivers as one file per annotator give,
    // once imported one after another, the same pairs and the same
    // `preflab agreement --json` as one combined file; importing a file again
    // changes neither.
    void perAnnotatorFilesGiveTheCombinedAgreement() {
        QTemporaryDir dir;
        // Three annotators, 12 pairs; each pair seen by two or three, their
        // labels drawn from a fixed stream.
        std::mt19937 rng(7);
        const char* choices[] = {"a", "b", "tie", "both_bad", "skip"};
        std::map<std::string, QByteArray> perAnnotator;
        QByteArray combined;
        for (int unit = 0; unit < 12; ++unit) {
            for (const char* who : {"ann", "bob", "cy"}) {
                if (unit % 3 == 0 && std::string(who) == "cy") continue;
                const unsigned spread = rng() % 4 == 0 ? 5 : 2;  // mostly a or b
                const char* label = choices[rng() % spread];
                const QByteArray row = QStringLiteral("{\"prompt\": \"Question %1?\", \"response_a\": \"Answer A%1\", "
                                                      "\"response_b\": \"Answer B%1\", \"annotator\": \"%2\", \"label\": \"%3\"}\n")
                                           .arg(unit).arg(QString::fromUtf8(who), QString::fromUtf8(label)).toUtf8();
                perAnnotator[who] += row;
                combined += row;
            }
        }
        auto writeFile = [&](const QString& name, const QByteArray& bytes) {
            QFile f(dir.path() + "/" + name);
            f.open(QIODevice::WriteOnly);
            f.write(bytes);
            return f.fileName().toStdString();
        };
        const std::string split = test::testDatabase(dir, "split"), one = test::testDatabase(dir, "one");
        {
            auto d = Database::open(split);
            for (const auto& [who, rows] : perAnnotator) {
                QVERIFY(importPairsJsonl(*d, writeFile(QString::fromStdString(who) + ".jsonl", rows)).stored);
            }
            QCOMPARE(PreferenceStore(*d).countPairs(), int64_t(12));
        }
        {
            auto d = Database::open(one);
            QVERIFY(importPairsJsonl(*d, writeFile("all.jsonl", combined)).stored);
        }
        const QJsonObject fromOne = agreementJson(one);
        QVERIFY2(!fromOne.isEmpty() && fromOne["krippendorff_alpha"].isDouble(), QJsonDocument(fromOne).toJson().constData());
        QVERIFY(fromOne["units"].toInt() >= 6);
        QCOMPARE(agreementJson(split), fromOne);
        {
            auto d = Database::open(split);
            QVERIFY(importPairsJsonl(*d, (dir.path() + "/ann.jsonl").toStdString()).stored);
            QVERIFY(importPairsJsonl(*d, (dir.path() + "/all.jsonl").toStdString()).stored);
            QCOMPARE(PreferenceStore(*d).countPairs(), int64_t(12));
        }
        QCOMPARE(agreementJson(split), fromOne);
    }

    void annotatorsAgainstJudges() {
        QTemporaryDir dir;
        const std::string db = test::testDatabase(dir, "run");
        {
            auto d = Database::open(db);
            PreferenceStore store(*d);
            const double gold[][2] = {{1.0, 0.0}, {0.5, -1.0}, {-2.0, 0.5}, {0.25, 0.25}};
            const char* x[] = {"a", "b", "b", "tie"};
            for (int i = 0; i < 4; ++i) {
                PairRow pair;
                pair.prompt = "P" + std::to_string(i);
                pair.a.text = "A";
                pair.b.text = "B";
                pair.a.goldReward = gold[i][0];
                pair.b.goldReward = gold[i][1];
                const int64_t id = store.insertPair(pair);
                store.insertLabel({id, std::nullopt, std::nullopt, x[i], "human", "x", 1});
                if (i == 0) store.insertLabel({id, std::nullopt, std::nullopt, "b", "self", "", 2});
            }
            // An unlabelled pair with rewards is no unit.
            PairRow lone;
            lone.prompt = "lone";
            lone.a.text = "A";
            lone.b.text = "B";
            lone.a.goldReward = 1.0;
            lone.b.goldReward = 0.0;
            store.insertPair(lone);
        }
        const QJsonObject o = agreementJson(db);
        const QJsonObject task = o["judges"].toObject()["task"].toObject()["x"].toObject();
        QVERIFY2(std::abs(task["kappa"].toDouble() - 7.0 / 11.0) < 1e-12, QJsonDocument(o).toJson().constData());
        QCOMPARE(task["agreement"].toDouble(), 0.75);
        QCOMPARE(task["units"].toInt(), 4);
        const QJsonObject self = o["judges"].toObject()["self"].toObject()["x"].toObject();
        QCOMPARE(self["units"].toInt(), 1);
        QCOMPARE(self["kappa"].toDouble(), 0.0);
        QCOMPARE(self["agreement"].toDouble(), 0.0);
    }

    // Adjudication: the pairs whose annotators' labels differ (skips aside)
    // are listed; a reviewer's final label becomes the pair's latest label,
    // which training reads, while agreement still counts only the annotators.
    void disagreementsAreListedAndAdjudicated() {
        QTemporaryDir dir;
        const QString path = dir.path() + "/labels.jsonl";
        {
            QFile f(path);
            QVERIFY(f.open(QIODevice::WriteOnly));
            // P0: x a, y a (agree); P1: x a, y b (disagree); P2: x b, y skip (one real label); P3: x tie, y b, z b.
            const char* rows[][3] = {{"0", "x", "a"}, {"0", "y", "a"}, {"1", "x", "a"}, {"1", "y", "b"}, {"2", "x", "b"},
                                     {"2", "y", "skip"}, {"3", "x", "tie"}, {"3", "y", "b"}, {"3", "z", "b"}};
            for (const auto& r : rows) {
                f.write(QStringLiteral("{\"prompt\": \"P%1\", \"response_a\": \"A\", \"response_b\": \"B\", "
                                       "\"annotator\": \"%2\", \"label\": \"%3\"}\n").arg(r[0], r[1], r[2]).toUtf8());
            }
        }
        const std::string db = test::testDatabase(dir, "team");
        const QJsonObject before = [&] {
            auto d = Database::open(db);
            [&] { QVERIFY(importPairsJsonl(*d, path.toStdString()).stored); }();
            return agreementJson(db);
        }();
        {
            auto d = Database::open(db);
            std::vector<Disagreement> listed;
            PreferenceStore(*d).forEachDisagreement(std::nullopt, [&](const Disagreement& x) { listed.push_back(x); });
            QCOMPARE(listed.size(), size_t(2));
            QCOMPARE(listed[0].prompt, std::string("P1"));
            QCOMPARE(listed[0].labels.size(), size_t(2));
            QCOMPARE(listed[0].labels[1], (std::pair<std::string, std::string>{"y", "b"}));
            QCOMPARE(listed[1].prompt, std::string("P3"));
            QCOMPARE(listed[1].labels.size(), size_t(3));
            QVERIFY(listed[0].finalChoice.empty());
        }
        // x, one of the annotators, reviews: P1 is settled for B through the command line.
        QProcess p;
        p.start(QStringLiteral(PREFLAB_CLI), {"adjudicate", "--db", QString::fromStdString(db), "--pair", "2", "--label", "b",
                                              "--reviewer", "x"});
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitCode(), 0);
        p.start(QStringLiteral(PREFLAB_CLI), {"adjudicate", "--db", QString::fromStdString(db), "--json"});
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitCode(), 0);
        const QList<QByteArray> lines = p.readAllStandardOutput().trimmed().split('\n');
        QCOMPARE(lines.size(), 2);
        const QJsonObject settled = QJsonDocument::fromJson(lines[0]).object();
        QCOMPARE(settled["pair"].toInt(), 2);
        QCOMPARE(settled["final"].toString(), QString("b"));
        QCOMPARE(settled["reviewer"].toString(), QString("x"));
        QCOMPARE(settled["labels"].toObject()["x"].toString(), QString("a"));  // x's own label still counts
        QVERIFY(QJsonDocument::fromJson(lines[1]).object()["final"].isNull());
        // Training reads the final label; agreement is unchanged by it.
        {
            auto d = Database::open(db);
            std::vector<LabeledPair> prefs;
            PreferenceStore(*d).forEachPreference(std::nullopt, [&](const LabeledPair& x) { prefs.push_back(x); });
            const auto p1 = std::find_if(prefs.begin(), prefs.end(), [](const LabeledPair& x) { return x.prompt == "P1"; });
            QVERIFY(p1 != prefs.end());
            QCOMPARE(p1->choice, std::string("b"));
            QCOMPARE(p1->source, std::string("adjudicated"));
        }
        const QJsonObject after = agreementJson(db);
        QCOMPARE(after["labels"].toInt(), 9);
        QCOMPARE(after["krippendorff_alpha"].toDouble(), before["krippendorff_alpha"].toDouble());
        // A pair that does not exist, and a label that is not final, are refused.
        p.start(QStringLiteral(PREFLAB_CLI), {"adjudicate", "--db", QString::fromStdString(db), "--pair", "99", "--label", "a"});
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitCode(), 1);
        QVERIFY(p.readAllStandardError().contains("no pair 99"));
        p.start(QStringLiteral(PREFLAB_CLI), {"adjudicate", "--db", QString::fromStdString(db), "--pair", "2", "--label", "skip"});
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitCode(), 2);
    }

    // Against an independent implementation: the npm package krippendorff
    // (0.1.0, pinned by packaging/setup-test-references.sh) for alpha, and
    // Cohen's kappa written out in JavaScript from its definition, on a
    // seeded random label file (5 annotators, 80 pairs, missing labels and
    // skips, labels correlated through a shared "true" label).
    void equalsAnIndependentImplementation() {
        const QString dir = qEnvironmentVariable("PREFLAB_NPM_REFERENCE_DIR", QStringLiteral(PREFLAB_NPM_REFERENCE_DIR));
        const QString package = dir + "/node_modules/krippendorff";
        const QString node = QStandardPaths::findExecutable("node");
        if (node.isEmpty() || !QFile::exists(package + "/package.json")) {
            const QByteArray why = "the npm package krippendorff or node is missing (run packaging/setup-test-references.sh)";
            if (qEnvironmentVariableIsSet("CI")) QFAIL(why.constData());
            QSKIP(why.constData());
        }
        QTemporaryDir tmp;
        const QString path = tmp.path() + "/labels.jsonl";
        const char* labels[] = {"a", "b", "tie", "both_bad", "skip"};
        std::mt19937 rng(20261128);
        QJsonArray matrix;  // rows: annotators, columns: pairs (null: no label)
        {
            QFile f(path);
            QVERIFY(f.open(QIODevice::WriteOnly));
            std::vector<QJsonArray> rows(5);
            for (int unit = 0; unit < 80; ++unit) {
                const int truth = static_cast<int>(rng() % 4);
                for (int coder = 0; coder < 5; ++coder) {
                    QJsonValue cell;  // null
                    if (rng() % 10 < 8) {
                        const int label = rng() % 10 < 6 ? truth : static_cast<int>(rng() % 5);
                        f.write(QStringLiteral("{\"prompt\": \"Question %1?\", \"response_a\": \"A%1\", \"response_b\": "
                                               "\"B%1\", \"annotator\": \"ann%2\", \"label\": \"%3\"}\n")
                                    .arg(unit).arg(coder).arg(labels[label]).toUtf8());
                        if (label != 4) cell = QString::fromLatin1(labels[label]);
                    }
                    rows[static_cast<size_t>(coder)].append(cell);
                }
            }
            for (const QJsonArray& r : rows) matrix.append(r);
        }
        const std::string db = test::testDatabase(tmp, "team");
        {
            auto d = Database::open(db);
            QVERIFY(importPairsJsonl(*d, path.toStdString()).stored);
        }
        const QJsonObject ours = agreementJson(db);
        QVERIFY(ours.contains("krippendorff_alpha"));

        const QString script = QStringLiteral(R"(
const { alpha } = require(process.argv[1]);
const m = JSON.parse(process.argv[2]).map(r => r.map(v => v === null ? undefined : v));
const kappa = {};
for (let i = 0; i < m.length; ++i) for (let j = i + 1; j < m.length; ++j) {
  let n = 0, agree = 0; const a = {}, b = {};
  for (let u = 0; u < m[i].length; ++u) {
    const x = m[i][u], y = m[j][u];
    if (x === undefined || y === undefined) continue;
    ++n; if (x === y) ++agree; a[x] = (a[x] || 0) + 1; b[y] = (b[y] || 0) + 1;
  }
  let pe = 0; for (const c in a) pe += (a[c] / n) * ((b[c] || 0) / n);
  kappa['ann' + i + '|ann' + j] = (agree / n - pe) / (1 - pe);
}
console.log(JSON.stringify({ alpha: alpha(m), kappa }));
)");
        QProcess js;
        js.start(node, {"-e", script, package, QString::fromUtf8(QJsonDocument(matrix).toJson(QJsonDocument::Compact))});
        QVERIFY(js.waitForFinished(60000));
        QVERIFY2(js.exitCode() == 0, js.readAllStandardError().constData());
        const QJsonObject ref = QJsonDocument::fromJson(js.readAllStandardOutput().trimmed()).object();
        const double a = ours["krippendorff_alpha"].toDouble(), b = ref["alpha"].toDouble();
        QVERIFY2(std::abs(a - b) < 1e-6, qPrintable(QString("alpha %1 here, %2 by the npm package").arg(a, 0, 'g', 12).arg(b, 0, 'g', 12)));
        QVERIFY2(a > 0.2 && a < 0.8, qPrintable(QString::number(a)));  // neither chance nor perfect: the case tests something
        const QJsonObject kappas = ours["cohen_kappa"].toObject(), refKappas = ref["kappa"].toObject();
        QCOMPARE(kappas.size(), 10);
        for (const QString& key : refKappas.keys()) {
            const double k = kappas.value(key).toDouble(), r = refKappas.value(key).toDouble();
            QVERIFY2(std::abs(k - r) < 1e-6, qPrintable(QString("%1: %2 here, %3 by the reference").arg(key).arg(k).arg(r)));
        }
    }
};

PREFLAB_TEST_MAIN(TestAgreement)
#include "tst_agreement.moc"
