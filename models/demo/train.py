"""Trains the demo model on the prepared documents and exports the Hugging Face layout checkpoint.

Run (after prepare_data.py and train_tokenizer.py), from models/demo:
  nohup nice -n 10 python3 train.py > work/train.log 2>&1 &
Every --save-every steps it writes work/ckpt.pt (resumable: rerun the same command) and exports
config.json + model.safetensors (BF16, HF names) here, so a usable model exists early.

Reproducibility: torch.manual_seed(SEED); the data order is a fixed function of SEED and the epoch
(documents shuffled with random.Random(SEED + epoch), each text document prefixed with BOS, the
stream cut into windows of seq_len + 1 tokens, in order). 1 thread.
Schedule: AdamW (0.9, 0.95), weight decay 0.1 on matrices, linear warmup then cosine to 10%,
grad clip 1.0; sequence length 256 for the first 85% of the steps, then 512 (same tokens per step)
so that positions up to 511 (the perplexity window) are trained.
Auxiliary-loss-free balancing (DeepSeek-V3): after each step every MoE layer's
e_score_correction_bias[e] += BIAS_UPDATE * sign(mean load - load[e]), load counted over that step.
"""
import argparse
import json
import math
import os
import random
import time

import torch
import torch.nn.functional as F

import safetensors_io
from bpe_tokenizer import Tokenizer
from chat_format import BOS
from model import Config, DeepseekV3, hf_config

HERE = os.path.dirname(os.path.abspath(__file__))
WORK = os.path.join(HERE, "work")
SEED = 1234
BIAS_UPDATE = 4e-3


def load_documents(tok):
    cache = os.path.join(WORK, "train_docs_tokens.pt")
    if os.path.exists(cache):
        return torch.load(cache)
    docs = []
    with open(os.path.join(WORK, "train_docs.jsonl"), encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            text = d["text"] if d["kind"] == "chat" else BOS + d["text"]
            docs.append(torch.tensor(tok.encode(text), dtype=torch.int16))
    torch.save(docs, cache)
    return docs


def epoch_windows(docs, epoch, window):
    order = list(range(len(docs)))
    random.Random(SEED + epoch).shuffle(order)
    stream = torch.cat([docs[i] for i in order]).long()
    n = len(stream) // window
    return stream[:n * window].view(n, window)


def batches(docs, tokens_per_step, seq_len_at):
    """Yields (step, [b, seq+1] tokens) forever, deterministic."""
    epoch, row, step = 0, 0, 0
    cache = {}
    while True:
        seq = seq_len_at(step)
        key = (epoch, seq)
        if key not in cache:
            cache = {key: epoch_windows(docs, epoch, seq + 1)}
        rows = cache[key]
        b = tokens_per_step // seq
        if row + b > len(rows):
            epoch, row = epoch + 1, 0
            continue
        yield step, rows[row:row + b]
        row += b
        step += 1


def export(model, path_dir):
    sd = {}
    for k, v in model.hf_state_dict().items():
        sd[k] = v.float() if k.endswith("e_score_correction_bias") else v.to(torch.bfloat16)
    safetensors_io.save(sd, os.path.join(path_dir, "model.safetensors.tmp"))
    os.replace(os.path.join(path_dir, "model.safetensors.tmp"), os.path.join(path_dir, "model.safetensors"))
    with open(os.path.join(path_dir, "config.json"), "w") as f:
        json.dump(hf_config(model.cfg), f, indent=2)
        f.write("\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=160)
    ap.add_argument("--tokens-per-step", type=int, default=1024)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--save-every", type=int, default=20)
    args = ap.parse_args()
    torch.set_num_threads(1)  # 2 threads were no faster on the shared, saturated 2 cores
    torch.manual_seed(SEED)
    os.makedirs(WORK, exist_ok=True)

    tok = Tokenizer(os.path.join(HERE, "tokenizer.json"))
    docs = load_documents(tok)
    n_tokens = sum(len(d) for d in docs)
    cfg = Config(vocab_size=len(tok.id_to_token))
    model = DeepseekV3(cfg)
    model.init_weights()
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95), eps=1e-8)
    start = 0
    ckpt_path = os.path.join(WORK, "ckpt.pt")
    if os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        torch.set_rng_state(ck["rng"])
        start = ck["step"]
        print(f"resumed at step {start}", flush=True)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"params {n_params}; corpus {n_tokens} tokens in {len(docs)} documents; "
          f"{args.steps} steps x {args.tokens_per_step} tokens", flush=True)

    long_from = int(args.steps * 0.85)
    seq_len_at = lambda s: 256 if s < long_from else 512
    lr_at = lambda s: args.lr * (s + 1) / args.warmup if s < args.warmup else \
        args.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * (s - args.warmup) / (args.steps - args.warmup))))
    moe = model.moe_layers()
    t0 = time.time()
    for step, batch in batches(docs, args.tokens_per_step, seq_len_at):
        if step >= args.steps:
            break
        if step < start:
            continue
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        logits = model(batch[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, cfg.vocab_size), batch[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gnorm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        with torch.no_grad():
            ratios = []
            for m in moe:
                load = m.last_load.float()
                m.gate.e_score_correction_bias += BIAS_UPDATE * torch.sign(load.mean() - load)
                ratios.append(f"{load.max() / load.mean():.2f}/{load.min() / load.mean():.2f}")
        if step % 5 == 0 or step == args.steps - 1:
            el = time.time() - t0
            print(f"step {step} seq {batch.shape[1] - 1} loss {loss.item():.4f} lr {lr_at(step):.2e} "
                  f"gnorm {gnorm:.2f} load max/min {' '.join(ratios)} elapsed {el:.0f}s", flush=True)
        if (step + 1) % args.save_every == 0 or step == args.steps - 1:
            torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step + 1,
                        "rng": torch.get_rng_state()}, ckpt_path + ".tmp")
            os.replace(ckpt_path + ".tmp", ckpt_path)
            export(model, HERE)
            print(f"saved step {step + 1}", flush=True)
    print(f"done in {time.time() - t0:.0f}s", flush=True)


if __name__ == "__main__":
    main()
