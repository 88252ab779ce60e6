#!/usr/bin/env bash
# phase.sh NAME COMMAND...  Runs COMMAND and prints how long the phase took, whether it
# passed or not (make test prints one line per phase: deps, build, unit, integration, fuzz).
name=$1; shift
start=$(date +%s)
echo "==> phase '$name' started at $(date -u +%H:%M:%S)"
"$@"
status=$?
echo "==> phase '$name' $([ $status -eq 0 ] && echo passed || echo "FAILED (exit $status)") in $(( $(date +%s) - start )) s"
exit $status
