#!/usr/bin/env bash
# Tests scripts/lib/java-home.sh (the JDK lookup of ./mvnw and bin/ovis4j) on fake JDKs: each fake
# bin/java prints only the version line a real one prints. Every case runs under dash with
# `set -euf` (as ./mvnw sources it) and under bash with `set -euo pipefail` (as bin/ovis4j does),
# in an empty environment whose PATH holds nothing but what the case puts there.
set -euo pipefail
lib="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib/java-home.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# fake_jdk DIR VERSION [jre]: a home whose bin/java says `openjdk version "VERSION"`, with javac unless jre.
fake_jdk() {
  mkdir -p "$1/bin"
  printf '#!/bin/sh\necho '\''openjdk version "%s" 2025-04-15'\'' >&2\n' "$2" >"$1/bin/java"
  chmod +x "$1/bin/java"
  if [[ "${3-}" != jre ]]; then cp "$1/bin/java" "$1/bin/javac"; fi
}

passed=0 failed=0
# check NAME EXPECTED_STATUS EXPECTED_STDOUT EXPECTED_STDERR -- ENV... -- ARGS...
check() {
  local name=$1 want_status=$2 want_out=$3 want_err=$4; shift 5
  local env=() args=()
  while [[ $# -gt 0 && $1 != -- ]]; do env+=("$1"); shift; done
  [[ $# -gt 0 ]] && shift
  args=("$@")
  local shell
  for shell in "/bin/sh -euf" "$BASH -euo pipefail"; do
    local out status=0
    # shellcheck disable=SC2086 # the shell and its options
    out=$(env -i "${env[@]}" $shell -c '. "$0"; ovis4j_java_home "$@"' "$lib" "${args[@]}" 2>"$tmp/err") || status=$?
    local err; err=$(<"$tmp/err")
    if [[ $status == "$want_status" && $out == "$want_out" && $err == "$want_err" && $(wc -l <"$tmp/err") -le 1 ]]; then
      passed=$((passed + 1))
    else
      failed=$((failed + 1))
      echo "FAIL $name ($shell): status $status, stdout '$out', stderr '$err'" >&2
      echo "     wanted status $want_status, stdout '$want_out', stderr '$want_err'" >&2
    fi
  done
}
msg() { echo "ovis4j needs JDK 25 or newer: found $1; install Temurin 25 or set JAVA_HOME"; }

j=$tmp/jvm   # the fake install places
fake_jdk "$j/jdk-17" 17.0.15
fake_jdk "$j/jdk-21" 21.0.7
fake_jdk "$j/jdk-25" 25.0.1
fake_jdk "$tmp/home17" 17.0.15
fake_jdk "$tmp/path17" 17.0.15
fake_jdk "$tmp/path25" 25
fake_jdk "$tmp/jre25" 25.0.1 jre
roots="$j/*"

check "JAVA_HOME and PATH hold a 17: the 25 under the install places" 0 "$j/jdk-25" "" -- \
  JAVA_HOME="$tmp/home17" PATH="$tmp/path17/bin" OVIS4J_JVM_ROOTS="$roots" -- --javac
check "JAVA_HOME unset, PATH holds a 17: the 25 under the install places" 0 "$j/jdk-25" "" -- \
  PATH="$tmp/path17/bin" OVIS4J_JVM_ROOTS="$roots" -- --javac
check "a JAVA_HOME of 25 wins over a newer install" 0 "$tmp/path25" "" -- \
  JAVA_HOME="$tmp/path25" PATH="$tmp/path17/bin" OVIS4J_JVM_ROOTS="$roots:$tmp/j26/*" -- --javac
check "the java on PATH, when 25, wins over the install places" 0 "$tmp/path25" "" -- \
  JAVA_HOME="$tmp/home17" PATH="$tmp/path17/nothing:$tmp/path25/bin" OVIS4J_JVM_ROOTS="$roots" -- --javac

fake_jdk "$tmp/newest/jdk-25.0.9" 25.0.9
fake_jdk "$tmp/newest/jdk-25.0.10" 25.0.10
fake_jdk "$tmp/newest/jdk-26" 26-ea
fake_jdk "$tmp/newest/jdk-8" 1.8.0_452
check "the newest of several: 26-ea over 25.0.10" 0 "$tmp/newest/jdk-26" "" -- \
  PATH="$tmp/none" OVIS4J_JVM_ROOTS="$tmp/newest/*:$roots" -- --javac
rm -r "$tmp/newest/jdk-26"
check "the newest of several: 25.0.10 over 25.0.9 (numbers, not text)" 0 "$tmp/newest/jdk-25.0.10" "" -- \
  PATH="$tmp/none" OVIS4J_JVM_ROOTS="$roots:$tmp/newest/*" -- --javac

check "no 25: the one line names the 17 found, once for JAVA_HOME and install place alike" 1 "" \
  "$(msg "17 ($j/jdk-17)")" -- \
  JAVA_HOME="$j/jdk-17" PATH="$tmp/none" OVIS4J_JVM_ROOTS="$j/jdk-17" -- --javac
check "no 25: every Java found is named" 1 "" \
  "$(msg "17 ($tmp/path17), 17 ($j/jdk-17), 21 ($j/jdk-21)")" -- \
  PATH="$tmp/path17/bin" OVIS4J_JVM_ROOTS="$j/jdk-17:$j/jdk-21" -- --javac
check "no Java at all: found none" 1 "" "$(msg none)" -- \
  PATH="$tmp/none" OVIS4J_JVM_ROOTS="$tmp/none/*" -- --javac
check "a JAVA_HOME without bin/java is named" 1 "" "$(msg "JAVA_HOME without bin/java ($tmp/none)")" -- \
  JAVA_HOME="$tmp/none" PATH="$tmp/none" OVIS4J_JVM_ROOTS="" -- --javac
check "the build passes over a 25 without javac" 1 "" "$(msg "25 without javac ($tmp/jre25)")" -- \
  JAVA_HOME="$tmp/jre25" PATH="$tmp/none" OVIS4J_JVM_ROOTS="$tmp/none" -- --javac
check "the launcher takes a 25 without javac" 0 "$tmp/jre25" "" -- \
  JAVA_HOME="$tmp/jre25" PATH="$tmp/none" OVIS4J_JVM_ROOTS="$tmp/none"
fake_jdk "$tmp/with space/jdk 25" 25.0.1
check "install places with spaces in their names" 0 "$tmp/with space/jdk 25" "" -- \
  PATH="$tmp/none" OVIS4J_JVM_ROOTS="$tmp/with space/*" -- --javac

echo "java-discovery: $passed passed, $failed failed"
[[ $failed == 0 ]]
