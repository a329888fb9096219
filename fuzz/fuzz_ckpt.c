/* libFuzzer harness: checkpoint files (nd_ckpt_read, src/io/checkpoint.c) and loading a model from
 * one (nd_lfads_load, src/models/lfads_ckpt.c: config section -> nd_lfads_config_parse_text, dims,
 * nd_lfads_create_heldout, params) and its data fingerprint (nd_lfads_ckpt_fingerprint, src/io/fingerprint.c).
 *
 * Input byte 0 picks the mode, the rest is the file:
 *   even: the rest is a checkpoint without its CRC-32 and trailer; the harness appends the right
 *         CRC-32 and "NDEND\0\0\0", so the fuzzer gets past the checksum and explores the section
 *         table, the config text and the model sizes (what a crafted file could reach);
 *   odd:  the rest is written as is (what a corrupt file reaches: mostly the checksum check). */
#include <zlib.h>
#include "fuzz_common.h"
#include "io/checkpoint.h"
#include "models/lfads_ckpt.h"

static void check_ckpt(const nd_ckpt *c) {
    if (c->n < 0 || (c->n > 0 && !c->e)) nd_fuzz_bug("nd_ckpt_read: %d sections, table %p", c->n, (void *)c->e);
    for (int i = 0; i < c->n; i++) {
        if (strnlen(c->e[i].name, sizeof c->e[i].name) == sizeof c->e[i].name)
            nd_fuzz_bug("section %d: name not NUL-terminated", i);
        if (c->e[i].bytes && !c->e[i].data) nd_fuzz_bug("section %d: NULL data", i);
        nd_fuzz_touch(c->e[i].data, c->e[i].bytes);
        if (!nd_ckpt_find(c, c->e[i].name)) nd_fuzz_bug("section '%s' not found by name", c->e[i].name);
    }
    int32_t d[7];
    nd_error err = {ND_OK, {0}};
    nd_status st = nd_ckpt_get(c, "fuzz.ckpt", "dims", d, sizeof d, &err);
    if (st) nd_fuzz_check_error(st, &err, "nd_ckpt_get");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    const char *path = nd_fuzz_path(".ckpt");
    const uint8_t *body = data + 1;
    size_t n = size - 1;
    if (data[0] & 1) {
        nd_fuzz_write(path, body, n);
    } else {
        unsigned char *buf = malloc(n + 12);
        if (!buf) return 0;
        if (n) memcpy(buf, body, n);
        uLong crc = crc32(0L, Z_NULL, 0);
        crc = crc32(crc, body, (uInt)n);
        uint32_t c32 = (uint32_t)crc;
        memcpy(buf + n, &c32, 4);
        memcpy(buf + n + 4, "NDEND\0\0\0", 8);
        nd_fuzz_write(path, buf, n + 12);
        free(buf);
    }

    nd_ckpt c;
    nd_error err = {ND_OK, {0}};
    nd_status st = nd_ckpt_read(path, &c, &err);
    if (st == ND_OK) {
        nd_fuzz_report("nd_ckpt_read", st, &err);
        check_ckpt(&c);
        nd_ckpt_free(&c);
    } else {
        nd_fuzz_check_error(st, &err, "nd_ckpt_read");
        if (c.e || c.buf) nd_fuzz_bug("nd_ckpt_read failed but left memory allocated");
    }

    nd_lfads_model m;
    memset(&m, 0, sizeof m);
    int dims[3] = {0, 0, 0};
    nd_error e2 = {ND_OK, {0}};
    nd_status ls = nd_lfads_load(path, &m, dims, &e2);
    if (ls == ND_OK) {
        nd_fuzz_report("nd_lfads_load", ls, &e2);
        if (dims[0] < 1 || dims[1] < 1 || dims[2] < 0) nd_fuzz_bug("loaded dims %d %d %d", dims[0], dims[1], dims[2]);
        if (m.N != dims[0] || m.T != dims[1] || m.E != dims[2] || m.Nr < m.N || m.Tr < m.T)
            nd_fuzz_bug("model sizes N %d Nr %d T %d Tr %d E %d vs dims %d %d %d", m.N, m.Nr, m.T, m.Tr, m.E, dims[0],
                        dims[1], dims[2]);
        nd_error e3 = {ND_OK, {0}};
        if (nd_lfads_config_check(&m.cfg, &e3)) nd_fuzz_bug("loaded a model whose config fails the check: %s", e3.msg);
        nd_fuzz_touch(m.params, m.n_params * sizeof *m.params);
        nd_lfads_free(&m);
    } else {
        nd_fuzz_check_error(ls, &e2, "nd_lfads_load");
        if (m.params) nd_fuzz_bug("nd_lfads_load failed but left params allocated");
    }
    /* the data fingerprint section (checkpoint version 2): sessions 0 and 1 */
    for (int k = 0; k < 2; k++) {
        nd_data_fp fp;
        int has = -1;
        nd_error e4 = {ND_OK, {0}};
        nd_status fs = nd_lfads_ckpt_fingerprint(path, k, &fp, &has, &e4);
        if (fs) nd_fuzz_check_error(fs, &e4, "nd_lfads_ckpt_fingerprint");
        else if (has && (fp.n_train < 0 || fp.T < 0 || fp.N < 0 || !memchr(fp.file, 0, sizeof fp.file)))
            nd_fuzz_bug("fingerprint with negative sizes or an unterminated file name");
    }
    return 0;
}
