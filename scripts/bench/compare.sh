#!/usr/bin/env bash
# ovis4j vs PyTorch CPU on the same machine, in one run, on the same shapes (issue 3).
# Builds nothing: needs a built checkout (bin/ovis4j) and Debian's PyTorch (apt-get install python3-torch,
# used through /usr/bin/python3). Prints each side's figure and the ratio ovis4j / PyTorch (speed: >1 means
# ovis4j is faster), with the load average taken just before each measurement.
#
#   scripts/bench/compare.sh                 GEMM 1280x3072x12288 bf16 + f32, transformer forward 512x512 bf16
#   scripts/bench/compare.sh --gemm-only     GEMMs only (about a minute)
#   scripts/bench/compare.sh --full          also the 1024x1024 forward
#   scripts/bench/compare.sh --model DIR     checkpoint for the ovis4j forward (default /work/ckpt/ovis-7b-random;
#                                            make one with: bin/ovis4j synth --config 7b --dtype bf16
#                                            --tokenizer .cache/qwen3-tokenizer --out DIR)
#   scripts/bench/compare.sh --backend NAME  passed to both `ovis4j bench` calls (default: ovis4j's default)
#
# Raw output of every command goes to a log folder (printed at the end; OVIS4J_COMPARE_LOGS overrides).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
py=/usr/bin/python3
pyscript="$root/scripts/bench/pytorch_ovis.py"
ovis="$root/bin/ovis4j"

model=/work/ckpt/ovis-7b-random
full=0
gemm_only=0
backend=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --model) model="${2:?--model needs a folder}"; shift 2 ;;
    --full) full=1; shift ;;
    --gemm-only) gemm_only=1; shift ;;
    --backend) backend=(--backend "${2:?--backend needs a name}"); shift 2 ;;
    -h|--help) sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "compare.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

if ! [[ -x "$py" ]] || ! "$py" -c 'import torch' >/dev/null 2>&1; then
  echo "compare.sh: $py cannot import torch; install PyTorch CPU with: apt-get install python3-torch" >&2
  exit 1
fi
if ! ls "$root"/ovis4j-cli/target/ovis4j-cli-*.jar >/dev/null 2>&1; then
  echo "compare.sh: ovis4j is not built; run: ./mvnw -q package -DskipTests" >&2
  exit 1
fi
if [[ $gemm_only == 0 && ! -f "$model/model_index.json" ]]; then
  echo "compare.sh: no checkpoint at $model (use --model DIR, or --gemm-only)" >&2
  exit 1
fi

logs="${OVIS4J_COMPARE_LOGS:-$(mktemp -d /tmp/ovis4j-compare.XXXXXX)}"
mkdir -p "$logs"

# The PyTorch forward holds 14.7 GB and ovis4j's 7B run about as much: on a 24 GiB machine another 7B
# process running at the same time gets one of them killed (seen once). Run this on an otherwise idle machine.
# load: 1-minute load average, and the share of both CPUs busy during the second before (other work).
load() {
  local a b
  a=($(head -n1 /proc/stat)); sleep 1; b=($(head -n1 /proc/stat))
  local busy=$(( (b[1]+b[2]+b[3]+b[6]+b[7]+b[8]) - (a[1]+a[2]+a[3]+a[6]+a[7]+a[8]) ))
  local idle=$(( (b[4]+b[5]) - (a[4]+a[5]) ))
  awk -v l="$(cut -d' ' -f1 /proc/loadavg)" -v u="$busy" -v i="$idle" \
    'BEGIN { printf "%s/%d%%", l, (u + i > 0 ? 100 * u / (u + i) : 0) }'
}
rows=()   # "case|ovis4j|load|pytorch|load|ratio"

print_table() {
  [[ ${#rows[@]} -eq 0 ]] && return 0
  echo
  echo "| case | ovis4j | load | PyTorch $("$py" -c 'import torch; print(torch.__version__)') | load | ovis4j/PyTorch speed |"
  echo "|---|---|---|---|---|---|"
  for r in "${rows[@]}"; do echo "| ${r//|/ | } |"; done
  echo
  echo "load = 1-minute load average / % of the $(nproc) CPUs busy in the second just before that side started"
  echo "(anything above 0% there is other work on the machine). Raw output: $logs"
}

# run NAME CMD... : runs a command, keeps its output in $logs/NAME.log, echoes progress to stderr.
run() {
  local name="$1"; shift
  echo "[$(date -u +%H:%M:%S)] load ${cur:-?}: $*" >&2
  if ! "$@" >"$logs/$name.log" 2>&1; then
    echo "compare.sh: failed: $* (output in $logs/$name.log):" >&2
    tail -n 5 "$logs/$name.log" >&2
    print_table >&2
    exit 1
  fi
}
field() { grep -o "$1=[0-9.]*" | tail -n1 | cut -d= -f2; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)" >&2
echo "pytorch: $("$py" -c 'import torch; print(torch.__version__, "mkldnn", torch.backends.mkldnn.is_available())')" >&2

for dtype in bf16 f32; do
  shape=1280x3072x12288
  l1=$(load); cur=$l1; run "ovis4j-gemm-$dtype" "$ovis" bench --gemm "$shape" --dtype "$dtype" "${backend[@]}"
  o=$(tail -n1 "$logs/ovis4j-gemm-$dtype.log" | field 'GFLOP/s')
  ob=$(tail -n1 "$logs/ovis4j-gemm-$dtype.log" | awk '{print $6}')
  l2=$(load); cur=$l2; run "pytorch-gemm-$dtype" "$py" "$pyscript" --gemm 1280 3072 12288 --dtype "$dtype"
  p=$(tail -n1 "$logs/pytorch-gemm-$dtype.log" | field 'GFLOP/s')
  rows+=("GEMM $shape $dtype (GFLOP/s)|$o ($ob)|$l1|$p|$l2|$(ratio "$o" "$p")")
done

if [[ $gemm_only == 0 ]]; then
  sizes=(512)
  [[ $full == 1 ]] && sizes+=(1024)
  for s in "${sizes[@]}"; do
    l1=$(load); cur=$l1; run "ovis4j-forward-$s" "$ovis" bench --model "$model" --width "$s" --height "$s" --precision bf16 "${backend[@]}"
    # Newer builds print "transformer forward 1" (cold, includes preparing the weights) and
    # "transformer forward 2" (warm); older ones a single cold "transformer forward" line.
    lines=$(grep 'transformer forward' "$logs/ovis4j-forward-$s.log")
    secs() { sed -n 's/.* \([0-9][0-9.]*\) s  (.*/\1/p'; }
    gfl() { sed -n 's/.*tokens, \([0-9.]*\) GFLOP\/s.*/\1/p'; }
    os=$(tail -n1 <<<"$lines" | secs); og=$(tail -n1 <<<"$lines" | gfl)
    if [[ $(wc -l <<<"$lines") -gt 1 ]]; then
      kind="warm; first $(head -n1 <<<"$lines" | secs) s incl. weight preparation"
    else
      kind="cold, single run"
    fi
    ob=$(sed -n 's/^load .*, \([a-z0-9]*\) backend.*/\1/p' "$logs/ovis4j-forward-$s.log" | head -n1)
    l2=$(load); cur=$l2; run "pytorch-forward-$s" "$py" "$pyscript" --forward --width "$s" --height "$s" --dtype bf16
    pline=$(grep '^forward ' "$logs/pytorch-forward-$s.log" | tail -n1)
    ps=$(field seconds <<<"$pline")
    pg=$(field 'GFLOP/s' <<<"$pline")
    note=$(sed -n 's/.* \(blocks=.*\)/\1/p' <<<"$pline")
    rows+=("forward ${s}x${s} bf16, 33 blocks (s; GFLOP/s)|$os s; $og (${ob:-?}, $kind)|$l1|$ps s; $pg ($note)|$l2|$(ratio "$ps" "$os")")
  done
fi

print_table
