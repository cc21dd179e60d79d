"""Checks model.py against the reference logits of /work/shared/fixtures/models/v3-tiny (DeepSeek's
official inference code): run `python3 check_fixture.py`; prints the max |logit difference| and
whether the router chose the same experts. Exits 1 if the logits differ by more than 1e-3."""
import json
import os
import sys

import numpy as np
import torch

import safetensors_io
from model import DeepseekV3, config_from_hf

FIXTURE = "/work/shared/fixtures/models/v3-tiny"


def main():
    with open(os.path.join(FIXTURE, "config.json")) as f:
        cfg = config_from_hf(json.load(f))
    with open(os.path.join(FIXTURE, "reference.json")) as f:
        ref = json.load(f)
    model = DeepseekV3(cfg).double()
    sd = {k: v.double() for k, v in safetensors_io.load(os.path.join(FIXTURE, "model.safetensors")).items()}
    model.load_hf_state_dict(sd)
    tokens = torch.tensor([ref["token_ids"]])
    chosen = []
    hooks = [m.gate.register_forward_hook(lambda mod, inp, out: chosen.append(out[1].tolist()))
             for m in model.moe_layers()]
    with torch.no_grad():
        logits = model(tokens)[0].float().numpy()
    for h in hooks:
        h.remove()
    want = np.fromfile(os.path.join(FIXTURE, "logits.f32"), dtype="<f4").reshape(logits.shape)
    diff = float(np.abs(logits - want).max())
    routing = ref["routing_full_forward"]
    same = 0
    total = 0
    for layer, picks in zip(sorted(routing), chosen):
        for mine, theirs in zip(picks, routing[layer]["expert_indices"]):
            same += sorted(mine) == sorted(theirs)
            total += 1
    print(f"v3-tiny: max |logit diff| {diff:.3g}; routing agrees at {same}/{total} positions")
    sys.exit(0 if diff < 1e-3 and same == total else 1)


if __name__ == "__main__":
    main()
