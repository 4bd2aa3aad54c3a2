#include "core/loop/online_loop_impl.h"

namespace preflab {

namespace {

// The config's method, after the whole config is checked (throws before any work).
const MethodInfo& validatedMethod(const RunConfig& cfg) {
    const std::vector<std::string> errors = validateRunConfig(cfg);
    if (!errors.empty()) throw std::runtime_error("invalid run configuration: " + errors.front());
    return *findMethod(cfg.algorithm);
}

}  // namespace

OnlineLoop::Impl::Impl(LoopSetup s, std::unique_ptr<Judge> j, LoopObserver* o)
    : setup(std::move(s)), method(validatedMethod(setup.config)), judge(std::move(j)), observer(o) {
    configureComputeThreads(static_cast<int>(cfg.threads));
    const uint64_t seed = static_cast<uint64_t>(cfg.seed);
    trainPrompts = task.prompts(static_cast<int>(cfg.prompts), mixSeed(seed, 1, 0));
    evalPrompts = task.prompts(static_cast<int>(cfg.evalSamples), mixSeed(seed, 2, 0));

    setup.modelPath = resolveModelPath(setup.modelPath);  // a repository id: its cached snapshot
    if (std::filesystem::is_directory(setup.modelPath)) {
        // A Hugging Face model folder: its weights and its tokenizer.
        HfModelInfo hf;
        policy = loadHfModel(setup.modelPath, at::kFloat, &hf, setup.loadProgress, setup.cancel);
        tokenizer = loadFolderTokenizer(setup.modelPath);
        if (tokenizer->vocabSize() > policy->config().vocabSize) {
            throw std::runtime_error(setup.modelPath + ": tokenizer.json has " + std::to_string(tokenizer->vocabSize()) +
                                     " tokens but the model only " + std::to_string(policy->config().vocabSize));
        }
        if (tokenizer->special().eos < 0) throw std::runtime_error(setup.modelPath + ": the tokenizer names no EOS token");
        modelInfo.config = hf.config;
        chat = readFolderChatTemplate(setup.modelPath);
        modelInfo.tokenizer = "hf:" + setup.modelPath;
    } else {
        tokenizer = std::make_shared<ByteTokenizer>();
        policy = loadModelFile(setup.modelPath, &modelInfo);
        if (modelInfo.tokenizer != tokenizer->name()) {
            throw std::runtime_error(setup.modelPath + ": tokenizer '" + modelInfo.tokenizer +
                                     "' is not supported by the online loop yet (expected 'byte')");
        }
    }
    if (cfg.loraRank > 0) {
        // The adapters' A starts random (from the run's seed); B starts at zero.
        torch::manual_seed(mixSeed(seed, 7, 0));
        LoraConfig lora;
        lora.rank = cfg.loraRank;
        lora.alpha = cfg.loraAlpha;
        lora.dropout = cfg.loraDropout;
        lora.targets = splitLoraTargets(cfg.loraTargets);
        try {
            policy->addLora(lora);
        } catch (const std::invalid_argument& e) {
            throw std::runtime_error(setup.modelPath + ": " + e.what());
        }
        // The reference is the same weights with the adapters off (referenceLogits).
    } else {
        reference = cloneTransformer(policy);
        reference->eval();
        for (auto& p : reference->parameters()) p.set_requires_grad(false);
    }
    policy->setGradientCheckpointing(cfg.gradientCheckpointing != 0);
    bf16 = useBf16(cfg.computeDtype, policy->config().parameterCount());
    torch::manual_seed(seed);

    lossOptions.method = pairwiseLossOf(method.id);
    lossOptions.beta = cfg.beta;
    lossOptions.labelSmoothing = cfg.labelSmoothing;
    lossOptions.ipoTokenMean = cfg.ipoTokenMean != 0;
    lossOptions.slicDelta = cfg.slicDelta;
    lossOptions.slicLambda = cfg.slicLambda;

    optimizer = std::make_unique<torch::optim::AdamW>(
        policy->trainableParameters(), torch::optim::AdamWOptions(cfg.lr).weight_decay(0.0));
    causal = method.family == MethodFamily::Causal;
    if (method.outcomeModel) {
        value = withScalarHead(policy);  // the outcome model g, a regression head; 0 before it is fitted
        valueOptimizer = std::make_unique<torch::optim::AdamW>(
            value->parameters(), torch::optim::AdamWOptions(cfg.outcomeLr).weight_decay(0.0));
    }
    for (size_t i = 0; i < setup.ratedResponses.size(); ++i) {
        const RatedResponse& r = setup.ratedResponses[i];
        RatedItem item;
        item.prompt = promptIds(r.prompt);
        item.response = tokenizer->encode(r.response);
        if (r.endedWithEos) item.response.push_back(tokenizer->special().eos);
        if (item.prompt.size() + item.response.size() > static_cast<size_t>(policy->config().maxSeqLen) ||
            !std::isfinite(r.outcome) || !std::isfinite(r.behaviourLogprob)) {
            throw std::runtime_error("rated response " + std::to_string(i + 1) +
                                     (std::isfinite(r.outcome) && std::isfinite(r.behaviourLogprob)
                                          ? " is longer than the model's context"
                                          : " has a non-finite rating or sampling log-probability") +
                                     ": it cannot be weighted against the policy that sampled it");
        }
        item.outcome = r.outcome;
        item.behaviourLogprob = r.behaviourLogprob;
        item.sentences = task.score(task.parsePrompt(r.prompt), r.response).sentences;
        ratedData.push_back(std::move(item));
    }
    if (method.family == MethodFamily::Ppo) {
        if (!cfg.rewardModel.empty()) {
            ppoScorer = std::make_unique<RewardModelJudge>(cfg.rewardModel);
            value = loadModelFile(cfg.rewardModel);  // value head initialised from the reward model
        } else {
            value = withScalarHead(policy);
        }
        valueOptimizer = std::make_unique<torch::optim::AdamW>(
            value->parameters(), torch::optim::AdamWOptions(cfg.lr).weight_decay(0.0));
    }
    nextPairIndex = setup.firstPairIndex;
    if (!setup.resumeFrom.empty()) {
        const ModelFileInfo ck = loadModelInto(setup.resumeFrom, policy, optimizer.get());
        // PPO's value model and the outcome model travel beside the policy.
        if (value && std::filesystem::exists(sideModelPath(setup.resumeFrom))) {
            loadModelInto(sideModelPath(setup.resumeFrom), value, valueOptimizer.get());
            outcomeFitted = true;
        }
        const auto it = ck.counters.find("step");
        step = it == ck.counters.end() ? 0 : it->second;
        const auto pi = ck.counters.find("next_pair_index");
        if (pi != ck.counters.end()) nextPairIndex = std::max(nextPairIndex, pi->second);
        evaluatedAtStart = true;
    }
}

const TaskPrompt& OnlineLoop::Impl::trainPrompt(int64_t pairIndex) const {
    // A fixed pseudo-random walk over the prompt set, reproducible after a resume.
    const uint64_t k = mixSeed(static_cast<uint64_t>(cfg.seed), 3, static_cast<uint64_t>(pairIndex));
    return trainPrompts[k % trainPrompts.size()];
}

TokenIds OnlineLoop::Impl::promptIds(const std::string& prompt) const {
    if (!chat) return tokenizer->promptIds(prompt);
    TokenIds ids;
    // Templates that name their BOS carry it as text; the plain format gets the tokenizer's.
    if (chat->format == ChatFormat::Plain && tokenizer->special().bos >= 0) ids.push_back(tokenizer->special().bos);
    const TokenIds body = tokenizer->encode(chat->apply(prompt));
    ids.insert(ids.end(), body.begin(), body.end());
    return ids;
}

SamplingParams OnlineLoop::Impl::samplingParams() const {
    SamplingParams p;
    p.temperature = cfg.temperature;
    p.topK = static_cast<int>(cfg.topK);
    p.topP = cfg.topP;
    p.maxNewTokens = static_cast<int>(cfg.maxNewTokens);
    return p;
}

PolicySamples OnlineLoop::Impl::samplePolicy(int64_t count, uint64_t salt, const std::atomic_bool& cancel) {
    PolicySamples out;
    std::vector<uint64_t> seeds;
    for (int64_t i = 0; i < count; ++i) {
        const TaskPrompt& p = trainPrompt(nextPairIndex + i);
        out.taskPrompts.push_back(&p);
        out.prompts.push_back(promptIds(p.text));
        seeds.push_back(mixSeed(static_cast<uint64_t>(cfg.seed), static_cast<uint64_t>(nextPairIndex + i), salt));
    }
    nextPairIndex += count;
    policy->eval();
    out.sampled = sampleBatch(policy, out.prompts, samplingParams(), seeds, tokenizer->special().eos,
                              tokenizer->special().pad, &cancel);
    return out;
}

at::Tensor OnlineLoop::Impl::referenceLogits(const SequenceBatch& batch) {
    torch::NoGradGuard noGrad;
    if (reference) return computeLogits(reference, batch.ids, batch.attention, bf16).to(at::kFloat);
    // LoRA: the base model is the policy with its adapters switched off.
    struct AdaptersOff {
        Transformer& model;
        explicit AdaptersOff(Transformer& m) : model(m) { model->setLoraEnabled(false); }
        ~AdaptersOff() { model->setLoraEnabled(true); }
    } off(policy);
    return computeLogits(policy, batch.ids, batch.attention, bf16).to(at::kFloat);
}

at::Tensor OnlineLoop::Impl::referenceLogprobs(const std::vector<TokenIds>& prompts, const std::vector<TokenIds>& responses) {
    torch::NoGradGuard noGrad;
    const SequenceBatch batch = packSequences(prompts, responses, tokenizer->special().pad);
    return sequenceLogprobs(referenceLogits(batch), batch);
}

bool OnlineLoop::Impl::generateRound(const std::atomic_bool& cancel) {
    const auto t0 = Clock::now();
    const int64_t G = cfg.generationBatch;
    std::vector<TokenIds> prompts;
    std::vector<uint64_t> seeds;
    std::vector<const TaskPrompt*> taskPrompts;
    for (int64_t i = 0; i < G; ++i) {
        const int64_t index = nextPairIndex + i;
        const TaskPrompt& p = trainPrompt(index);
        taskPrompts.push_back(&p);
        const TokenIds ids = promptIds(p.text);
        for (uint64_t slot = 0; slot < 2; ++slot) {
            prompts.push_back(ids);
            seeds.push_back(mixSeed(static_cast<uint64_t>(cfg.seed), static_cast<uint64_t>(index), slot + 10));
        }
    }
    const SampledSequences s =
        sampleBatch(policy, prompts, samplingParams(), seeds, tokenizer->special().eos, tokenizer->special().pad, &cancel);
    if (s.cancelled) return false;
    const at::Tensor ref = referenceLogprobs(prompts, s.tokens);
    const auto refA = ref.accessor<float, 1>();

    std::vector<PairRecord> records;
    std::vector<PairForJudging> forJudge;
    for (int64_t i = 0; i < G; ++i) {
        const int64_t index = nextPairIndex + i;
        PairRecord rec;
        rec.pairIndex = index;
        rec.generatedAtStep = step;
        rec.prompt = taskPrompts[i]->text;
        Candidate cand;
        cand.taskPrompt = taskPrompts[i];
        cand.prompt = prompts[2 * i];
        cand.generatedAt = step;
        for (int slot = 0; slot < 2; ++slot) {
            const size_t k = static_cast<size_t>(2 * i + slot);
            GeneratedResponse& r = slot == 0 ? rec.a : rec.b;
            r.text = tokenizer->decode(s.tokens[k]);
            r.tokenCount = static_cast<int64_t>(s.tokens[k].size());
            r.endedWithEos = s.endedWithEos[k];
            r.policyLogprob = s.policyLogprob[k];
            r.samplingLogprob = s.samplingLogprob[k];
            r.refLogprob = refA[static_cast<int64_t>(k)];
            r.goldReward = task.score(*taskPrompts[i], r.text).total();
            (slot == 0 ? cand.a : cand.b) = s.tokens[k];
            (slot == 0 ? cand.refA : cand.refB) = r.refLogprob;
            (slot == 0 ? cand.goldA : cand.goldB) = *r.goldReward;
            (slot == 0 ? cand.samplingA : cand.samplingB) = r.samplingLogprob;
        }
        forJudge.push_back({index, rec.prompt, rec.a.text, rec.b.text, rec.a.policyLogprob, rec.b.policyLogprob,
                            rec.a.refLogprob, rec.b.refLogprob, step, rec.a.goldReward, rec.b.goldReward});
        awaiting.emplace(index, std::move(cand));
        records.push_back(std::move(rec));
    }
    nextPairIndex += G;
    if (observer) observer->pairsGenerated(records);
    judge->submit(forJudge);
    generationSeconds += secondsSince(t0);
    return true;
}

// Moves judged pairs into the training buffer; returns how many are trainable.
int OnlineLoop::Impl::absorbJudgements() {
    std::vector<Judgement> judged = judge->collect();
    if (judged.empty()) return 0;
    if (observer) observer->pairsJudged(judged);
    int trainable = 0;
    for (const Judgement& j : judged) {
        auto it = awaiting.find(j.pairIndex);
        if (it == awaiting.end()) continue;
        Candidate c = std::move(it->second);
        awaiting.erase(it);
        ++judgedSinceStep;
        if (causal) {
            // A person's ratings, or the task's true reward as the outcome.
            const bool byTask = j.source == LabelSource::Task;
            if (!(j.ratingA && j.ratingB) && !byTask) {
                ++untrainableSinceStep;
                continue;  // a choice without ratings: stored, no outcome to train on
            }
            for (int slot = 0; slot < 2; ++slot) {
                RatedItem r;
                r.prompt = c.prompt;
                r.response = slot == 0 ? c.a : c.b;
                r.outcome = slot == 0 ? (j.ratingA ? *j.ratingA : c.goldA) : (j.ratingB ? *j.ratingB : c.goldB);
                r.behaviourLogprob = slot == 0 ? c.samplingA : c.samplingB;
                r.sentences = task.score(*c.taskPrompt, tokenizer->decode(r.response)).sentences;
                r.generatedAt = c.generatedAt;
                r.pairIndex = j.pairIndex;
                ratedReady.push_back(std::move(r));
            }
            trainable += 2;
            continue;
        }
        if (j.choice != Choice::A && j.choice != Choice::B) {
            ++untrainableSinceStep;
            continue;  // stored, not trained
        }
        const bool aWins = j.choice == Choice::A;
        TrainablePair t;
        t.index = j.pairIndex;
        t.prompt = std::move(c.prompt);
        t.chosen = aWins ? std::move(c.a) : std::move(c.b);
        t.rejected = aWins ? std::move(c.b) : std::move(c.a);
        t.refChosen = aWins ? c.refA : c.refB;
        t.refRejected = aWins ? c.refB : c.refA;
        t.generatedAt = c.generatedAt;
        if (c.goldA != c.goldB) t.agreesWithGold = aWins == (c.goldA > c.goldB);
        ready.push_back(std::move(t));
        ++trainable;
    }
    return trainable;
}

void OnlineLoop::Impl::report(const std::vector<std::pair<std::string, double>>& metrics) {
    const int64_t t = nowMs();
    std::vector<MetricSample> samples;
    samples.reserve(metrics.size());
    for (const auto& [name, value] : metrics) samples.push_back({step, name, value, t});
    if (observer) observer->metricsLogged(samples);
}

StepOutcome OnlineLoop::Impl::halt(const std::string& message) {
    lastError = message;
    optimizer->zero_grad();
    if (valueOptimizer) valueOptimizer->zero_grad();
    return StepOutcome::Halted;
}

double OnlineLoop::Impl::clipGradients(Transformer& model) const {
    const double maxNorm = cfg.maxGradNorm > 0 ? cfg.maxGradNorm : std::numeric_limits<double>::infinity();
    return torch::nn::utils::clip_grad_norm_(model->parameters(), maxNorm);
}

double OnlineLoop::Impl::optimizerStep(torch::optim::AdamW& opt) const {
    const double warmup = static_cast<double>(std::max<int64_t>(1, cfg.warmupSteps));
    const double lr = cfg.lr * std::min(1.0, static_cast<double>(step + 1) / warmup);
    for (auto& group : opt.param_groups()) static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
    opt.step();
    return lr;
}

StepOutcome OnlineLoop::Impl::trainStep(std::vector<TrainablePair> batch, const std::atomic_bool& cancel) {
    const auto t0 = Clock::now();
    const size_t N = batch.size();

    std::vector<TokenIds> prompts, responses;
    std::vector<float> refC, refR;
    std::vector<int64_t> indices;
    double agree = 0, agreeCount = 0, staleness = 0;
    for (int pass = 0; pass < 2; ++pass) {
        for (const TrainablePair& p : batch) {
            prompts.push_back(p.prompt);
            responses.push_back(pass == 0 ? p.chosen : p.rejected);
        }
    }
    for (const TrainablePair& p : batch) {
        refC.push_back(static_cast<float>(p.refChosen));
        refR.push_back(static_cast<float>(p.refRejected));
        if (p.online) indices.push_back(p.index);
        staleness += static_cast<double>(step - p.generatedAt);
        if (p.agreesWithGold) {
            agree += *p.agreesWithGold ? 1.0 : 0.0;
            agreeCount += 1.0;
        }
    }
    const SequenceBatch seqs = packSequences(prompts, responses, tokenizer->special().pad);
    policy->train();
    optimizer->zero_grad();
    const at::Tensor logps =
        sequenceLogprobs(computeLogits(policy, seqs.ids, seqs.attention, bf16).to(at::kFloat), seqs);
    const int64_t n = static_cast<int64_t>(N);
    std::vector<float> tokC, tokR;
    for (const TrainablePair& p : batch) {
        tokC.push_back(static_cast<float>(std::max<size_t>(1, p.chosen.size())));
        tokR.push_back(static_cast<float>(std::max<size_t>(1, p.rejected.size())));
    }
    PairLogps lp{logps.narrow(0, 0, n), logps.narrow(0, n, n), at::tensor(refC), at::tensor(refR),
                 at::tensor(tokC), at::tensor(tokR)};
    at::Tensor dpMask;
    if (method.id == Method::SailDp) dpMask = redrawDatasetPreferences(lp);
    LossOutput out = pairwiseLoss(lossOptions, lp);
    addSailTerms(lp, batch, out);
    if (dpMask.defined() && dpMask.sum().item<double>() > 0 && cfg.sailRho > 0) {
        const at::Tensor extra = selfJudgedSquare(cfg.sailRho, at::log_sigmoid(cfg.beta * logRatioMargin(lp)), dpMask);
        out.metrics.push_back({"sail/extra_loss", extra.item<double>()});
        out.loss = out.loss + extra;
    }
    const double lossValue = out.metrics.front().second;
    if (!std::isfinite(lossValue)) {
        return halt("non-finite loss (" + std::to_string(lossValue) + ") at step " + std::to_string(step + 1) +
                    "; no update was applied and the last checkpoint is kept");
    }
    out.loss.backward();
    const double gradNorm = clipGradients(policy);
    if (!std::isfinite(gradNorm)) {
        return halt("non-finite gradient norm at step " + std::to_string(step + 1) +
                    "; no update was applied and the last checkpoint is kept");
    }
    const double lr = optimizerStep(*optimizer);
    ++step;

    const double stepSeconds = secondsSince(t0) + generationSeconds;
    out.metrics.push_back({"grad_norm", gradNorm});
    out.metrics.push_back({"learning_rate", lr});
    if (agreeCount > 0) out.metrics.push_back({"gold/label_agreement", agree / agreeCount});
    out.metrics.push_back({"buffer/staleness", staleness / static_cast<double>(N)});
    if (method.id == Method::SailDp) {
        out.metrics.push_back({"sail/routed", lastDpRouted});
        out.metrics.push_back({"sail/swapped", lastDpSwapped});
    }
    // Ties, "both bad" and skips are stored but not trained on: when the
    // policy's two samples become equally good (or identical), this share
    // rises and each step needs more generation.
    if (judgedSinceStep > 0) {
        out.metrics.push_back({"judge/untrainable_share",
                               static_cast<double>(untrainableSinceStep) / static_cast<double>(judgedSinceStep)});
    }
    judgedSinceStep = untrainableSinceStep = 0;
    out.metrics.push_back({"time/step_seconds", stepSeconds});
    out.metrics.push_back({"time/generation_share", stepSeconds > 0 ? generationSeconds / stepSeconds : 0.0});
    generationSeconds = 0;
    // Dataset pairs are not this run's pairs: only generated ones are marked.
    if (observer && !indices.empty()) observer->pairsTrained(step, indices);
    report(out.metrics);
    lastMetrics = out.metrics;

    if (cfg.evalEvery > 0 && step % cfg.evalEvery == 0) evaluate(cancel);
    if ((cfg.checkpointEvery > 0 && step % cfg.checkpointEvery == 0) || step == cfg.steps) checkpoint();
    return StepOutcome::Trained;
}

StepOutcome OnlineLoop::Impl::runStep(const std::atomic_bool& cancel) {
    if (step >= cfg.steps) return StepOutcome::Finished;
    if (!evaluatedAtStart) {
        evaluatedAtStart = true;
        if (cfg.evalEvery > 0) evaluate(cancel);
    }
    if (method.family == MethodFamily::Ppo) return ppoStep(cancel);
    if (causal) return causalStep(cancel);
    std::vector<TrainablePair> batch;
    size_t online = static_cast<size_t>(cfg.batchSize);
    if (mixesDatasetPairs()) {
        // Per example: a policy pair with probability p (g), else a dataset pair.
        std::mt19937_64 rng(mixSeed(static_cast<uint64_t>(cfg.seed), 0x5A12, static_cast<uint64_t>(step)));
        std::binomial_distribution<int64_t> routed(cfg.batchSize, cfg.sailProb);
        online = static_cast<size_t>(routed(rng));
    } else if (!setup.offlinePairs.empty()) {
        online = 0;
    }
    if (const auto waiting = collectOnlinePairs(online, batch, cancel)) return *waiting;
    if (cancel.load()) return StepOutcome::Cancelled;
    std::vector<TrainablePair> dataset = drawOfflineBatch(static_cast<size_t>(cfg.batchSize) - online);
    batch.insert(batch.end(), std::make_move_iterator(dataset.begin()), std::make_move_iterator(dataset.end()));
    return trainStep(std::move(batch), cancel);
}

std::optional<StepOutcome> OnlineLoop::Impl::generateUntil(const std::function<size_t()>& readyCount, size_t count,
                                                         const std::atomic_bool& cancel, const std::string& barrenMessage) {
    const size_t maxOutstanding = static_cast<size_t>(2 * cfg.generationBatch);
    for (;;) {
        if (cancel.load()) return StepOutcome::Cancelled;
        const int usable = absorbJudgements();
        if (readyCount() >= count) return std::nullopt;
        if (judge->outstanding() >= maxOutstanding) return StepOutcome::WaitingForLabels;
        if (!generateRound(cancel)) return StepOutcome::Cancelled;
        const int after = absorbJudgements();
        barrenRounds = (usable + after > 0 || judge->outstanding() > 0) ? 0 : barrenRounds + 1;
        if (barrenRounds >= kMaxBarrenRounds) {
            barrenRounds = 0;
            return halt(barrenMessage);
        }
        if (readyCount() >= count) return std::nullopt;
    }
}

std::optional<StepOutcome> OnlineLoop::Impl::collectOnlinePairs(size_t count, std::vector<TrainablePair>& batch,
                                                               const std::atomic_bool& cancel) {
    if (count == 0) return std::nullopt;
    if (const auto waiting = generateUntil([this] { return ready.size(); }, count, cancel,
                                           "the judge preferred neither response in " + std::to_string(kMaxBarrenRounds) +
                                               " rounds (identical or equally scored responses); try a higher temperature")) {
        return waiting;
    }
    batch.assign(std::make_move_iterator(ready.begin()), std::make_move_iterator(ready.begin() + static_cast<long>(count)));
    ready.erase(ready.begin(), ready.begin() + static_cast<long>(count));
    return std::nullopt;
}

void OnlineLoop::Impl::evaluate(const std::atomic_bool& cancel) {
    torch::NoGradGuard noGrad;
    const int64_t total = static_cast<int64_t>(evalPrompts.size());
    const int64_t chunk = 64;
    double k1 = 0, k3 = 0, exact = 0, entropy = 0, gold = 0, tokens = 0, eos = 0;
    for (int64_t start = 0; start < total; start += chunk) {
        if (cancel.load()) return;
        const int64_t count = std::min(chunk, total - start);
        std::vector<TokenIds> prompts;
        std::vector<uint64_t> seeds;
        for (int64_t i = start; i < start + count; ++i) {
            prompts.push_back(promptIds(evalPrompts[i].text));
            seeds.push_back(mixSeed(static_cast<uint64_t>(cfg.seed) ^ 0xE7A1ull, static_cast<uint64_t>(step),
                                    static_cast<uint64_t>(i)));
        }
        const SampledSequences s = sampleBatch(policy, prompts, samplingParams(), seeds, tokenizer->special().eos,
                                               tokenizer->special().pad, &cancel);
        if (s.cancelled) return;
        const SequenceBatch batch = packSequences(prompts, s.tokens, tokenizer->special().pad);
        const KlPerSequence kl =
            klPerSequence(computeLogits(policy, batch.ids, batch.attention, bf16).to(at::kFloat),
                          referenceLogits(batch), batch);
        k1 += kl.k1.sum().item<double>();
        k3 += kl.k3.sum().item<double>();
        exact += kl.exact.sum().item<double>();
        entropy += kl.entropy.sum().item<double>();
        for (int64_t i = 0; i < count; ++i) {
            gold += task.score(evalPrompts[start + i], tokenizer->decode(s.tokens[i])).total();
            tokens += static_cast<double>(s.tokens[i].size());
            eos += s.endedWithEos[i] ? 1.0 : 0.0;
        }
    }
    const double n = static_cast<double>(total);
    const double chosen = cfg.klEstimator == "k1" ? k1 : cfg.klEstimator == "exact" ? exact : k3;
    report({{"objective/kl", chosen / n},
            {"kl/k1", k1 / n},
            {"kl/k3", k3 / n},
            {"kl/exact", exact / n},
            {"objective/entropy", entropy / n},
            {"gold/reward", gold / n},
            {"eval/response_tokens", tokens / n},
            {"eval/eos_rate", eos / n}});
}

std::string OnlineLoop::Impl::checkpoint() {
    const std::string path = checkpointPath(setup.checkpointDir, step);
    ModelFileInfo info = modelInfo;
    info.counters = {{"step", step}, {"next_pair_index", nextPairIndex}};
    saveModelFile(path, policy, info, optimizer.get());
    if (value) {
        ModelFileInfo side = modelInfo;
        side.counters = info.counters;
        saveModelFile(sideModelPath(path), value, side, valueOptimizer.get());
    }
    if (observer) observer->checkpointSaved({step, path, lastMetrics});
    return path;
}

OnlineLoop::OnlineLoop(LoopSetup setup, std::unique_ptr<Judge> judge, LoopObserver* observer)
    : d(std::make_unique<Impl>(std::move(setup), std::move(judge), observer)) {}

OnlineLoop::~OnlineLoop() = default;

StepOutcome OnlineLoop::step(const std::atomic_bool& cancel) {
    return d->runStep(cancel);
}

void OnlineLoop::evaluate(const std::atomic_bool& cancel) {
    d->evaluate(cancel);
}

void OnlineLoop::collectJudgements() {
    d->absorbJudgements();
}

std::string OnlineLoop::checkpoint() {
    return d->checkpoint();
}

int64_t OnlineLoop::currentStep() const {
    return d->step;
}

int64_t OnlineLoop::totalSteps() const {
    return d->cfg.steps;
}

const std::string& OnlineLoop::lastError() const {
    return d->lastError;
}

Judge& OnlineLoop::judge() {
    return *d->judge;
}

int64_t OnlineLoop::parameterCount() const {
    return d->policy->config().parameterCount();
}

}  // namespace preflab
