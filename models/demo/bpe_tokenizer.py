"""Byte-level BPE as Hugging Face `tokenizers` runs it for the demo tokenizer.json: special tokens
split out first, then a Sequence of two regex Splits (behavior Isolated), then GPT-2 byte-to-unicode
mapping, then BPE merges by rank. Used by train_tokenizer.py, train.py and evaluate.py.

The regexes are written in PCRE2/Oniguruma syntax in tokenizer.json (DIGIT_PATTERN, GENERAL_PATTERN).
Python's `re` has no \\p{..}, so they are translated here into explicit character classes built from
unicodedata categories; \\s/\\S become PCRE2's UCP white space (Z categories, HT, LF, VT, FF, CR,
U+0085, U+180E). With the same Unicode version (Python 3.11 and PCRE2 10.42 both use Unicode 14)
the translation matches exactly what PCRE2 with PCRE2_UTF | PCRE2_UCP matches.
"""
import functools
import json
import re
import sys
import unicodedata

DIGIT_PATTERN = r"\p{N}{1,3}"
GENERAL_PATTERN = (r"[!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+"
                   r"|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+"
                   r"| ?[\p{P}\p{S}]+[\r\n]*"
                   r"|\s*[\r\n]+"
                   r"|\s+(?!\S)"
                   r"|\s+")


def bytes_to_unicode():
    """GPT-2's reversible byte -> printable character map."""
    bs = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
          + list(range(ord("®"), ord("ÿ") + 1)))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


BYTE_TO_CHAR = bytes_to_unicode()
CHAR_TO_BYTE = {c: b for b, c in BYTE_TO_CHAR.items()}


@functools.lru_cache(maxsize=None)
def _class_body(kind):
    """Range list (re character-class body) for a general category prefix or 'space'."""
    pcre_space = {0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x85, 0x180E}
    if kind == "space":
        member = lambda c: c in pcre_space or unicodedata.category(chr(c)).startswith("Z")
    else:
        member = lambda c: unicodedata.category(chr(c)).startswith(kind)
    ranges = []
    start = None
    for c in range(sys.maxunicode + 2):
        inside = c <= sys.maxunicode and not (0xD800 <= c <= 0xDFFF) and member(c)
        if inside and start is None:
            start = c
        elif not inside and start is not None:
            ranges.append((start, c - 1))
            start = None
    esc = lambda c: "\\U%08x" % c
    return "".join(esc(a) if a == b else f"{esc(a)}-{esc(b)}" for a, b in ranges)


def translate_pattern(pattern):
    """PCRE2 pattern with \\p{L|M|N|P|S}, \\s, \\S -> equivalent Python re pattern."""
    out = []
    i = 0
    in_class = False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            nxt = pattern[i + 1]
            if nxt == "p":
                m = re.match(r"\\p\{(\w)\}", pattern[i:])
                body = _class_body(m.group(1))
                out.append(body if in_class else f"[{body}]")
                i += len(m.group(0))
                continue
            if nxt in "sS":
                body = _class_body("space")
                if in_class:
                    if nxt == "S":
                        raise ValueError("\\S inside a class is not supported")
                    out.append(body)
                else:
                    out.append(f"[{body}]" if nxt == "s" else f"[^{body}]")
                i += 2
                continue
            out.append(pattern[i:i + 2])
            i += 2
            continue
        if ch == "[" and not in_class:
            in_class = True
            out.append(ch)
            if pattern[i + 1] == "^":
                out.append("^")
                i += 1
        elif ch == "]" and in_class:
            in_class = False
            out.append(ch)
        else:
            out.append(ch)
        i += 1
    return re.compile("".join(out))


def split_isolated(pieces, regex):
    """HF Split(behavior=Isolated): every match and every gap between matches becomes a piece."""
    out = []
    for piece in pieces:
        pos = 0
        for m in regex.finditer(piece):
            if m.start() > pos:
                out.append(piece[pos:m.start()])
            if m.end() > m.start():
                out.append(m.group(0))
            pos = m.end()
        if pos < len(piece):
            out.append(piece[pos:])
    return out


class PreTokenizer:
    def __init__(self):
        self.regexes = [translate_pattern(DIGIT_PATTERN), translate_pattern(GENERAL_PATTERN)]

    def __call__(self, text):
        """Text (no special tokens) -> pre-tokens as byte-level strings."""
        pieces = [text]
        for rx in self.regexes:
            pieces = split_isolated(pieces, rx)
        return ["".join(BYTE_TO_CHAR[b] for b in p.encode("utf-8")) for p in pieces]


class Tokenizer:
    """Encoder/decoder reading a tokenizer.json written by train_tokenizer.py."""

    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            tj = json.load(f)
        self.vocab = tj["model"]["vocab"]
        self.id_to_token = {i: t for t, i in self.vocab.items()}
        self.ranks = {tuple(m.split(" ")): r for r, m in enumerate(tj["model"]["merges"])}
        self.specials = {a["content"]: a["id"] for a in tj["added_tokens"]}
        for a in tj["added_tokens"]:
            self.id_to_token[a["id"]] = a["content"]
        self.special_re = re.compile("|".join(re.escape(s) for s in
                                              sorted(self.specials, key=len, reverse=True)))
        self.pre = PreTokenizer()
        self._cache = {}

    def _bpe(self, word):
        ids = self._cache.get(word)
        if ids is not None:
            return ids
        parts = list(word)
        while len(parts) > 1:
            best = min(((self.ranks.get(p, 1 << 30), i) for i, p in
                        enumerate(zip(parts, parts[1:]))))
            if best[0] == 1 << 30:
                break
            pair = (parts[best[1]], parts[best[1] + 1])
            merged = []
            i = 0
            while i < len(parts):  # merge every occurrence, left to right
                if i + 1 < len(parts) and (parts[i], parts[i + 1]) == pair:
                    merged.append(parts[i] + parts[i + 1])
                    i += 2
                else:
                    merged.append(parts[i])
                    i += 1
            parts = merged
        ids = [self.vocab[p] for p in parts]
        self._cache[word] = ids
        return ids

    def encode(self, text):
        """Like tokenizers' encode(text, add_special_tokens=False)."""
        ids = []
        pos = 0
        for m in list(self.special_re.finditer(text)) + [None]:
            chunk = text[pos:m.start()] if m else text[pos:]
            for word in self.pre(chunk) if chunk else []:
                ids.extend(self._bpe(word))
            if m:
                ids.append(self.specials[m.group(0)])
                pos = m.end()
        return ids

    def decode(self, ids):
        out = bytearray()
        text = []
        for i in ids:
            tok = self.id_to_token[i]
            if tok in self.specials:
                text.append(out.decode("utf-8", errors="replace"))
                out.clear()
                text.append(tok)
            else:
                out.extend(CHAR_TO_BYTE[c] for c in tok)
        text.append(out.decode("utf-8", errors="replace"))
        return "".join(text)
