/* libFuzzer harness: '--set key=value' parsing (nd_lfads_config_set_kv, src/models/lfads_config.c).
 * The input is split at '\n' and NUL bytes into arguments (as a shell would pass several --set
 * options); each is applied in turn to one config, then nd_lfads_config_check runs. */
#include "fuzz_common.h"
#include "models/lfads_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *buf = malloc(size + 1);
    if (!buf) return 0;
    memcpy(buf, data, size);
    buf[size] = 0;
    nd_lfads_config c;
    nd_lfads_config_default(&c);
    size_t start = 0;
    for (size_t i = 0; i <= size; i++) {
        if (i < size && buf[i] != '\n' && buf[i] != 0) continue;
        buf[i] = 0;
        const char *arg = buf + start;
        nd_error err = {ND_OK, {0}};
        nd_status st = nd_lfads_config_set_kv(&c, arg, &err);
        if (st) nd_fuzz_check_error(st, &err, "nd_lfads_config_set_kv");
        start = i + 1;
    }
    nd_error e2 = {ND_OK, {0}};
    nd_status cs = nd_lfads_config_check(&c, &e2);
    if (cs) nd_fuzz_check_error(cs, &e2, "nd_lfads_config_check");
    free(buf);
    return 0;
}
