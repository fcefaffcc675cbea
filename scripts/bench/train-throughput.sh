#!/usr/bin/env bash
# Training throughput of the MMDiT, ovis4j against PyTorch eager CPU running diffusers' own
# OvisImageTransformer2DModel, on the same checkpoint, the same batch and the same steps (issue 11, item 8).
#
#   scripts/bench/train-throughput.sh --diffusers DIR [options]
#
#   --diffusers DIR     a huggingface/diffusers checkout (its src/ goes on PYTHONPATH; its commit is reported).
#                       Not part of this repository: e.g. git clone https://github.com/huggingface/diffusers DIR
#                       && git -C DIR checkout 58eb52c0803ea9af3abec60841c2a093bdf1f951 (the goldens' commit)
#   --torch-blas DIR    a folder holding an optimised libblas.so.3 for torch's float32 matmuls, put first on
#                       LD_LIBRARY_PATH of the PyTorch runs only (see "BLAS" below)
#   --model DIR         checkpoint to train (default: written once into the work folder by
#                       `bin/ovis4j synth --config CONFIG --dtype f32`)
#   --config FILE       the synth config of that default checkpoint: scripts/bench/train-throughput-config.json
#                       (default: 4 double + 8 single blocks, width 768 = 6 heads x 128, text width 512, 196M
#                       parameters) or scripts/bench/train-throughput-mini-config.json (ovis-mini's size: 2 double
#                       + 4 single blocks, width 256 = 4 heads x 64, text width 256, 10.7M parameters)
#   --batch B --image-tokens N --text-tokens T     default 2, 256 (a 256x256 image), 64
#   --warmup W --steps S  default 2 warm-up and 3 timed steps per run (medians of the timed ones)
#   --repeat R          runs of each side, alternated (default 3; the report gives the median of the run medians)
#   --sides LIST        which runs, in this order each round (default "java-fp32 java-bf16 torch-f32 torch-bf16"):
#                       java-fp32 (ovis4j float32), java-bf16 (ovis4j --precision bf16: GEMM operands in bf16
#                       through oneDNN, float32 masters; float32 where oneDNN or AVX512-BF16/AMX is missing, which
#                       its log says), torch-f32, torch-bf16 (autocast)
#   --threads N         default 2 (ovis4j: -Dovis4j.threads; torch: set_num_threads, OMP_NUM_THREADS)
#   --recompute         gradient checkpointing on both sides
#   --lora-rank R       LoRA of rank R (alpha R) on every attention projection, checkpoint frozen (ovis4j only)
#   --java-only         run only the ovis4j side (no --diffusers needed), e.g. for the 7B:
#                       OVIS4J_HEAP=5g scripts/bench/train-throughput.sh --java-only --model /work/ckpt/ovis-7b-random
#                         --batch 1 --image-tokens 1024 --text-tokens 256 --warmup 0 --steps 3 --recompute
#                         --lora-rank 16 --repeat 1
#   --work DIR          default /tmp/ovis4j-train-bench (checkpoint, batch, logs)
#   OVIS4J_HEAP         the Java heap (default 30% of RAM, as bin/ovis4j)
#
# Each step on both sides: forward + flow-matching loss, backward, clip_grad_norm_(1.0) + AdamW(lr 1e-4,
# wd 0.01) + zero_grad, timed apart. ovis4j trains in float32 and with --precision bf16 (its
# compute_precision: linear products in bf16 with float32 sums, float32 masters); PyTorch runs in float32
# and under torch.autocast("cpu", bfloat16) (float32 masters). Both sides report the loss of every step:
# the float32 ones must agree to float32 rounding (same weights, same batch), the bf16 ones to 2% of each
# other and of float32 (bf16 rounding; the two bf16 sides round different things), which the script checks.
# The ratios are of each ovis4j run against the PyTorch run of the same round (run back to back).
#
# BLAS: Debian's python3-torch does its float32 matmuls through the system libblas.so.3. When that is the
# reference (netlib) BLAS, torch's float32 runs at a few GFLOP/s and the comparison would be meaningless; the
# script then refuses to run without --torch-blas. OpenBLAS without touching the system:
#   apt-get download libopenblas0-openmp && dpkg -x libopenblas0-openmp_*.deb /tmp/openblas
#   --torch-blas /tmp/openblas/usr/lib/x86_64-linux-gnu/openblas-openmp
# (the OpenMP build shares torch's libgomp thread pool). bf16 matmuls go to oneDNN, which torch bundles.
#
# diffusers on torch 1.13: scripts/bench/diffusers_shims.py stubs the packages diffusers imports but never
# calls here (huggingface_hub, accelerate, safetensors, tqdm, filelock, regex, packaging.version) and adds the
# torch 2 names it needs (nn.RMSNorm, F.scaled_dot_product_attention as its math path, a few placeholders);
# the docstring there lists each one and why.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
py=/usr/bin/python3

diffusers="" blas="" model="" work=/tmp/ovis4j-train-bench
batch=2 image=256 text=64 warmup=2 steps=3 repeat=3 threads=2 recompute=() lora=() java_only=0
config="$root/scripts/bench/train-throughput-config.json" sides="java-fp32 java-bf16 torch-f32 torch-bf16"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --diffusers) diffusers="${2:?}"; shift 2 ;;
    --torch-blas) blas="${2:?}"; shift 2 ;;
    --model) model="${2:?}"; shift 2 ;;
    --config) config="${2:?}"; shift 2 ;;
    --sides) sides="${2:?}"; shift 2 ;;
    --batch) batch="${2:?}"; shift 2 ;;
    --image-tokens) image="${2:?}"; shift 2 ;;
    --text-tokens) text="${2:?}"; shift 2 ;;
    --warmup) warmup="${2:?}"; shift 2 ;;
    --steps) steps="${2:?}"; shift 2 ;;
    --repeat) repeat="${2:?}"; shift 2 ;;
    --threads) threads="${2:?}"; shift 2 ;;
    --recompute) recompute=(--recompute); shift ;;
    --lora-rank) lora=(--lora-rank "${2:?}"); shift 2 ;;
    --java-only) java_only=1; shift ;;
    --work) work="${2:?}"; shift 2 ;;
    -h|--help) sed -n '2,/^set /{/^#/p}' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "train-throughput.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

die() { echo "train-throughput.sh: $*" >&2; exit 1; }
[[ ${#lora[@]} -eq 0 || $java_only == 1 ]] || die "--lora-rank runs the ovis4j side only: add --java-only"
if [[ $java_only == 0 ]]; then
  [[ -n "$diffusers" ]] || die "--diffusers DIR is required (a huggingface/diffusers checkout; see --help)"
  [[ -f "$diffusers/src/diffusers/models/transformers/transformer_ovis_image.py" ]] \
    || die "$diffusers: not a diffusers checkout with OvisImageTransformer2DModel (src/diffusers/models/transformers/transformer_ovis_image.py)"
fi
"$py" -c 'import torch, numpy' 2>/dev/null || [[ $java_only == 1 ]] \
  || die "$py cannot import torch and numpy; apt-get install python3-torch python3-numpy"
[[ $java_only == 0 ]] || sides=$(tr ' ' '\n' <<<"$sides" | grep '^java' | tr '\n' ' ')
for s in $sides; do
  case "$s" in java-fp32|java-bf16|torch-f32|torch-bf16) ;; *) die "--sides: unknown side $s" ;; esac
done
# the command line's folder of jars holds the train module with everything it can use (oneDNN included)
[[ -f "$root/ovis4j-cli/target/lib/ovis4j-train-0.1.0-SNAPSHOT.jar" ]] \
  || die "ovis4j is not built; run: ./mvnw -q package -DskipTests"
java_bin=""
for c in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk-amd64; do
  if [[ -n "$c" && -x "$c/bin/java" ]] && "$c/bin/java" -version 2>&1 | grep -qE 'version "(2[5-9]|[3-9][0-9])'; then java_bin="$c/bin/java"; break; fi
done
[[ -n "$java_bin" ]] || die "Java 25 or newer is required (set JAVA_HOME)"

torch_env=(OMP_NUM_THREADS="$threads")
torch_blas_lib=none
if [[ $java_only == 0 ]]; then
if [[ -n "$blas" ]]; then
  [[ -f "$blas/libblas.so.3" ]] || die "--torch-blas $blas: no libblas.so.3 there"
  torch_env+=(LD_LIBRARY_PATH="$blas${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}")
fi
# the BLAS library torch actually maps after a float32 matmul
torch_blas_lib=$(env "${torch_env[@]}" "$py" -c 'import torch
torch.ones(8, 8) @ torch.ones(8, 8)
print(next((l.split()[-1] for l in open("/proc/self/maps") if "blas" in l.split()[-1]), "none"))')
if [[ "$(readlink -f "$torch_blas_lib")" == */x86_64-linux-gnu/blas/libblas.so.3* ]]; then
  die "torch would use the reference BLAS ($torch_blas_lib) for float32 matmuls; pass --torch-blas DIR (see --help)"
fi
fi

mkdir -p "$work"
logs="$work/logs-$(date -u +%Y%m%dT%H%M%S)"
mkdir -p "$logs"
if [[ -z "$model" ]]; then
  [[ -f "$config" ]] || die "--config $config: no such file"
  model="$work/ckpt-$(sha256sum "$config" | cut -c1-12)"
  if [[ ! -f "$model/model_index.json" ]]; then
    echo "[$(date -u +%H:%M:%S)] writing the benchmark checkpoint to $model" >&2
    "$root/bin/ovis4j" synth --config "$config" --dtype f32 \
      --tokenizer "$root/ovis4j-train/src/test/resources/goldens/ovis_image_tiny/tokenizer" --out "$model" >"$logs/synth.log" 2>&1 \
      || die "synth failed (see $logs/synth.log)"
  fi
fi
batch_file="$work/batch-b$batch-n$image-t$text.safetensors"
diffusers_commit=$(git -C "$diffusers" rev-parse HEAD 2>/dev/null || echo none)

heap="${OVIS4J_HEAP:-$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) * 3 / 10 / 1024 ))m}"
java_cmd=("$java_bin" -Xmx"$heap" -XX:+UseG1GC --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED
  -Xlog:disable -Xlog:all=warning:stderr -Dovis4j.threads="$threads" -cp "$root/ovis4j-cli/target/lib/*"
  org.ovis4j.train.bench.TrainingThroughput --model "$model" --batch "$batch" --image-tokens "$image" --text-tokens "$text"
  --warmup "$warmup" --steps "$steps" "${recompute[@]}" "${lora[@]}" --write-batch "$batch_file")
torch_cmd=("$py" "$root/scripts/bench/train_throughput_torch.py" --diffusers-src "$diffusers/src" --model "$model"
  --batch "$batch_file" --warmup "$warmup" --steps "$steps" --threads "$threads" "${recompute[@]}")

# load: 1-minute load average and the share of all CPUs busy in the second before (other work on the machine)
load() {
  local a b
  a=($(head -n1 /proc/stat)); sleep 1; b=($(head -n1 /proc/stat))
  local busy=$(( (b[1]+b[2]+b[3]+b[6]+b[7]+b[8]) - (a[1]+a[2]+a[3]+a[6]+a[7]+a[8]) ))
  local idle=$(( (b[4]+b[5]) - (a[4]+a[5]) ))
  awk -v l="$(cut -d' ' -f1 /proc/loadavg)" -v u="$busy" -v i="$idle" 'BEGIN { printf "%s/%d%%", l, (u + i > 0 ? 100 * u / (u + i) : 0) }'
}

results="$logs/results.txt"
: >"$results"
for r in $(seq 1 "$repeat"); do
  for side in $sides; do
    l=$(load)
    echo "[$(date -u +%H:%M:%S)] run $r/$repeat $side (load $l)" >&2
    case "$side" in
      java-fp32|java-bf16) "${java_cmd[@]}" --precision "${side#java-}" >"$logs/$side-$r.out" 2>"$logs/$side-$r.err" || die "$side failed (see $logs/$side-$r.err)" ;;
      torch-f32) env "${torch_env[@]}" "${torch_cmd[@]}" --precision f32 >"$logs/$side-$r.out" 2>"$logs/$side-$r.err" \
                   || die "$side failed (see $logs/$side-$r.err)" ;;
      torch-bf16) env "${torch_env[@]}" "${torch_cmd[@]}" --precision bf16 >"$logs/$side-$r.out" 2>"$logs/$side-$r.err" \
                   || die "$side failed (see $logs/$side-$r.err)" ;;
    esac
    echo "side=$side run=$r load=$l $(tail -n1 "$logs/$side-$r.out")" >>"$results"
  done
done

"$py" - "$results" "$diffusers_commit" "$torch_blas_lib" "$model" "$heap" <<'EOF'
import re, statistics, sys
path, commit, blas, model, heap = sys.argv[1:6]
runs = {}
for line in open(path):
    kv = dict(re.findall(r"(\w+)=(\S+)", line))
    runs.setdefault(kv["side"], []).append(kv)
java = runs.get("java-fp32") or runs["java-bf16"]
flop = {k: float(java[0][k + "_flop"]) for k in ("forward", "backward", "optimizer")}
def med(side, key):
    return statistics.median(float(r[key]) for r in runs[side])
print("checkpoint %s; batch %s x (%s image + %s text tokens); %s threads; recompute %s; %s; %s of %s parameters trained; "
      "Java heap %s" % (model, java[0]["batch"], java[0]["image_tokens"], java[0]["text_tokens"], java[0]["threads"],
                       java[0]["recompute"], java[0]["mode"], java[0]["trained"], java[0]["params"], heap))
if "torch-f32" in runs:
    print("diffusers %s; torch %s; torch's libblas.so.3: %s" % (commit, runs["torch-f32"][0]["torch"], blas))
print()
print("| side | samples/s | samples per CPU-s | forward s (GFLOP/s) | backward s (GFLOP/s) | clip+AdamW s (GFLOP/s) | peak RSS GiB | loss step 1 | loads |")
print("|---|---|---|---|---|---|---|---|---|")
for side in [s for s in ("java-fp32", "java-bf16", "torch-f32", "torch-bf16") if s in runs]:
    f, b, o = med(side, "forward_s"), med(side, "backward_s"), med(side, "optimizer_s")
    print("| %s | %.4f | %.4f | %.3f (%.1f) | %.3f (%.1f) | %.3f (%.2f) | %.2f | %s | %s |" % (
        {"java-fp32": "ovis4j f32", "java-bf16": "ovis4j bf16 (" + runs[side][0].get("gemm", "?") + ")", "torch-f32": "PyTorch f32", "torch-bf16": "PyTorch bf16 autocast"}[side],
        med(side, "samples_per_s"), med(side, "samples_per_cpu_s"), f, flop["forward"] / f / 1e9, b, flop["backward"] / b / 1e9, o,
        flop["optimizer"] / o / 1e9, med(side, "peak_rss_bytes") / 2**30, runs[side][0]["loss_first"],
        " ".join(r["load"] for r in runs[side])))
print()
# ratios of each ovis4j run against the PyTorch run of the same round (run side by side)
for js in [s for s in ("java-fp32", "java-bf16") if s in runs]:
    for ts in [s for s in ("torch-f32", "torch-bf16") if s in runs]:
        for key in ("samples_per_s", "samples_per_cpu_s"):
            print("%s / %s %s: %.3f (per round: %s)" % (js, ts, key, med(js, key) / med(ts, key),
                  ", ".join("%.3f" % (float(j[key]) / float(t[key])) for j, t in zip(runs[js], runs[ts]))))
bad = False
for js, ts, tol in (("java-fp32", "torch-f32", 1e-5), ("java-bf16", "torch-bf16", 2e-2), ("java-bf16", "java-fp32", 2e-2)):
    if js in runs and ts in runs:
        l0 = float(runs[js][0]["loss_first"]); t0 = float(runs[ts][0]["loss_first"])
        rel = abs(l0 - t0) / abs(t0)
        print("step-1 loss: %s %.9g, %s %.9g (relative difference %.2g)" % (js, l0, ts, t0, rel))
        if rel > tol:
            print("WARNING: %s and %s do not compute the same loss (beyond %g); the comparison is not of the same work" % (js, ts, tol))
            bad = True
if bad:
    sys.exit(1)
EOF
echo "raw output: $logs" >&2
