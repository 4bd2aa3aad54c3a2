#!/usr/bin/env python3
"""The Python peer of preflab-bench: the plain PyTorch loop a researcher would
write instead of PrefLab, doing the same work with the same shapes.

  DPO training step   10.8 M model (d384 x 6 layers), 8 pairs x 128 tokens,
                      AdamW, reference log-probs precomputed; fp32, and bf16
                      autocast with --bf16
  KV-cache sampling   d128 x 4 layers, 8 prompts x (5 + 64) tokens; and the
                      built-in model's shape, 16 x (24 + 80); EOS off
  online DPO step     built-in model: 8 prompts x 2 samples of up to 80 new
                      tokens with a KV cache, both scored by the toy task's
                      rule (a port of core/task/toy_world_task.cpp), the
                      better one chosen, reference log-probs, one DPO update
  offline DPO, HH     10.8 M model (context 192), 32 stored pairs shaped like
                      HH-RLHF (122 prompt + 2 x 47 response tokens), batch 8,
                      two epochs, as TRL's DPOTrainer does by default: chosen
                      and rejected concatenated into one batch, each with its
                      own copy of the prompt (padding_free off), the
                      reference's forward recomputed at every step
                      (precompute_ref_log_probs off), sigmoid loss, beta 0.1

The model mirrors PrefLab's GPT-2 layout: learned positions, pre-LayerNorm,
one fused qkv projection, tanh-GELU, tied head; byte tokens with BOS 256,
EOS 257, PAD 258 and SEP 259. Run by `preflab-bench --peer`, once as-is and
once with PrefLab's runtime settings (the environment it passes, plus
--tuned: the thread count and the allocator settings PrefLab uses). Prints
one JSON object: each figure's repetitions in seconds (or tokens/s).
Needs Debian's python3-torch; nothing else.
"""
import argparse
import ctypes
import json
import math
import random
import statistics
import sys
import time

import torch
import torch.nn.functional as F

BOS, EOS, PAD, SEP, VOCAB = 256, 257, 258, 259, 260


class Block(torch.nn.Module):
    def __init__(self, d, heads, ff):
        super().__init__()
        self.heads = heads
        self.ln1 = torch.nn.LayerNorm(d)
        self.qkv = torch.nn.Linear(d, 3 * d)
        self.attn_out = torch.nn.Linear(d, d)
        self.ln2 = torch.nn.LayerNorm(d)
        self.fc = torch.nn.Linear(d, ff)
        self.proj = torch.nn.Linear(ff, d)

    def forward(self, x, bias, cache=None):
        B, T, D = x.shape
        H, Dh = self.heads, D // self.heads
        q, k, v = self.qkv(self.ln1(x)).view(B, T, 3, H, Dh).permute(2, 0, 3, 1, 4)
        if cache is not None:
            if "k" in cache:
                k = torch.cat([cache["k"], k], 2)
                v = torch.cat([cache["v"], v], 2)
            cache["k"], cache["v"] = k, v
        att = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(Dh) + bias, -1) @ v
        x = x + self.attn_out(att.transpose(1, 2).reshape(B, T, D))
        return x + self.proj(F.gelu(self.fc(self.ln2(x)), approximate="tanh"))


class Model(torch.nn.Module):
    def __init__(self, d, layers, heads, ff, ctx):
        super().__init__()
        self.tokens = torch.nn.Embedding(VOCAB, d)
        self.positions = torch.nn.Embedding(ctx, d)
        self.blocks = torch.nn.ModuleList([Block(d, heads, ff) for _ in range(layers)])
        self.ln_final = torch.nn.LayerNorm(d)
        for name, p in self.named_parameters():
            if "ln" not in name:
                torch.nn.init.normal_(p, 0.0, 0.02) if p.dim() > 1 else torch.nn.init.zeros_(p)

    def forward(self, ids, mask, caches=None, start=None):
        return self.head(self.hidden(ids, mask, caches, start))

    def head(self, h):
        """The tied head, in fp32 (as PrefLab keeps it under bf16 autocast)."""
        return h.float() @ self.tokens.weight.float().t()

    def hidden(self, ids, mask, caches=None, start=None):
        """ids, mask [B,T]; with caches (one dict per block) the new tokens
        follow the cached ones, whose key mask is `start` [B,S]."""
        B, T = ids.shape
        keys = mask if start is None else torch.cat([start, mask], 1)
        S = keys.shape[1]
        pos = (keys.cumsum(1) - 1).clamp_min(0)[:, S - T:]
        causal = torch.ones(T, S, dtype=torch.bool).tril(S - T)
        allowed = causal & keys.bool()[:, None, None, :]
        allowed |= torch.eye(T, S, dtype=torch.bool).roll(S - T, 1)
        bias = torch.zeros(B, 1, T, S).masked_fill(~allowed, -1e9)
        x = self.tokens(ids) + self.positions(pos)
        for i, b in enumerate(self.blocks):
            x = b(x, bias, None if caches is None else caches[i])
        return self.ln_final(x)


def pack(prompts, responses):
    """A right-padded batch: ids, mask, and which positions predict a response token."""
    rows = [p + r for p, r in zip(prompts, responses)]
    T = max(len(r) for r in rows)
    ids = torch.full((len(rows), T), PAD, dtype=torch.long)
    mask = torch.zeros(len(rows), T, dtype=torch.long)
    target = torch.zeros(len(rows), T - 1)
    for i, (p, r) in enumerate(zip(prompts, responses)):
        ids[i, : len(p) + len(r)] = torch.tensor(p + r)
        mask[i, : len(p) + len(r)] = 1
        target[i, len(p) - 1 : len(p) + len(r) - 1] = 1
    return ids, mask, target


def sequence_logprobs(model, batch, bf16=False):
    """Sum of log p(response | prompt) per row of a packed batch; under bf16
    autocast the body runs in bf16, the head and log-softmax in fp32."""
    ids, mask, target = batch
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        h = model.hidden(ids, mask)
    logp = torch.log_softmax(model.head(h)[:, :-1], -1).gather(-1, ids[:, 1:, None]).squeeze(-1)
    return (logp * target).sum(1)


# Sequence log-probabilities (policy chosen, policy rejected, reference chosen,
# reference rejected) on which both sides compute DPO's loss (beta 0.1); the
# same numbers are in bench/peer_comparison.cpp.
LOSS_CHECK = ([-10.0, -12.5, -30.25], [-11.0, -12.0, -29.0], [-10.5, -12.0, -31.0], [-10.8, -12.2, -28.5])


def dpo_loss(pc, pr, rc, rr, beta=0.1):
    return -F.logsigmoid(beta * ((pc - rc) - (pr - rr))).mean()


@torch.no_grad()
def sample(model, prompts, new_tokens, eos=True):
    """Left-padded batch, KV cache, inverse-CDF draws at temperature 1."""
    model.eval()
    B, L = len(prompts), max(len(p) for p in prompts)
    ids = torch.full((B, L), PAD, dtype=torch.long)
    mask = torch.zeros(B, L, dtype=torch.long)
    for i, p in enumerate(prompts):
        ids[i, L - len(p):] = torch.tensor(p)
        mask[i, L - len(p):] = 1
    caches = [{} for _ in model.blocks]
    logits = model(ids, mask, caches)[:, -1]
    seen = mask
    out = [[] for _ in range(B)]
    done = [False] * B
    for step in range(new_tokens):
        probs = torch.softmax(logits, -1)
        nxt = torch.multinomial(probs, 1)
        for i in range(B):
            if not done[i]:
                t = int(nxt[i, 0])
                out[i].append(t)
                done[i] = eos and t == EOS
        if all(done) or step + 1 == new_tokens:
            break  # no forward for a token that will not be sampled
        ones = torch.ones(B, 1, dtype=torch.long)
        logits = model(nxt, ones, caches, seen)[:, -1]
        seen = torch.cat([seen, ones], 1)
    model.train()
    return out


# The toy task's true reward, ported from core/task/toy_world_task.cpp.
ANIMALS = ["cat", "dog", "fox", "owl", "bear", "duck", "frog", "horse"]
COLORS = ["red", "brown", "white", "black", "grey", "small"]
PLACES = ["forest", "garden", "barn", "pond", "meadow", "house"]
FOODS = ["apples", "fish", "seeds", "honey", "carrots", "bread"]
TOYS = ["ball", "stick", "rope", "leaf"]
KIND = ["friendly", "gentle", "lovely", "kind", "happy"]
NEUTRAL = ["quiet", "big", "young", "old", "fast"]
UNKIND = ["grumpy", "nasty", "lazy", "awful", "mean"]


def split_sentences(text):
    out, cur = [], ""
    for c in text:
        cur += c
        if c in ".!?":
            if cur.strip(" "):
                out.append(cur.lstrip(" "))
            cur = ""
    if cur.strip(" "):
        out.append(cur.lstrip(" "))
    return out


def parse_sentence(s):
    """(kind, animal, kind words, unkind words)"""
    if s in ("Sure!", "Thanks for asking."):
        return "opener", "", 1, 0
    if s in ("Ugh, fine.", "Whatever."):
        return "opener", "", 0, 1
    if not s.endswith("."):
        return "malformed", "", 0, 0
    w = s[:-1].split()
    if len(w) < 4 or w[0] != "The" or w[1] not in ANIMALS:
        return "malformed", "", 0, 0
    if len(w) == 4 and w[2] == "is" and w[3] in KIND + NEUTRAL + UNKIND:
        return "is", w[1], int(w[3] in KIND), int(w[3] in UNKIND)
    if len(w) == 6 and w[2:5] == ["lives", "in", "the"] and w[5] in PLACES:
        return "lives", w[1], 0, 0
    if len(w) == 4 and w[2] == "likes" and w[3] in FOODS:
        return "likes", w[1], 0, 0
    if len(w) == 6 and w[2:5] == ["plays", "with", "the"] and w[5] in TOYS:
        return "plays", w[1], 0, 0
    return "malformed", "", 0, 0


def task_reward(animal, question, response):
    total, mentioned, answered, content, seen = 0.0, False, False, 0, set()
    for s in split_sentences(response):
        if s in seen:
            total -= 1.0
        seen.add(s)
        kind, a, good, bad = parse_sentence(s)
        if kind == "malformed":
            total -= 1.5
            continue
        total += 0.5 * good - 0.75 * bad
        if kind == "opener":
            continue
        content += 1
        if a == animal:
            mentioned = True
            answered |= (question, kind) in (("where", "lives"), ("likes", "likes"))
        else:
            total -= 0.5
    total += 1.0 if mentioned else -1.0
    total += 0.5 if answered else 0.0
    total -= 0.3 * max(0, content - 2)
    return total


def timed(fn, reps):
    fn()  # warm-up
    out = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: leave as is)")
    ap.add_argument("--tuned", action="store_true", help="PrefLab's allocator settings (mallopt)")
    ap.add_argument("--small-threads", type=int, default=0,
                    help="threads for the work on small models (sampling, the online step); 0: as for the rest")
    ap.add_argument("--bf16", action="store_true", help="also time the DPO step under bf16 autocast")
    a = ap.parse_args()
    if a.tuned:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-4, 0)  # M_MMAP_MAX
        libc.mallopt(-1, 2**31 - 1)  # M_TRIM_THRESHOLD
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    random.seed(1)
    figures = {"threads": torch.get_num_threads(), "torch": torch.__version__}

    # DPO training step, 10.8 M model.
    big = Model(384, 6, 6, 1536, 128)
    opt = torch.optim.AdamW(big.parameters(), lr=1e-4)
    batch = pack([[65 + i % 7] * 32 for i in range(16)], [[70 + i % 5] * 96 for i in range(16)])
    zeros = torch.zeros(8)

    def dpo_step(bf16):
        opt.zero_grad()
        lp = sequence_logprobs(big, batch, bf16)
        dpo_loss(lp[:8], lp[8:], zeros, zeros).backward()
        opt.step()

    figures["dpo_step_s"] = timed(lambda: dpo_step(False), a.reps)
    if a.bf16:
        figures["dpo_step_bf16_s"] = timed(lambda: dpo_step(True), a.reps)

    # KV-cache sampling.
    if a.small_threads > 0:
        torch.set_num_threads(a.small_threads)
    d128 = Model(128, 4, 4, 512, 160)
    p5 = [[BOS, 65, 66, 67, SEP]] * 8
    figures["sampling_d128x4_tok_s"] = [8 * 64 / s for s in timed(lambda: sample(d128, p5, 64, eos=False), a.reps)]
    builtin = Model(96, 4, 4, 384, 160)
    p24 = [[BOS] + [65 + i % 26 for i in range(22)] + [SEP]] * 16
    figures["sampling_builtin_tok_s"] = [16 * 80 / s for s in timed(lambda: sample(builtin, p24, 80, eos=False), a.reps)]

    # Online DPO step on the built-in model.
    reference = Model(96, 4, 4, 384, 160)
    reference.load_state_dict(builtin.state_dict())
    reference.eval()
    opt2 = torch.optim.AdamW(builtin.parameters(), lr=5e-5)
    rng = random.Random(3)
    asks = []
    for _ in range(64):
        animal, kind = rng.choice(ANIMALS), rng.choice(["about", "where", "likes", "describe"])
        text = {"about": f"Tell me about the {rng.choice(COLORS)} {animal}.", "where": f"Where does the {animal} live?",
                "likes": f"What does the {animal} like?", "describe": f"Describe the {rng.choice(COLORS)} {animal}."}[kind]
        asks.append((animal, kind, [BOS] + list(text.encode()) + [SEP]))
    cursor = [0]
    sampled = []

    def online_step():
        batch = [asks[(cursor[0] + i) % len(asks)] for i in range(8)]
        cursor[0] += 8
        samples = sample(builtin, [b[2] for b in batch for _ in range(2)], 80)
        sampled.append(sum(len(s) for s in samples))
        chosen_p, chosen, rejected = [], [], []
        for i, (animal, kind, ids) in enumerate(batch):
            a_, b_ = samples[2 * i], samples[2 * i + 1]
            text = lambda r: bytes(t for t in r if t < 256).decode("utf-8", "replace")
            ra, rb = task_reward(animal, kind, text(a_)), task_reward(animal, kind, text(b_))
            chosen_p.append(ids)
            chosen.append(a_ if ra >= rb else b_)
            rejected.append(b_ if ra >= rb else a_)
        pairs = pack(chosen_p * 2, chosen + rejected)
        with torch.no_grad():
            ref = sequence_logprobs(reference, pairs)
        opt2.zero_grad()
        lp = sequence_logprobs(builtin, pairs)
        dpo_loss(lp[:8], lp[8:], ref[:8], ref[8:]).backward()
        opt2.step()

    figures["online_dpo_step_s"] = timed(online_step, a.reps)

    # Offline DPO on HH-shaped pairs, as TRL's DPOTrainer does by default.
    if a.small_threads > 0 and a.threads > 0:
        torch.set_num_threads(a.threads)
    hh = Model(384, 6, 6, 1536, 192)
    hh_ref = Model(384, 6, 6, 1536, 192)
    hh_ref.load_state_dict(hh.state_dict())
    hh_ref.eval()
    hh_opt = torch.optim.AdamW(hh.parameters(), lr=5e-5)
    words = [rng.randrange(97, 123) for _ in range(32 * 3 * 120)]
    hh_pairs = [([BOS] + words[360 * i: 360 * i + 120] + [SEP], words[360 * i + 120: 360 * i + 166] + [EOS],
                 words[360 * i + 240: 360 * i + 286] + [EOS]) for i in range(32)]
    hh_losses = []

    def hh_two_epochs():
        for _ in range(2):
            for start in range(0, 32, 8):
                b = hh_pairs[start: start + 8]
                batch = pack([p for p, _, _ in b] * 2, [c for _, c, _ in b] + [r for _, _, r in b])
                with torch.no_grad():
                    ref = sequence_logprobs(hh_ref, batch)
                hh_opt.zero_grad()
                lp = sequence_logprobs(hh, batch)
                loss = dpo_loss(lp[:8], lp[8:], ref[:8], ref[8:])
                loss.backward()
                hh_opt.step()
                hh_losses.append(loss.item())

    figures["hh_offline_dpo_s"] = timed(hh_two_epochs, a.reps)
    figures["hh_offline_dpo_first_loss"] = hh_losses[0]  # policy = reference: ln 2
    # The loss on fixed log-probabilities, for preflab-bench to compare with its own.
    fixed = [torch.tensor(v, dtype=torch.float64) for v in LOSS_CHECK]
    figures["dpo_loss_check"] = dpo_loss(*fixed).item()
    figures["online_tokens_per_step"] = sum(sampled) / len(sampled)  # the warm-up step included
    for k, v in list(figures.items()):
        if isinstance(v, list):
            figures[k] = {"runs": v, "median": statistics.median(v), "min": min(v), "max": max(v)}
    print(json.dumps(figures))


if __name__ == "__main__":
    sys.exit(main())
