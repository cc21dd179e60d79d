"""Extracts the King James Bible from Debian's bible-kjv, splits it by book, and builds the training
documents (plain chapters and chat conversations).

Outputs:
  heldout.txt                the held-out books as plain text (committed: perplexity is measured on it)
  work/train_text.txt        the training books as plain text (tokenizer training input)
  work/train_docs.jsonl      training documents in a fixed order: {"kind": "text"|"chat", "text": ...}
                             chat documents are rendered through the chat template (chat_format.py)
  work/heldout_chats.jsonl   conversations built from held-out verses (tests and generation prompts)

Split: the last ceil(5% of 66) = 4 books (2 John, 3 John, Jude, Revelation) are held out.
Text format: one verse per line, "Genesis 1:3 And God said, Let there be light: and there was light."
"""
import json
import math
import os
import random
import re
import subprocess

from chat_format import render_chat

HERE = os.path.dirname(os.path.abspath(__file__))
WORK = os.path.join(HERE, "work")
SEED = 1234
CHAT_FRACTION = 0.3  # share of training verses that also appear as a conversation

# bible-kjv's book abbreviations, in order, and the names used in the text.
BOOKS = [
    ("Ge", "Genesis"), ("Exo", "Exodus"), ("Lev", "Leviticus"), ("Num", "Numbers"),
    ("Deu", "Deuteronomy"), ("Josh", "Joshua"), ("Jdgs", "Judges"), ("Ruth", "Ruth"),
    ("1Sm", "1 Samuel"), ("2Sm", "2 Samuel"), ("1Ki", "1 Kings"), ("2Ki", "2 Kings"),
    ("1Chr", "1 Chronicles"), ("2Chr", "2 Chronicles"), ("Ezra", "Ezra"), ("Neh", "Nehemiah"),
    ("Est", "Esther"), ("Job", "Job"), ("Psa", "Psalms"), ("Prv", "Proverbs"),
    ("Eccl", "Ecclesiastes"), ("SSol", "Song of Solomon"), ("Isa", "Isaiah"), ("Jer", "Jeremiah"),
    ("Lam", "Lamentations"), ("Eze", "Ezekiel"), ("Dan", "Daniel"), ("Hos", "Hosea"),
    ("Joel", "Joel"), ("Amos", "Amos"), ("Obad", "Obadiah"), ("Jonah", "Jonah"), ("Mic", "Micah"),
    ("Nahum", "Nahum"), ("Hab", "Habakkuk"), ("Zep", "Zephaniah"), ("Hag", "Haggai"),
    ("Zec", "Zechariah"), ("Mal", "Malachi"), ("Mat", "Matthew"), ("Mark", "Mark"),
    ("Luke", "Luke"), ("John", "John"), ("Acts", "Acts"), ("Rom", "Romans"),
    ("1Cor", "1 Corinthians"), ("2Cor", "2 Corinthians"), ("Gal", "Galatians"),
    ("Eph", "Ephesians"), ("Phi", "Philippians"), ("Col", "Colossians"),
    ("1Th", "1 Thessalonians"), ("2Th", "2 Thessalonians"), ("1Tim", "1 Timothy"),
    ("2Tim", "2 Timothy"), ("Titus", "Titus"), ("Phmn", "Philemon"), ("Heb", "Hebrews"),
    ("Jas", "James"), ("1Pet", "1 Peter"), ("2Pet", "2 Peter"), ("1Jn", "1 John"),
    ("2Jn", "2 John"), ("3Jn", "3 John"), ("Jude", "Jude"), ("Rev", "Revelation"),
]
HELDOUT_BOOKS = math.ceil(0.05 * len(BOOKS))
SYSTEM_PROMPTS = [
    "You continue verses of the King James Bible.",
    "You are a helpful assistant.",
]


def read_verses():
    """[(book name, chapter, verse, text)] in canonical order."""
    raw = subprocess.run(["bible", "-f", "Gen 1:1-Rev 22:21"], check=True,
                         capture_output=True, text=True).stdout
    names = dict(BOOKS)
    verses = []
    for line in raw.split("\n"):
        if not line:
            continue
        m = re.fullmatch(r"(\d?[A-Za-z]+)(\d+):(\d+) (.*)", line)
        if m is None or m.group(1) not in names:
            raise SystemExit(f"unexpected line from bible: {line!r}")
        verses.append((names[m.group(1)], int(m.group(2)), int(m.group(3)), m.group(4).strip()))
    if len({v[0] for v in verses}) != len(BOOKS):
        raise SystemExit("bible did not print all 66 books")
    return verses


def verse_line(v):
    return f"{v[0]} {v[1]}:{v[2]} {v[3]}\n"


def conversation(rng, verses):
    """One to three turns; each turn asks for a verse by reference or by its opening words."""
    msgs = []
    if rng.random() < 0.5:
        msgs.append({"role": "system", "content": rng.choice(SYSTEM_PROMPTS)})
    for v in verses:
        words = v[3].split(" ")
        if rng.random() < 0.4 or len(words) < 4:
            msgs.append({"role": "user", "content": f"{v[0]} {v[1]}:{v[2]}"})
            msgs.append({"role": "assistant", "content": v[3]})
        else:
            k = rng.randint(2, min(6, len(words) - 2))
            msgs.append({"role": "user", "content": " ".join(words[:k])})
            msgs.append({"role": "assistant", "content": " ".join(words[k:])})
    return msgs


def conversations(rng, verses, fraction):
    out = []
    i = 0
    while i < len(verses):
        if rng.random() < fraction:
            turns = rng.choice([1, 1, 1, 2, 3])
            out.append(conversation(rng, verses[i:i + turns]))
            i += turns
        else:
            i += 1
    return out


def main():
    os.makedirs(WORK, exist_ok=True)
    verses = read_verses()
    heldout_names = {name for _, name in BOOKS[-HELDOUT_BOOKS:]}
    train = [v for v in verses if v[0] not in heldout_names]
    held = [v for v in verses if v[0] in heldout_names]

    with open(os.path.join(HERE, "heldout.txt"), "w", encoding="utf-8") as f:
        f.writelines(verse_line(v) for v in held)
    with open(os.path.join(WORK, "train_text.txt"), "w", encoding="utf-8") as f:
        f.writelines(verse_line(v) for v in train)

    rng = random.Random(SEED)
    docs = []
    chapter = []
    for v in train:  # one plain document per chapter
        if chapter and (chapter[-1][0], chapter[-1][1]) != (v[0], v[1]):
            docs.append({"kind": "text", "text": "".join(map(verse_line, chapter))})
            chapter = []
        chapter.append(v)
    docs.append({"kind": "text", "text": "".join(map(verse_line, chapter))})
    chats = conversations(rng, train, CHAT_FRACTION)
    docs += [{"kind": "chat", "text": render_chat(m)} for m in chats]
    with open(os.path.join(WORK, "train_docs.jsonl"), "w", encoding="utf-8") as f:
        for d in docs:
            f.write(json.dumps(d, ensure_ascii=False) + "\n")

    held_chats = conversations(random.Random(SEED + 1), held, 0.5)
    with open(os.path.join(WORK, "heldout_chats.jsonl"), "w", encoding="utf-8") as f:
        for m in held_chats:
            f.write(json.dumps(m, ensure_ascii=False) + "\n")
    print(f"verses: {len(train)} train, {len(held)} held out "
          f"({', '.join(n for _, n in BOOKS[-HELDOUT_BOOKS:])}); "
          f"documents: {len(docs) - len(chats)} chapters + {len(chats)} conversations; "
          f"held-out conversations: {len(held_chats)}")


if __name__ == "__main__":
    main()
