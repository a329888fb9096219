#!/bin/sh
# Regenerates the seed files of fuzz/corpus/<harness>/seed-* (entries found by fuzzing, named by
# their SHA-1, are kept). Usage: sh fuzz/make_seeds.sh fuzz/build/make_seeds   (or: make -C fuzz seeds)
# HDF5 seeds get h5repack variants when h5repack is installed: latest file-format version
# (superblock v2+, new object headers / link storage), contiguous, compact and small-chunk
# layouts, and the fletcher32 / gzip / shuffle / n-bit / scale-offset filters.
set -e
gen=${1:?usage: make_seeds.sh path/to/make_seeds}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ndseeds.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
"$gen" "$tmp"
if command -v h5repack >/dev/null 2>&1; then
    # every variant of the small files; only the format-version / layout ones of the larger files
    # (small chunks multiply the B-tree nodes: keep seeds a few KB)
    for pair in fuzz_lfads_h5/min_train_only fuzz_lfads_torch_h5/encod_only \
                fuzz_lfads_h5/full+ fuzz_lfads_torch_h5/heldout_fp+; do
        big=0; case $pair in *+) big=1; pair=${pair%+};; esac
        src="$tmp/$pair"
        for v in "latest:--latest" "contig:-l CONTI" "compact:-l COMPA" "chunk2:-l CHUNK=2x2x2" \
                 "fletcher:-l CHUNK=2x2x2 -f FLET" "gzip9:-l CHUNK=2x2x2 -f SHUF -f GZIP=9" \
                 "nbit:-l CHUNK=2x2x2 -f NBIT" "soff:-l CHUNK=2x2x2 -f SOFF=0,IN"; do
            name=${v%%:*}; opts=${v#*:}
            case $big$name in 1latest|1compact|0*) ;; *) continue;; esac
            # shellcheck disable=SC2086
            h5repack $opts "$src" "${src}_$name" >/dev/null 2>&1 || echo "make_seeds: h5repack $opts failed on $pair (skipped)"
        done
    done
fi
for d in "$tmp"/*/; do
    h=$(basename "$d")
    mkdir -p "$here/corpus/$h"
    rm -f "$here/corpus/$h"/seed-*
    for f in "$d"*; do
        [ -f "$f" ] && cp "$f" "$here/corpus/$h/seed-$(basename "$f")"
    done
done
du -sh "$here/corpus"/* | sed 's/^/make_seeds: /'
