// preflab-compare: the comparison experiment of algorithms.md §5 on the
// built-in task. Each method trains the starter model across beta values and
// seeds; every point's gold (true) reward and KL (k3) are measured on fresh
// samples from the final policy. Writes compare.csv (one row per run),
// compare.md (mean and 95% interval over seeds) and compare.png (gold reward
// against KL) into the results folder. --quick takes a few minutes;
// --only NAME,NAME runs the contenders whose names start with one of them.
// PPO's reward model is trained on pairs the starter samples and the task
// labels (as `preflab train-rm --task-pairs`); its held-out accuracy is
// printed beside the PPO rows. The CPO family's rows also report the error
// of each value estimate against the true value of the policy it estimates
// (the gold reward of fresh samples, measured every 10 steps).
#include "core/judges/self_judge.h"
#include "core/judges/task_judge.h"
#include "core/loop/dataset_sampler.h"
#include "core/loop/online_loop.h"
#include "core/loop/reward_model.h"
#include "core/loop/starter_model.h"
#include "core/method/method_registry.h"
#include "core/runtime/library_environment.h"
#include "storage/data_paths.h"
#include "ui/qcustomplot_include.h"

#include <QApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QTextStream>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>

using namespace preflab;

namespace {

constexpr double kConfound = 1.0;

enum class Data { Generated, Pairs, Ratings };

struct Contender {
    std::string name;  // as shown
    Method method;
    std::string judge;
    Data data = Data::Generated;
    double lengthBias = 0;  // CPO family: the outcome model's confound (+ per sentence)
};

// The strength swept per method: beta for the pairwise methods, the KL
// coefficient for PPO; the CPO family has neither (its KL is set by lr and steps).
// SAIL-DP and SAIL-PP run at one beta in the full run to keep it under an hour.
std::vector<double> strengths(const Contender& m, bool quick) {
    if (m.method == Method::Ppo) return quick ? std::vector<double>{0.05} : std::vector<double>{0.05, 0.2};
    if (methodInfo(m.method).family == MethodFamily::Causal) return {0.0};
    if (quick || m.method == Method::SailDp || m.method == Method::SailPp) return {0.1};
    return {0.1, 0.3};
}

struct Point {
    std::string method;
    double beta = 0;
    int64_t seed = 0;
    double gold0 = 0, gold = 0, kl = 0, klExact = 0, seconds = 0;
    std::vector<double> valueErrors;  // CPO family: estimate minus true value, at each evaluated step
};

struct Finals : LoopObserver {
    std::map<std::string, std::vector<double>> series;
    void metricsLogged(const std::vector<MetricSample>& m) override {
        for (const MetricSample& s : m) series[s.name].push_back(s.value);
    }
};

double mean(const std::vector<double>& v) {
    double s = 0;
    for (double x : v) s += x;
    return v.empty() ? NAN : s / static_cast<double>(v.size());
}

// Half-width of a 95% interval of the mean (Student t for small n).
double halfWidth(const std::vector<double>& v) {
    if (v.size() < 2) return 0;
    const double m = mean(v);
    double ss = 0;
    for (double x : v) ss += (x - m) * (x - m);
    const double sd = std::sqrt(ss / static_cast<double>(v.size() - 1));
    static const double t[] = {0, 0, 12.71, 4.30, 3.18, 2.78, 2.57, 2.45, 2.36, 2.31, 2.26};
    const double q = v.size() < 11 ? t[v.size()] : 1.96;
    return q * sd / std::sqrt(static_cast<double>(v.size()));
}

}  // namespace

int main(int argc, char** argv) {
    applyLibraryEnvironment(argc, argv);
    if (!qEnvironmentVariableIsSet("DISPLAY")) qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    bool quick = false;
    QString out = QStringLiteral("compare-results");
    QStringList only;
    for (int i = 1; i < argc; ++i) {
        quick |= std::strcmp(argv[i], "--quick") == 0;
        if (std::strcmp(argv[i], "--out") == 0 && i + 1 < argc) out = argv[++i];
        if (std::strcmp(argv[i], "--only") == 0 && i + 1 < argc) only = QString(argv[++i]).split(',');
    }
    auto selected = [&](const std::string& name) {
        if (only.isEmpty()) return true;
        for (const QString& o : only) {
            if (QString::fromStdString(name).startsWith(o, Qt::CaseInsensitive)) return true;
        }
        return false;
    };
    QDir().mkpath(out);
    const int64_t steps = quick ? 30 : 60;
    const int64_t evalSamples = quick ? 256 : 512;
    const std::vector<int64_t> seeds = quick ? std::vector<int64_t>{1, 2} : std::vector<int64_t>{1, 2, 3};
    std::vector<Contender> contenders = {
        {"offline DPO", Method::Dpo, "task", Data::Pairs},
        {"SAIL-DP", Method::SailDp, "task", Data::Pairs},
        {"online DPO", Method::OnlineDpo, "task", Data::Generated},
        {"SAIL-PR", Method::SailPr, "task", Data::Pairs},  // policy pairs with probability g, else dataset pairs
        {"SAIL-PP", Method::SailPp, "self", Data::Pairs},  // policy pairs with probability p, else dataset pairs
        {"PPO", Method::Ppo, "task", Data::Generated},      // scored by a reward model trained on the offline dataset
        // Rating data from the reference, outcome = true reward; the outcome
        // model is confounded on purpose (+1 per sentence: it believes long
        // answers are better), and once unconfounded as a control.
        {"CPO", Method::Cpo, "task", Data::Ratings},
        {"DR-CPO (confounded g)", Method::DrCpo, "task", Data::Ratings, kConfound},
        {"OO-RLHF (confounded g)", Method::OoRlhf, "task", Data::Ratings, kConfound},
        {"DR-CPO (unconfounded g)", Method::DrCpo, "task", Data::Ratings, 0.0},
        {"OO-RLHF (unconfounded g)", Method::OoRlhf, "task", Data::Ratings, 0.0},
    };

    const std::string dataDir = defaultDataDir();
    const std::string starter = starterModelPath(dataDir);
    if (!std::filesystem::exists(starter)) {
        std::printf("pretraining the starter model (about 3 minutes)...\n");
        std::fflush(stdout);
        pretrainStarterModel({}, starter);
    }
    // The offline methods' data: sampled once from the reference, labeled by the true reward.
    DatasetSpec dataset;
    dataset.pairs = quick ? 128 : 512;
    const std::vector<OfflinePair> fixedPairs = sampleTaskDataset(starter, dataset).pairs;
    std::printf("offline dataset: %zu pairs sampled from the starter model, labeled by the true reward\n", fixedPairs.size());
    RatedDatasetSpec ratedSpec;
    ratedSpec.responses = quick ? 256 : 512;
    const std::vector<RatedResponse> ratedData = sampleRatedDataset(starter, ratedSpec);
    double meanOutcome = 0;
    for (const RatedResponse& r : ratedData) meanOutcome += r.outcome / static_cast<double>(ratedData.size());
    std::printf("rating dataset: %zu responses sampled from the starter model, outcome = true reward (mean %.3f)\n",
                ratedData.size(), meanOutcome);

    contenders.erase(std::remove_if(contenders.begin(), contenders.end(), [&](const Contender& m) { return !selected(m.name); }),
                     contenders.end());

    QTemporaryDir scratch;
    // PPO's learned reward model: Bradley-Terry on task pairs sampled from the
    // starter, with `preflab train-rm`'s defaults.
    RewardModelSpec rmSpec;
    rmSpec.basePath = starter;
    const std::string rewardModel = (scratch.path() + "/reward-model.pt").toStdString();
    RewardModelReport rm;
    const bool withPpo = std::any_of(contenders.begin(), contenders.end(), [](const Contender& m) { return m.method == Method::Ppo; });
    if (withPpo) {
        DatasetSpec rmPairs;
        rmPairs.pairs = 2000;
        rmPairs.seed = 7;  // not the offline methods' pairs
        const TaskDataset d = sampleTaskDataset(starter, rmPairs);
        rmSpec.pairs = d.pairs;
        rmSpec.goldGaps = d.goldGaps;
        rm = trainRewardModel(rmSpec, rewardModel);
        std::printf("reward model for PPO: held-out accuracy %.3f on %lld pairs (%.0f s)\n", rm.heldOutAccuracy,
                    static_cast<long long>(rm.heldOutPairs), rm.seconds);
        for (Contender& m : contenders) {
            if (m.method == Method::Ppo) {
                m.name += " (reward model: held-out accuracy " + QString::number(rm.heldOutAccuracy, 'f', 3).toStdString() +
                          " on " + std::to_string(rm.heldOutPairs) + " pairs)";
            }
        }
    }
    std::fflush(stdout);
    std::vector<Point> points;
    QElapsedTimer total;
    total.start();
    for (const Contender& m : contenders) {
        for (double beta : strengths(m, quick)) {
            for (int64_t seed : seeds) {
                QElapsedTimer t;
                t.start();
                LoopSetup setup;
                setup.modelPath = starter;
                setup.checkpointDir = (scratch.path() + "/ck").toStdString();
                RunConfig& c = setup.config;
                c.algorithm = methodName(m.method);
                c.judge = m.judge;
                if (m.method == Method::Ppo) c.ppoKlCoef = beta;
                else if (beta > 0) c.beta = beta;
                c.seed = seed;
                c.steps = steps;
                const bool causal = methodInfo(m.method).family == MethodFamily::Causal;
                // Every method at the default learning rate, 5e-5 (the CPO
                // authors' default too; docs/results.md for the sweep behind it).
                // At step 0 and at the end; the CPO family every 10 steps, to check its value estimates.
                c.evalEvery = causal ? 10 : steps;
                c.evalSamples = evalSamples;
                c.checkpointEvery = 0;
                if (m.data == Data::Pairs) {
                    setup.offlinePairs = fixedPairs;
                    c.pairs = "the bench's fixed dataset";  // names the source; the pairs are given directly
                }
                if (m.data == Data::Ratings) {
                    setup.ratedResponses = ratedData;
                    c.outcomeLengthBias = m.lengthBias;
                }
                if (m.method == Method::Ppo) {
                    c.rewardModel = rewardModel;
                    c.generationBatch = 16;
                    c.batchSize = 16;  // rollouts per PPO step
                }
                std::unique_ptr<Judge> judge;
                if (m.judge == "self") judge = std::make_unique<SelfJudge>(c.beta, static_cast<uint64_t>(seed) + 7);
                else judge = std::make_unique<TaskJudge>();
                Finals f;
                StepOutcome o = StepOutcome::Halted;
                try {
                    OnlineLoop loop(setup, std::move(judge), &f);
                    std::atomic_bool cancel{false};
                    while ((o = loop.step(cancel)) == StepOutcome::Trained) {
                    }
                    if (o == StepOutcome::Halted) std::printf("%s: %s\n", m.name.c_str(), loop.lastError().c_str());
                } catch (const std::exception& e) {
                    std::printf("%s could not run: %s\n", m.name.c_str(), e.what());
                    continue;
                }
                if (f.series["gold/reward"].empty()) continue;
                Point p;
                p.method = m.name;
                p.beta = beta;
                p.seed = seed;
                p.gold0 = f.series["gold/reward"].front();
                p.gold = f.series["gold/reward"].back();
                p.kl = f.series["kl/k3"].back();
                p.klExact = f.series["kl/exact"].back();
                p.seconds = t.elapsed() / 1000.0;
                if (causal) {
                    // cpo/value_estimate of step s + 1 estimates the policy after s
                    // steps, whose true value the evaluation at step s measured.
                    const auto& estimates = f.series["cpo/value_estimate"];
                    const auto& truth = f.series["gold/reward"];
                    for (size_t k = 0; k < truth.size(); ++k) {
                        const size_t s = k * static_cast<size_t>(c.evalEvery);
                        if (s < estimates.size()) p.valueErrors.push_back(estimates[s] - truth[k]);
                    }
                }
                points.push_back(p);
                std::printf("%-24s strength %.2f seed %lld: gold %+.3f -> %+.3f, KL(k3) %.3f (exact %.3f), %.0f s%s\n",
                            m.name.c_str(), beta, static_cast<long long>(seed), p.gold0, p.gold, p.kl, p.klExact, p.seconds,
                            o == StepOutcome::Finished ? "" : " (did not finish)");
                std::fflush(stdout);
            }
        }
    }

    // compare.csv: one row per run.
    QFile csv(out + "/compare.csv");
    if (!csv.open(QIODevice::WriteOnly | QIODevice::Truncate)) {
        std::fprintf(stderr, "cannot write %s\n", qPrintable(csv.fileName()));
        return 1;
    }
    QTextStream cs(&csv);
    cs << "method,beta,seed,steps,gold_start,gold,kl_k3,kl_exact,seconds,value_mean_abs_error,value_bias\n";
    for (const Point& p : points) {
        std::vector<double> absErr;
        for (double e : p.valueErrors) absErr.push_back(std::abs(e));
        cs << '"' << QString::fromStdString(p.method) << "\"," << p.beta << ',' << p.seed << ',' << steps << ',' << p.gold0 << ','
           << p.gold << ',' << p.kl << ',' << p.klExact << ',' << p.seconds << ','
           << (absErr.empty() ? QString() : QString::number(mean(absErr))) << ','
           << (p.valueErrors.empty() ? QString() : QString::number(mean(p.valueErrors))) << '\n';
    }
    csv.close();

    // compare.md: mean and 95% interval over seeds.
    QFile md(out + "/compare.md");
    if (!md.open(QIODevice::WriteOnly | QIODevice::Truncate)) return 1;
    QTextStream ms(&md);
    ms << "Built-in task, starter model, " << steps << " steps, batch 8, " << seeds.size() << " seeds, gold and KL (k3) on "
       << evalSamples << " fresh samples of the final policy; mean ± 95% interval over seeds.\n\n";
    ms << "| method | beta (PPO: KL coef.) | gold reward | KL (k3, nats) | gold gain per nat of KL | value estimate: mean abs. error (bias) |\n|---|---|---|---|---|---|\n";
    QCustomPlot plot;
    plot.resize(900, 560);
    plot.xAxis->setLabel(QStringLiteral("KL(policy || reference), k3, nats per response"));
    plot.yAxis->setLabel(QStringLiteral("gold (true) reward per response"));
    plot.legend->setVisible(true);
    plot.plotLayout()->insertRow(0);
    plot.plotLayout()->addElement(0, 0, new QCPTextElement(&plot, QStringLiteral("Gold reward against KL (mean ± 95% interval over seeds)"),
                                                            QFont(QString(), 11, QFont::Bold)));
    const QColor colors[] = {QColor(31, 119, 180), QColor(255, 127, 14), QColor(44, 160, 44),  QColor(214, 39, 40),
                             QColor(148, 103, 189), QColor(140, 86, 75),  QColor(227, 119, 194), QColor(127, 127, 127),
                             QColor(188, 189, 34),  QColor(23, 190, 207), QColor(0, 0, 0)};
    int colorIndex = 0;
    double gold0 = 0;
    for (const Contender& m : contenders) {
        QCPGraph* g = plot.addGraph();
        g->setName(QString::fromStdString(m.name));
        g->setLineStyle(QCPGraph::lsNone);
        const QColor col = colors[colorIndex++ % 11];
        const bool causal = methodInfo(m.method).family == MethodFamily::Causal;
        g->setScatterStyle(QCPScatterStyle(causal ? QCPScatterStyle::ssDiamond : QCPScatterStyle::ssDisc, col, col, causal ? 11 : 9));
        auto* xe = new QCPErrorBars(plot.xAxis, plot.yAxis);
        auto* ye = new QCPErrorBars(plot.xAxis, plot.yAxis);
        xe->setDataPlottable(g);
        ye->setDataPlottable(g);
        xe->setErrorType(QCPErrorBars::etKeyError);
        xe->setPen(QPen(col));
        ye->setPen(QPen(col));
        xe->removeFromLegend();
        ye->removeFromLegend();
        QVector<double> xs, ys, xerr, yerr;
        for (double beta : strengths(m, quick)) {
            std::vector<double> gold, kl, g0, absErr, err;
            for (const Point& p : points) {
                if (p.method != m.name || p.beta != beta) continue;
                gold.push_back(p.gold);
                kl.push_back(p.kl);
                g0.push_back(p.gold0);
                for (double e : p.valueErrors) {
                    absErr.push_back(std::abs(e));
                    err.push_back(e);
                }
            }
            gold0 = mean(g0);
            const double gain = (mean(gold) - gold0) / std::max(1e-9, mean(kl));
            ms << "| " << QString::fromStdString(m.name) << " | " << (beta > 0 ? QString::number(beta) : QStringLiteral("-")) << " | " << QString::number(mean(gold), 'f', 3)
               << " ± " << QString::number(halfWidth(gold), 'f', 3) << " | " << QString::number(mean(kl), 'f', 3) << " ± "
               << QString::number(halfWidth(kl), 'f', 3) << " | " << QString::number(gain, 'f', 3) << " | "
               << (absErr.empty() ? QStringLiteral("-")
                                  : QString::number(mean(absErr), 'f', 3) + " ± " + QString::number(halfWidth(absErr), 'f', 3) +
                                        " (" + QString::number(mean(err), 'f', 3) + ")")
               << " |\n";
            xs << mean(kl);
            ys << mean(gold);
            xerr << halfWidth(kl);
            yerr << halfWidth(gold);
        }
        g->setData(xs, ys);
        xe->setData(xerr);
        ye->setData(yerr);
    }
    ms << "\nGold reward of the starter model (the reference) on the same prompts: " << QString::number(gold0, 'f', 3) << ".";
    if (withPpo) {
        ms << " PPO's reward model (2000 task pairs sampled from the starter) reached held-out accuracy "
           << QString::number(rm.heldOutAccuracy, 'f', 3) << " on " << rm.heldOutPairs << " pairs.";
    }
    ms << " The value-estimate error is V-hat minus the gold reward of " << evalSamples << " fresh samples"
       << " of the same policy, at steps 0, 10, 20, ..., pooled over seeds and steps (the estimate uses a batch of 8). SAIL-PR and SAIL-PP mix dataset pairs in (1 - g, 1 - p = 0.7 of each batch). "
       << "The CPO family trains on " << ratedData.size() << " responses rated by the true reward (mean "
       << QString::number(meanOutcome, 'f', 3) << "); a confounded outcome model g is fitted to targets with +" << kConfound
       << " per sentence; the CPO family trains at lr 5e-5 (the authors' default), the others at 2e-4.\n";
    md.close();
    plot.rescaleAxes();
    plot.xAxis->scaleRange(1.15, plot.xAxis->range().center());
    plot.yAxis->scaleRange(1.2, plot.yAxis->range().center());
    const bool png = plot.savePng(out + "/compare.png", 900, 560, 1.0);
    std::printf("wrote %s/compare.csv, compare.md%s in %.0f s\n", qPrintable(out), png ? ", compare.png" : "",
                total.elapsed() / 1000.0);
    return 0;
}
