# Sourced by fuzz/smoke.sh and fuzz/run.sh.
FUZZ_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT_DIR=$(cd "$FUZZ_DIR/.." && pwd)
FUZZ_BUILD=$FUZZ_DIR/build
# one BLAS / OpenMP thread: the harnesses never compute, and the machine is shared
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

# the dictionary of a harness (empty if none)
fuzz_dict() {
    case $1 in
    fuzz_ckpt) echo "$FUZZ_DIR/ckpt.dict" ;;
    fuzz_config | fuzz_config_set) echo "$FUZZ_DIR/config.dict" ;;
    fuzz_lfads_h5 | fuzz_lfads_torch_h5 | fuzz_nwb | fuzz_triplets | fuzz_h5x) echo "$FUZZ_DIR/hdf5.dict" ;;
    fuzz_mat | fuzz_convert) echo "$FUZZ_DIR/mat.dict" ;;
    esac
}

# 0 if clang can build and link a libFuzzer program with ASan + UBSan
fuzz_toolchain_ok() {
    CLANG=$(command -v clang-14 2>/dev/null || command -v clang 2>/dev/null) || return 1
    t=$(mktemp -d "${TMPDIR:-/tmp}/ndfuzzcheck.XXXXXX") || return 1
    printf '#include <stdint.h>\n#include <stddef.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' >"$t/t.c"
    "$CLANG" -fsanitize=fuzzer,address,undefined -fopenmp=libomp "$t/t.c" -o "$t/t" >/dev/null 2>&1
    rc=$?
    rm -rf "$t"
    return $rc
}

# harness names (fuzz_*), from the sources present
fuzz_harnesses() {
    for f in "$FUZZ_DIR"/fuzz_*.c; do
        [ -f "$f" ] && basename "$f" .c
    done
}

# runs of the smoke test (about 2-5 s each on one core; -max_total_time caps slower machines)
fuzz_smoke_runs() {
    case $1 in
    fuzz_lfads_h5 | fuzz_lfads_torch_h5 | fuzz_nwb | fuzz_triplets | fuzz_h5x | fuzz_mat | fuzz_convert) echo 600 ;;
    fuzz_config | fuzz_config_set) echo 30000 ;;
    *) echo 10000 ;;
    esac
}

# Classifies the report of a failed run (libFuzzer / ASan / UBSan output in file $1). Prints
#   "ours <kind> at <frame>"            a bug to fix in neurodyn (src/ or a harness invariant)
#   "hdf5 <kind> in <function>"         a fault inside libhdf5 (or "matio ..." inside libmatio;
#                                       "hdf5-or-matio stack-smashing": a stack-protector abort)
# Rule: harness invariants, UBSan reports and leaks (libhdf5 / libmatio leaks are suppressed) are
# ours; otherwise the first stack frame that is not sanitizer / libFuzzer / libc plumbing (including
# ASan's interceptors of the string / memory functions, e.g. "in strdup (fuzz_h5x+0x...)") decides,
# except that an overflow of a buffer that src/ allocated is ours wherever it happens.
fuzz_classify() {
    awk '
    function plumbing(l) {
        return l ~ /libclang_rt|compiler-rt|sanitizer|fuzzer::|__interceptor|sysdeps|libc\.so|libc_start|_start |\
 in (malloc|calloc|realloc|free|aligned_alloc|posix_memalign|memalign|abort|raise|__pthread_kill_implementation|\
__libc_message|__fortify_fail|__stack_chk_fail|__chk_fail|__memcpy_chk|__memmove_chk|__memset_chk|\
__strcpy_chk|__sprintf_chk|__snprintf_chk|__vsnprintf_chk|nd_fuzz_bug|\
strdup|strndup|strlen|strnlen|strcmp|strncmp|strcpy|strncpy|strchr|strrchr|strstr|memcpy|memmove|memset|memcmp) /
    }
    function where(l) {
        if (l ~ /libhdf5/) return "hdf5"
        if (l ~ /libmatio/) return "matio"
        return "ours"
    }
    function fname(l,   s) {
        s = l; sub(/^ *#[0-9]+ 0x[0-9a-f]+ (in )?/, "", s); sub(/ \(BuildId.*/, "", s); sub(/.*\/work\/main\//, "", s)
        return s
    }
    /FUZZ-INVARIANT:/ && !kind { kind = "invariant"; res = "ours"; at = substr($0, index($0, ":") + 2) }
    /runtime error:/ && !kind { kind = "undefined-behaviour"; res = "ours"; at = $0; sub(/ runtime error.*/, "", at) }
    /LeakSanitizer: detected memory leaks/ && !kind { kind = "leak"; res = "ours" }
    /ERROR: AddressSanitizer: [a-zA-Z-]+/ && !kind { kind = $0; sub(/.*AddressSanitizer: /, "", kind); sub(/ .*/, "", kind); sub(/:$/, "", kind) }
    /ERROR: libFuzzer: out-of-memory \(malloc/ && (!kind || kind == "rss-limit") {
        kind = "huge-allocation"; res = ""; at = ""; first = ""; named = ""; inalloc = 0 }
    /ERROR: libFuzzer: out-of-memory \(used/ && !kind { kind = "rss-limit"; res = "ours"; at = "(no stack)" }
    /ERROR: libFuzzer: timeout/ && !kind { kind = "timeout" }
    /ERROR: libFuzzer: deadly signal/ && !kind { kind = "deadly-signal" }
    /\*\*\* stack smashing detected/ { smash = 1 }
    /allocated by thread/ { inalloc = 1; next }
    /^ *#[0-9]+ / {
        if (plumbing($0)) next
        if (inalloc) { if (!allocfirst) allocfirst = $0; next }
        if (!first) first = $0
        if (!named && $0 ~ / in [A-Za-z_]/) named = $0
        if (res == "ours" && kind == "leak" && !at && $0 ~ /\/work\/main\//) at = fname($0)
        next
    }
    END {
        if (!kind) kind = "failure"
        # glibc stack-protector abort: only libhdf5 / libmatio are built with -fstack-protector
        # (Debian hardening); the sanitizer build of src/ has no stack protector
        if (smash && res == "" && (!first || where(first) != "ours")) {
            res = first ? where(first) : "hdf5-or-matio"; kind = "stack-smashing"
            if (!first) at = "(stack unavailable; __stack_chk_fail is only in libhdf5 / libmatio)"
        }
        if (!res) {
            res = first ? where(first) : "ours"
            if (res != "ours" && allocfirst && where(allocfirst) == "ours") { res = "ours"; first = allocfirst }
        }
        if (!at) at = first ? fname(res == "ours" || !named ? first : named) : "(no stack)"
        printf "%s %s %s %s\n", res, kind, (res == "ours" ? "at" : "in"), at
    }' "$1"
}
