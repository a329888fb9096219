/* Seeded deterministic RNG: xoshiro256** seeded through splitmix64.
 * Streams are derived from (seed, a, b) so that e.g. epoch 7 batch 3 draws the
 * same numbers whether or not the run was resumed in between. */
#ifndef ND_CORE_RNG_H
#define ND_CORE_RNG_H
#include <stdint.h>

typedef struct { uint64_t s[4]; } nd_rng;

void nd_rng_seed(nd_rng *r, uint64_t seed);
/* independent stream for (seed, a, b) */
void nd_rng_stream(nd_rng *r, uint64_t seed, uint64_t a, uint64_t b);
uint64_t nd_rng_u64(nd_rng *r);
double nd_rng_uniform(nd_rng *r);               /* [0, 1) */
double nd_rng_normal(nd_rng *r);                /* N(0, 1) */
unsigned nd_rng_poisson(nd_rng *r, double lambda);
int nd_rng_bernoulli(nd_rng *r, double p);      /* 1 with probability p */
uint64_t nd_rng_below(nd_rng *r, uint64_t n);   /* uniform in [0, n) */
void nd_rng_shuffle(nd_rng *r, int *a, int n);

#endif
