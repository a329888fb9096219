/* libFuzzer harness: config-file text (nd_lfads_config_parse_text, src/models/lfads_config.c), on a
 * NUL-terminated copy of the input, then nd_lfads_config_check. Every parsed config must survive a
 * round trip: nd_lfads_config_to_text -> parse_text gives back the same values, key by key. */
#include "fuzz_common.h"
#include "models/lfads_config.h"

static void same_config(const nd_lfads_config *a, const nd_lfads_config *b) {
    int n;
    const nd_cfg_key *k = nd_lfads_config_keys(&n);
    for (int i = 0; i < n; i++) {
        const char *pa = (const char *)a + k[i].offset, *pb = (const char *)b + k[i].offset;
        size_t w = k[i].type == ND_CFG_DOUBLE ? sizeof(double) : !strcmp(k[i].name, "seed") ? sizeof(int64_t) : sizeof(int);
        if (memcmp(pa, pb, w) != 0) nd_fuzz_bug("config key '%s' changed in a write/parse round trip", k[i].name);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = 0;
    nd_lfads_config c;
    nd_lfads_config_default(&c);
    nd_error err = {ND_OK, {0}};
    nd_status st = nd_lfads_config_parse_text(&c, text, "fuzz.cfg", &err);
    if (st) nd_fuzz_check_error(st, &err, "nd_lfads_config_parse_text");
    nd_error e2 = {ND_OK, {0}};
    nd_status cs = nd_lfads_config_check(&c, &e2);
    if (cs) nd_fuzz_check_error(cs, &e2, "nd_lfads_config_check");
    /* round trip (also for a partly applied config: what was set must be written faithfully) */
    char *out = nd_lfads_config_to_text(&c);
    if (out) {
        nd_lfads_config c2;
        nd_lfads_config_default(&c2);
        nd_error e3 = {ND_OK, {0}};
        nd_status rs = nd_lfads_config_parse_text(&c2, out, "roundtrip", &e3);
        if (rs) nd_fuzz_bug("the written config does not parse back: %s", e3.msg);
        same_config(&c, &c2);
        free(out);
    }
    free(text);
    return 0;
}
