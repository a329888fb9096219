/* Data fingerprints (src/io/fingerprint.h) and what relies on them: checkpoints of version 2 hold one, version 1
 * checkpoints are still read (no fingerprint, no check; their runs keep the old smoothing and lr rule), and a run
 * directory is never trained into twice. */
#include "test.h"
#include "../src/neurodyn_internal.h"
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

static char dir[256];

/* a small in-memory data set: 6 train + 3 valid trials x 4 bins x 3 neurons */
typedef struct {
    float tr[6 * 4 * 3], va[3 * 4 * 3];
    int ti[6], vi[3];
    nd_lfads_data d;
} small_data;

static void small_init(small_data *s) {
    memset(s, 0, sizeof *s);
    for (int i = 0; i < 6 * 4 * 3; i++) s->tr[i] = (float)(i % 5);
    for (int i = 0; i < 3 * 4 * 3; i++) s->va[i] = (float)(i % 3);
    for (int i = 0; i < 6; i++) s->ti[i] = i;
    for (int i = 0; i < 3; i++) s->vi[i] = 6 + i;
    nd_lfads_data *d = &s->d;
    snprintf(d->path, sizeof d->path, "/some/where/session one.h5");
    d->split[ND_TRAIN].n = 6; d->split[ND_VALID].n = 3; d->T = 4; d->N = 3; d->Nr = 3; d->Tr = 4;
    d->split[ND_TRAIN].counts = s->tr; d->split[ND_VALID].counts = s->va; d->split[ND_TRAIN].inds = s->ti; d->split[ND_VALID].inds = s->vi;
}

static void test_text_roundtrip(nd_test_ctx *ctx) {
    small_data s;
    small_init(&s);
    nd_data_fp a, b;
    nd_error err;
    char txt[1024], what[512];
    CHECK(ctx, nd_data_fp_of(&s.d, &a, &err) == ND_OK, "%s", err.msg);
    CHECK(ctx, !strcmp(a.file, "session_one.h5"), "base name, spaces replaced: '%s'", a.file);
    nd_data_fp_to_text(&a, txt, sizeof txt);
    CHECK(ctx, nd_data_fp_parse(txt, &b, &err) == ND_OK, "%s: %s", txt, err.msg);
    CHECK(ctx, !memcmp(&a, &b, sizeof a), "round trip of '%s'", txt);
    CHECK(ctx, !nd_data_fp_differs(&a, &b, 0, what, sizeof what), "%s", what);
    /* malformed text */
    CHECK(ctx, nd_data_fp_parse("file=x train=3", &b, &err) == ND_ERR_FORMAT, "incomplete accepted");
    CHECK(ctx, nd_data_fp_parse("garbage", &b, &err) == ND_ERR_FORMAT, "garbage accepted");
    char bad[1100];
    snprintf(bad, sizeof bad, "%s", txt);
    char *p = strstr(bad, "bins=4");
    if (p) p[5] = 'x';
    CHECK(ctx, nd_data_fp_parse(bad, &b, &err) == ND_ERR_FORMAT, "bad number accepted: %s", bad);
}

static void test_differences(nd_test_ctx *ctx) {
    small_data s;
    small_init(&s);
    nd_data_fp a, b;
    nd_error err;
    char what[512];
    nd_data_fp_of(&s.d, &a, &err);
    /* another name, the same data: the same data */
    snprintf(s.d.path, sizeof s.d.path, "copy.h5");
    nd_data_fp_of(&s.d, &b, &err);
    CHECK(ctx, !nd_data_fp_differs(&a, &b, 0, what, sizeof what), "renamed file differs: %s", what);
    /* one count changed */
    s.va[5] += 1;
    nd_data_fp_of(&s.d, &b, &err);
    CHECK(ctx, nd_data_fp_differs(&a, &b, 0, what, sizeof what) && strstr(what, "encoder data"), "'%s'", what);
    CHECK(ctx, !nd_data_fp_differs(&a, &b, 1, what, sizeof what), "allowed: '%s'", what);
    s.va[5] -= 1;
    /* a trial moved from valid to train (same arrays, other split) */
    s.vi[0] = 0;
    nd_data_fp_of(&s.d, &b, &err);
    CHECK(ctx, nd_data_fp_differs(&a, &b, 0, what, sizeof what) && strstr(what, "split indices"), "'%s'", what);
    s.vi[0] = 6;
    /* fewer trials: a difference, allowed with allow_mismatch */
    s.d.split[ND_VALID].n = 2;
    nd_data_fp_of(&s.d, &b, &err);
    CHECK(ctx, nd_data_fp_differs(&a, &b, 0, what, sizeof what) && strstr(what, "trials"), "'%s'", what);
    CHECK(ctx, !nd_data_fp_differs(&a, &b, 1, what, sizeof what), "allowed: '%s'", what);
    s.d.split[ND_VALID].n = 3;
    /* fewer neurons: never allowed */
    s.d.N = s.d.Nr = 2;
    nd_data_fp_of(&s.d, &b, &err);
    CHECK(ctx, nd_data_fp_differs(&a, &b, 1, what, sizeof what) && strstr(what, "neurons"), "'%s'", what);
}

/* rewrite a checkpoint as checkpoint version 1 would have written it: no "fingerprint" section, version 1 */
static int write_v1(const char *src, const char *dst) {
    nd_ckpt c;
    nd_error err;
    if (nd_ckpt_read(src, &c, &err)) return -1;
    nd_ckpt_section s[16];
    int n = 0;
    char *cfg = NULL; /* the config without the keys version 1 did not know */
    for (int i = 0; i < c.n && n < 16; i++) {
        if (!strcmp(c.e[i].name, "fingerprint")) continue;
        s[n++] = (nd_ckpt_section){c.e[i].name, c.e[i].data, c.e[i].bytes};
        if (strcmp(c.e[i].name, "config") || !(cfg = calloc(c.e[i].bytes + 1, 1))) continue;
        const char *p = c.e[i].data;
        while (*p) {
            size_t len = strcspn(p, "\n") + (p[strcspn(p, "\n")] ? 1 : 0);
            if (strncmp(p, "loss_smoothing_legacy", 21) && strncmp(p, "lr_decay_on", 11)) strncat(cfg, p, len);
            p += len;
        }
        s[n - 1].data = cfg;
        s[n - 1].bytes = strlen(cfg) + 1;
    }
    int rc = nd_ckpt_write(dst, s, n, &err) ? -1 : 0;
    free(cfg);
    nd_ckpt_free(&c);
    if (rc) return rc;
    FILE *f = fopen(dst, "r+b");
    if (!f) return -1;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    unsigned char *buf = malloc((size_t)size);
    rewind(f);
    if (!buf || fread(buf, 1, (size_t)size, f) != (size_t)size) { fclose(f); free(buf); return -1; }
    uint32_t v = 1;
    memcpy(buf + 8, &v, 4);
    uint32_t crc = (uint32_t)crc32(crc32(0L, Z_NULL, 0), buf, (uInt)(size - 12));
    memcpy(buf + size - 12, &crc, 4);
    rewind(f);
    rc = fwrite(buf, 1, (size_t)size, f) == (size_t)size ? 0 : -1;
    fclose(f);
    free(buf);
    return rc;
}

static void test_checkpoints(nd_test_ctx *ctx) {
    nd_lorenz_opts lo;
    nd_lorenz_opts_default(&lo);
    lo.conditions = 4; lo.trials_per_condition = 5; lo.neurons = 8; lo.bins = 10; lo.seed = 3;
    nd_synth s;
    nd_error err;
    CHECK(ctx, nd_synth_lorenz(&lo, &s, &err) == ND_OK, "%s", err.msg);
    nd_lfads_config c;
    nd_lfads_config_default(&c);
    c.gen_dim = 8; c.ic_enc_dim = 4; c.ic_dim = 4; c.fac_dim = 3; c.co_dim = 0; c.con_dim = 0; c.ci_enc_dim = 0;
    c.batch_size = 8; c.max_epochs = 1;
    char run[300], ck[400], old[400], v3[400];
    snprintf(run, sizeof run, "%s/run", dir);
    nd_train_opts o = {run, 1, 0, -1, NULL, 0, 0};
    nd_train_result res;
    CHECK(ctx, nd_lfads_train(&s.data, &c, &o, &res, &err) == ND_OK, "%s", err.msg);
    /* a second new run into the same directory: refused; with force: done */
    nd_status st = nd_lfads_train(&s.data, &c, &o, &res, &err);
    CHECK(ctx, st == ND_ERR_ARG && strstr(err.msg, "holds a run"), "status %d: %s", st, err.msg);
    o.force = 1;
    CHECK(ctx, nd_lfads_train(&s.data, &c, &o, &res, &err) == ND_OK, "%s", err.msg);
    snprintf(ck, sizeof ck, "%s/last.ckpt", run);
    {
        nd_lfads_model mn;
        int dn[3];
        memset(&mn, 0, sizeof mn);
        CHECK(ctx, nd_lfads_load(ck, &mn, dn, &err) == ND_OK, "%s", err.msg);
        CHECK(ctx, mn.cfg.loss_smoothing_legacy == 0 && mn.cfg.lr_decay_on == ND_LR_DECAY_ON_RECON, "new rules");
        if (mn.params) nd_lfads_free(&mn);
    }
    nd_data_fp fp, mine;
    int has = 0;
    CHECK(ctx, nd_lfads_ckpt_fingerprint(ck, 0, &fp, &has, &err) == ND_OK && has, "%s", err.msg);
    nd_data_fp_of(&s.data, &mine, &err);
    char what[512];
    CHECK(ctx, !nd_data_fp_differs(&fp, &mine, 0, what, sizeof what), "%s", what);
    CHECK(ctx, nd_lfads_check_data(ck, 0, 1, &s.data, 0, NULL, &err) == ND_OK, "%s", err.msg);
    s.data.split[ND_VALID].counts[0] += 1;
    st = nd_lfads_check_data(ck, 0, 1, &s.data, 0, NULL, &err);
    CHECK(ctx, st == ND_ERR_ARG && strstr(err.msg, "encoder data") && strstr(err.msg, ck), "status %d: %s", st, err.msg);
    CHECK(ctx, nd_lfads_check_data(ck, 0, 1, &s.data, 1, NULL, &err) == ND_OK, "allowed: %s", err.msg);
    /* a checkpoint of version 1: read, no fingerprint, no check (a warning) */
    snprintf(old, sizeof old, "%s/old.ckpt", dir);
    CHECK(ctx, write_v1(ck, old) == 0, "writing a version-1 checkpoint");
    nd_lfads_model m;
    memset(&m, 0, sizeof m);
    int dims[3];
    CHECK(ctx, nd_lfads_load(old, &m, dims, &err) == ND_OK, "version 1 not read: %s", err.msg);
    CHECK(ctx, m.cfg.loss_smoothing_legacy == 1 && m.cfg.lr_decay_on == ND_LR_DECAY_ON_TOTAL,
          "an old run resumes with the old smoothing and lr rule (%d %d)", m.cfg.loss_smoothing_legacy,
          m.cfg.lr_decay_on);
    if (m.params) nd_lfads_free(&m);
    CHECK(ctx, nd_lfads_ckpt_fingerprint(old, 0, &fp, &has, &err) == ND_OK && !has, "has %d", has);
    CHECK(ctx, nd_lfads_check_data(old, 0, 1, &s.data, 0, NULL, &err) == ND_OK, "%s", err.msg);
    /* a later version is refused */
    snprintf(v3, sizeof v3, "%s/v3.ckpt", dir);
    write_v1(ck, v3);
    {
        FILE *f = fopen(v3, "r+b");
        uint32_t v = 3;
        if (f) { fseek(f, 8, SEEK_SET); fwrite(&v, 4, 1, f); fclose(f); }
    }
    nd_ckpt ckp;
    st = nd_ckpt_read(v3, &ckp, &err);
    CHECK(ctx, st == ND_ERR_CHECKPOINT && strstr(err.msg, "version 3"), "status %d: %s", st, err.msg);
    nd_synth_free(&s);
}

int main(void) {
    if (!nd_test_scratch(dir, sizeof dir, "nd_fp_")) return 1;
    RUN(test_text_roundtrip);
    RUN(test_differences);
    RUN(test_checkpoints);
    nd_test_scratch_remove(dir);
    TEST_MAIN_END();
}
