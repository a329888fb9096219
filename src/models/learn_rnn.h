/* Recurrent networks in the learning-rules lab: `learn train --rnn N --task flipflop --rule bptt|rflo`
 * (docs/learning.md). A leaky tanh RNN (rnn_rules.h, alpha 0.5) learns the 3-bit flip-flop: sequences of 50
 * steps, pulses with probability 0.05 per step and channel (every channel pulses at step 0), 100 Adam steps
 * (global-norm clip 1) of --batch fresh sequences per epoch, a fixed test set of 64 sequences.
 * RUN_DIR: curves.tsv, last.ckpt (every epoch, exact --resume), model.h5: W, U, b, V, c (and *_init), curves,
 * valid_gen_states [64][50][N] (the hidden states on the test sequences: `neurodyn fixedpoints RUN_DIR --outputs
 * RUN_DIR/model.h5` starts from them), layer1_activity[_init] [1000][N] for `neurodyn compare`, test_inputs,
 * test_targets, test_outputs. */
#ifndef ND_MODELS_LEARN_RNN_H
#define ND_MODELS_LEARN_RNN_H
#include "learn_opts.h"
#include "rnn_rules.h"

/* o->rnn_units, o->rnn_rule (nd_rnn_rule), o->batch, o->lr (Adam), o->epochs, o->seed, o->out_dir, resume/force */
nd_status nd_learn_rnn_train(const nd_learn_opts *o, nd_learn_result *res, nd_error *err);
/* 1 when RUN_DIR/last.ckpt is a recurrent learn run */
int nd_learn_rnn_is_run(const char *run_dir);
/* the trained network (init != NULL: also the initial parameters, nd_free); rule may be NULL */
nd_status nd_learn_rnn_load(const char *run_dir, nd_rnn *r, real **init, int *rule, nd_error *err);
#endif
