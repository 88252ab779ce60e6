#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/Sources) and runs each for a bounded time.
#
#   fuzz/fuzz.sh SECONDS [TARGET ...]     TARGET: command-parser data-framing address-parser
#
# Build: release (-O keeps Swift's bounds and overflow checks) with libFuzzer and
# AddressSanitizer, in its own scratch path .build-fuzz; ENABLE_FUZZ_TARGETS puts the targets
# into the package (Package.swift). Run: seeds from fuzz/corpus/TARGET (committed, read only),
# new inputs kept in var/fuzz/corpus/TARGET, crash/leak/timeout inputs written to
# var/fuzz/artifacts/TARGET-*; the log of each run is var/fuzz/TARGET.log. Exits non-zero when
# any target finds a crash, a leak, a timeout (10 s for one input) or a broken property.
# Replay one input:  .build-fuzz/release/fuzz-TARGET var/fuzz/artifacts/TARGET-crash-…
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:?usage: fuzz/fuzz.sh SECONDS [TARGET ...]}
shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(command-parser data-framing address-parser)
SWIFT=${SWIFT:-swift}

for target in "${targets[@]}"; do
  echo "building fuzz-$target (release, -sanitize=fuzzer,address, .build-fuzz)"
  # ld.gold warns about every ASan helper symbol; those lines are noise.
  ENABLE_FUZZ_TARGETS=1 "$SWIFT" build -c release --scratch-path .build-fuzz \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library --product "fuzz-$target" 2>&1 \
    | { grep -v "Cannot export local symbol" || true; }
done

mkdir -p var/fuzz/artifacts
# libFuzzer reports crashes itself; Swift's backtracer would only add noise under ASan.
export SWIFT_BACKTRACE=enable=no
status=0
for target in "${targets[@]}"; do
  mkdir -p "var/fuzz/corpus/$target"
  log="var/fuzz/$target.log"
  echo "fuzzing $target for ${seconds}s (log: $log)"
  if ! ".build-fuzz/release/fuzz-$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -dict=fuzz/smtp.dict -artifact_prefix="var/fuzz/artifacts/$target-" \
      "var/fuzz/corpus/$target" "fuzz/corpus/$target" >"$log" 2>&1; then
    status=1
    echo "FAILED: fuzz-$target found a problem; the input is in var/fuzz/artifacts/. Last lines of $log:"
    tail -40 "$log"
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  coverage=$(grep -o 'cov: [0-9]*' "$log" | tail -1 || true)
  echo "  $target: ${runs:-?} runs, ${rate:-?} execs/s, ${coverage:-cov: ?}"
done
exit $status
