/* Read lfads-torch's Hydra model configs (YAML) into an nd_lfads_config. */
#ifndef ND_MODELS_LFADS_YAML_H
#define ND_MODELS_LFADS_YAML_H
#include "lfads_config.h"

/* Load an lfads-torch model YAML: a configs/model/NAME.yaml file, or a composed config with a 'model:' section.
 * Keys are taken by lfads-torch's names over the values already in c (defaults, a --config file); scales stay in
 * lfads-torch's units (recon_reduce_mean, loss_scale as in the file; see nd_lfads_effective_scales). Keys taken
 * from the data (encod_data_dim, seq lens, read-in/out) are skipped silently; every other key that is not used
 * is listed in *notes, one line each (malloc'd, caller frees; NULL when there is nothing to say or notes is
 * NULL). Errors name the file, the line and the key. */
nd_status nd_lfads_config_load_torch_yaml(nd_lfads_config *c, const char *path, char **notes, nd_error *err);
/* 1 when path ends in .yaml or .yml */
int nd_lfads_config_is_yaml(const char *path);
#endif
