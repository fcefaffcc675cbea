#!/usr/bin/python3
"""PyTorch CPU reference timings for the shapes ovis4j runs (issue 3).

Written from the Ovis-Image architecture spec (ovis-image.md, section 3), not from diffusers. Random weights, no
checkpoint: only speed is measured, the output is meaningless.

  pytorch_ovis.py --gemm M K N --dtype bf16|f32
      times torch.nn.functional.linear(x[M,K], W[N,K]) (best of --repeat after one warm-up) and prints
      gemm M K N DTYPE pytorch GFLOP/s=<value>

  pytorch_ovis.py --forward --width W --height H --dtype bf16|f32 [--text-tokens 256]
      one MMDiT forward (embedders, 6 double-stream + 27 single-stream blocks, output layer) for
      (H/16)*(W/16) image tokens plus the text tokens, under torch.inference_mode(), and prints
      forward W H DTYPE pytorch seconds=<best> GFLOP/s=<value> blocks=D+S warmup_s=... timed_s=...
      FLOPs = 2*33*(T*(4*D*D + 3*D*F) + 2*T*T*D), the formula ovis4j's `bench` uses.

Weights are created block by block directly in the target dtype (bf16: 14.7 GB for all 33 blocks).
f32 for all blocks needs ~29 GB, so f32 defaults to a subset (--blocks 2+6): the double-stream and
single-stream parts are timed separately and scaled to 6 and 27 blocks; the output line then says
`blocks=2+6 scaled`.

Needs Debian's torch (apt-get install python3-torch), i.e. run with /usr/bin/python3.
"""
import argparse
import math
import sys
import time

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    sys.exit("pytorch_ovis.py: torch not importable by %s; install it with: apt-get install python3-torch"
             % sys.executable)

D = 3072          # inner dim
HEADS = 24
HEAD_DIM = 128
FF = 12288        # SwiGLU hidden
TEXT_DIM = 2048   # text encoder width
IN_CH = 64        # packed latent channels
AXES = (16, 56, 56)
N_DOUBLE = 6
N_SINGLE = 27
EPS = 1e-6


def dtype_of(name):
    name = name.lower()
    if name == "bf16":
        return torch.bfloat16
    if name in ("f32", "fp32"):
        return torch.float32
    sys.exit("unknown dtype %r (bf16 or f32)" % name)


def rand(shape, dtype, fan_in):
    """Uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)) created in the target dtype (no f32 copy)."""
    a = 1.0 / math.sqrt(fan_in)
    return torch.empty(shape, dtype=dtype).uniform_(-a, a)


def lin(out_f, in_f, dtype):
    return rand((out_f, in_f), dtype, in_f), rand((out_f,), dtype, in_f)


# ------------------------------------------------------------------------------------------- pieces
def layer_norm(x):
    return F.layer_norm(x, (x.shape[-1],), eps=EPS)


def modulate(x, shift, scale):
    return layer_norm(x) * (1 + scale) + shift


def head_rms_norm(x, w):
    """x [L, H, 128]; RMSNorm over the head dim, statistics in f32."""
    xf = x.float()
    xf = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + EPS)
    return (xf * w.float()).to(x.dtype)


def rope_tables(ids):
    """ids [L, 3] -> cos, sin [L, 64] (one angle per interleaved pair of head dims), f32."""
    angles = []
    for axis, dim in enumerate(AXES):
        j = torch.arange(dim // 2, dtype=torch.float64)
        omega = 10000.0 ** (-2.0 * j / dim)
        angles.append(ids[:, axis:axis + 1].double() * omega[None, :])
    theta = torch.cat(angles, dim=1)
    return theta.cos().float(), theta.sin().float()


def apply_rope(x, cos, sin):
    """x [L, H, 128]; pairs (2j, 2j+1) rotated by theta_j, computed in f32, cast back."""
    L, H, _ = x.shape
    xf = x.float().reshape(L, H, HEAD_DIM // 2, 2)
    x0, x1 = xf[..., 0], xf[..., 1]
    c, s = cos[:, None, :], sin[:, None, :]
    y = torch.stack((x0 * c - x1 * s, x1 * c + x0 * s), dim=-1)
    return y.reshape(L, H, HEAD_DIM).to(x.dtype)


HAVE_SDPA = hasattr(F, "scaled_dot_product_attention")


def attention(q, k, v):
    """q, k, v [L, H, 128] -> [L, H*128]; full bidirectional softmax attention, no mask."""
    L = q.shape[0]
    q, k, v = (t.transpose(0, 1) for t in (q, k, v))  # [H, L, 128]
    if HAVE_SDPA:
        o = F.scaled_dot_product_attention(q, k, v)
    else:  # torch < 2.0 (Debian bookworm ships 1.13): plain math attention, a few heads at a time
        scale = 1.0 / math.sqrt(HEAD_DIM)
        step = max(1, int(2 ** 28 // (L * L)))  # bound the score matrix to ~256M elements
        outs = []
        for h in range(0, HEADS, step):
            s = torch.bmm(q[h:h + step], k[h:h + step].transpose(1, 2)).mul_(scale)
            p = torch.softmax(s, dim=-1)
            outs.append(torch.bmm(p, v[h:h + step]))
        o = torch.cat(outs, dim=0)
    return o.transpose(0, 1).reshape(L, HEADS * HEAD_DIM)


def swiglu(h):
    up, gate = h.chunk(2, dim=-1)
    return up * F.silu(gate)


# ------------------------------------------------------------------------------------------- blocks
class DoubleBlock:
    """Double-stream block: separate weights for image and text, joint attention (spec 3.5)."""

    def __init__(self, dtype):
        self.streams = []
        for _ in range(2):  # 0 = image, 1 = text
            s = {}
            s["mod"] = lin(6 * D, D, dtype)
            s["qkv"] = lin(3 * D, D, dtype)  # rows [q | k | v], head-major
            s["qn"] = torch.ones(HEAD_DIM, dtype=dtype)
            s["kn"] = torch.ones(HEAD_DIM, dtype=dtype)
            s["out"] = lin(D, D, dtype)
            s["ff1"] = lin(2 * FF, D, dtype)  # rows [up | gate]
            s["ff2"] = lin(D, FF, dtype)
            self.streams.append(s)

    def __call__(self, x, c, svec, cos, sin):
        img, txt = self.streams
        mods, qs, ks, vs, hs = [], [], [], [], []
        for h, s in ((c, txt), (x, img)):  # text first in the joint sequence
            m = F.linear(svec, *s["mod"]).chunk(6, dim=-1)
            mods.append(m)
            hn = modulate(h, m[0], m[1])
            q, k, v = F.linear(hn, *s["qkv"]).view(h.shape[0], 3, HEADS, HEAD_DIM).unbind(1)
            qs.append(head_rms_norm(q, s["qn"]))
            ks.append(head_rms_norm(k, s["kn"]))
            vs.append(v)
        q = apply_rope(torch.cat(qs), cos, sin)
        k = apply_rope(torch.cat(ks), cos, sin)
        a = attention(q, k, torch.cat(vs))
        nt = c.shape[0]
        out = []
        for h, s, m, ah in ((c, txt, mods[0], a[:nt]), (x, img, mods[1], a[nt:])):
            h = h + m[2] * F.linear(ah, *s["out"])
            ff = F.linear(swiglu(F.linear(modulate(h, m[3], m[4]), *s["ff1"])), *s["ff2"])
            out.append(h + m[5] * ff)
        return out[1], out[0]


class SingleBlock:
    """Single-stream block on concat(text, image): fused [q|k|v|up|gate] in, [attn|mlp] out (spec 3.6)."""

    def __init__(self, dtype):
        self.mod = lin(3 * D, D, dtype)
        self.w1 = lin(3 * D + 2 * FF, D, dtype)
        self.qn = torch.ones(HEAD_DIM, dtype=dtype)
        self.kn = torch.ones(HEAD_DIM, dtype=dtype)
        self.w2 = lin(D, D + FF, dtype)

    def __call__(self, s, svec, cos, sin):
        shift, scale, gate = F.linear(svec, *self.mod).chunk(3, dim=-1)
        h = F.linear(modulate(s, shift, scale), *self.w1)
        L = s.shape[0]
        q, k, v = h[:, :3 * D].reshape(L, 3, HEADS, HEAD_DIM).unbind(1)
        q = apply_rope(head_rms_norm(q, self.qn), cos, sin)
        k = apply_rope(head_rms_norm(k, self.kn), cos, sin)
        a = attention(q, k, v)
        mlp = swiglu(h[:, 3 * D:])
        return s + gate * F.linear(torch.cat((a, mlp), dim=-1), *self.w2)


class Embedders:
    def __init__(self, dtype):
        self.x_in = lin(D, IN_CH, dtype)
        self.t1 = lin(D, 256, dtype)
        self.t2 = lin(D, D, dtype)
        self.txt_norm = torch.ones(TEXT_DIM, dtype=dtype)
        self.txt_in = lin(D, TEXT_DIM, dtype)
        self.norm_out = lin(2 * D, D, dtype)
        self.proj_out = lin(IN_CH, D, dtype)

    def embed(self, latents, text, sigma):
        dtype = latents.dtype
        x = F.linear(latents, *self.x_in)
        tf = text.float()
        tn = (tf * torch.rsqrt(tf.pow(2).mean(-1, keepdim=True) + EPS)).to(dtype) * self.txt_norm
        c = F.linear(tn, *self.txt_in)
        tau = 1000.0 * sigma
        omega = torch.exp(-math.log(10000.0) * torch.arange(128, dtype=torch.float32) / 128)
        e = torch.cat((torch.cos(tau * omega), torch.sin(tau * omega))).to(dtype)[None, :]
        vec = F.linear(F.silu(F.linear(e, *self.t1)), *self.t2)
        return x, c, F.silu(vec)

    def output(self, x, svec):
        scale, shift = F.linear(svec, *self.norm_out).chunk(2, dim=-1)
        return F.linear(modulate(x, shift, scale), *self.proj_out)


def position_ids(text_tokens, gh, gw):
    t = torch.arange(text_tokens, dtype=torch.float32)
    txt = torch.stack((torch.zeros_like(t), t, t), dim=1)
    r, c = torch.meshgrid(torch.arange(gh, dtype=torch.float32), torch.arange(gw, dtype=torch.float32),
                          indexing="ij")
    img = torch.stack((torch.zeros(gh * gw), r.reshape(-1), c.reshape(-1)), dim=1)
    return torch.cat((txt, img))


# ------------------------------------------------------------------------------------------- modes
def flops_forward(tokens):
    return 2.0 * (N_DOUBLE + N_SINGLE) * (tokens * (4.0 * D * D + 3.0 * D * FF) + 2.0 * tokens * tokens * D)


def run_gemm(args):
    m, k, n = args.gemm
    dtype = dtype_of(args.dtype)
    g = torch.Generator().manual_seed(1)
    x = (torch.rand((m, k), generator=g) - 0.5).to(dtype)
    w = (torch.rand((n, k), generator=g) - 0.5).to(dtype)
    with torch.inference_mode():
        F.linear(x, w)  # warm-up (oneDNN primitive creation, page faults)
        best = float("inf")
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            F.linear(x, w)
            best = min(best, time.perf_counter() - t0)
    print("torch %s, threads %d, best of %d: %.4f s" % (torch.__version__, torch.get_num_threads(), args.repeat, best))
    print("gemm %d %d %d %s pytorch GFLOP/s=%.1f" % (m, k, n, args.dtype.lower(), 2.0 * m * k * n / best / 1e9))


def parse_blocks(spec, dtype):
    if spec is None:
        return (N_DOUBLE, N_SINGLE) if dtype == torch.bfloat16 else (2, 6)
    d, s = (int(v) for v in spec.split("+"))
    if not (1 <= d <= N_DOUBLE and 1 <= s <= N_SINGLE):
        sys.exit("--blocks wants D+S with 1<=D<=6, 1<=S<=27")
    return d, s


def run_forward(args):
    dtype = dtype_of(args.dtype)
    if args.width % 16 or args.height % 16:
        sys.exit("--width and --height must be multiples of 16")
    gh, gw = args.height // 16, args.width // 16
    n_img, n_txt = gh * gw, args.text_tokens
    tokens = n_img + n_txt
    nd, ns = parse_blocks(args.blocks, dtype)
    scaled = (nd, ns) != (N_DOUBLE, N_SINGLE)
    runs = args.runs if args.runs is not None else (2 if tokens <= 1536 else 1)
    warmup = args.warmup if args.warmup is not None else (1 if tokens <= 1536 else 0)

    # Refuse to start what would not fit (the machine may be shared with another 7B process).
    per_double, per_single, other = 415353344, 179352832, 16726016 + 19077184
    need = (nd * per_double + ns * per_single + other) * (2 if dtype == torch.bfloat16 else 4) + (2 << 30)
    try:
        with open("/proc/meminfo") as f:
            avail = next(int(l.split()[1]) * 1024 for l in f if l.startswith("MemAvailable:"))
    except (OSError, StopIteration):
        avail = None
    if avail is not None and avail < need and not args.ignore_memory:
        sys.exit("pytorch_ovis.py: %d+%d %s blocks need about %.1f GB, only %.1f GB available; free memory, use "
                 "fewer --blocks (scaled) or --ignore-memory" % (nd, ns, args.dtype, need / 1e9, avail / 1e9))

    torch.manual_seed(0)
    t0 = time.perf_counter()
    emb = Embedders(dtype)
    doubles = [DoubleBlock(dtype) for _ in range(nd)]
    singles = [SingleBlock(dtype) for _ in range(ns)]
    print("built %d+%d blocks in %s in %.1f s" % (nd, ns, args.dtype, time.perf_counter() - t0), file=sys.stderr)

    latents = torch.randn(n_img, IN_CH).to(dtype)
    text = torch.randn(n_txt, TEXT_DIM).to(dtype)
    cos, sin = rope_tables(position_ids(n_txt, gh, gw))

    def forward():
        t_a = time.perf_counter()
        x, c, svec = emb.embed(latents, text, 0.5)
        t_b = time.perf_counter()
        for blk in doubles:
            x, c = blk(x, c, svec, cos, sin)
        t_c = time.perf_counter()
        s = torch.cat((c, x))
        for blk in singles:
            s = blk(s, svec, cos, sin)
        t_d = time.perf_counter()
        v = emb.output(s[n_txt:], svec)
        t_e = time.perf_counter()
        if not torch.isfinite(v.float()).all():
            print("warning: non-finite output", file=sys.stderr)
        other = (t_b - t_a) + (t_e - t_d)
        # Scale each stream type to its full block count (identity when all 33 blocks ran).
        return other + (t_c - t_b) * N_DOUBLE / nd + (t_d - t_c) * N_SINGLE / ns

    times, warm = [], []
    with torch.inference_mode():
        for i in range(warmup + runs):
            if args.profile and i == warmup + runs - 1:
                from torch.profiler import profile, ProfilerActivity
                with profile(activities=[ProfilerActivity.CPU]) as prof:
                    s = forward()
                print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=15), file=sys.stderr)
            else:
                s = forward()
            print("%s run %d: %.2f s%s" % ("warm-up" if i < warmup else "timed", i, s, " (scaled)" if scaled else ""),
                  file=sys.stderr)
            (times if i >= warmup else warm).append(s)
    best = min(times)
    blocks = "%d+%d scaled" % (nd, ns) if scaled else "%d+%d" % (nd, ns)
    print("torch %s, threads %d, attention %s, %d image + %d text tokens"
          % (torch.__version__, torch.get_num_threads(), "sdpa" if HAVE_SDPA else "math (bmm+softmax)", n_img, n_txt))
    print("forward %d %d %s pytorch seconds=%.2f GFLOP/s=%.1f blocks=%s warmup_s=%s timed_s=%s"
          % (args.width, args.height, args.dtype.lower(), best, flops_forward(tokens) / best / 1e9, blocks,
             ",".join("%.2f" % t for t in warm) or "none", ",".join("%.2f" % t for t in times)))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("--gemm", nargs=3, type=int, metavar=("M", "K", "N"))
    mode.add_argument("--forward", action="store_true")
    p.add_argument("--dtype", default="bf16", help="bf16 or f32 (default bf16)")
    p.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    p.add_argument("--repeat", type=int, default=5, help="timed GEMM runs after one warm-up (default 5)")
    p.add_argument("--width", type=int, default=512)
    p.add_argument("--height", type=int, default=512)
    p.add_argument("--text-tokens", type=int, default=256)
    p.add_argument("--blocks", help="D+S blocks to build (default 6+27 for bf16, 2+6 scaled for f32)")
    p.add_argument("--runs", type=int, help="timed forwards (default 2 up to 512x512, else 1)")
    p.add_argument("--warmup", type=int, help="untimed forwards first (default 1 up to 512x512, else 0)")
    p.add_argument("--ignore-memory", action="store_true", help="skip the MemAvailable check")
    p.add_argument("--profile", action="store_true", help="print torch.profiler's top ops for the last forward (stderr)")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    if args.gemm:
        run_gemm(args)
    else:
        run_forward(args)


if __name__ == "__main__":
    main()
