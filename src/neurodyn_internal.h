/* Every internal header of the library, for the CLI, the tests and the benchmarks (which use internals that the
 * public API in include/neurodyn.h does not expose). Not installed; programs outside the tree use neurodyn.h. */
#ifndef ND_NEURODYN_INTERNAL_H
#define ND_NEURODYN_INTERNAL_H

#define NEURODYN_VERSION "0.1.0"

#include "core/status.h"
#include "core/rng.h"
#include "core/mem.h"
#include "io/h5.h"
#include "io/lfads_data.h"
#include "io/checkpoint.h"
#include "io/fingerprint.h"
#include "io/convert.h"
#include "models/lfads_config.h"
#include "models/lfads.h"
#include "models/lfads_ckpt.h"
#include "models/lfads_train.h"
#include "models/lfads_infer.h"
#include "models/synth.h"
#include "models/poisson_glm.h"
#include "models/gpfa.h"
#include "models/baseline.h"
#include "models/pbt.h"
#include "models/stitch_init.h"
#include "eval/metrics.h"
#include "eval/regress.h"
#include "eval/nlb.h"
#include "analysis/pca.h"
#include "analysis/compare.h"
#include "analysis/rsa.h"
#include "analysis/predict.h"
#include "analysis/data.h"
#include "analysis/jpca.h"
#include "analysis/fixedpoints.h"
#include "analysis/ablate.h"
#include "analysis/decode.h"

#endif
