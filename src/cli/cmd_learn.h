/* neurodyn learn: its subcommands (cmd_learn_*.c), dispatched by cmd_learn.c. */
#ifndef ND_CLI_CMD_LEARN_H
#define ND_CLI_CMD_LEARN_H
int learn_train(int argc, char **argv);
int learn_gradients(int argc, char **argv);
int learn_compare(int argc, char **argv);
int learn_tuning(int argc, char **argv);
#endif
