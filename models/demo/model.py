"""DeepSeek-V3 in PyTorch, written to the semantics of DeepSeek's official inference/model.py and
kept in Hugging Face tensor layout (parameter names are the HF names minus the "model." prefix).

- MLA attention with q LoRA: q = q_b(rmsnorm(q_a(x))), [kv latent | k_pe] = kv_a_proj_with_mqa(x),
  [k_nope | v] = kv_b(rmsnorm(latent)); per head q/k = [nope | rope] parts.
- RoPE on the rope part rotates ADJACENT pairs (2i, 2i+1) with frequency theta^(-2i/d_rope), which is
  how DeepSeek's reference reads HF-layout weights. No YaRN (rope_scaling null).
- Softmax scale (qk_nope + qk_rope)^-0.5; attention softmax and router in float32.
- MoE: sigmoid scores; selection on score + e_score_correction_bias with noaux_tc group limiting
  (groups ranked by the sum of their top-2 biased scores, topk_group kept); weights are the unbiased
  scores of the chosen experts, normalized to sum 1, times routed_scaling_factor; the shared expert
  is added unscaled. The bias is a buffer changed only by the auxiliary-loss-free balancing update.
"""
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class Config:
    vocab_size: int = 4096
    hidden_size: int = 256
    intermediate_size: int = 512
    moe_intermediate_size: int = 96
    num_hidden_layers: int = 4
    first_k_dense_replace: int = 1
    num_attention_heads: int = 4
    q_lora_rank: int = 128
    kv_lora_rank: int = 64
    qk_nope_head_dim: int = 32
    qk_rope_head_dim: int = 16
    v_head_dim: int = 32
    n_routed_experts: int = 16
    n_shared_experts: int = 1
    num_experts_per_tok: int = 4
    n_group: int = 4
    topk_group: int = 2
    routed_scaling_factor: float = 2.5
    rms_norm_eps: float = 1e-6
    rope_theta: float = 10000.0
    max_position_embeddings: int = 4096
    rope_scaling: dict = None  # YaRN as in DeepSeek-V3 (only used to check against the fixtures)


class Linear(nn.Module):
    """nn.Linear without bias, computed as a 1-wide convolution: Debian's torch links the reference
    BLAS (about 1 GFLOP/s here) while its convolutions run on oneDNN (about 10x faster)."""

    def __init__(self, in_features, out_features, bias=False):
        super().__init__()
        assert not bias
        self.weight = nn.Parameter(torch.empty(out_features, in_features))

    def forward(self, x):
        flat = x.reshape(-1, x.shape[-1])
        y = F.conv1d(flat.t().unsqueeze(0), self.weight.unsqueeze(-1)).squeeze(0).t()
        return y.reshape(*x.shape[:-1], self.weight.shape[0])


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        xf = x.float()
        return (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)).to(x.dtype) * self.weight


def rope_tables(cfg, seqlen, device=None):
    """cos/sin of shape [seqlen, d_rope/2] for positions 0..seqlen-1."""
    d = cfg.qk_rope_head_dim
    inv = 1.0 / (cfg.rope_theta ** (torch.arange(0, d, 2, dtype=torch.float64) / d))
    ys = cfg.rope_scaling
    if ys:  # YaRN: blend interpolated and extrapolated frequencies between the correction dims
        orig = ys["original_max_position_embeddings"]
        corr = lambda rot: d * math.log(orig / (rot * 2 * math.pi)) / (2 * math.log(cfg.rope_theta))
        low = max(math.floor(corr(ys["beta_fast"])), 0)
        high = min(math.ceil(corr(ys["beta_slow"])), d - 1)
        ramp = ((torch.arange(d // 2, dtype=torch.float64) - low) / max(high - low, 0.001)).clamp(0, 1)
        inv = inv / ys["factor"] * ramp + inv * (1 - ramp)
    ang = torch.outer(torch.arange(seqlen, dtype=torch.float64), inv)
    return torch.cos(ang).float().to(device), torch.sin(ang).float().to(device)


def apply_rope(x, cos, sin):
    """x [..., S, d_rope] (positions on dim -2): rotate adjacent pairs (2i, 2i+1)."""
    xe, xo = x[..., 0::2], x[..., 1::2]
    re_ = xe * cos - xo * sin
    im_ = xe * sin + xo * cos
    return torch.stack((re_, im_), dim=-1).flatten(-2)


class MLA(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        h = cfg.num_attention_heads
        self.qk_head = cfg.qk_nope_head_dim + cfg.qk_rope_head_dim
        self.q_a_proj = Linear(cfg.hidden_size, cfg.q_lora_rank, bias=False)
        self.q_a_layernorm = RMSNorm(cfg.q_lora_rank, cfg.rms_norm_eps)
        self.q_b_proj = Linear(cfg.q_lora_rank, h * self.qk_head, bias=False)
        self.kv_a_proj_with_mqa = Linear(cfg.hidden_size, cfg.kv_lora_rank + cfg.qk_rope_head_dim,
                                            bias=False)
        self.kv_a_layernorm = RMSNorm(cfg.kv_lora_rank, cfg.rms_norm_eps)
        self.kv_b_proj = Linear(cfg.kv_lora_rank, h * (cfg.qk_nope_head_dim + cfg.v_head_dim),
                                   bias=False)
        self.o_proj = Linear(h * cfg.v_head_dim, cfg.hidden_size, bias=False)
        self.scale = self.qk_head ** -0.5
        if cfg.rope_scaling:
            m = 0.1 * cfg.rope_scaling["mscale_all_dim"] * math.log(cfg.rope_scaling["factor"]) + 1
            self.scale *= m * m

    def forward(self, x, cos, sin):
        c = self.cfg
        b, s, _ = x.shape
        h = c.num_attention_heads
        q = self.q_b_proj(self.q_a_layernorm(self.q_a_proj(x))).view(b, s, h, self.qk_head)
        q = q.transpose(1, 2)  # [b, h, s, qk_head]
        q_nope, q_pe = q.split([c.qk_nope_head_dim, c.qk_rope_head_dim], dim=-1)
        kv = self.kv_a_proj_with_mqa(x)
        latent, k_pe = kv.split([c.kv_lora_rank, c.qk_rope_head_dim], dim=-1)
        k_pe = apply_rope(k_pe.unsqueeze(1), cos, sin)  # [b, 1, s, rope]
        q_pe = apply_rope(q_pe, cos, sin)
        kv = self.kv_b_proj(self.kv_a_layernorm(latent)).view(b, s, h, -1).transpose(1, 2)
        k_nope, v = kv.split([c.qk_nope_head_dim, c.v_head_dim], dim=-1)
        qf = torch.cat([q_nope, q_pe], dim=-1)
        kf = torch.cat([k_nope, k_pe.expand(b, h, s, c.qk_rope_head_dim)], dim=-1)
        scores = (qf @ kf.transpose(-1, -2)).float() * self.scale
        mask = torch.full((s, s), float("-inf"), device=x.device).triu_(1)
        probs = torch.softmax(scores + mask, dim=-1).to(x.dtype)
        out = (probs @ v).transpose(1, 2).reshape(b, s, h * c.v_head_dim)
        return self.o_proj(out)


class MLP(nn.Module):
    def __init__(self, dim, inter):
        super().__init__()
        self.gate_proj = Linear(dim, inter, bias=False)
        self.up_proj = Linear(dim, inter, bias=False)
        self.down_proj = Linear(inter, dim, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Gate(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.weight = nn.Parameter(torch.empty(cfg.n_routed_experts, cfg.hidden_size))
        self.register_buffer("e_score_correction_bias", torch.zeros(cfg.n_routed_experts))

    def forward(self, x):
        """x [T, d] -> (weights [T, k], expert indices [T, k])."""
        c = self.cfg
        scores = torch.sigmoid(F.linear(x.float(), self.weight.float()))
        sel = scores.detach() + self.e_score_correction_bias
        if c.n_group > 1:
            g = sel.view(-1, c.n_group, c.n_routed_experts // c.n_group)
            group_scores = g.topk(2, dim=-1)[0].sum(dim=-1)
            keep = group_scores.topk(c.topk_group, dim=-1)[1]
            drop = torch.ones_like(group_scores, dtype=torch.bool).scatter_(1, keep, False)
            sel = g.masked_fill(drop.unsqueeze(-1), float("-inf")).flatten(1)
        idx = sel.topk(c.num_experts_per_tok, dim=-1)[1]
        w = scores.gather(1, idx)
        w = w / w.sum(dim=-1, keepdim=True) * c.routed_scaling_factor
        return w.to(x.dtype), idx


class MoE(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.gate = Gate(cfg)
        self.experts = nn.ModuleList(MLP(cfg.hidden_size, cfg.moe_intermediate_size)
                                     for _ in range(cfg.n_routed_experts))
        self.shared_experts = MLP(cfg.hidden_size, cfg.n_shared_experts * cfg.moe_intermediate_size)
        self.last_load = None  # tokens routed to each expert in the latest forward

    def forward(self, x):
        shape = x.shape
        x = x.reshape(-1, shape[-1])
        w, idx = self.gate(x)
        self.last_load = torch.bincount(idx.flatten(), minlength=self.cfg.n_routed_experts)
        y = torch.zeros_like(x)
        flat_idx = idx.flatten()
        order = torch.argsort(flat_idx, stable=True)
        token = order // self.cfg.num_experts_per_tok
        weight = w.flatten()[order]
        start = 0
        for e, n in enumerate(self.last_load.tolist()):
            if n:
                t = token[start:start + n]
                y.index_add_(0, t, self.experts[e](x[t]) * weight[start:start + n, None])
            start += n
        return (y + self.shared_experts(x)).view(shape)


class Block(nn.Module):
    def __init__(self, cfg, layer):
        super().__init__()
        self.self_attn = MLA(cfg)
        self.mlp = MLP(cfg.hidden_size, cfg.intermediate_size) if layer < cfg.first_k_dense_replace \
            else MoE(cfg)
        self.input_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.post_attention_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)

    def forward(self, x, cos, sin):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin)
        return x + self.mlp(self.post_attention_layernorm(x))


class DeepseekV3(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.embed_tokens = nn.Embedding(cfg.vocab_size, cfg.hidden_size)
        self.layers = nn.ModuleList(Block(cfg, i) for i in range(cfg.num_hidden_layers))
        self.norm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.lm_head = Linear(cfg.hidden_size, cfg.vocab_size, bias=False)

    def init_weights(self, std=0.02):
        for name, p in self.named_parameters():
            if name.endswith("layernorm.weight") or name.endswith("norm.weight"):
                nn.init.ones_(p)
            elif name.endswith("o_proj.weight") or name.endswith("down_proj.weight"):
                nn.init.normal_(p, std=std / math.sqrt(2 * self.cfg.num_hidden_layers))
            else:
                nn.init.normal_(p, std=std)

    def moe_layers(self):
        return [l.mlp for l in self.layers if isinstance(l.mlp, MoE)]

    def forward(self, tokens):
        """tokens [b, s] (positions 0..s-1) -> logits [b, s, vocab]."""
        cos, sin = rope_tables(self.cfg, tokens.shape[1], tokens.device)
        x = self.embed_tokens(tokens)
        for layer in self.layers:
            x = layer(x, cos, sin)
        return self.lm_head(self.norm(x))

    def hf_state_dict(self):
        """HF tensor names -> tensors."""
        out = {}
        for k, v in self.state_dict().items():
            out[k if k.startswith("lm_head.") else "model." + k] = v
        return out

    def load_hf_state_dict(self, sd):
        self.load_state_dict({k[len("model."):] if k.startswith("model.") else k: v
                              for k, v in sd.items()}, strict=True)


def hf_config(cfg):
    """config.json contents with DeepSeek-V3's keys."""
    return {
        "architectures": ["DeepseekV3ForCausalLM"],
        "attention_bias": False,
        "attention_dropout": 0.0,
        "aux_loss_alpha": 0.001,
        "bos_token_id": 0,
        "eos_token_id": 1,
        "ep_size": 1,
        "first_k_dense_replace": cfg.first_k_dense_replace,
        "hidden_act": "silu",
        "hidden_size": cfg.hidden_size,
        "initializer_range": 0.02,
        "intermediate_size": cfg.intermediate_size,
        "kv_lora_rank": cfg.kv_lora_rank,
        "max_position_embeddings": cfg.max_position_embeddings,
        "model_type": "deepseek_v3",
        "moe_intermediate_size": cfg.moe_intermediate_size,
        "moe_layer_freq": 1,
        "n_group": cfg.n_group,
        "n_routed_experts": cfg.n_routed_experts,
        "n_shared_experts": cfg.n_shared_experts,
        "norm_topk_prob": True,
        "num_attention_heads": cfg.num_attention_heads,
        "num_experts_per_tok": cfg.num_experts_per_tok,
        "num_hidden_layers": cfg.num_hidden_layers,
        "num_key_value_heads": cfg.num_attention_heads,
        "num_nextn_predict_layers": 0,
        "pretraining_tp": 1,
        "q_lora_rank": cfg.q_lora_rank,
        "qk_nope_head_dim": cfg.qk_nope_head_dim,
        "qk_rope_head_dim": cfg.qk_rope_head_dim,
        "rms_norm_eps": cfg.rms_norm_eps,
        "rope_scaling": cfg.rope_scaling,
        "rope_theta": cfg.rope_theta,
        "routed_scaling_factor": cfg.routed_scaling_factor,
        "scoring_func": "sigmoid",
        "seq_aux": True,
        "tie_word_embeddings": False,
        "topk_group": cfg.topk_group,
        "topk_method": "noaux_tc",
        "torch_dtype": "bfloat16",
        "transformers_version": "4.33.1",
        "use_cache": True,
        "v_head_dim": cfg.v_head_dim,
        "vocab_size": cfg.vocab_size,
    }


def config_from_hf(d):
    return Config(**{k: d[k] for k in Config.__dataclass_fields__})
