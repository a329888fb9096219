/* LFADS weights under lfads-torch's state_dict names (see lfads_export.h). */
#include "lfads_export.h"
#include "../core/mem.h"
#include "../io/h5.h"
#include "../nn/recon.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

/* dst[c][r] = src[r][c] (src rows x cols) */
static void transpose(float *dst, const real *src, int rows, int cols) {
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++) dst[(size_t)c * rows + r] = (float)src[(size_t)r * cols + c];
}

typedef struct {
    nd_h5file *f;
    float *buf; /* scratch of the largest parameter */
    nd_error *err;
} wr;

static nd_status put(wr *w, const char *name, const float *a, int rank, size_t d0, size_t d1, size_t d2) {
    size_t dims[3] = {d0, d1, d2};
    return nd_h5_write_float(w->f, name, a, rank, dims, w->err);
}

/* a matrix stored [in][out] as torch's [out][in] */
static nd_status put_t(wr *w, const char *name, const real *W, int in, int out) {
    transpose(w->buf, W, in, out);
    return put(w, name, w->buf, 2, (size_t)out, (size_t)in, 0);
}

static nd_status put_v(wr *w, const char *name, const real *v, int n) {
    for (int i = 0; i < n; i++) w->buf[i] = (float)v[i];
    return put(w, name, w->buf, 1, (size_t)n, 0, 0);
}

static nd_status put_gru(wr *w, const char *prefix, const gru_params *p, int I, int H) {
    char name[256];
    nd_status st;
    snprintf(name, sizeof name, "%s.weight_ih", prefix);
    if ((st = put_t(w, name, p->Wx, I, 3 * H))) return st;
    snprintf(name, sizeof name, "%s.bias_ih", prefix);
    if ((st = put_v(w, name, p->bx, 3 * H))) return st;
    /* weight_hh = [Uzr^T (2H x H); Un^T (H x H)] */
    transpose(w->buf, p->Uzr, H, 2 * H);
    transpose(w->buf + (size_t)2 * H * H, p->Un, H, H);
    snprintf(name, sizeof name, "%s.weight_hh", prefix);
    if ((st = put(w, name, w->buf, 2, (size_t)3 * H, (size_t)H, 0))) return st;
    memset(w->buf, 0, sizeof(float) * 3 * (size_t)H);
    snprintf(name, sizeof name, "%s.bias_hh", prefix);
    return put(w, name, w->buf, 1, (size_t)3 * H, 0, 0);
}

/* two learned initial states as [2][1][H] */
static nd_status put_h0(wr *w, const char *name, const real *f, const real *b, int H) {
    for (int i = 0; i < H; i++) {
        w->buf[i] = (float)f[i];
        w->buf[H + i] = (float)b[i];
    }
    return put(w, name, w->buf, 3, 2, 1, (size_t)H);
}

static nd_status put_const(wr *w, const char *name, double v, int n) {
    for (int i = 0; i < n; i++) w->buf[i] = (float)v;
    return put(w, name, w->buf, 1, (size_t)n, 0, 0);
}

static size_t max_sz(size_t a, size_t b) { return a > b ? a : b; }

static nd_status write_all(const nd_lfads_model *m, wr *w) {
    const nd_lfads_config *c = &m->cfg;
    const nd_lfads_views *p = &m->p;
    const int D = m->Din, E = m->E, Hic = c->ic_enc_dim, icd = c->ic_dim, G = c->gen_dim, F = c->fac_dim;
    const int ctrl = m->ctrl, Hci = ctrl ? c->ci_enc_dim : 0, C = ctrl ? c->con_dim : 0, K = ctrl ? c->co_dim : 0;
    nd_status st;
    if ((st = put_h0(w, "encoder.ic_enc_h0", p->ic_h0_f, p->ic_h0_b, Hic))) return st;
    if ((st = put_gru(w, "encoder.ic_enc.fwd_gru.cell", &p->ic_f, D, Hic))) return st;
    if ((st = put_gru(w, "encoder.ic_enc.bwd_gru.cell", &p->ic_b, D, Hic))) return st;
    if ((st = put_t(w, "encoder.ic_linear.weight", p->ic_W, 2 * Hic, 2 * icd))) return st;
    if ((st = put_v(w, "encoder.ic_linear.bias", p->ic_bias, 2 * icd))) return st;
    if (ctrl) {
        if ((st = put_h0(w, "encoder.ci_enc_h0", p->ci_h0_f, p->ci_h0_b, Hci))) return st;
        if ((st = put_gru(w, "encoder.ci_enc.fwd_gru.cell", &p->ci_f, D, Hci))) return st;
        if ((st = put_gru(w, "encoder.ci_enc.bwd_gru.cell", &p->ci_b, D, Hci))) return st;
    }
    if ((st = put_t(w, "decoder.ic_to_g0.weight", p->g0_W, icd, G))) return st;
    if ((st = put_v(w, "decoder.ic_to_g0.bias", p->g0_bias, G))) return st;
    if (ctrl) {
        for (int i = 0; i < C; i++) w->buf[i] = (float)p->con_h0[i];
        if ((st = put(w, "decoder.con_h0", w->buf, 2, 1, (size_t)C, 0))) return st;
        if ((st = put_gru(w, "decoder.rnn.cell.con_cell", &p->con, 2 * Hci + F, C))) return st;
        if ((st = put_t(w, "decoder.rnn.cell.co_linear.weight", p->co_W, C, 2 * K))) return st;
        if ((st = put_v(w, "decoder.rnn.cell.co_linear.bias", p->co_bias, 2 * K))) return st;
    }
    if ((st = put_gru(w, "decoder.rnn.cell.gen_cell", &p->gen, K + E, G))) return st;
    for (size_t i = 0; i < (size_t)F * G; i++) w->buf[i] = (float)p->fac_W[i];
    if ((st = put(w, "decoder.rnn.cell.fac_linear.weight", w->buf, 2, (size_t)F, (size_t)G, 0))) return st;
    if ((st = put_v(w, "ic_prior.mean", p->ic_prior_mean, icd))) return st;
    if ((st = put_const(w, "ic_prior.logvar", log(c->ic_prior_var), icd))) return st;
    if (ctrl && c->co_prior_ar1) {
        if ((st = put_v(w, "co_prior.logtaus", p->ar_logtau, K))) return st;
        if ((st = put_v(w, "co_prior.lognvars", p->ar_lognvar, K))) return st;
    } else if (ctrl) {
        if ((st = put_const(w, "co_prior.mean", 0, K))) return st;
        if ((st = put_const(w, "co_prior.logvar", log(c->co_prior_var), K))) return st;
    }
    for (int s = 0; s < m->S; s++) {
        nd_lfads_session_views sv;
        nd_lfads_session_bind(m, m->params, s, &sv);
        char name[64];
        if (sv.ri_W) {
            snprintf(name, sizeof name, "readin.%d.weight", s);
            if ((st = put_t(w, name, sv.ri_W, sv.N, D))) return st;
            snprintf(name, sizeof name, "readin.%d.bias", s);
            if ((st = put_v(w, name, sv.ri_bias, D))) return st;
        }
        snprintf(name, sizeof name, "readout.%d.weight", s);
        if ((st = put_t(w, name, sv.ro_W, F, sv.P * sv.Nr))) return st;
        snprintf(name, sizeof name, "readout.%d.bias", s);
        if ((st = put_v(w, name, sv.ro_bias, sv.P * sv.Nr))) return st;
    }
    const struct { const char *k; double v; } attrs[] = {
        {"encod_data_dim", D}, {"encod_seq_len", m->T}, {"recon_seq_len", m->Tr > 0 ? m->Tr : m->T},
        {"ext_input_dim", E}, {"ic_enc_seq_len", 0}, {"ic_enc_dim", Hic}, {"ci_enc_dim", Hci}, {"ci_lag", c->ci_lag},
        {"con_dim", C}, {"co_dim", K}, {"ic_dim", icd}, {"gen_dim", G}, {"fac_dim", F}, {"sessions", m->S},
        {"ci_zero_pad", c->ci_zero_pad},
    };
    for (size_t i = 0; i < sizeof attrs / sizeof attrs[0]; i++)
        if ((st = nd_h5_write_attr_int(w->f, "/", attrs[i].k, (long long)attrs[i].v, w->err))) return st;
    if ((st = nd_h5_write_attr_double(w->f, "/", "cell_clip", c->cell_clip, w->err))) return st;
    if ((st = nd_h5_write_attr_double(w->f, "/", "ic_post_var_min", c->ic_post_var_min, w->err))) return st;
    if ((st = nd_h5_write_attr_string(w->f, "/", "recon", nd_recon_name(c->recon), w->err))) return st;
    return nd_h5_write_attr_string(w->f, "/", "format", "lfads-torch", w->err);
}

nd_status nd_lfads_export_torch(const nd_lfads_model *m, const char *path, nd_error *err) {
    const nd_lfads_config *c = &m->cfg;
    /* scratch: the largest parameter block */
    int Hm = c->ic_enc_dim > c->ci_enc_dim ? c->ic_enc_dim : c->ci_enc_dim;
    Hm = Hm > c->gen_dim ? Hm : c->gen_dim;
    Hm = Hm > c->con_dim ? Hm : c->con_dim;
    int Im = m->Din > 2 * c->ci_enc_dim + c->fac_dim ? m->Din : 2 * c->ci_enc_dim + c->fac_dim;
    Im = Im > c->co_dim + m->E ? Im : c->co_dim + m->E;
    Im = Im > Hm ? Im : Hm;
    size_t n = (size_t)3 * Hm * Im;
    n = max_sz(n, (size_t)2 * c->ic_enc_dim * 2 * c->ic_dim);
    n = max_sz(n, (size_t)c->ic_dim * c->gen_dim);
    n = max_sz(n, (size_t)c->fac_dim * c->gen_dim);
    n = max_sz(n, (size_t)c->con_dim * 2 * c->co_dim);
    for (int s = 0; s < m->S; s++) {
        n = max_sz(n, (size_t)c->fac_dim * 3 * m->sNr[s] + 3 * (size_t)m->sNr[s]);
        n = max_sz(n, (size_t)(m->sN[s] + 1) * (m->Din + 1));
    }
    wr w = {NULL, nd_alloc(sizeof(float) * (n + 16)), err};
    if (!w.buf) return nd_fail(err, ND_ERR_NOMEM, "%s: out of memory for the export", path);
    nd_status st = nd_h5_create(&w.f, path, err);
    if (!st) st = write_all(m, &w);
    nd_status cs = w.f ? nd_h5_close(w.f, st == ND_OK, st ? NULL : err) : ND_OK;
    nd_free(w.buf);
    return st ? st : cs;
}
