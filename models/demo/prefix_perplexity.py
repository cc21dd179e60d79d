"""PyTorch perplexity of the first N lines of heldout.txt, by evaluate.py's protocol (ctx 512,
stride 256, float32 with the exported BF16 weights). The CI test
tests/runtime/perplexity_test.cpp compares dsmoe's f32 conversion with this number on a prefix
(the whole text is evaluate.py's eval.json, too slow to run on every CI build).

    python3 prefix_perplexity.py --lines 50
"""
import argparse
import os

import torch

from bpe_tokenizer import Tokenizer
from evaluate import HERE, load_model, perplexity


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, required=True, help="lines of heldout.txt, each with its newline")
    args = ap.parse_args()
    torch.set_num_threads(1)
    with open(os.path.join(HERE, "heldout.txt"), encoding="utf-8") as f:
        text = "".join(f.readlines()[:args.lines])
    tokens = Tokenizer(os.path.join(HERE, "tokenizer.json")).encode(text)
    model = load_model()
    with torch.no_grad():
        ppl, _ = perplexity(model, tokens, model.cfg.n_routed_experts)
    print(f"first {args.lines} lines: {ppl['tokens']} tokens, {ppl['scored']} scored, "
          f"NLL {ppl['mean_nll']:.6f} ± {ppl['mean_nll_se']:.6f}, ppl {ppl['ppl']:.4f} ± {ppl['ppl_se']:.4f}")


if __name__ == "__main__":
    main()
