// preflab-compare: the comparison experiment of algorithms.md §5 and §5c on
// the built-in task, at matched KL. Each method trains the starter model over
// its KL knob (beta for the DPO family, PPO's KL coefficient, the learning
// rate for the CPO family, which has no other) and seeds, all at the one
// default learning rate and warm-up otherwise; gold (true) reward and exact KL
// are measured on fresh samples at regular evaluations. A method's frontier at
// KL = k is the best gold any of its settings reached when it crossed k
// (core/compare/kl_frontier.h). Writes compare.csv (one row per evaluation),
// compare.md (gold at matched KL, mean and 95 % interval over seeds),
// compare.png (the frontiers) and orderings.json (the literature's claims,
// each judged at matched KL: core/compare/preference_claims.h) into --out.
// --quick takes about ten minutes on two cores (3 seeds); the full run has 5
// seeds (--seeds N); --only NAME,NAME runs the contenders named (or whose
// names start with a NAME that names none whole), --except NAME,NAME all but
// those. Every run's rows are
// appended to compare.csv as it ends, so --resume continues an interrupted
// comparison in the same --out folder (the full one takes hours): the runs
// already there are kept, and the reward model is the one saved there.
// --report trains nothing: it writes compare.md, compare.png and
// orderings.json from the runs already in --out (for example after merging
// the compare.csv of two processes that ran disjoint contenders), with every
// contender that has runs there.
// The reward model (PPO's reward in "PPO (reward model)", the judge of
// "online DPO (reward-model judge)") is trained on pairs the starter samples
// and the task labels (as `preflab train-rm --task-pairs`); its last step's
// accuracy on 1000 held-out pairs is printed and gates the claim that
// assumes a good one. The CPO family's rows also report the error
// of each value estimate against the true value of the policy it estimates
// (the gold reward of fresh samples, measured every 10 steps).
#include "core/compare/comparison_files.h"
#include "core/values/metric_names.h"
#include "core/compare/kl_frontier.h"
#include "core/compare/preference_claims.h"
#include "core/judges/self_judge.h"
#include "core/values/judge_registry.h"
#include "core/judges/task_judge.h"
#include "core/task/dataset_sampler.h"
#include "core/loop/online_loop.h"
#include "core/judges/reward_model.h"
#include "core/task/starter_model.h"
#include "core/task/reward_base_model.h"
#include "core/values/method_registry.h"
#include "core/runtime/library_environment.h"
#include "storage/data_paths.h"
#include "ui/qcustomplot_include.h"

#include <clocale>
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
    std::string name;  // as shown; the claims refer to these names (preference_claims.h)
    Method method;
    JudgeKind judge;
    Data data = Data::Generated;
    double lengthBias = 0;  // CPO family: the outcome model's confound (+ per sentence)
    double flipRate = 0;    // the task judge's label-flip probability
    bool rewardModel = false;  // scored (PPO) or labelled (online DPO) by the trained reward model
    double sailKlCoef = 0;     // SAIL's reverse-KL term's lambda
};

// Each method's KL knob and the values swept: beta for the DPO family, the KL
// coefficient for PPO, the learning rate for the CPO family. --quick runs one
// value (its frontier is then the trajectory) and three seeds: with two, a
// 95 % t interval is 12.7 standard errors wide and decides nothing.
std::vector<double> knobs(const Contender& m, bool quick) {
    if (m.method == Method::Ppo) return quick ? std::vector<double>{0.05} : std::vector<double>{0.02, 0.05, 0.2};
    // GRPO: its KL coefficient (0.04, TRL's former default, in the middle); RLOO: the KL penalty in its reward.
    if (m.method == Method::Grpo) return quick ? std::vector<double>{0.04} : std::vector<double>{0.01, 0.04, 0.2};
    if (m.method == Method::Rloo) return quick ? std::vector<double>{0.05} : std::vector<double>{0.02, 0.05, 0.2};
    // The reference-free methods have no KL knob: the learning rate moves them, as the CPO family.
    if (methodInfo(m.method).family == MethodFamily::Causal || methodInfo(m.method).referenceFree) {
        return quick ? std::vector<double>{5e-5} : std::vector<double>{2e-5, 5e-5, 1e-4};
    }
    return quick ? std::vector<double>{0.1} : std::vector<double>{0.1, 0.3, 1.0};
}

// What the knob is, as compare.md's table names it.
const char* knobName(const Contender& m) {
    if (m.method == Method::Ppo || m.method == Method::Grpo) return "KL coef. ";
    if (m.method == Method::Rloo) return "KL penalty ";
    if (methodInfo(m.method).family == MethodFamily::Causal || methodInfo(m.method).referenceFree) return "lr ";
    return "beta ";
}

struct Point {
    std::string method;
    double knob = 0;
    int64_t seed = 0;
    std::vector<TrajectoryPoint> trajectory;
    double seconds = 0;
    std::vector<double> valueErrors;  // CPO family: estimate minus true value, at each evaluated step
};

struct Series : LoopObserver {
    std::map<std::string, std::vector<std::pair<int64_t, double>>> series;  // (step, value)
    void metricsLogged(const std::vector<MetricSample>& m) override {
        for (const MetricSample& s : m) series[s.name].emplace_back(s.step, s.value);
    }
};

QString withInterval(const Estimate& e, int decimals = 3) {
    if (e.n == 0 || std::isnan(e.mean)) return QStringLiteral("-");
    return QString::number(e.mean, 'f', decimals) + QStringLiteral(" ± ") + QString::number(e.halfWidth, 'f', decimals);
}

}  // namespace

int main(int argc, char** argv) {
    applyLibraryEnvironment(argc, argv);
    if (!qEnvironmentVariableIsSet("DISPLAY")) qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    // Qt adopts the environment's locale; numbers in files and on the command
    // line are read with the C library (strtod, stod), which must see "0.5".
    std::setlocale(LC_NUMERIC, "C");
    bool quick = false, resume = false, reportOnly = false;
    QString out = QStringLiteral("compare-results");
    QStringList only, except;
    int64_t seedsArg = 0;  // --seeds N; 0: the mode's default
    for (int i = 1; i < argc; ++i) {
        quick |= std::strcmp(argv[i], "--quick") == 0;
        resume |= std::strcmp(argv[i], "--resume") == 0;
        reportOnly |= std::strcmp(argv[i], "--report") == 0;
        resume |= reportOnly;
        if (std::strcmp(argv[i], "--out") == 0 && i + 1 < argc) out = argv[++i];
        if (std::strcmp(argv[i], "--only") == 0 && i + 1 < argc) only = QString(argv[++i]).split(',');
        if (std::strcmp(argv[i], "--except") == 0 && i + 1 < argc) except = QString(argv[++i]).split(',');
        if (std::strcmp(argv[i], "--seeds") == 0 && i + 1 < argc) seedsArg = std::atoll(argv[++i]);
    }
    // --only: a contender's whole name selects it alone ("online DPO" is not
    // also "online DPO, 20 % flipped labels"); a name's beginning selects
    // every contender it begins ("SAIL" selects the three SAIL variants).
    // --except leaves out the contenders it names, by the same rule (to run
    // the arms that need no reward model while the reward model is reworked).
    std::vector<std::string> allNames;
    auto listNames = [&](const QStringList& list, const std::string& name) {
        for (const QString& o : list) {
            const bool whole = std::any_of(allNames.begin(), allNames.end(),
                                           [&](const std::string& n) { return QString::fromStdString(n).compare(o, Qt::CaseInsensitive) == 0; });
            if (whole ? QString::fromStdString(name).compare(o, Qt::CaseInsensitive) == 0
                      : QString::fromStdString(name).startsWith(o, Qt::CaseInsensitive)) {
                return true;
            }
        }
        return false;
    };
    auto selected = [&](const std::string& name) { return (only.isEmpty() || listNames(only, name)) && !listNames(except, name); };
    QDir().mkpath(out);
    // One learning-rate procedure for every family: the default lr (5e-5) and
    // warm-up; the CPO family's knob is the learning rate itself.
    const int64_t steps = quick ? 30 : 150;
    const int64_t evalEvery = quick ? 10 : 25;
    const int64_t evalSamples = quick ? 128 : 512;
    // Seeds: three for --quick; the full run's five narrow the intervals by
    // about a third (t 4.30/sqrt 3 against 2.78/sqrt 5), --seeds N to choose.
    const int64_t seedCount = seedsArg > 0 ? std::max<int64_t>(2, seedsArg) : quick ? 3 : 5;
    std::vector<int64_t> seeds;
    for (int64_t s = 1; s <= seedCount; ++s) seeds.push_back(s);
    std::vector<Contender> contenders = {
        {contender::kOfflineDpo, Method::Dpo, JudgeKind::Task, Data::Pairs},
        {contender::kSailDp, Method::SailDp, JudgeKind::Task, Data::Pairs},
        {contender::kOnlineDpo, Method::OnlineDpo, JudgeKind::Task, Data::Generated},
        // The same method on worse data: the task judge flips 20 % of its labels.
        {contender::kOnlineDpoNoisy, Method::OnlineDpo, JudgeKind::Task, Data::Generated, 0.0, 0.2},
        {contender::kSailPr, Method::SailPr, JudgeKind::Task, Data::Pairs},  // policy pairs with probability g, else dataset pairs
        {contender::kSailPp, Method::SailPp, JudgeKind::Self, Data::Pairs},  // policy pairs with probability p, else dataset pairs
        // The same with its reverse-KL term at the lambda that holds it (docs/methods.md).
        {contender::kSailPpRevKl, Method::SailPp, JudgeKind::Self, Data::Pairs, 0.0, 0.0, false, 0.1},
        // PPO twice: on the true reward (the algorithm alone, against online
        // DPO), and on a reward model trained on task pairs against online
        // DPO labelled by that reward model (the same imperfect signal).
        {contender::kPpoTrue, Method::Ppo, JudgeKind::Task, Data::Generated},
        {contender::kPpo, Method::Ppo, JudgeKind::Task, Data::Generated, 0.0, 0.0, true},
        {contender::kOnlineDpoRm, Method::OnlineDpo, JudgeKind::RewardModel, Data::Generated, 0.0, 0.0, true},
        // Rating data from the reference, outcome = true reward; the outcome
        // model is confounded on purpose (+1 per sentence: it believes long
        // answers are better), and once unconfounded as a control.
        {contender::kDrCpo, Method::DrCpo, JudgeKind::Task, Data::Ratings, kConfound},
        {contender::kOoRlhf, Method::OoRlhf, JudgeKind::Task, Data::Ratings, kConfound},
        // The methods of algorithms.md §7: two oracle RL arms (the true reward
        // scores their samples), and three offline losses on the fixed dataset.
        {contender::kGrpo, Method::Grpo, JudgeKind::Task, Data::Generated},
        {contender::kRloo, Method::Rloo, JudgeKind::Task, Data::Generated},
        {contender::kKto, Method::Kto, JudgeKind::Task, Data::Pairs},
        {contender::kOrpo, Method::Orpo, JudgeKind::Task, Data::Pairs},
        {contender::kSimpo, Method::Simpo, JudgeKind::Task, Data::Pairs},
    };
    if (!quick) {
        contenders.push_back({"CPO", Method::Cpo, JudgeKind::Task, Data::Ratings});
        contenders.push_back({"DR-CPO (unconfounded g)", Method::DrCpo, JudgeKind::Task, Data::Ratings, 0.0});
        contenders.push_back({"OO-RLHF (unconfounded g)", Method::OoRlhf, JudgeKind::Task, Data::Ratings, 0.0});
    }

    const std::string dataDir = defaultDataDir();
    const std::string starter = starterModelPath(dataDir);
    if (!reportOnly && !std::filesystem::exists(starter)) {
        std::printf("pretraining the starter model (about 3 minutes)...\n");
        std::fflush(stdout);
        pretrainStarterModel({}, starter);
    }
    for (const Contender& m : contenders) allNames.push_back(m.name);
    contenders.erase(std::remove_if(contenders.begin(), contenders.end(), [&](const Contender& m) { return !selected(m.name); }),
                     contenders.end());
    // The offline methods' data: sampled once from the reference, labeled by the true reward.
    DatasetSpec dataset;
    dataset.pairs = quick ? 128 : 512;
    const std::vector<OfflinePair> fixedPairs = reportOnly ? std::vector<OfflinePair>{} : sampleTaskDataset(starter, dataset).pairs;
    if (!reportOnly) std::printf("offline dataset: %zu pairs sampled from the starter model, labeled by the true reward\n", fixedPairs.size());
    RatedDatasetSpec ratedSpec;
    ratedSpec.responses = quick ? 256 : 512;
    const bool withRatings = !reportOnly && std::any_of(contenders.begin(), contenders.end(), [](const Contender& m) { return m.data == Data::Ratings; });
    const std::vector<RatedResponse> ratedData = withRatings ? sampleRatedDataset(starter, ratedSpec) : std::vector<RatedResponse>{};
    double meanOutcome = 0;
    for (const RatedResponse& r : ratedData) meanOutcome += r.outcome / static_cast<double>(ratedData.size());
    if (withRatings) {
        std::printf("rating dataset: %zu responses sampled from the starter model, outcome = true reward (mean %.3f)\n",
                    ratedData.size(), meanOutcome);
    }

    QTemporaryDir scratch;
    // Runs already in the folder (--resume), by method, knob and seed.
    std::vector<Point> points;
    const QString csvPath = out + "/compare.csv", errorsPath = out + "/value_errors.csv";
    if (resume && QFile::exists(csvPath)) {
        try {
            for (const CompareRun& r : readComparisonFolder(out.toStdString()).runs) {
                Point p;
                p.method = r.method;
                p.knob = r.knob;
                p.seed = r.seed;
                p.trajectory = r.trajectory;
                points.push_back(p);
            }
        } catch (const std::exception& e) {
            std::fprintf(stderr, "preflab-compare: --resume: %s\n", e.what());
            return 1;
        }
        QFile errors(errorsPath);
        if (errors.open(QIODevice::ReadOnly)) {
            errors.readLine();
            while (!errors.atEnd()) {
                const std::vector<std::string> v = splitCsvLine(errors.readLine().trimmed().toStdString());
                if (v.size() != 4) continue;
                for (Point& p : points) {
                    if (p.method == v[0] && p.knob == std::stod(v[1]) && p.seed == std::stoll(v[2])) p.valueErrors.push_back(std::stod(v[3]));
                }
            }
        }
        std::printf("resuming: %zu runs already in %s\n", points.size(), qPrintable(csvPath));
    } else if (reportOnly) {
        std::fprintf(stderr, "preflab-compare: --report: no %s\n", qPrintable(csvPath));
        return 1;
    } else {
        QFile::remove(csvPath);
        QFile::remove(errorsPath);
    }
    if (reportOnly) {  // the contenders that ran, in the table's order
        contenders.erase(std::remove_if(contenders.begin(), contenders.end(),
                                        [&](const Contender& m) {
                                            return std::none_of(points.begin(), points.end(),
                                                                [&](const Point& p) { return p.method == m.name; });
                                        }),
                         contenders.end());
    }
    auto done = [&](const std::string& method, double knob, int64_t seed) {
        return std::any_of(points.begin(), points.end(),
                           [&](const Point& p) { return p.method == method && p.knob == knob && p.seed == seed; });
    };
    // Appends one finished run to compare.csv (and its value errors), so an interruption loses at most the run.
    auto append = [&](const Point& p) {
        QFile csv(csvPath);
        const bool fresh = !csv.exists();
        if (!csv.open(QIODevice::WriteOnly | QIODevice::Append)) return false;
        QTextStream cs(&csv);
        if (fresh) cs << "method,knob,seed,step,kl_exact,gold,run_seconds\n";
        for (const TrajectoryPoint& t : p.trajectory) {
            cs << '"' << QString::fromStdString(p.method) << "\"," << p.knob << ',' << p.seed << ',' << t.step << ',' << t.kl
               << ',' << t.gold << ',' << p.seconds << '\n';
        }
        cs.flush();
        if (!p.valueErrors.empty()) {
            QFile errors(errorsPath);
            const bool first = !errors.exists();
            if (!errors.open(QIODevice::WriteOnly | QIODevice::Append)) return false;
            QTextStream es(&errors);
            if (first) es << "method,knob,seed,value_error\n";
            for (double e : p.valueErrors) es << '"' << QString::fromStdString(p.method) << "\"," << p.knob << ',' << p.seed << ',' << e << '\n';
        }
        return csv.error() == QFileDevice::NoError;
    };

    // PPO's learned reward model: Bradley-Terry on task pairs sampled from the
    // starter, with `preflab train-rm`'s defaults (the reward base, pretrained
    // once and cached; its last two blocks and the head; warm-up and cosine
    // decay); kept in the folder for --resume.
    RewardModelSpec rmSpec = taskRewardModelSpec();
    const std::string rewardModel = (out + "/reward-model.pt").toStdString();
    const QString rmReport = out + "/reward-model.txt";
    RewardModelReport rm;
    const bool withRewardModel = std::any_of(contenders.begin(), contenders.end(), [](const Contender& m) { return m.rewardModel; });
    bool rmKnown = false;  // a reward model trained here or kept from an earlier invocation
    QFile kept(rmReport);
    if ((withRewardModel || reportOnly) && resume && QFile::exists(QString::fromStdString(rewardModel)) && kept.open(QIODevice::ReadOnly)) {
        const QList<QByteArray> v = kept.readAll().trimmed().split(' ');
        rm.heldOutAccuracy = v.value(0).toDouble();
        rm.heldOutPairs = v.value(1).toLongLong();
        rm.lastHeldOutAccuracy = v.value(2).toDouble();
        rmKnown = true;
        std::printf("reward model: kept from %s, held-out accuracy %.3f (last step) on %lld pairs\n", rewardModel.c_str(),
                    rm.lastHeldOutAccuracy, static_cast<long long>(rm.heldOutPairs));
    } else if (withRewardModel) {
        std::printf("reward-model base: %s\n", rewardBaseModelPath(dataDir).c_str());
        std::fflush(stdout);
        rmSpec.basePath = ensureRewardBaseModel(dataDir).path;
        // As `preflab train-rm --task-pairs 2000`: 2000 pairs to train on,
        // and 1000 held out, sampled with another seed, on which the last
        // step is measured and kept (the claims need an accuracy on at least
        // 1000 pairs, ±0.03, not 200's ±0.06, and not chosen among many
        // evaluations on the pairs that measure it).
        DatasetSpec rmPairs;
        rmPairs.pairs = quick ? 400 : 2000;
        rmPairs.seed = 7;  // not the offline methods' pairs
        const TaskDataset d = sampleTaskDataset(starter, rmPairs);
        rmSpec.pairs = d.pairs;
        rmSpec.goldGaps = d.goldGaps;
        DatasetSpec heldOutPairs = rmPairs;
        heldOutPairs.pairs = quick ? 200 : 1000;
        heldOutPairs.seed = rmPairs.seed + 1000003;  // train-rm's offset
        const TaskDataset h = sampleTaskDataset(starter, heldOutPairs);
        const int64_t dropped = setSeparateHeldOut(rmSpec, h.pairs, h.goldGaps);
        std::printf("reward-model pairs: %zu to train on, %zu held out (%lld repeating a training pair dropped)\n", rmSpec.pairs.size(),
                    rmSpec.heldOut.size(), static_cast<long long>(dropped));
        std::fflush(stdout);
        rm = trainRewardModel(rmSpec, rewardModel);
        rmKnown = true;
        QFile report(rmReport);
        if (report.open(QIODevice::WriteOnly | QIODevice::Truncate)) {
            report.write(QByteArray::number(rm.heldOutAccuracy, 'g', 10) + ' ' + QByteArray::number(static_cast<qint64>(rm.heldOutPairs)) +
                         ' ' + QByteArray::number(rm.lastHeldOutAccuracy, 'g', 10) + '\n');
        }
        std::printf("reward model: held-out accuracy %.3f at the last step, the model kept, on %lld pairs (%.0f s)\n",
                    rm.lastHeldOutAccuracy, static_cast<long long>(rm.heldOutPairs), rm.seconds);
    }
    std::fflush(stdout);
    QElapsedTimer total;
    total.start();
    for (const Contender& m : reportOnly ? std::vector<Contender>{} : contenders) {
        const bool causal = methodInfo(m.method).family == MethodFamily::Causal;
        for (double knob : knobs(m, quick)) {
            for (int64_t seed : seeds) {
                if (done(m.name, knob, seed)) continue;
                QElapsedTimer t;
                t.start();
                LoopSetup setup;
                setup.modelPath = starter;
                setup.checkpointDir = (scratch.path() + "/ck").toStdString();
                RunConfig& c = setup.config;
                c.algorithm = methodName(m.method);
                c.judge = judgeName(m.judge);
                c.flipRate = m.flipRate;
                c.sailKlCoef = m.sailKlCoef;
                if (m.rewardModel) c.rewardModel = rewardModel;  // PPO's reward, or the judge's
                if (m.method == Method::Ppo) c.ppoKlCoef = knob;
                else if (m.method == Method::Grpo) c.grpoBeta = knob;
                else if (m.method == Method::Rloo) c.rlooBeta = knob;
                else if (causal || methodInfo(m.method).referenceFree) c.lr = knob;
                else c.beta = knob;
                if (methodInfo(m.method).family == MethodFamily::Group) {
                    // As PPO's 16 rollouts per step: 4 prompts x 4 samples.
                    c.batchSize = 16;
                    c.numGenerations = 4;
                }
                c.seed = seed;
                c.steps = steps;
                c.evalEvery = evalEvery;
                c.evalSamples = evalSamples;
                c.heldOutPairs = 0;  // not compared here; saves an evaluation's worth of scoring
                c.checkpointEvery = 0;
                if (m.data == Data::Pairs) {
                    setup.offlinePairs = fixedPairs;
                    c.pairs = "the bench's fixed dataset";  // names the source; the pairs are given directly
                }
                if (m.data == Data::Ratings) {
                    setup.ratedResponses = ratedData;
                    c.outcomeLengthBias = m.lengthBias;
                    if (quick) c.outcomeWarmupSteps = 30;  // outcome-model fits before the first step (default 100)
                }
                if (m.method == Method::Ppo) {
                    c.generationBatch = 16;
                    c.batchSize = 16;  // rollouts per PPO step
                }
                std::unique_ptr<Judge> judge;
                if (m.judge == JudgeKind::Self) judge = std::make_unique<SelfJudge>(c.beta, static_cast<uint64_t>(seed) + 7);
                else if (m.judge == JudgeKind::RewardModel) judge = std::make_unique<RewardModelJudge>(rewardModel);
                else judge = std::make_unique<TaskJudge>(TaskJudgeOptions{c.judgeNoise, c.flipRate, static_cast<uint64_t>(seed) + 5});
                Series f;
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
                const auto& gold = f.series[metricKey(Metric::GoldReward)];
                const auto& kl = f.series[metricKey(Metric::KlExact)];
                if (gold.empty() || gold.size() != kl.size()) continue;
                Point p;
                p.method = m.name;
                p.knob = knob;
                p.seed = seed;
                for (size_t k = 0; k < gold.size(); ++k) p.trajectory.push_back({gold[k].first, kl[k].second, gold[k].second});
                p.seconds = t.elapsed() / 1000.0;
                if (causal) {
                    // cpo/value_estimate of step s + 1 estimates the policy after s
                    // steps, whose true value the evaluation at step s measured.
                    const auto& estimates = f.series[metricKey(Metric::CpoValueEstimate)];
                    for (const auto& [step, truth] : gold) {
                        for (const auto& [estimateStep, value] : estimates) {
                            if (estimateStep == step + 1) p.valueErrors.push_back(value - truth);
                        }
                    }
                }
                points.push_back(p);
                if (!append(p)) {
                    std::fprintf(stderr, "preflab-compare: cannot append to %s\n", qPrintable(csvPath));
                    return 1;
                }
                std::printf("%-32s knob %-7g seed %lld: gold %+.3f -> %+.3f, exact KL %.3f, %.0f s%s\n", m.name.c_str(), knob,
                            static_cast<long long>(seed), p.trajectory.front().gold, p.trajectory.back().gold,
                            p.trajectory.back().kl, p.seconds, o == StepOutcome::Finished ? "" : " (did not finish)");
                std::fflush(stdout);
            }
        }
    }

    std::vector<CompareRun> runs;
    for (const Point& p : points) runs.push_back({p.method, p.knob, p.seed, p.trajectory});
    const KlFrontier frontier(runs);
    ClaimContext claims;
    claims.rewardModelAccuracy = rmKnown ? rm.lastHeldOutAccuracy : -1;
    claims.rewardModelPairs = rmKnown ? rm.heldOutPairs : 0;
    for (const Contender& m : contenders) {
        if (methodInfo(m.method).family != MethodFamily::Causal) continue;
        for (int64_t seed : seeds) {  // one mean absolute error per seed, over its knobs and evaluations
            std::vector<double> absErr;
            for (const Point& p : points) {
                if (p.method != m.name || p.seed != seed) continue;
                for (double e : p.valueErrors) absErr.push_back(std::abs(e));
            }
            if (!absErr.empty()) claims.valueErrors[m.name].push_back(estimate(absErr).mean);
        }
    }
    const std::vector<Claim> judged = judgeClaims(frontier, claims);

    QFile json(out + "/orderings.json");
    if (!json.open(QIODevice::WriteOnly | QIODevice::Truncate) || json.write(claimsToJson(judged).c_str()) < 0) {
        std::fprintf(stderr, "preflab-compare: cannot write %s\n", qPrintable(json.fileName()));
        return 1;
    }
    json.close();

    // compare.md: gold at matched KL (the shared KL of all methods, and 2, 4, 6
    // nats where reached), then the claims.
    std::vector<std::string> names;
    for (const Contender& m : contenders) names.push_back(m.name);
    const double shared = frontier.sharedKl(names);
    std::vector<double> levels;
    if (!std::isnan(shared) && shared > 0) levels.push_back(shared);
    for (double k : {2.0, 4.0, 6.0}) {
        if (std::isnan(shared) || k > shared + 1e-9) levels.push_back(k);
    }
    QFile md(out + "/compare.md");
    if (!md.open(QIODevice::WriteOnly | QIODevice::Truncate)) return 1;
    QTextStream ms(&md);
    ms << "Built-in task, starter model, " << steps << " steps at lr 5e-5 (the CPO family: its knob), batch 8 (PPO 16), "
       << seeds.size() << " seeds; gold reward and exact KL on " << evalSamples << " fresh samples every " << evalEvery
       << " steps. Each method's frontier at KL = k is the best gold any of its knob settings reached when it crossed k; "
          "mean ± 95 % interval (Student t) over seeds, '-' where a seed never reached k.\n\n";
    ms << "| method | knob values |";
    for (double k : levels) ms << " gold at KL " << QString::number(k, 'f', 2) << (k == shared ? " (shared)" : "") << " |";
    ms << " largest KL reached |\n|---|---|";
    for (size_t i = 0; i <= levels.size(); ++i) ms << "---|";
    ms << '\n';
    for (const Contender& m : contenders) {
        QStringList knobText;
        for (double k : knobs(m, quick)) knobText << QString::number(k);
        ms << "| " << QString::fromStdString(m.name) << " | " << knobName(m)
           << knobText.join(", ") << " |";
        for (double k : levels) ms << ' ' << withInterval(frontier.frontier(m.name, k)) << " |";
        std::vector<double> reached;
        for (const Point& p : points) {
            if (p.method == m.name) reached.push_back(maxKl(p.trajectory));
        }
        ms << ' ' << (reached.empty() ? QStringLiteral("-") : QString::number(*std::max_element(reached.begin(), reached.end()), 'f', 2))
           << " |\n";
    }
    if (!claims.valueErrors.empty()) {
        ms << "\nValue-estimate error of the CPO family (V-hat minus the gold reward of fresh samples of the same policy, "
              "mean absolute error per seed over knobs and evaluations): ";
        QStringList parts;
        for (const auto& [name, errors] : claims.valueErrors) parts << QString::fromStdString(name) + " " + withInterval(estimate(errors));
        ms << parts.join(QStringLiteral("; ")) << ".\n";
    }
    if (rmKnown) {
        // The number of pairs it was trained on is fixed by the mode (a kept
        // model was trained the same way); with its held-out pairs sampled
        // apart, the last step is the model kept and measured.
        ms << "\nThe reward model (PPO's reward, and online DPO's judge in the contender named so; trained on "
           << (quick ? 400 : 2000) << " task pairs sampled from the starter) reached held-out accuracy "
           << QString::number(rm.lastHeldOutAccuracy, 'f', 3) << " at its last step, the model kept, on " << rm.heldOutPairs
           << " held-out pairs sampled with another seed"
           << (withRewardModel ? "" : "; the two contenders that use it were not run")
           << ".\n";
    }
    ms << "\n## Claims (orderings.json)\n\n| claim | verdict | evidence |\n|---|---|---|\n";
    // A '|' in the text (|algorithm effect|) would end the table's cell.
    auto cell = [](const std::string& text) { return QString::fromStdString(text).replace('|', QStringLiteral("\\|")); };
    for (const Claim& c : judged) {
        // The verdict, not reproduced yes/no: an interval across the line is inconclusive, not a refutation.
        ms << "| " << cell(c.claim) << " (" << cell(c.source) << ") | " << cell(c.verdict) << " | " << cell(c.evidence) << " |\n";
    }
    md.close();

    // compare.png: each method's frontier (mean over seeds, 95 % intervals).
    QCustomPlot plot;
    plot.resize(900, 560);
    plot.xAxis->setLabel(QStringLiteral("exact KL(policy || reference), nats per response"));
    plot.yAxis->setLabel(QStringLiteral("gold (true) reward per response"));
    plot.legend->setVisible(true);
    plot.legend->setFont(QFont(QString(), 8));
    plot.plotLayout()->insertRow(0);
    plot.plotLayout()->addElement(0, 0, new QCPTextElement(&plot, QStringLiteral("Best gold reward at each KL (mean ± 95% interval over seeds)"),
                                                            QFont(QString(), 11, QFont::Bold)));
    const QColor colors[] = {QColor(31, 119, 180), QColor(255, 127, 14), QColor(44, 160, 44),  QColor(214, 39, 40),
                             QColor(148, 103, 189), QColor(140, 86, 75),  QColor(227, 119, 194), QColor(127, 127, 127),
                             QColor(188, 189, 34),  QColor(23, 190, 207), QColor(0, 0, 0),       QColor(255, 187, 120)};
    int colorIndex = 0;
    for (const Contender& m : contenders) {
        double reach = 0;
        for (const Point& p : points) {
            if (p.method == m.name) reach = std::max(reach, maxKl(p.trajectory));
        }
        QVector<double> xs, ys, err;
        for (int i = 0; i <= 16; ++i) {
            const double k = reach * i / 16.0;
            const Estimate e = frontier.frontier(m.name, k);
            if (e.n == 0) continue;
            xs << k;
            ys << e.mean;
            err << e.halfWidth;
        }
        QCPGraph* g = plot.addGraph();
        g->setName(QString::fromStdString(m.name));
        const QColor col = colors[colorIndex++ % 12];
        g->setPen(QPen(col, 2));
        g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, col, col, 5));
        g->setData(xs, ys);
        auto* bars = new QCPErrorBars(plot.xAxis, plot.yAxis);
        bars->setDataPlottable(g);
        bars->setPen(QPen(col));
        bars->removeFromLegend();
        bars->setData(err);
    }
    plot.rescaleAxes();
    plot.xAxis->scaleRange(1.05, plot.xAxis->range().center());
    plot.yAxis->scaleRange(1.15, plot.yAxis->range().center());
    const bool png = plot.savePng(out + "/compare.png", 900, 560, 1.0);
    int reproduced = 0, undecided = 0;
    for (const Claim& c : judged) {
        reproduced += c.reproduced ? 1 : 0;
        undecided += c.judged ? 0 : 1;
    }
    std::printf("claims: %d of %zu reproduced, %d not judged (orderings.json)\n", reproduced, judged.size(), undecided);
    std::printf("wrote %s/compare.csv, compare.md, orderings.json%s in %.0f s\n", qPrintable(out), png ? ", compare.png" : "",
                total.elapsed() / 1000.0);
    return 0;
}
