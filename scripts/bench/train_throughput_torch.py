#!/usr/bin/python3
"""PyTorch side of scripts/bench/train-throughput.sh: trains diffusers' own OvisImageTransformer2DModel on CPU.

  train_throughput_torch.py --diffusers-src DIR --model CKPT --batch BATCH.safetensors
                            [--precision f32|bf16] [--warmup 1] [--steps 3] [--threads 2] [--recompute]
                            [--lr 1e-4] [--weight-decay 0.01] [--max-grad-norm 1]

The model is built from CKPT/transformer/config.json and loaded with CKPT's transformer weights (read with numpy:
the safetensors package may be missing), the batch is the one the Java side wrote (x0, noise, prompt_embeds,
sigma, txt_ids, img_ids), and each step is the textbook diffusers training step:
  x_t = (1 - σ)·x0 + σ·ε;  pred = transformer(x_t, prompt_embeds, σ, img_ids, txt_ids)
  loss = mse(pred.float(), ε - x0);  loss.backward();  clip_grad_norm_(params, max_norm)
  optimizer.step() (torch.optim.AdamW, betas (0.9, 0.999), eps 1e-8);  optimizer.zero_grad(set_to_none=True)
Precision f32: everything in float32. bf16: the forward under torch.autocast("cpu", dtype=torch.bfloat16) (matmuls
in bf16 through oneDNN, float32 master weights and optimizer), the loss in float32. The forward (with the loss),
the backward and clip + AdamW + zero_grad are timed apart with time.perf_counter().

Prints one line: torch train precision=... forward_s=... backward_s=... optimizer_s=... step_s=... samples_per_s=...
loss_first=... loss_last=... peak_rss_bytes=... (medians over the timed steps; VmHWM of this process).
Needs Debian's torch (run with /usr/bin/python3) and numpy; diffusers_shims.py fills in what torch 1.13 lacks.
"""
import argparse
import json
import os
import struct
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import diffusers_shims  # noqa: E402


def read_safetensors(path):
    """{name: numpy array} of a safetensors file (F32, BF16 widened to float32, F16), memory-mapped."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
    data = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + n)
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        raw = data[a:b]
        if info["dtype"] == "F32":
            arr = raw.view(np.float32)
        elif info["dtype"] == "BF16":
            arr = (raw.view(np.uint16).astype(np.uint32) << 16).view(np.float32)
        elif info["dtype"] == "F16":
            arr = raw.view(np.float16).astype(np.float32)
        else:
            raise SystemExit("%s: tensor %s has dtype %s (expected F32, BF16 or F16)" % (path, name, info["dtype"]))
        out[name] = arr.reshape(info["shape"])
    return out


def transformer_files(ckpt):
    d = os.path.join(ckpt, "transformer")
    index = [f for f in os.listdir(d) if f.endswith(".safetensors.index.json")]
    if index:
        with open(os.path.join(d, index[0])) as f:
            return sorted({os.path.join(d, v) for v in json.load(f)["weight_map"].values()})
    return sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith(".safetensors"))


def peak_rss_bytes():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return -1


def median(v):
    s = sorted(v)
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--diffusers-src", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--batch", required=True)
    ap.add_argument("--precision", choices=("f32", "bf16"), default="f32")
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--recompute", action="store_true")
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--max-grad-norm", type=float, default=1.0)
    args = ap.parse_args()

    diffusers_shims.install(args.diffusers_src)
    import torch
    import torch.nn.functional as F
    from diffusers.models.transformers.transformer_ovis_image import OvisImageTransformer2DModel

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    with open(os.path.join(args.model, "transformer", "config.json")) as f:
        config = json.load(f)
    keys = ("patch_size", "in_channels", "out_channels", "num_layers", "num_single_layers", "attention_head_dim",
            "num_attention_heads", "joint_attention_dim", "axes_dims_rope")
    t0 = time.perf_counter()
    model = OvisImageTransformer2DModel(**{k: config[k] for k in keys if k in config})
    state = {}
    for path in transformer_files(args.model):
        state.update({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in read_safetensors(path).items()})
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise SystemExit("checkpoint does not match the model: missing %s, unexpected %s" % (missing[:5], unexpected[:5]))
    del state
    model = model.float().train()
    if args.recompute:
        model.enable_gradient_checkpointing()
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=args.lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=args.weight_decay)
    build = time.perf_counter() - t0

    b = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in read_safetensors(args.batch).items()}
    sigma = b["sigma"]
    s = sigma[:, None, None]
    x_t = (1 - s) * b["x0"] + s * b["noise"]
    target = b["noise"] - b["x0"]
    text, img_ids, txt_ids = b["prompt_embeds"], b["img_ids"], b["txt_ids"]
    samples = x_t.shape[0]
    autocast = (torch.autocast(device_type="cpu", dtype=torch.bfloat16) if args.precision == "bf16" else None)

    fwd, bwd, opt, losses, cpu = [], [], [], [], []
    for step in range(args.warmup + args.steps):
        cpu0 = time.process_time()  # every thread of the process (OpenMP's too)
        a = time.perf_counter()
        if autocast is not None:
            with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
                pred = model(hidden_states=x_t, encoder_hidden_states=text, timestep=sigma, img_ids=img_ids,
                             txt_ids=txt_ids, return_dict=False)[0]
        else:
            pred = model(hidden_states=x_t, encoder_hidden_states=text, timestep=sigma, img_ids=img_ids,
                         txt_ids=txt_ids, return_dict=False)[0]
        loss = F.mse_loss(pred.float(), target)
        bb = time.perf_counter()
        loss.backward()
        c = time.perf_counter()
        torch.nn.utils.clip_grad_norm_(params, args.max_grad_norm)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        d = time.perf_counter()
        losses.append(loss.item())
        timed = step >= args.warmup
        if timed:
            fwd.append(bb - a)
            bwd.append(c - bb)
            opt.append(d - c)
            cpu.append(time.process_time() - cpu0)
        print("torch-bench: step %d/%d%s: forward %.3f s, backward %.3f s, clip+adamw %.3f s, loss %.9g"
              % (step + 1, args.warmup + args.steps, "" if timed else " (warm-up)", bb - a, c - bb, d - c, losses[-1]),
              file=sys.stderr, flush=True)
        del pred, loss

    f, bk, o = median(fwd), median(bwd), median(opt)
    print("torch train precision=%s torch=%s threads=%d recompute=%s params=%d steps=%d forward_s=%.4f backward_s=%.4f "
          "optimizer_s=%.4f step_s=%.4f samples_per_s=%.4f loss_first=%.9g loss_last=%.9g peak_rss_bytes=%d "
          "build_s=%.2f cpu_step_s=%.4f samples_per_cpu_s=%.4f shims=%s"
          % (args.precision, torch.__version__, torch.get_num_threads(), args.recompute,
             sum(p.numel() for p in params), len(fwd), f, bk, o, f + bk + o, samples / (f + bk + o), losses[0],
             losses[-1], peak_rss_bytes(), build, median(cpu), samples / median(cpu), ",".join(diffusers_shims.STUBBED)))


if __name__ == "__main__":
    main()
