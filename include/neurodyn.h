/* neurodyn public API.
 *
 * Everything a program needs to simulate data, train LFADS, run inference and score results
 * without the CLI. Conventions: functions return nd_status (ND_OK == 0) and fill an nd_error
 * with a one-line message; the library never exits the process; arrays are row-major float
 * [trials][bins][dims] unless stated. See README.md and docs/model.md. */
#ifndef NEURODYN_H
#define NEURODYN_H

#define NEURODYN_VERSION "0.1.0"

#include "../src/core/status.h"
#include "../src/core/rng.h"
#include "../src/core/mem.h"
#include "../src/io/h5.h"
#include "../src/io/lfads_data.h"
#include "../src/io/checkpoint.h"
#include "../src/io/fingerprint.h"
#include "../src/io/convert.h"
#include "../src/models/lfads_config.h"
#include "../src/models/lfads.h"
#include "../src/models/lfads_train.h"
#include "../src/models/lfads_infer.h"
#include "../src/models/synth.h"
#include "../src/models/poisson_glm.h"
#include "../src/models/gpfa.h"
#include "../src/models/baseline.h"
#include "../src/models/pbt.h"
#include "../src/models/stitch_init.h"
#include "../src/eval/metrics.h"
#include "../src/eval/regress.h"
#include "../src/eval/nlb.h"
#include "../src/analysis/pca.h"
#include "../src/analysis/compare.h"
#include "../src/analysis/rsa.h"
#include "../src/analysis/predict.h"
#include "../src/analysis/data.h"
#include "../src/analysis/jpca.h"
#include "../src/analysis/fixedpoints.h"
#include "../src/analysis/ablate.h"
#include "../src/analysis/decode.h"

#endif
