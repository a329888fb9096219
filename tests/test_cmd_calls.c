/* The library calls behind `neurodyn neuron` and `neurodyn learn` (issue 15: the CLI only parses, calls, prints):
 * simulating a cell by name writes what the direct simulator calls make; the sweep's list parsing and defaults;
 * the learn train choices (task, rule, architecture, the recurrent trainer's defaults) and their errors; the
 * gradient rules list; the eval scores' JSON. */
#include "test.h"
#include "../src/models/neuron_cell.h"
#include "../src/models/learn_train.h"
#include "../src/models/rnn_rules.h"
#include "../src/eval/neuron_eval.h"
#include "../src/analysis/learn_analysis.h"

/* the cell by name == nd_neuron_simulate + nd_neuron_sims_write on the same options */
static void test_simulate_file(nd_test_ctx *ctx) {
    char dir[256], a[300], b[300];
    if (!nd_test_scratch(dir, sizeof dir, "nd_cmdcalls_")) SKIP(ctx, "no scratch directory");
    snprintf(a, sizeof a, "%s/a.h5", dir);
    snprintf(b, sizeof b, "%s/b.h5", dir);
    nd_neuron_sim_opts o;
    nd_neuron_sim_opts_default(&o);
    o.sims = 2;
    o.seconds = 1;
    o.exc_rate_hz = 5;
    nd_neuron_sim_summary r;
    nd_error err;
    CHECK(ctx, nd_neuron_simulate_file("iaf", &o, a, &r, &err) == ND_OK, "%s", err.msg);
    nd_neuron_sims s;
    o.kind = ND_NEURON_IAF;
    CHECK(ctx, nd_neuron_simulate(&o, &s, &err) == ND_OK && nd_neuron_sims_write(b, &s, &err) == ND_OK, "%s", err.msg);
    CHECK(ctx, r.sims == 2 && r.seconds == 1 && r.synapses == s.syn && r.input_spikes == (long)s.n_in &&
          r.output_rate_hz == s.mean_rate_hz && r.exc_rate_hz == s.exc_rate_hz && !r.neuron,
          "summary %d sims %g s %d syn %ld spikes vs %d %d %zu", r.sims, r.seconds, r.synapses, r.input_spikes, s.sims,
          s.syn, s.n_in);
    nd_neuron_data da, db;
    CHECK(ctx, nd_neuron_data_read(a, &da, &err) == ND_OK, "%s", err.msg);
    CHECK(ctx, nd_neuron_data_read(b, &db, &err) == ND_OK, "%s", err.msg);
    CHECK(ctx, da.n_in == db.n_in && da.ms == db.ms && !strcmp(da.cell, "iaf") &&
          !memcmp(da.soma_v, db.soma_v, sizeof(float) * da.sims * da.ms) &&
          !memcmp(da.in_time, db.in_time, sizeof(int) * da.n_in), "the two files differ");
    nd_neuron_data_free(&da);
    nd_neuron_data_free(&db);
    nd_neuron_sims_free(&s);
    CHECK(ctx, nd_neuron_simulate_file("pyramidal", &o, a, &r, &err) == ND_ERR_ARG &&
          strstr(err.msg, "neuron simulate: unknown --cell 'pyramidal'"), "%s", err.msg);
    o.seconds = 0.1;
    CHECK(ctx, nd_neuron_simulate_file("iaf", &o, a, &r, &err) == ND_ERR_ARG && !strncmp(err.msg, "neuron simulate: ", 17)
          && strstr(err.msg, "--seconds") && !strstr(err.msg + 1, "neuron simulate"), "%s", err.msg);
    nd_test_scratch_remove(dir);
}

static void test_sweep_lists(nd_test_ctx *ctx) {
    nd_tcn_sweep_opts o;
    nd_tcn_sweep_opts_default(&o);
    nd_tcn_fit_opts f;
    nd_tcn_fit_opts_default(&f);
    CHECK(ctx, o.n_depths == 5 && o.depths[0] == 1 && o.depths[3] == 5 && o.depths[4] == 7 && o.n_widths == 2 &&
          o.widths[0] == 32 && o.widths[1] == 128 && o.fit.net.depth == f.net.depth && o.fit.epochs == f.epochs &&
          !o.out_dir && !o.receptive_field_ms, "defaults");
    nd_error err;
    CHECK(ctx, nd_tcn_sweep_set_lists(&o, "2,4,64", NULL, &err) == ND_OK && o.n_depths == 3 && o.depths[0] == 2 &&
          o.depths[2] == 64 && o.n_widths == 2 && o.widths[1] == 128, "depths only: %s", err.msg);
    CHECK(ctx, nd_tcn_sweep_set_lists(&o, NULL, "8", &err) == ND_OK && o.n_widths == 1 && o.widths[0] == 8 &&
          o.n_depths == 3, "widths only");
    const char *bad[][2] = {{"1,x", "--depths '1,x'"}, {"", "--depths is empty"}, {"0", "--depths '0'"},
                            {"1,,2", "--depths"}, {"65", "1..64"}, {"1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17", "up to 16"}};
    for (int i = 0; i < 6; i++)
        CHECK(ctx, nd_tcn_sweep_set_lists(&o, bad[i][0], "4", &err) == ND_ERR_ARG && strstr(err.msg, bad[i][1]) &&
              o.n_depths == 3 && o.n_widths == 1 && o.widths[0] == 8, "'%s': %s", bad[i][0], err.msg);
    CHECK(ctx, nd_tcn_sweep_set_lists(&o, "1", "4097", &err) == ND_ERR_ARG && strstr(err.msg, "--widths") &&
          o.n_depths == 3, "%s", err.msg);
}

static void test_learn_choose(nd_test_ctx *ctx) {
    nd_learn_opts o;
    nd_error err;
    nd_learn_opts_default(&o);
    o.lr = 0; o.batch = 0;
    CHECK(ctx, nd_learn_opts_choose(&o, "teacher", "fa", NULL, &err) == ND_OK && o.task == ND_TASK_TEACHER &&
          o.rule == ND_RULE_FA && o.L == 2 && o.widths[0] == 20 && o.widths[1] == 50 && o.widths[2] == 5 &&
          o.lr == 0.05 && o.batch == 64, "teacher fa: %s", err.msg);
    nd_learn_opts_default(&o);
    o.lr = 0.2; o.batch = 7;
    CHECK(ctx, nd_learn_opts_choose(&o, "orientation", "np", "256-10-2", &err) == ND_OK && o.L == 2 &&
          o.widths[1] == 10 && o.lr == 0.2 && o.batch == 7 && o.rule == ND_RULE_NP, "given arch, lr, batch: %s", err.msg);
    nd_learn_opts_default(&o);
    o.lr = 0; o.batch = 0; o.rnn_units = 16;
    CHECK(ctx, nd_learn_opts_choose(&o, "flipflop", "rflo", NULL, &err) == ND_OK && o.rnn_rule == ND_RNN_RFLO &&
          o.lr == 3e-3 && o.batch == 32 && o.task == ND_TASK_FLIPFLOP, "rnn rflo: %s", err.msg);
    const struct { const char *task, *rule, *arch; int rnn; const char *msg; } bad[] = {
        {"mnist", "bp", NULL, 0, "unknown --task 'mnist'"},
        {"teacher", "hebb", NULL, 0, "unknown --rule 'hebb'"},
        {"teacher", "bptt", NULL, 0, "needs --rnn"},
        {"flipflop", "fa", NULL, 8, "bptt, rflo"},
        {"teacher", "bp", "20-x", 0, "--arch '20-x'"},
        {"teacher", "bp", "20", 0, "--arch '20'"},
        {"flipflop", "bptt", "4-4", 8, "--rnn and --arch"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        nd_learn_opts_default(&o);
        o.rnn_units = bad[i].rnn;
        CHECK(ctx, nd_learn_opts_choose(&o, bad[i].task, bad[i].rule, bad[i].arch, &err) == ND_ERR_ARG &&
              strstr(err.msg, bad[i].msg), "case %zu: %s", i, err.msg);
    }
    nd_learn_opts_default(&o); /* --resume without --task and --rule: the options stay the defaults */
    nd_learn_opts d = o;
    CHECK(ctx, nd_learn_opts_choose(&o, NULL, NULL, NULL, &err) == ND_OK && o.task == d.task && o.L == d.L &&
          o.lr == d.lr && o.batch == d.batch, "resume: %s", err.msg);
}

static void test_gradient_rules(nd_test_ctx *ctx) {
    nd_learn_gradients_opts o;
    nd_learn_gradients_opts_default(&o);
    CHECK(ctx, o.samples == 200 && o.batch == 100 && o.sigma == 1e-3 && !o.rules && !o.svg, "defaults");
    nd_learn_gradients_result r;
    nd_error err;
    const char *bad[][2] = {{"bp,hebb", "unknown rule 'hebb'"}, {"", "--rules is empty"}, {",", "--rules is empty"},
                            {"bp,fa,dfa,sign,np,wp,bp", "too many"}};
    for (int i = 0; i < 4; i++) { /* refused before the run is read */
        o.rules = bad[i][0];
        CHECK(ctx, nd_learn_gradients_run("/nonexistent", &o, &r, &err) == ND_ERR_ARG && strstr(err.msg, bad[i][1]),
              "'%s': %s", bad[i][0], err.msg);
    }
    o.rules = "wp,,bp,"; /* empty entries skipped, as before */
    CHECK(ctx, nd_learn_gradients_run("/nonexistent", &o, &r, &err) == ND_ERR_IO && r.n_rules == 2 &&
          r.rules[0] == ND_RULE_WP && r.rules[1] == ND_RULE_BP && strstr(err.msg, "no such run"), "%s", err.msg);
    r.L = 2;
    for (int k = 0; k < 4; k++)
        for (int l = 0; l <= 2; l++) r.s[k].angle_deg[l] = 10 * k + l, r.s[k].rel_norm[l] = r.s[k].variance[l] = k;
    cJSON *j = nd_learn_gradients_json(&r), *e = cJSON_GetObjectItem(j, "estimates");
    CHECK(ctx, cJSON_GetArraySize(e) == 4, "4 estimates");
    cJSON *e3 = cJSON_GetArrayItem(e, 3); /* bp, final weights */
    CHECK(ctx, e3 && !strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(e3, "rule")), "bp") &&
          !strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(e3, "weights")), "final") &&
          cJSON_GetNumberValue(cJSON_GetObjectItem(e3, "angle_deg")) == 32 &&
          cJSON_GetArraySize(cJSON_GetObjectItem(e3, "angle_deg_per_layer")) == 2 &&
          cJSON_GetNumberValue(cJSON_GetArrayItem(cJSON_GetObjectItem(e3, "angle_deg_per_layer"), 1)) == 31,
          "the last estimate");
    cJSON_Delete(j);
}

static void test_scores_json(nd_test_ctx *ctx) {
    nd_tcn_scores s = {0.91, 0.4, 0.0025, 0.7, 2.5, 1.25, 3, 7500};
    cJSON *j = nd_tcn_scores_json(&s);
    const char *k[] = {"spike_auc", "tpr_at_fpr", "fpr", "voltage_explained_variance", "voltage_rmse_mv",
                       "voltage_mae_mv", "simulations", "bins"};
    const double v[] = {0.91, 0.4, 0.0025, 0.7, 2.5, 1.25, 3, 7500};
    for (int i = 0; i < 8; i++)
        CHECK(ctx, cJSON_GetNumberValue(cJSON_GetObjectItem(j, k[i])) == v[i], "%s", k[i]);
    CHECK(ctx, cJSON_GetArraySize(j) == 8, "8 keys, got %d", cJSON_GetArraySize(j));
    cJSON_Delete(j);
}

int main(void) {
    RUN(test_simulate_file);
    RUN(test_sweep_lists);
    RUN(test_learn_choose);
    RUN(test_gradient_rules);
    RUN(test_scores_json);
    TEST_MAIN_END();
}
