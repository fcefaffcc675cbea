#!/usr/bin/env python3
"""Golden vectors for ovis4j's trainable Qwen3 text encoder (org.ovis4j.train.text.TrainableQwen3).

A hand-written Qwen3 forward in torch, as transformers' modeling_qwen3.py defines Qwen3Model (read there,
not copied): RMSNorm in float32 then times the weight; q_norm/k_norm per head before RoPE; rotate-half RoPE
with inv_freq = 1 / theta^(arange(0, D, 2)/D) and angles pos * inv_freq in float32; grouped-query
attention (repeat_kv), causal plus key-padding mask, softmax in float32, scale 1/sqrt(D); SwiGLU MLP
down(silu(gate(x)) * up(x)); final norm. The LM head is the tied embedding (Qwen3ForCausalLM with
tie_word_embeddings) and the loss transformers' ForCausalLMLoss: labels shifted by one, -100 ignored, mean.

Writes into ovis4j-train/src/test/resources/goldens/qwen3_lm/:
  config.json          the tiny Qwen3 config (transformers 4 spelling)
  model.safetensors    its weights, F32, names without "model." (diffusers text_encoder/ layout)
  step.safetensors     in.ids [B, L] I64, in.valid [B] I64, in.labels [B, L] I64 (-100 = ignored),
                       loss [1], last_hidden_state [B, L, hidden], grad.<name> for every parameter
Everything in float32 as transformers computes it. --study also runs it in float64 from the same inputs
and prints max|f32 - f64| / scale per tensor (scale = max|f64|; for grads at least 1e-2 x the largest
gradient), the numbers the Java test's tolerances are set from.

Usage: /usr/bin/python3 scripts/goldens/qwen3_lm.py [--study]   (torch 1.13, no transformers needed)
"""
import json
import os
import struct
import sys

import torch

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "ovis4j-train", "src", "test", "resources", "goldens", "qwen3_lm")

CFG = dict(architectures=["Qwen3Model"], model_type="qwen3", hidden_size=64, intermediate_size=96, num_hidden_layers=2,
           num_attention_heads=4, num_key_value_heads=2, head_dim=24, vocab_size=97, hidden_act="silu", rms_norm_eps=1e-6,
           rope_theta=1000000.0, max_position_embeddings=64, attention_bias=False, tie_word_embeddings=True)
B, L, VALID, LOSS_START, PAD = 3, 13, [13, 9, 5], 3, 96


def param_shapes(c):
    h, q, kv, f = c["hidden_size"], c["num_attention_heads"] * c["head_dim"], c["num_key_value_heads"] * c["head_dim"], c["intermediate_size"]
    out = [("embed_tokens.weight", [c["vocab_size"], h])]
    for i in range(c["num_hidden_layers"]):
        p = "layers.%d." % i
        out += [(p + "input_layernorm.weight", [h]), (p + "self_attn.q_proj.weight", [q, h]), (p + "self_attn.k_proj.weight", [kv, h]),
                (p + "self_attn.v_proj.weight", [kv, h]), (p + "self_attn.o_proj.weight", [h, q]),
                (p + "self_attn.q_norm.weight", [c["head_dim"]]), (p + "self_attn.k_norm.weight", [c["head_dim"]]),
                (p + "post_attention_layernorm.weight", [h]), (p + "mlp.gate_proj.weight", [f, h]), (p + "mlp.up_proj.weight", [f, h]),
                (p + "mlp.down_proj.weight", [h, f])]
    return out + [("norm.weight", [h])]


def weights(c):
    g = torch.Generator().manual_seed(8100)
    w = {}
    for name, shape in param_shapes(c):
        if len(shape) == 1:
            w[name] = 1 + 0.1 * torch.randn(shape, generator=g)  # not ones: a norm weight that is 1 hides a missing multiply
        elif name.startswith("embed"):
            w[name] = 0.3 * torch.randn(shape, generator=g)
        else:
            w[name] = torch.randn(shape, generator=g) / shape[1] ** 0.5
    return w


def rms_norm(x, weight, eps):
    dtype = x.dtype
    x = x.to(torch.float32 if dtype != torch.float64 else dtype)
    x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps)
    return weight * x.to(dtype)


def rotate_half(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def rope_tables(c, length, dtype):
    # transformers' default RoPE: float32 inv_freq and angles (the float64 study uses float64 throughout)
    ft = torch.float64 if dtype == torch.float64 else torch.float32
    d = c["head_dim"]
    inv_freq = 1.0 / (c["rope_theta"] ** (torch.arange(0, d, 2, dtype=torch.int64).to(ft) / d))
    pos = torch.arange(length, dtype=ft)
    freqs = pos[:, None] * inv_freq[None, :]
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos().to(dtype), emb.sin().to(dtype)


def forward(c, w, ids, valid, dtype):
    h_dim, heads, kv_heads, d = c["hidden_size"], c["num_attention_heads"], c["num_key_value_heads"], c["head_dim"]
    eps = c["rms_norm_eps"]
    b, length = ids.shape
    h = w["embed_tokens.weight"][ids]
    cos, sin = rope_tables(c, length, dtype)
    # causal + key padding, as transformers' mask: query i sees keys j <= i that are real tokens
    keep = torch.tril(torch.ones(length, length, dtype=torch.bool))[None, None] & (torch.arange(length)[None, :] < valid[:, None])[:, None, None, :]
    mask = torch.zeros(b, 1, length, length, dtype=dtype).masked_fill(~keep, torch.finfo(dtype).min)
    for i in range(c["num_hidden_layers"]):
        p = "layers.%d." % i
        x = rms_norm(h, w[p + "input_layernorm.weight"], eps)
        q = rms_norm((x @ w[p + "self_attn.q_proj.weight"].T).view(b, length, heads, d), w[p + "self_attn.q_norm.weight"], eps).transpose(1, 2)
        k = rms_norm((x @ w[p + "self_attn.k_proj.weight"].T).view(b, length, kv_heads, d), w[p + "self_attn.k_norm.weight"], eps).transpose(1, 2)
        v = (x @ w[p + "self_attn.v_proj.weight"].T).view(b, length, kv_heads, d).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(heads // kv_heads, dim=1)  # repeat_kv
        v = v.repeat_interleave(heads // kv_heads, dim=1)
        scores = q @ k.transpose(2, 3) * d ** -0.5 + mask
        probs = torch.softmax(scores.to(torch.float32 if dtype != torch.float64 else dtype), dim=-1).to(dtype)
        att = (probs @ v).transpose(1, 2).reshape(b, length, heads * d)
        h = h + att @ w[p + "self_attn.o_proj.weight"].T
        x = rms_norm(h, w[p + "post_attention_layernorm.weight"], eps)
        gate, up = x @ w[p + "mlp.gate_proj.weight"].T, x @ w[p + "mlp.up_proj.weight"].T
        h = h + (torch.nn.functional.silu(gate) * up) @ w[p + "mlp.down_proj.weight"].T
    return rms_norm(h, w["norm.weight"], eps)


def run(c, w0, ids, valid, labels, dtype):
    w = {k: v.to(dtype).clone().requires_grad_(True) for k, v in w0.items()}
    out = forward(c, w, ids, valid, dtype)
    out.retain_grad()
    logits = out @ w["embed_tokens.weight"].T  # tied lm_head
    shift = torch.nn.functional.pad(labels, (0, 1), value=-100)[:, 1:]  # ForCausalLMLoss
    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, c["vocab_size"]).float() if dtype != torch.float64 else
                                             logits.reshape(-1, c["vocab_size"]), shift.reshape(-1), ignore_index=-100, reduction="mean")
    loss.backward()
    res = {"loss": loss.detach().reshape(1), "last_hidden_state": out.detach()}
    for k, v in w.items():
        res["grad." + k] = v.grad.detach()
    return res


def write_safetensors(path, tensors, metadata):
    header, blobs, off = {"__metadata__": metadata}, [], 0
    codes = {torch.float32: "F32", torch.int64: "I64", torch.float64: "F64"}
    for name, t in tensors.items():
        t = t.contiguous()
        data = t.numpy().tobytes()
        header[name] = {"dtype": codes[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def main():
    torch.manual_seed(0)
    c = CFG
    w = weights(c)
    g = torch.Generator().manual_seed(8101)
    ids = torch.randint(0, c["vocab_size"] - 1, (B, L), generator=g)
    valid = torch.tensor(VALID)
    for b in range(B):
        ids[b, VALID[b]:] = PAD
    labels = ids.clone()
    labels[torch.arange(L)[None, :] >= valid[:, None]] = -100
    labels[:, : LOSS_START + 1] = -100  # no loss on the first targets (ovis4j skips the template prefix likewise)
    r32 = run(c, w, ids, valid, labels, torch.float32)
    os.makedirs(OUT, exist_ok=True)
    meta = {"generator": "scripts/goldens/qwen3_lm.py", "torch": torch.__version__, "dtype": "float32",
            "loss_start": str(LOSS_START), "pad": str(PAD)}
    write_safetensors(os.path.join(OUT, "model.safetensors"), {k: v.float() for k, v in w.items()}, {"format": "pt"})
    with open(os.path.join(OUT, "config.json"), "w") as f:
        json.dump(c, f, indent=2)
        f.write("\n")
    step = {"in.ids": ids, "in.valid": valid, "in.labels": labels}
    step.update(r32)
    write_safetensors(os.path.join(OUT, "step.safetensors"), step, meta)
    print("loss", r32["loss"].item())
    if "--study" in sys.argv:
        r64 = run(c, w, ids, valid, labels, torch.float64)
        gmax = max(v.abs().max().item() for k, v in r64.items() if k.startswith("grad."))
        worst = (0, "")
        for k in r32:
            scale = r64[k].abs().max().item()
            if k.startswith("grad."):
                scale = max(scale, 1e-2 * gmax)
            e = (r32[k].double() - r64[k]).abs().max().item() / scale
            worst = max(worst, (e, k))
            print("%-45s f32 vs f64 %.2e" % (k, e))
        print("worst %.2e (%s)" % worst)


if __name__ == "__main__":
    main()
