#!/bin/sh
# The public C API as a product: the header alone (C99 -pedantic, cffi), the shared library's exports and soname,
# and the installed tree (make install into a temporary PREFIX): examples/train_infer.c built with pkg-config alone
# (shared and static), run, and its outputs compared with the installed CLI's bit for bit; make uninstall.
# Prints ok/FAIL/skip lines and a RESULT line. API_INSTALL=skip (make asan) skips the installed-tree part.
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
LIBSO=${LIBSO:-lib/libneurodyn.so.0.1.0}
CC=${CC:-cc}
T=$(mktemp -d /tmp/nd_api_XXXXXX)
trap 'rm -rf "$T"' EXIT
pass=0; fail=0; skip=0
ok() { echo "ok   $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1"; fail=$((fail + 1)); }
skipped() { echo "skip $1"; skip=$((skip + 1)); }
check() { name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }

# --- the header alone ---
printf '#include "neurodyn.h"\n#include "neurodyn.h"\nint main(void) { return nd_version() == 0; }\n' >"$T/h.c"
check "neurodyn.h compiles alone, twice, with -std=c99 -pedantic -Wall -Wextra -Werror" \
    $CC -std=c99 -pedantic -Wall -Wextra -Werror -Iinclude -fsyntax-only "$T/h.c"
check "neurodyn.h includes no other neurodyn header" sh -c "! grep -q '#include \"' include/neurodyn.h"
./scripts/api_symbols.sh include/neurodyn.h >"$T/decl.txt"
if /usr/bin/python3 -c 'import cffi' 2>/dev/null; then
    if /usr/bin/python3 tests/api_cdef.py include/neurodyn.h "$T/cffi.txt" >"$T/cffi.log" 2>&1; then
        ok "cffi parses neurodyn.h without its guard/#include lines; only nd_/ND_ names ($(cat "$T/cffi.log"))"
    else
        bad "cffi cdef of neurodyn.h: $(tail -3 "$T/cffi.log")"
    fi
    check "api_symbols.sh finds the same functions as cffi" cmp -s "$T/decl.txt" "$T/cffi.txt"
else
    skipped "cffi parse of neurodyn.h: python3-cffi not installed (Debian: apt-get install python3-cffi)"
fi

# --- layers: core < nn < io < models < eval < analysis < api < cli; none includes a higher one ---
layers="core nn io models eval analysis api cli"
viol=""; i=0
for l in $layers; do
    i=$((i + 1)); j=0
    for h in $layers; do
        j=$((j + 1)); [ $j -gt $i ] || continue
        v=$(grep -ln "#include \"\.\./$h/" src/$l/*.[ch] 2>/dev/null)
        [ -z "$v" ] || viol="$viol $l->$h:$(echo $v | tr ' ' ',')"
    done
done
check "no layer includes a higher one ($layers)${viol:+:$viol}" [ -z "$viol" ]

# --- the shared library ---
nm -D --defined-only "$LIBSO" | awk '{print $3}' | sed 's/@.*//' | sort >"$T/exp.txt"
check "nm -D --defined-only $(basename "$LIBSO"): exactly the header's $(wc -l <"$T/decl.txt") nd_ functions" \
    cmp -s "$T/exp.txt" "$T/decl.txt"
check "soname libneurodyn.so.0" sh -c "readelf -d '$LIBSO' | grep -q 'SONAME.*\\[libneurodyn.so.0\\]'"

# --- the installed tree ---
if [ "${API_INSTALL:-}" = skip ]; then
    skipped "installed-tree checks: API_INSTALL=skip (make asan)"
    echo "RESULT $pass $fail $skip"; exit 0
fi
P="$T/prefix"
if make -s --no-print-directory install PREFIX="$P" >"$T/install.log" 2>&1; then ok "make install PREFIX=$P"
else bad "make install: $(tail -3 "$T/install.log")"; echo "RESULT $pass $fail $skip"; exit 1; fi
files_ok=1
for f in include/neurodyn.h lib/libneurodyn.a lib/libneurodyn.so.0.1.0 lib/libneurodyn.so.0 lib/libneurodyn.so \
         lib/pkgconfig/neurodyn.pc bin/neurodyn share/man/man1/neurodyn.1 share/man/man1/neurodyn-train.1; do
    [ -e "$P/$f" ] || { echo "  missing $P/$f"; files_ok=0; }
done
check "installed: header, libneurodyn.{a,so*}, neurodyn.pc, bin/neurodyn, man pages" [ $files_ok -eq 1 ]
export PKG_CONFIG_PATH="$P/lib/pkgconfig"
check "pkg-config --modversion neurodyn is nd_version's" [ "$(pkg-config --modversion neurodyn)" = 0.1.0 ]
# shellcheck disable=SC2046
check "examples/train_infer.c compiles with pkg-config --cflags --libs alone" \
    $CC -std=c99 -pedantic -Wall -Wextra -Werror examples/train_infer.c $(pkg-config --cflags --libs neurodyn) \
    -o "$T/ti"
# shellcheck disable=SC2046
check "... and statically against libneurodyn.a with pkg-config --static" \
    $CC examples/train_infer.c $(pkg-config --cflags neurodyn) "$P/lib/libneurodyn.a" $(pkg-config --static --libs neurodyn) \
    -o "$T/ti_static"
check "the static build does not need libneurodyn.so" sh -c "! ldd '$T/ti_static' | grep -q libneurodyn"
mkdir -p "$T/a" "$T/s"
if LD_LIBRARY_PATH="$P/lib" "$T/ti" "$T/a" 2 >"$T/a.log" 2>&1; then ok "the example runs: $(grep rate_r2 "$T/a.log")"
else bad "the example: $(tail -3 "$T/a.log")"; fi
check "the example loads the installed libneurodyn.so.0" sh -c "LD_LIBRARY_PATH='$P/lib' ldd '$T/ti' | grep -q '$P/lib/libneurodyn.so.0'"
"$T/ti_static" "$T/s" 2 >"$T/s.log" 2>&1
check "the static example prints the same" cmp -s "$T/a.log" "$T/s.log"
ND="$P/bin/neurodyn"
SETS=""
for kv in $(grep -o '{"[a-z0-9_]*", "[0-9.]*"}' examples/train_infer.c | sed 's/{"\([a-z0-9_]*\)", "\([0-9.]*\)"}/\1=\2/'); do
    SETS="$SETS --set $kv"
done
# shellcheck disable=SC2086
if "$ND" train "$T/a/lorenz.h5" --out "$T/cli_run" --threads 2 --quiet $SETS >"$T/cli.log" 2>&1 \
   && "$ND" infer "$T/cli_run" --data "$T/a/lorenz.h5" --out "$T/cli_out.h5" --samples 10 --threads 2 --quiet \
        >>"$T/cli.log" 2>&1; then
    ok "the CLI trains and infers the same configuration ($(echo "$SETS" | wc -w) words of --set)"
else
    bad "CLI run: $(tail -3 "$T/cli.log")"
fi
check "the example's best.ckpt is the CLI's, byte for byte" cmp -s "$T/a/run/best.ckpt" "$T/cli_run/best.ckpt"
if "${H5CMP:-build/tests/h5cmp}" "$T/a/out.h5" "$T/cli_out.h5" train_output_params valid_output_params valid_factors \
   valid_co_means >"$T/cmp.log" 2>&1; then
    ok "the example's rates and factors are the CLI's, bit for bit ($(head -1 "$T/cmp.log"))"
else
    bad "example vs CLI outputs: $(cat "$T/cmp.log")"
fi
"$ND" eval "$T/cli_out.h5" --data "$T/a/lorenz.h5" >"$T/eval.txt" 2>&1
cli_r2=$(sed -n 's/^rate_r2  *\([-0-9.]*\).*/\1/p' "$T/eval.txt")
api_r2=$(sed -n 's/^rate_r2 \([-0-9.]*\).*/\1/p' "$T/a.log")
check "nd_eval's rate_r2 is neurodyn eval's ($api_r2 vs $cli_r2)" [ -n "$cli_r2" -a "$cli_r2" = "$api_r2" ]
# staged install (packaging): DESTDIR prefixes every path, the pkg-config file names the final PREFIX
make -s --no-print-directory install DESTDIR="$T/stage" PREFIX=/opt/nd >"$T/stage.log" 2>&1
check "make install DESTDIR=... PREFIX=/opt/nd stages under DESTDIR; neurodyn.pc says prefix=/opt/nd" sh -c \
    "test -e '$T/stage/opt/nd/lib/libneurodyn.so.0' && grep -qx 'prefix=/opt/nd' '$T/stage/opt/nd/lib/pkgconfig/neurodyn.pc'"
make -s --no-print-directory uninstall PREFIX="$P" >"$T/uninstall.log" 2>&1
check "make uninstall leaves no file under PREFIX" [ -z "$(find "$P" -type f -o -type l)" ]
echo "RESULT $pass $fail $skip"
