"""Evaluates the exported checkpoint (config.json + model.safetensors in this folder) with the
PyTorch model in float32, using the BF16-rounded weights exactly as exported. Writes eval.json,
reference_logits.f32 and reference_tokens.json.

Perplexity protocol (dsmoe's `perplexity --ctx 512` computes the same thing):
  tokens = tokenizer.encode(text of heldout.txt), no BOS or other token added.
  Windows of up to CTX = 512 tokens start at 0, STRIDE, 2*STRIDE, ... (STRIDE = 256); each window is
  a fresh forward at positions 0..len-1 with an empty cache. Window [s, e) scores the predictions of
  targets t in [max(s + 1, end of the previous window), e) from the logits at t - 1 (the first window
  scores targets 1..e-1). The last window is the first one that reaches the end of the text.
  Every token except the first is scored exactly once, with at least STRIDE tokens of context
  except inside the first window.
  ppl = exp(mean NLL); standard error of the mean NLL = sample std / sqrt(n); the ppl's standard
  error is ppl * that (delta method). Tokens are not independent, so it is an approximation.
Expert load: for each MoE layer, how many of the scored positions chose each expert (top-4 counts).
"""
import json
import math
import os

import numpy as np
import torch
import torch.nn.functional as F

import safetensors_io
from bpe_tokenizer import Tokenizer
from chat_format import EOS, render_chat
from model import DeepseekV3, config_from_hf

HERE = os.path.dirname(os.path.abspath(__file__))
CTX = 512
STRIDE = 256
REFERENCE_START = 2000  # the 64-token reference sequence is heldout tokens [2000, 2064)
REFERENCE_LEN = 64


def load_model():
    with open(os.path.join(HERE, "config.json")) as f:
        cfg = config_from_hf(json.load(f))
    model = DeepseekV3(cfg)
    sd = safetensors_io.load(os.path.join(HERE, "model.safetensors"))
    model.load_hf_state_dict({k: v.float() for k, v in sd.items()})
    return model.eval()


class RoutingRecorder:
    """Collects the experts chosen by every MoE gate during a forward."""

    def __init__(self, model):
        self.picks = []
        self.hooks = [m.gate.register_forward_hook(lambda mod, i, o: self.picks.append(o[1]))
                      for m in model.moe_layers()]

    def take(self):
        p, self.picks = self.picks, []
        return p


def windows(n):
    start, prev_end = 0, 0
    while True:
        end = min(start + CTX, n)
        yield start, end, max(start + 1, prev_end)
        if end == n:
            return
        prev_end = end
        start += STRIDE


def perplexity(model, tokens, n_experts):
    rec = RoutingRecorder(model)
    nll = []
    loads = None
    for start, end, first_target in windows(len(tokens)):
        x = torch.tensor([tokens[start:end]])
        logp = F.log_softmax(model(x)[0].double(), dim=-1)
        tgt = torch.tensor(tokens[first_target:end])
        nll.append(-logp[first_target - 1 - start:end - 1 - start].gather(1, tgt[:, None])[:, 0])
        picks = rec.take()
        if loads is None:
            loads = [torch.zeros(n_experts, dtype=torch.long) for _ in picks]
        for load, idx in zip(loads, picks):  # routing of the positions whose target is scored
            load += torch.bincount(idx[first_target - 1 - start:end - 1 - start].flatten(),
                                   minlength=n_experts)
    nll = torch.cat(nll).numpy()
    mean = float(nll.mean())
    se = float(nll.std(ddof=1) / math.sqrt(len(nll)))
    return {"tokens": len(tokens), "scored": len(nll), "mean_nll": mean, "mean_nll_se": se,
            "ppl": math.exp(mean), "ppl_se": math.exp(mean) * se}, loads


def unigram_nll(tok, tokens):
    """Cross-entropy of the held-out tokens under add-one unigram counts of the training documents."""
    counts = np.ones(len(tok.id_to_token))
    docs = torch.load(os.path.join(HERE, "work", "train_docs_tokens.pt"))
    for d in docs:
        counts += np.bincount(d.long().numpy(), minlength=len(counts))
    logp = np.log(counts / counts.sum())
    return float(-logp[np.array(tokens[1:])].mean())


def greedy(model, ids, max_new, stop=None):
    ids = list(ids)
    out = []
    for _ in range(max_new):
        nxt = int(model(torch.tensor([ids[-CTX:]]))[0, -1].argmax())
        if nxt == stop:
            break
        ids.append(nxt)
        out.append(nxt)
    return out


def main():
    torch.set_num_threads(1)
    tok = Tokenizer(os.path.join(HERE, "tokenizer.json"))
    model = load_model()
    cfg = model.cfg
    with open(os.path.join(HERE, "heldout.txt"), encoding="utf-8") as f:
        text = f.read()
    tokens = tok.encode(text)
    result = {"method": __doc__.split("Perplexity protocol")[1].strip(), "ctx": CTX, "stride": STRIDE,
              "weights": "model.safetensors (BF16, bias F32) converted to float32; float32 compute"}
    with torch.no_grad():
        ppl, loads = perplexity(model, tokens, cfg.n_routed_experts)
        result["heldout"] = ppl
        result["unigram_baseline_nll"] = unigram_nll(tok, tokens)
        result["expert_load"] = {}
        for i, load in enumerate(loads):
            l = load.double()
            result["expert_load"][f"layer_{cfg.first_k_dense_replace + i}"] = {
                "counts": load.tolist(), "max_over_mean": float(l.max() / l.mean()),
                "min_over_mean": float(l.min() / l.mean())}
        gens = []
        for opening in ["Revelation 21:1 And I saw", "Revelation 22:1 And he shewed me",
                        "Jude 1:3 Beloved,", "Revelation 1:8 I am Alpha and"]:
            out = greedy(model, tok.encode(opening), 40)
            gens.append({"prompt": opening, "completion": tok.decode(out)})
        for msgs in [[{"role": "user", "content": "Revelation 21:4"}],
                     [{"role": "user", "content": "And I saw a new heaven"}],
                     [{"role": "system", "content": "You continue verses of the King James Bible."},
                      {"role": "user", "content": "Behold, I stand at the door,"}]]:
            prompt = render_chat(msgs, add_generation_prompt=True)
            out = greedy(model, tok.encode(prompt), 60, stop=tok.specials[EOS])
            gens.append({"chat": msgs, "completion": tok.decode(out)})
        result["greedy_generations"] = gens

        ref = tokens[REFERENCE_START:REFERENCE_START + REFERENCE_LEN]
        rec = RoutingRecorder(model)
        logits = model(torch.tensor([ref]))[0]
        logits.numpy().astype("<f4").tofile(os.path.join(HERE, "reference_logits.f32"))
        routing = {f"layer_{cfg.first_k_dense_replace + i}": p.tolist() for i, p in enumerate(rec.take())}
    with open(os.path.join(HERE, "reference_tokens.json"), "w", encoding="utf-8") as f:
        json.dump({"token_ids": ref, "text": tok.decode(ref),
                   "source": f"heldout.txt tokens [{REFERENCE_START}, {REFERENCE_START + REFERENCE_LEN})",
                   "logits_file": "reference_logits.f32", "logits_shape": [len(ref), cfg.vocab_size],
                   "logits_dtype": "float32 little-endian, row-major; row t = prediction after token t",
                   "compute": "one full forward at positions 0..63, float32, weights = model.safetensors "
                              "upcast to float32",
                   "routing_full_forward": routing}, f, ensure_ascii=False)
        f.write("\n")
    with open(os.path.join(HERE, "eval.json"), "w", encoding="utf-8") as f:
        json.dump(result, f, ensure_ascii=False, indent=1)
        f.write("\n")
    h = result["heldout"]
    print(f"held-out: {h['scored']} tokens, NLL {h['mean_nll']:.4f} ± {h['mean_nll_se']:.4f}, "
          f"ppl {h['ppl']:.3f} ± {h['ppl_se']:.3f} (unigram NLL {result['unigram_baseline_nll']:.4f})")
    for k, v in result["expert_load"].items():
        print(f"{k}: max/mean {v['max_over_mean']:.3f} min/mean {v['min_over_mean']:.3f}")
    for g in gens:
        print(json.dumps(g, ensure_ascii=False))


if __name__ == "__main__":
    main()
