// preflab-hf-bench: Hugging Face model figures on this machine, for a
// GPT-2-small-shaped model (124 M parameters) and a Llama-layout model of
// similar size (random weights, written as HF folders first): load time,
// KV-cache generation tokens/s at batch 1 (with the bound the measured memory
// read bandwidth sets) and 8 in fp32 and bf16, through the fused decode step
// and through LibTorch (--generation: these alone), and a LoRA
// DPO step (2 pairs x 128 tokens: policy forward and backward, reference
// forward with the adapters off, AdamW) with its time and peak memory, with
// and without gradient checkpointing. --products: the matrix-vector product
// rates (bf16 kernel, LibTorch bf16 and fp32) on one and two threads.
#include "core/nn/kernel_report.h"
#include "core/algo/pairwise_loss.h"
#include "core/hf/hf_model.h"
#include "core/nn/autocast_scope.h"
#include "core/nn/sequence_batch.h"
#include "core/nn/sampler.h"
#include "core/nn/fused_decoder.h"
#include "core/nn/fused_adamw.h"
#include "core/nn/bf16_products.h"
#include "core/runtime/compute_threads.h"
#include "core/runtime/cpu_features.h"
#include "core/runtime/library_environment.h"

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>

#include <torch/optim/adamw.h>
#include <torch/utils.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
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

struct Generation {
    double tokensPerSecond = 0;
    std::vector<TokenIds> tokens;
};

// Sampled generation (temperature 1, one seed per row) of `newTokens` after a
// 16-token prompt; the fastest of three timed runs after a warm-up.
Generation generate(Transformer& model, int64_t batch, int newTokens, bool fused) {
    torch::NoGradGuard noGrad;
    model->eval();
    std::vector<TokenIds> prompts(static_cast<size_t>(batch), TokenIds(16, 100));
    std::vector<uint64_t> seeds;
    for (int64_t i = 0; i < batch; ++i) seeds.push_back(static_cast<uint64_t>(i) + 1);
    SamplingParams p;
    p.maxNewTokens = newTokens;
    p.fusedDecoding = fused;
    Generation g;
    g.tokens = sampleBatch(model, prompts, p, seeds, -1, 0).tokens;  // warm-up
    for (int rep = 0; rep < 3; ++rep) {
        const auto t0 = std::chrono::steady_clock::now();
        const SampledSequences s = sampleBatch(model, prompts, p, seeds, -1, 0);
        double tokens = 0;
        for (const auto& t : s.tokens) tokens += static_cast<double>(t.size());
        g.tokensPerSecond = std::max(g.tokensPerSecond, tokens / seconds(t0));
    }
    return g;
}

// Where two generations first differ: the number of leading tokens they
// share, summed over rows, of all tokens.
std::pair<size_t, size_t> sharedPrefix(const Generation& a, const Generation& b) {
    size_t shared = 0, all = 0;
    for (size_t r = 0; r < a.tokens.size(); ++r) {
        all += a.tokens[r].size();
        size_t i = 0;
        while (i < a.tokens[r].size() && i < b.tokens[r].size() && a.tokens[r][i] == b.tokens[r][i]) ++i;
        shared += i;
    }
    return {shared, all};
}

// The machine's memory read bandwidth in GB/s: the faster of two reads of a
// 1 GiB buffer, far larger than any cache, on this run's threads: LibTorch's
// sum over it (fp32), and, where the CPU has bf16 dot products, the bf16
// kernel's matrix-vector product over it as a [2^19, 1024] matrix (one
// sequential stream; on this machine's class it reads faster than at::sum,
// so at::sum alone would not bound it). Generation at batch 1 reads every
// weight it uses once per token, so this over those weights' bytes bounds
// its tokens per second. Best of 5 after a warm-up.
// GB/s reading `bytes` with `read`: the fastest of `repetitions` after a warm-up.
double readRate(const std::function<void()>& read, double bytes, int repetitions) {
    read();
    double fastest = 1e9;
    for (int i = 0; i < repetitions; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        read();
        fastest = std::min(fastest, seconds(t0));
    }
    return bytes / fastest / 1e9;
}

struct Bandwidth {
    double sum = 0, product = 0;
    double best() const { return std::max(sum, product); }
};
Bandwidth readBandwidthGBs() {
    auto best = [](const std::function<void()>& read, double bytes) { return readRate(read, bytes, 5); };
    Bandwidth b;
    {
        const at::Tensor big = at::ones({256 * 1024 * 1024}, at::kFloat);
        b.sum = best([&] { big.sum().item<float>(); }, static_cast<double>(big.nbytes()));
    }
    if (bf16ProductsAvailable()) {
        const int64_t K = 1024, N = (int64_t{1} << 30) / (2 * K);
        const at::Tensor big = at::ones({N, K}, at::kBFloat16);
        const std::vector<float> x(static_cast<size_t>(K), 1.0f);
        std::vector<float> out(static_cast<size_t>(N));
        std::vector<uint16_t> scratch;
        b.product = best([&] {
            bf16Product(x.data(), static_cast<const uint16_t*>(big.data_ptr()), out.data(), 1, N, K, 0.0f, scratch);
        }, static_cast<double>(big.nbytes()));
    }
    return b;
}

// The bytes of weights one decoded token reads: every parameter but the
// embedding tables' unread rows (one token's row, one position's row), and
// the token table whole when it is also the head.
double bytesReadPerToken(Transformer& model, int bytesPerWeight) {
    const TransformerConfig& c = model->config();
    double unread = 0;
    if (c.llama && !c.tiedHead) unread += static_cast<double>(c.vocabSize - 1) * c.dModel;
    if (!c.llama) unread += static_cast<double>(c.maxSeqLen - 1) * c.dModel;  // learned positions
    return (static_cast<double>(c.parameterCount()) - unread) * bytesPerWeight;
}

struct StepFigures {
    double seconds = 0, peakGiB = 0;
};

// One LoRA DPO step as the loop takes it: 2 pairs, each a 64-token prompt
// with two 64-token responses (4 sequences of 128 tokens). Median of 3 after
// a warm-up step; the memory peak is the process's (load included).
StepFigures loraDpoStep(Transformer& model, bool bf16, bool checkpointing) {
    model->setGradientCheckpointing(checkpointing);
    model->train();
    FusedAdamW opt(model->trainableParameters(), torch::optim::AdamWOptions(1e-4).weight_decay(0.0));
    torch::manual_seed(3);
    const int64_t vocab = model->config().vocabSize;
    auto randomTokens = [&](int n) {
        const at::Tensor t = at::randint(1, vocab, {n}, at::kLong);
        return TokenIds(t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + n);
    };
    std::vector<TokenIds> prompts, responses;
    for (int pair = 0; pair < 2; ++pair) {
        const TokenIds prompt = randomTokens(64);
        for (int side = 0; side < 2; ++side) {
            prompts.push_back(prompt);
            responses.push_back(randomTokens(64));
        }
    }
    const SequenceBatch batch = packSequences(prompts, responses, 0);
    PairwiseOptions options;
    options.beta = 0.1;
    std::vector<double> times;
    StepFigures f;
    for (int rep = 0; rep < 4; ++rep) {
        const auto t0 = std::chrono::steady_clock::now();
        at::Tensor ref;
        {
            torch::NoGradGuard noGrad;
            model->setLoraEnabled(false);
            ref = sequenceLogprobs(computeLogits(model, batch.ids, batch.attention, bf16).to(at::kFloat), batch);
            model->setLoraEnabled(true);
        }
        const at::Tensor pol = sequenceLogprobs(computeLogits(model, batch.ids, batch.attention, bf16).to(at::kFloat), batch);
        const at::Tensor even = at::arange(0, 4, 2), odd = at::arange(1, 4, 2);
        PairLogps lp{pol.index_select(0, even), pol.index_select(0, odd), ref.index_select(0, even), ref.index_select(0, odd),
                     at::full({2}, 64.0), at::full({2}, 64.0)};
        const LossOutput out = pairwiseLoss(options, lp);
        opt.zero_grad();
        out.loss.backward();
        opt.step();
        if (rep > 0) times.push_back(seconds(t0));
    }
    std::sort(times.begin(), times.end());
    f.seconds = times[times.size() / 2];
    f.peakGiB = peakRssGiB();
    model->setGradientCheckpointing(false);
    return f;
}

}  // namespace

// Matrix-vector products at batch 1 on a weight larger than the caches
// (GPT-2's 50257 x 768 head): GB/s of weights read by the bf16 kernel of the
// fused decode step and by LibTorch's bf16 and fp32 Linear, on 1 and 2 threads.
void productFigures() {
    torch::NoGradGuard noGrad;
    const int64_t N = 50257, K = 768;
    const at::Tensor w32 = at::randn({N, K}), w16 = w32.to(at::kBFloat16), x = at::randn({1, K});
    std::vector<uint16_t> scratch;
    at::Tensor out = at::zeros({1, N});
    auto rate = [](const std::function<void()>& f, double bytes) { return readRate(f, bytes, 10); };
    for (const int n : {1, 2}) {
        ComputeThreadsScope scope(n);
        const double kernel = bf16ProductsAvailable() ? rate([&] {
            bf16Product(x.data_ptr<float>(), static_cast<const uint16_t*>(w16.data_ptr()), out.data_ptr<float>(), 1, N, K, 0.0f, scratch);
        }, 2.0 * N * K) : 0.0;
        const double torch16 = rate([&] { at::linear(x.to(at::kBFloat16), w16); }, 2.0 * N * K);
        const double torch32 = rate([&] { at::linear(x, w32); }, 4.0 * N * K);
        std::printf("matrix-vector %lld x %lld, %d thread%s: bf16 kernel %.1f GB/s, LibTorch bf16 %.1f GB/s, LibTorch fp32 %.1f GB/s\n",
                    static_cast<long long>(N), static_cast<long long>(K), n, n == 1 ? "" : "s", kernel, torch16, torch32);
    }
}

int main(int argc, char** argv) {
    applyLibraryEnvironment(argc, argv);
    const int threads = configureComputeThreads();
    if (argc == 2 && std::string(argv[1]) == "--products") {
        productFigures();
        return 0;
    }
    if (argc == 5 && std::string(argv[1]) == "--lora-step") {
        // Child mode: one LoRA configuration; prints its figures on one line.
        Transformer model = loadHfModel(argv[2], at::kFloat);
        torch::manual_seed(1);
        LoraConfig lora;
        lora.rank = 16;
        lora.alpha = 32;
        lora.targets = {"all-linear"};
        model->addLora(lora);
        int64_t adapterParams = 0;
        for (const auto& p : model->trainableParameters()) adapterParams += p.numel();
        const StepFigures f = loraDpoStep(model, std::string(argv[3]) == "bf16", std::string(argv[4]) == "1");
        std::printf("%.2f s per step, peak resident %.2f GiB (%.2f M adapter parameters)\n", f.seconds, f.peakGiB,
                    static_cast<double>(adapterParams) / 1e6);
        return 0;
    }
    // --generation: the generation figures alone (no LoRA steps).
    const bool generationOnly = argc > 1 && std::string(argv[1]) == "--generation";
    std::printf("PrefLab HF model benchmark (%s, %d threads)\n", cpuFeatures().summary().c_str(), threads);
    for (const std::string& line : kernelReport()) std::printf("  %s\n", line.c_str());
    const Bandwidth measured = readBandwidthGBs();
    const double bandwidth = measured.best();
    std::printf("memory read bandwidth %.1f GB/s, the bound of batch-1 generation (reading 1 GiB: at::sum %.1f GB/s, "
                "bf16 matrix-vector product %.1f GB/s)\n",
                bandwidth, measured.sum, measured.product);
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
            const bool bf16 = dtype == at::kBFloat16;
            if (bf16 && !cpuFeatures().fastBf16()) {
                std::printf("  generation, bf16: skipped, this CPU has no native bf16 dot products\n");
                continue;
            }
            model->to(dtype);
            const double bound = bandwidth * 1e9 / bytesReadPerToken(model, bf16 ? 2 : 4);
            const Generation fused1 = generate(model, 1, 32, true), plain1 = generate(model, 1, 32, false);
            const Generation fused8 = generate(model, 8, 32, true), plain8 = generate(model, 8, 32, false);
            const auto [same, all] = sharedPrefix(fused8, plain8);
            std::printf("  generation, 16-token prompt + 32 new tokens, %s (bound at batch 1: %.1f tok/s, %.0f MB of weights read per token):\n"
                        "    fused decode step (%s): batch 1 %.1f tok/s (%.0f %% of the bound), batch 8 %.1f tok/s\n"
                        "    LibTorch's forwardCached: batch 1 %.1f tok/s (%.0f %% of the bound), batch 8 %.1f tok/s\n"
                        "    the same sampled tokens before the first difference, batch 8: %zu of %zu\n",
                        bf16 ? "bf16" : "fp32", bound, bytesReadPerToken(model, bf16 ? 2 : 4) / 1e6, FusedDecoder::supports(model) ? "used" : "not supported, LibTorch ran",
                        fused1.tokensPerSecond, 100 * fused1.tokensPerSecond / bound, fused8.tokensPerSecond,
                        plain1.tokensPerSecond, 100 * plain1.tokensPerSecond / bound, plain8.tokensPerSecond, same, all);
            std::fflush(stdout);
        }
        if (generationOnly) continue;
        // Each LoRA configuration in a fresh process, so that its peak memory is its own.
        std::printf("  LoRA DPO step (rank 16 on every projection; 2 pairs x 128 tokens):\n");
        for (const bool bf16 : {false, true}) {
            if (bf16 && !cpuFeatures().fastBf16()) {
                std::printf("    bf16: skipped, this CPU has no native bf16 dot products (it would be ~20x slower)\n");
                continue;
            }
            for (const bool checkpointing : {false, true}) {
                const std::string cmd = std::string(argv[0]) + " --lora-step " + folder + (bf16 ? " bf16" : " fp32") +
                                        (checkpointing ? " 1" : " 0");
                std::string line(256, '\0');
                FILE* child = popen(cmd.c_str(), "r");
                if (!child || !std::fgets(line.data(), static_cast<int>(line.size()), child)) line = "failed";
                if (child) pclose(child);
                std::printf("    %s, %s: %s", bf16 ? "bf16" : "fp32",
                            checkpointing ? "gradient checkpointing" : "activations kept", line.c_str());
                std::fflush(stdout);
            }
        }
    }
    std::printf("peak resident memory of the load and generation runs: %.2f GiB\n", peakRssGiB());
    return 0;
}
