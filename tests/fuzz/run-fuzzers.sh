#!/usr/bin/env bash
# Runs every libFuzzer target of a -Dfuzz=true build for SECONDS each, seeded
# from tests/data (a huge malloc returns NULL, as without ASan: the code must
# cope; leaks are the ASan test suite's and the hostile corpus's to find: a fault
# caught by xc-guard.h leaks the frames it skips). A crash or timeout fails (the reproducer is left in
# the build's fuzz-artifacts/ folder: add it to tests/test-hostile.c as a case).
# Usage: tests/fuzz/run-fuzzers.sh BUILD_DIR [SECONDS]
set -uo pipefail
build=$1
secs=${2:-30}
src=$(cd "$(dirname "$0")/../.." && pwd)
work=$build/fuzz-work
art=$build/fuzz-artifacts
rm -rf "$work"; mkdir -p "$work" "$art"

seed () { mkdir -p "$work/$1"; }
# images: the first byte picks the extension (0 .png, 1 .tif, 2 .dcm, 3 .jpg)
seed image
i=0
for f in "$src"/resources/samples/*.png "$src"/tests/data/medical/*.png; do
  { printf '\x00'; cat "$f"; } > "$work/image/png$i"; i=$((i+1)); done
for f in "$src"/tests/data/medical/*.tif; do
  { printf '\x01'; cat "$f"; } > "$work/image/tif$i"; i=$((i+1)); done
for f in "$src"/tests/data/medical/*.dcm "$src"/tests/data/hostile/*.dcm /usr/lib/python3/dist-packages/pydicom/data/test_files/{CT_small,MR_small_RLE,MR_small_jpeg_ls_lossless,SC_rgb_rle,image_dfl}.dcm; do
  [ -f "$f" ] && { printf '\x02'; cat "$f"; } > "$work/image/dcm$i"; i=$((i+1)); done
seed keras-h5
# the regression inputs, but the known 4 GB libhdf5 allocation (slow, not a crash)
for f in "$src"/tests/data/hostile/*.h5; do
  case "$f" in *vlen-blowup*) ;; *) cp "$f" "$work/keras-h5/" ;; esac
done
cp "$src"/tests/data/ops/conv1x1.h5 "$src"/tests/data/ops/separable_dm2_same.h5 \
   "$src"/tests/data/ops/sequential.h5 "$src"/tests/data/ops/add3_gap_dense.h5 "$work/keras-h5/"
seed keras-config
python3 - "$src/tests/data/keras3/xception-small.keras" "$work/keras-config/keras3.json" <<'PY'
import sys, zipfile
open(sys.argv[2], "wb").write(zipfile.ZipFile(sys.argv[1]).read("config.json"))
PY
seed npy
cp "$src"/tests/data/ops/conv1x1.in.npy "$src"/tests/data/ops/flatten_dense.out.npy "$work/npy/"
seed spec
printf 'size=71,width=1/16,classes=3' > "$work/spec/a"
printf 'size=75,channels=1,classes=10,width=0.125,variant=standard,top=false,seed=3' > "$work/spec/b"

failed=0
for t in image keras-config keras-h5 npy spec; do
  exe=$build/tests/fuzz/fuzz-$t
  out=$build/fuzz-$t.log
  ASAN_OPTIONS=allocator_may_return_null=1:detect_leaks=0 \
  LSAN_OPTIONS=suppressions=$src/tests/lsan.supp "$exe" -seed=1 -max_total_time="$secs" -timeout=120 -rss_limit_mb=6144 -malloc_limit_mb=1048576 -artifact_prefix="$art/$t-" \
         -print_final_stats=1 "$work/$t" > "$out" 2>&1
  rc=$?
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$out" | grep -o '[0-9]*$')
  if [ $rc -ne 0 ]; then
    echo "fuzz-$t: FAILED (exit $rc), see $out:"; grep -E 'ERROR|SUMMARY|==[0-9]+==' "$out" | head -5
    failed=1
  else
    echo "fuzz-$t: ${runs:-?} inputs in ${secs} s, no crash"
  fi
done
exit $failed
