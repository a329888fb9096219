#include "rng.h"
#include <math.h>

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void nd_rng_seed(nd_rng *r, uint64_t seed) {
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}

void nd_rng_stream(nd_rng *r, uint64_t seed, uint64_t a, uint64_t b) {
    uint64_t x = seed;
    uint64_t h = splitmix64(&x);
    x = h ^ (a * 0xd1342543de82ef95ULL);
    h = splitmix64(&x);
    x = h ^ (b * 0x9e6c63d0676a9a99ULL + 0x632be59bd9b4e019ULL);
    nd_rng_seed(r, splitmix64(&x));
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t nd_rng_u64(nd_rng *r) {
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double nd_rng_uniform(nd_rng *r) { return (double)(nd_rng_u64(r) >> 11) * 0x1.0p-53; }

double nd_rng_normal(nd_rng *r) {
    /* Box-Muller without a cached second value: keeps the state a pure function
     * of the number of draws, which makes streams easy to reason about. */
    double u1 = nd_rng_uniform(r), u2 = nd_rng_uniform(r);
    if (u1 < 1e-300) u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

int nd_rng_bernoulli(nd_rng *r, double p) { return nd_rng_uniform(r) < p; }

uint64_t nd_rng_below(nd_rng *r, uint64_t n) {
    if (n == 0) return 0;
    uint64_t lim = UINT64_MAX - UINT64_MAX % n, x;
    do x = nd_rng_u64(r); while (x >= lim);
    return x % n;
}

void nd_rng_shuffle(nd_rng *r, int *a, int n) {
    for (int i = n - 1; i > 0; i--) {
        int j = (int)nd_rng_below(r, (uint64_t)i + 1);
        int t = a[i]; a[i] = a[j]; a[j] = t;
    }
}

unsigned nd_rng_poisson(nd_rng *r, double lambda) {
    if (!(lambda > 0)) return 0;
    if (lambda < 30) { /* Knuth: product of uniforms */
        double L = exp(-lambda), p = 1.0;
        unsigned k = 0;
        do { k++; p *= nd_rng_uniform(r); } while (p > L);
        return k - 1;
    }
    /* PTRS (Hormann 1993), transformed rejection with squeeze */
    double slam = sqrt(lambda), loglam = log(lambda);
    double b = 0.931 + 2.53 * slam, a = -0.059 + 0.02483 * b;
    double invalpha = 1.1239 + 1.1328 / (b - 3.4), vr = 0.9277 - 3.6224 / (b - 2);
    for (;;) {
        double U = nd_rng_uniform(r) - 0.5, V = nd_rng_uniform(r);
        double us = 0.5 - fabs(U);
        double k = floor((2 * a / us + b) * U + lambda + 0.43);
        if (us >= 0.07 && V <= vr) return (unsigned)k;
        if (k < 0 || (us < 0.013 && V > us)) continue;
        if (log(V) + log(invalpha) - log(a / (us * us) + b) <= -lambda + k * loglam - lgamma(k + 1))
            return (unsigned)k;
    }
}
