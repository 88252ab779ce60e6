#ifndef HIKYAKU_CLIBFUZZER_H
#define HIKYAKU_CLIBFUZZER_H

#include <stddef.h>
#include <stdint.h>

// libFuzzer's driver (compiler-rt, linked by -sanitize=fuzzer): runs the fuzzing loop with
// the command line's options. The fuzz targets call it from their own entry point, because
// SwiftPM renames an executable's `main`, so libFuzzer's own `main` is not the one used.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
