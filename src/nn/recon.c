/* Reconstruction distributions (see recon.h). Sums are accumulated in double. */
#include "recon.h"
#include <math.h>
#include <string.h>

static const char *const NAMES[ND_RECON_COUNT] = {"poisson", "gaussian", "gamma", "zig"};
static const int NPARAMS[ND_RECON_COUNT] = {1, 2, 2, 3};

const char *nd_recon_name(int kind) { return kind >= 0 && kind < ND_RECON_COUNT ? NAMES[kind] : "?"; }
int nd_recon_nparams(int kind) { return kind >= 0 && kind < ND_RECON_COUNT ? NPARAMS[kind] : 1; }
int nd_recon_parse(const char *name) {
    for (int k = 0; k < ND_RECON_COUNT; k++)
        if (!strcmp(name, NAMES[k])) return k;
    return -1;
}

double nd_digamma(double x) {
    double r = 0;
    while (x < 12) { r -= 1 / x; x += 1; }
    double f = 1 / (x * x);
    return r + log(x) - 0.5 / x - f * (1.0 / 12 - f * (1.0 / 120 - f * (1.0 / 252 - f * (1.0 / 240 - f / 132))));
}

static double softplus(double z) { return z > 0 ? z + log1p(exp(-z)) : log1p(exp(z)); }
static double sigmoid(double z) { return z >= 0 ? 1 / (1 + exp(-z)) : exp(z) / (1 + exp(z)); }

/* gamma nll at y > 0 with log shape la, log rate lb */
static double gamma_nll(double la, double lb, double y) {
    double a = exp(la), b = exp(lb);
    return lgamma(a) - a * lb - (a - 1) * log(y) + b * y;
}

double recon_nll1(int kind, const real *l, size_t s, double x, double loc) {
    switch (kind) {
    case ND_RECON_GAUSSIAN: {
        double v = exp((double)l[s]) + ND_RECON_VMIN, d = x - l[0];
        return 0.5 * (1.8378770664093453 + log(v) + d * d / v);
    }
    case ND_RECON_GAMMA: return gamma_nll(l[0], l[s], x > ND_RECON_XMIN ? x : ND_RECON_XMIN);
    case ND_RECON_ZIG: {
        double z = l[2 * s];
        if (x == 0) return softplus(z); /* -log(1 - q) */
        double y = x - loc > ND_RECON_XMIN ? x - loc : ND_RECON_XMIN;
        return softplus(-z) + gamma_nll(l[0], l[s], y);
    }
    default: return exp((double)l[0]) - x * l[0] + lgamma(x + 1);
    }
}

static void gamma_grad(double *g, const real *l, size_t s, double y, double scale) {
    double a = exp((double)l[0]), b = exp((double)l[s]);
    g[0] = scale * a * (nd_digamma(a) - l[s] - log(y));
    g[1] = scale * (b * y - a);
}

void recon_grad1(int kind, double *g, const real *l, size_t s, double x, double loc, double scale) {
    switch (kind) {
    case ND_RECON_GAUSSIAN: {
        double e = exp((double)l[s]), v = e + ND_RECON_VMIN, d = x - l[0];
        g[0] = scale * -d / v;
        g[1] = scale * 0.5 * e * (1 / v - d * d / (v * v));
        break;
    }
    case ND_RECON_GAMMA: gamma_grad(g, l, s, x > ND_RECON_XMIN ? x : ND_RECON_XMIN, scale); break;
    case ND_RECON_ZIG: {
        double q = sigmoid(l[2 * s]);
        if (x == 0) {
            g[0] = g[1] = 0;
            g[2] = scale * q;
        } else {
            gamma_grad(g, l, s, x - loc > ND_RECON_XMIN ? x - loc : ND_RECON_XMIN, scale);
            g[2] = scale * (q - 1);
        }
        break;
    }
    default: g[0] = scale * (exp((double)l[0]) - x);
    }
}

double recon_mean1(int kind, const real *l, size_t s, double loc) {
    switch (kind) {
    case ND_RECON_GAUSSIAN: return l[0];
    case ND_RECON_GAMMA: return exp((double)l[0] - l[s]);
    case ND_RECON_ZIG: return sigmoid(l[2 * s]) * (exp((double)l[0] - l[s]) + loc);
    default: return exp((double)l[0]);
    }
}

double recon_nll_forward(int kind, const real *prm, const real *x, const real *w, size_t rows, int n, double loc) {
    size_t P = (size_t)nd_recon_nparams(kind);
    double s = 0;
    for (size_t r = 0; r < rows; r++)
        for (int j = 0; j < n; j++) {
            size_t i = r * n + j;
            if (w && w[i] == 0) continue;
            double v = recon_nll1(kind, prm + r * P * n + j, (size_t)n, x[i], loc);
            s += w ? w[i] * v : v;
        }
    return s;
}

void recon_nll_backward(int kind, real *dprm, const real *prm, const real *x, const real *gmask, real scale,
                        size_t rows, int n, double loc) {
    int P = nd_recon_nparams(kind);
    double g[3];
    for (size_t r = 0; r < rows; r++)
        for (int j = 0; j < n; j++) {
            size_t i = r * n + j;
            real m = gmask ? gmask[i] : 1;
            if (m == 0) continue;
            size_t o = r * P * n + j;
            recon_grad1(kind, g, prm + o, (size_t)n, x[i], loc, (double)scale * m);
            for (int p = 0; p < P; p++) dprm[o + (size_t)p * n] += (real)g[p];
        }
}

void recon_mean(int kind, real *mean, const real *prm, size_t rows, int n, double loc) {
    size_t P = (size_t)nd_recon_nparams(kind);
    for (size_t r = 0; r < rows; r++)
        for (int j = 0; j < n; j++) mean[r * n + j] = (real)recon_mean1(kind, prm + r * P * n + j, (size_t)n, loc);
}
