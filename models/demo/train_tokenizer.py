"""Trains the demo's byte-level BPE tokenizer on the training books and writes tokenizer.json and
tokenizer_config.json (Hugging Face formats), then tokenizer_cases.jsonl for the C++ tokenizer tests.

Vocabulary (4096 ids): 0-3 special tokens, 4-259 the 256 byte tokens (id = 4 + byte value, written
with GPT-2's bytes_to_unicode characters), 260-4095 one token per merge in the order learned.
Training: classic BPE over pre-token counts; each step merges the most frequent adjacent pair
(ties: the pair with the smaller (left id, right id)). Deterministic.
"""
import collections
import json
import os

from bpe_tokenizer import (BYTE_TO_CHAR, DIGIT_PATTERN, GENERAL_PATTERN, PreTokenizer, Tokenizer)
from chat_format import ASSISTANT, BOS, CHAT_TEMPLATE, EOS, USER, render_chat

HERE = os.path.dirname(os.path.abspath(__file__))
WORK = os.path.join(HERE, "work")
VOCAB_SIZE = 4096
SPECIALS = [BOS, EOS, USER, ASSISTANT]


def learn_merges(word_counts, n_merges, first_id):
    """word_counts: {tuple of token ids: count}. Returns [(left id, right id)] in merge order."""
    words = [list(w) for w in word_counts]
    freqs = list(word_counts.values())
    pair_count = collections.Counter()
    pair_words = collections.defaultdict(set)
    for wi, w in enumerate(words):
        for p in zip(w, w[1:]):
            pair_count[p] += freqs[wi]
            pair_words[p].add(wi)
    merges = []
    for new_id in range(first_id, first_id + n_merges):
        if not pair_count:
            break
        best = max(pair_count.items(), key=lambda kv: (kv[1], -kv[0][0], -kv[0][1]))[0]
        merges.append(best)
        for wi in pair_words.pop(best):
            w = words[wi]
            for p in zip(w, w[1:]):
                pair_count[p] -= freqs[wi]
                if pair_count[p] <= 0:
                    del pair_count[p]
            merged = []
            i = 0
            while i < len(w):
                if i + 1 < len(w) and (w[i], w[i + 1]) == best:
                    merged.append(new_id)
                    i += 2
                else:
                    merged.append(w[i])
                    i += 1
            words[wi] = merged
            for p in zip(merged, merged[1:]):
                pair_count[p] += freqs[wi]
                pair_words[p].add(wi)
    return merges


def tokenizer_json(merges):
    token = {i: s for i, s in enumerate(SPECIALS)}
    for b in range(256):
        token[len(SPECIALS) + b] = BYTE_TO_CHAR[b]
    merge_strings = []
    for k, (a, b) in enumerate(merges):
        token[len(SPECIALS) + 256 + k] = token[a] + token[b]
        merge_strings.append(f"{token[a]} {token[b]}")
    if len(set(token.values())) != len(token):
        raise SystemExit("duplicate token strings")
    split = lambda rx: {"type": "Split", "pattern": {"Regex": rx}, "behavior": "Isolated",
                        "invert": False}
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [{"id": i, "content": s, "single_word": False, "lstrip": False,
                          "rstrip": False, "normalized": False, "special": True}
                         for i, s in enumerate(SPECIALS)],
        "normalizer": None,
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            split(DIGIT_PATTERN), split(GENERAL_PATTERN),
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
             "use_regex": False}]},
        "post_processor": None,
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True,
                    "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None,
                  "continuing_subword_prefix": None, "end_of_word_suffix": None,
                  "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": {s: i for i, s in sorted(token.items())}, "merges": merge_strings},
    }


def tokenizer_config():
    added = lambda s: {"__type": "AddedToken", "content": s, "lstrip": False, "normalized": True,
                       "rstrip": False, "single_word": False}
    return {
        "add_bos_token": False,
        "add_eos_token": False,
        "bos_token": added(BOS),
        "eos_token": added(EOS),
        "pad_token": added(EOS),
        "unk_token": None,
        "clean_up_tokenization_spaces": False,
        "legacy": True,
        "model_max_length": 4096,
        "sp_model_kwargs": {},
        "tokenizer_class": "LlamaTokenizerFast",
        "added_tokens_decoder": {str(i): {"content": s, "lstrip": False, "normalized": False,
                                          "rstrip": False, "single_word": False, "special": True}
                                 for i, s in enumerate(SPECIALS)},
        "chat_template": CHAT_TEMPLATE,
    }


def write_cases(tok, path):
    """~50 held-out lines (plus edge cases) and chat renders, encoded by this Python encoder."""
    with open(os.path.join(HERE, "heldout.txt"), encoding="utf-8") as f:
        lines = f.read().split("\n")
    texts = [lines[i] for i in range(0, len(lines) - 1, max(1, len(lines) // 45))]
    texts += ["".join(lines[:3]) + "\n", "  leading spaces, trailing spaces   ",
              "Numbers 1234567 and 3.14159; dates 2026-11-23!", "tabs\tand\r\nCRLF\n\n\nend",
              "Mixed: \"quoted\" (parens) [brackets] --dash-- it's LORD'S?!",
              "Unicode: Jérusalem, naïve café, Ἰησοῦς, 日本語, emoji 🙂 done.",
              f"literal specials {BOS} inside {USER}text{ASSISTANT} and {EOS}"]
    cases = [{"text": t, "ids": tok.encode(t)} for t in texts]
    with open(os.path.join(WORK, "heldout_chats.jsonl"), encoding="utf-8") as f:
        chats = [json.loads(l) for l in f][:8]
    for i, msgs in enumerate(chats):
        gen = i % 2 == 1
        shown = msgs[:-1] if gen and msgs[-1]["role"] == "assistant" else msgs
        text = render_chat(shown, add_generation_prompt=gen)
        cases.append({"text": text, "ids": tok.encode(text), "messages": shown,
                      "add_generation_prompt": gen})
    for c in cases:
        if tok.decode(c["ids"]) != c["text"]:
            raise SystemExit(f"decode does not round-trip: {c['text']!r}")
    with open(path, "w", encoding="utf-8") as f:
        for c in cases:
            f.write(json.dumps(c, ensure_ascii=False) + "\n")
    return len(cases)


def main():
    pre = PreTokenizer()
    with open(os.path.join(WORK, "train_text.txt"), encoding="utf-8") as f:
        text = f.read()
    counts = collections.Counter()
    for line in text.splitlines(keepends=True):
        counts.update(pre(line))
    char_id = {c: len(SPECIALS) + b for b, c in BYTE_TO_CHAR.items()}
    word_counts = {tuple(char_id[c] for c in w): n for w, n in counts.items()}
    first = len(SPECIALS) + 256
    merges = learn_merges(word_counts, VOCAB_SIZE - first, first)
    tj = tokenizer_json(merges)
    with open(os.path.join(HERE, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tj, f, ensure_ascii=False, indent=1)
    with open(os.path.join(HERE, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(tokenizer_config(), f, ensure_ascii=False, indent=2)
    tok = Tokenizer(os.path.join(HERE, "tokenizer.json"))
    n_cases = write_cases(tok, os.path.join(HERE, "tokenizer_cases.jsonl"))
    sample = text[:200000]
    print(f"{len(counts)} distinct pre-tokens, {len(merges)} merges, vocab {len(tj['model']['vocab'])}; "
          f"{len(sample.encode()) / len(tok.encode(sample)):.2f} bytes/token; {n_cases} cases")


if __name__ == "__main__":
    main()
