/* Population-based training (AutoLFADS), the pure logic: the search space, the initial population,
 * binary-tournament exploit, multiplicative explore within bounds and the stop rule. No training and
 * no files here (see src/cli/cmd_search.c); every random draw comes from streams keyed by
 * (seed, generation), so the same seed gives the same search, resumed or not.
 *
 * Values live in the space's own scale. The default space is AutoLFADS's (lfads-torch's
 * scripts/run_pbt.py), whose KL and L2 weights are for lfads-torch's element-mean reconstruction loss;
 * nd_pbt_to_config maps them onto neurodyn's per-trial summed loss (docs/search.md). */
#ifndef ND_MODELS_PBT_H
#define ND_MODELS_PBT_H
#include <stdint.h>
#include "../core/status.h"
#include "../core/rng.h"
#include "lfads_config.h"

#define ND_PBT_MAX_PARAMS 16

typedef enum { ND_PBT_LINEAR = 0, ND_PBT_LOG = 1 } nd_pbt_sampling;

typedef struct {
    char name[32];          /* a double config key (lfads_config.h) */
    double min, max;        /* bounds, enforced by explore */
    double weight;          /* explore factor 1 +/- U(0.002 w, w) */
    nd_pbt_sampling sample; /* how initial values are drawn when init is NaN: uniform or log-uniform */
    double init;            /* fixed initial value for every worker, or NaN to sample */
} nd_pbt_param;

typedef struct {
    int n;
    nd_pbt_param p[ND_PBT_MAX_PARAMS];
} nd_pbt_space;

/* AutoLFADS: lr_init [1e-5, 5e-3] w .3 (starts at 4e-3), dropout_rate [0, .6] w .3 (uniform),
 * cd_rate [.01, .7] w .3 (starts at .5), l2_gen_scale and l2_con_scale [1e-4, 1] w .8 (log-uniform),
 * kl_co_scale [1e-6, 1e-4] w .8 (log-uniform), kl_ic_scale [1e-6, 1e-3] w .8 (log-uniform). */
void nd_pbt_space_default(nd_pbt_space *s);
/* Change the space with "KEY=MIN:MAX:WEIGHT[:lin|log][:INIT]" (adds KEY if new) or "KEY=off" (drops it). */
nd_status nd_pbt_space_set(nd_pbt_space *s, const char *spec, nd_error *err);
int nd_pbt_space_find(const nd_pbt_space *s, const char *name);

/* Initial population: hp[i * s->n + k] for worker i, parameter k. */
void nd_pbt_init(const nd_pbt_space *s, uint64_t seed, int workers, double *hp);

/* Explore one value: v * (1 + sign * U(0.002 w, w)), redrawn until it lies within [min, max]
 * (after 100 tries it is clipped to the bounds). */
double nd_pbt_perturb(const nd_pbt_param *p, double v, nd_rng *r);

/* One exploit/explore step after a generation. scores[i]: worker i's smoothed validation loss (lower is
 * better; NaN = failed/diverged). Each worker is compared with another worker drawn uniformly at random;
 * if its score is worse, or NaN while the other's is not, it takes that worker's weights (src[i] = that
 * worker, else -1) and its hyperparameters, perturbed. Comparisons use the scores and hyperparameters from
 * before the step. hp is updated in place. Returns the number of workers that copied another. */
int nd_pbt_exploit(const nd_pbt_space *s, uint64_t seed, int generation, int workers, const double *scores,
                   double *hp, int *src);

/* Stop rule (lfads-torch's ImprovementRatioStopper): with best[0..n) the best score of each generation,
 * once n >= patience take the last `patience` of them; the improvement ratio is
 * (first - min) / mean(|values|). Stop when it is < min_improvement. *ratio (if not NULL) gets the ratio,
 * or NaN when there are fewer than `patience` generations. */
int nd_pbt_should_stop(const double *best, int n, int patience, double min_improvement, double *ratio);

/* Scale from the space's value to neurodyn's config value: 1 for most keys; for kl_ic_scale/kl_co_scale
 * elems = (reconstructed bins x neurons per trial); for l2_gen_scale/l2_con_scale elems times this
 * kernel's share of the penalised recurrent weights (lfads-torch divides the summed penalty by the total
 * size of the kernels, neurodyn each kernel by its own size). */
double nd_pbt_config_factor(const char *name, const nd_lfads_config *c, int64_t elems);
/* Set worker hyperparameters hp[0..s->n) (space scale) in c, mapped with nd_pbt_config_factor. */
nd_status nd_pbt_to_config(const nd_pbt_space *s, const double *hp, int64_t elems, nd_lfads_config *c,
                           nd_error *err);

#endif
