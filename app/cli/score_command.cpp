// preflab score: a reward model's score of one response to a prompt, or its
// accuracy on a file of preference pairs (does it score the chosen response
// above the rejected one?). The model is a Hugging Face reward-model folder
// (core/judges/hf_reward_model.h) or a file `preflab train-rm` wrote, or a
// reward server over HTTP (--server; core/judges/reward_server_client.h).
#include "app/cli/commands.h"
#include "core/judges/reward_model.h"
#include "core/judges/reward_server_judge.h"
#include "storage/pair_files.h"

#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

namespace preflab {

int runScoreCommand(const QStringList& args) {
    QCommandLineParser p;
    p.setApplicationDescription(
        "Score a response with a reward model: a Hugging Face *ForSequenceClassification folder (one label; the prompt "
        "and response as a user turn and its answer in the model's chat template) or a file preflab train-rm wrote. "
        "With --pairs, score each pair's chosen and rejected response and report the reward model's accuracy (chosen "
        "scored above rejected).");
    p.addHelpOption();
    p.addOption({"model", "The reward model: a folder or a .pt file.", "path"});
    p.addOption({"server", "A reward server instead of --model: an http(s) address speaking OpenRLHF's /get_reward "
                           "(bearer token from PREFLAB_REWARD_SERVER_TOKEN).",
                 "url"});
    p.addOption({"prompt", "The prompt.", "text"});
    p.addOption({"response", "The response to score.", "text"});
    p.addOption({"pairs", "A TRL .jsonl file of {prompt, chosen, rejected} (or conversational) pairs.", "file"});
    p.addOption({"json", "Print one JSON object: {\"score\": x}, or with --pairs the accuracy and counts."});
    p.process(QStringList{"preflab score"} + args);
    const bool json = p.isSet("json");
    if (p.isSet("model") == p.isSet("server") || (p.isSet("pairs") == (p.isSet("prompt") || p.isSet("response"))) ||
        (!p.isSet("pairs") && !(p.isSet("prompt") && p.isSet("response")))) {
        std::fprintf(stderr, "preflab score: give --model or --server, and either --prompt with --response, or --pairs FILE\n");
        return 2;
    }
    try {
        const auto t0 = std::chrono::steady_clock::now();
        std::unique_ptr<RewardScorer> scorer;
        if (p.isSet("server")) scorer = std::make_unique<RewardServerJudge>(p.value("server").toStdString());
        else scorer = std::make_unique<RewardModelJudge>(p.value("model").toStdString());
        RewardScorer& rm = *scorer;
        if (!p.isSet("pairs")) {
            const double s = rm.score({p.value("prompt").toStdString()}, {p.value("response").toStdString()}).at(0);
            if (json) std::printf("%s\n", QJsonDocument(QJsonObject{{"score", s}}).toJson(QJsonDocument::Compact).constData());
            else std::printf("%.6f\n", s);
            return 0;
        }
        std::vector<PairRow> rows;
        const std::string file = p.value("pairs").toStdString();
        const ImportReport report = readPairsJsonl(file, rows);
        if (!report.errors.empty()) throw std::runtime_error(report.describe());
        if (rows.empty()) throw std::runtime_error(file + ": no pairs in the file");
        std::vector<std::string> prompts, responses;
        for (const PairRow& r : rows) {  // a is the chosen response (readPairsJsonl)
            prompts.insert(prompts.end(), {r.prompt, r.prompt});
            responses.insert(responses.end(), {r.a.text, r.b.text});
        }
        // A server is asked in parts, so that one answer stays small however long the file.
        std::vector<double> s;
        const size_t kPart = p.isSet("server") ? 512 : std::max<size_t>(1, prompts.size());
        for (size_t start = 0; start < prompts.size(); start += kPart) {
            const size_t end = std::min(prompts.size(), start + kPart);
            const std::vector<double> part = rm.score(std::vector<std::string>(prompts.begin() + start, prompts.begin() + end),
                                                      std::vector<std::string>(responses.begin() + start, responses.begin() + end));
            s.insert(s.end(), part.begin(), part.end());
        }
        int64_t right = 0, ties = 0;
        double margin = 0;
        for (size_t i = 0; i < rows.size(); ++i) {
            const double d = s[2 * i] - s[2 * i + 1];
            right += d > 0 ? 1 : 0;
            ties += d == 0 ? 1 : 0;
            margin += d / static_cast<double>(rows.size());
        }
        const double n = static_cast<double>(rows.size()), accuracy = static_cast<double>(right) / n;
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (json) {
            const QJsonObject o{{"accuracy", accuracy},       {"pairs", static_cast<qint64>(rows.size())},
                                {"ties", static_cast<qint64>(ties)}, {"mean_margin", margin},
                                {"seconds", seconds}};
            std::printf("%s\n", QJsonDocument(o).toJson(QJsonDocument::Compact).constData());
        } else {
            std::printf("accuracy %.4f (chosen scored above rejected in %lld of %lld pairs; %lld ties), mean margin %.4f, %.1f s\n",
                        accuracy, static_cast<long long>(right), static_cast<long long>(rows.size()), static_cast<long long>(ties),
                        margin, seconds);
        }
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "preflab score: %s\n", e.what());
        return 1;
    }
}

}  // namespace preflab
