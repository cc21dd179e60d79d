#!/usr/bin/env python3
"""Fails when a source file includes a header from a layer above its own (STYLE.md section 2).

Layers, lowest first: util -> quant -> format, kernels -> model -> runtime -> capi -> cli.
tokenizer/, chat/ and sample/ use only util/; convert/ uses util, format, quant and model's
config/schema (never the forward pass).
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
BELOW = {
    "util": set(),
    "format": {"util", "quant"},  # the .dsmoe directory validates sizes by weight type
    "quant": {"util"},
    "kernels": {"util", "quant"},
    "tokenizer": {"util"},
    "chat": {"util"},
    "sample": {"util"},
    "model": {"util", "format", "quant", "kernels"},
    "runtime": {"util", "format", "quant", "kernels", "model", "tokenizer", "chat", "sample"},
    "capi": {"util", "format", "quant", "kernels", "model", "tokenizer", "chat", "sample", "runtime", "dsmoe"},
    "convert": {"util", "format", "quant", "model"},
    "cli": {"util", "format", "quant", "kernels", "model", "tokenizer", "chat", "sample", "runtime",
            "capi", "convert", "dsmoe"},
}
# convert/ may use only these headers of model/.
CONVERT_MODEL_HEADERS = {"model/config.h", "model/schema.h"}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def layer_of(path: pathlib.Path) -> str | None:
    rel = path.relative_to(ROOT).parts
    if rel[0] == "src" and len(rel) > 2:
        return rel[1]
    if rel[0] == "convert":
        return "convert"
    return None


def main() -> int:
    problems = []
    files = [p for d in ("src", "convert") for p in (ROOT / d).rglob("*")
             if p.suffix in (".h", ".hpp", ".cpp", ".c")]
    for path in files:
        layer = layer_of(path)
        if layer is None or layer not in BELOW:
            continue
        for inc in INCLUDE.findall(path.read_text(errors="replace")):
            top = inc.split("/")[0]
            if top not in BELOW and top != "dsmoe":
                continue  # a same-folder relative include or a non-layer header
            if top == layer:
                continue
            if top not in BELOW[layer]:
                problems.append(f"{path.relative_to(ROOT)}: includes \"{inc}\" from layer '{top}', "
                                f"which is not below '{layer}'")
            elif layer == "convert" and top == "model" and inc not in CONVERT_MODEL_HEADERS:
                problems.append(f"{path.relative_to(ROOT)}: convert/ may use only "
                                f"{sorted(CONVERT_MODEL_HEADERS)} from model/, not \"{inc}\"")
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
