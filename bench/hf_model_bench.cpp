// preflab-hf-bench: Hugging Face model figures on this machine, for a
// GPT-2-small-shaped model (124 M parameters) and a Llama-layout model of
// similar size (random weights, written as HF folders first): load time,
// KV-cache generation tokens/s at batch 1 and 8 in fp32 and bf16, and the
// process's peak memory. Not timed: a LoRA DPO step (LoRA is not built yet).
#include "core/hf/hf_model.h"
#include "core/nn/sampler.h"
#include "core/runtime/compute_threads.h"
#include "core/runtime/cpu_features.h"
#include "core/runtime/library_environment.h"

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>

#include <torch/utils.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>

using namespace preflab;

namespace {

double seconds(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double peakRssGiB() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / (1024.0 * 1024.0);
    }
    return 0;
}

// A random model of `config`'s shape, written as an HF folder.
std::string writeFolder(const QString& root, const QString& name, const QJsonObject& config) {
    const QString src = root + "/" + name + "-config", out = root + "/" + name;
    QDir().mkpath(src);
    QFile f(src + "/config.json");
    f.open(QIODevice::WriteOnly);
    f.write(QJsonDocument(config).toJson());
    f.close();
    const HfModelInfo info = readHfModelConfig(src.toStdString());
    Transformer model(info.config);
    exportHfFolder(model, src.toStdString(), out.toStdString());
    return out.toStdString();
}

double tokensPerSecond(Transformer& model, int64_t batch, int newTokens) {
    torch::NoGradGuard noGrad;
    model->eval();
    std::vector<TokenIds> prompts(static_cast<size_t>(batch), TokenIds(16, 100));
    std::vector<uint64_t> seeds;
    for (int64_t i = 0; i < batch; ++i) seeds.push_back(static_cast<uint64_t>(i) + 1);
    SamplingParams p;
    p.maxNewTokens = newTokens;
    sampleBatch(model, prompts, p, seeds, -1, 0);  // warm-up
    const auto t0 = std::chrono::steady_clock::now();
    const SampledSequences s = sampleBatch(model, prompts, p, seeds, -1, 0);
    double tokens = 0;
    for (const auto& t : s.tokens) tokens += static_cast<double>(t.size());
    return tokens / seconds(t0);
}

}  // namespace

int main(int argc, char** argv) {
    applyLibraryEnvironment(argc, argv);
    const int threads = configureComputeThreads();
    std::printf("PrefLab HF model benchmark (%s, %d threads)\n", cpuFeatures().summary().c_str(), threads);
    QTemporaryDir root;
    const QJsonObject gpt2{{"model_type", "gpt2"}, {"vocab_size", 50257}, {"n_embd", 768}, {"n_layer", 12},
                           {"n_head", 12},         {"n_positions", 1024}, {"activation_function", "gelu_new"}};
    const QJsonObject llama{{"model_type", "llama"},     {"vocab_size", 32000},          {"hidden_size", 768},
                            {"intermediate_size", 2048}, {"num_hidden_layers", 12},      {"num_attention_heads", 12},
                            {"num_key_value_heads", 4},  {"max_position_embeddings", 2048}, {"rms_norm_eps", 1e-5},
                            {"rope_theta", 10000.0},     {"tie_word_embeddings", false}};
    for (const auto& [name, config] : {std::pair{QStringLiteral("gpt2-124m"), gpt2}, std::pair{QStringLiteral("llama-125m"), llama}}) {
        const std::string folder = writeFolder(root.path(), name, config);
        auto t0 = std::chrono::steady_clock::now();
        Transformer model = loadHfModel(folder, at::kFloat);
        const double load = seconds(t0);
        std::printf("%s: %.1f M parameters, load (fp32, from safetensors) %.2f s\n", qPrintable(name),
                    static_cast<double>(model->config().parameterCount()) / 1e6, load);
        for (const at::ScalarType dtype : {at::kFloat, at::kBFloat16}) {
            model->to(dtype);
            const double b1 = tokensPerSecond(model, 1, 32), b8 = tokensPerSecond(model, 8, 32);
            std::printf("  generation, 16-token prompt + 32 new tokens, %s: batch 1 %.1f tok/s, batch 8 %.1f tok/s\n",
                        dtype == at::kFloat ? "fp32" : "bf16", b1, b8);
            std::fflush(stdout);
        }
    }
    std::printf("peak resident memory: %.2f GiB\n", peakRssGiB());
    return 0;
}
