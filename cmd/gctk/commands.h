/* The subcommands of gctk: one file each, found through the table in main.c. */
#ifndef GCTK_COMMANDS_H
#define GCTK_COMMANDS_H

#include <getopt.h>
#include <stdio.h>

#include "gctk.h"

/* Options every subcommand shares; parsed by main() before the verb and by
 * each verb (--root may come either side). */
struct global_opts {
    const char *root; /* driver root, "/" unless --root or the config say otherwise */
    const char *config_path;
    struct gctk_host_cache cache;  /* the settings' discovery cache (dir NULL: off) */
    const struct gctk_config *cfg; /* gctk's settings (the defaults for a verb that reads none) */
};

/* Each verb gets argv with argv[0] the verb's name; returns the exit status. */
typedef int (*command_fn)(int argc, char **argv, struct global_opts *g);

/* gctk's command line (argv[0] "gctk", then the global flags and the verb);
 * returns the exit status. */
int gctk_main(int argc, char **argv);
/* NVIDIA's CLI under its own name, nvidia-ctk (nvctk.c). */
int nvctk_main(int argc, char **argv);

/* A verb's command line (args.c). Every verb reads it the same way:
 * --help and -h print its usage on stdout, exit 0; an unknown option, an
 * option without its value or with a value it does not take, a missing or
 * an extra operand is one line on stderr naming it, exit 2:
 *
 *     struct verb_args v = {.name = "info", .opts = opts, .usage = usage,
 *                           .argc = argc, .argv = argv};
 *     while ((c = verb_option(&v)) >= 0)
 *         switch (c) { ... }
 *     if (c == VERB_EXIT || verb_operands(&v, 0, 0, NULL) < 0)
 *         return v.status;
 */
struct verb_args {
    const char *name;          /* as typed after gctk: "info", "cdi generate" */
    const char *shortopts;     /* getopt's short options beside -h ("f", "o:"); NULL: none */
    const struct option *opts; /* getopt_long's; {"help", no_argument, NULL, 'h'} among them */
    void (*usage)(FILE *f);
    int argc;
    char **argv; /* argv[0]: the verb's own word */
    int status;  /* the exit status, once verb_option or verb_operands said so */
    bool started;
};
#define VERB_EXIT (-2)
/* The next option, as getopt_long returns it (optarg set); -1 after the
 * last; VERB_EXIT when the command ends here (--help, or a refused option:
 * v->status). */
int verb_option(struct verb_args *v);
/* After the options: between min and max (-1: any number) operands, the
 * first at the index returned; -1 when there are fewer (`missing WHAT`) or
 * more (`unexpected argument`), v->status 2. */
int verb_operands(struct verb_args *v, int min, int max, const char *what);
/* A verb of sub-commands (`gctk cdi generate`): the index in names (NULL-
 * terminated) of argv[1]; -1 with *status when the command ends here: none
 * given (usage on stderr, 2), --help (usage on stdout, 0), one it does not
 * have (a line naming those it has, 2). */
int verb_subcommand(int argc, char **argv, const char *verb, const char *const *names,
                    void (*usage)(FILE *f), int *status);

/* Prints "gctk: <message>" on stderr. Returns 1. */
int report_error(const gctk_error *e);
int report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Opens the host at g->root, reporting failures. NULL on failure. */
gctk_host *open_host_or_report(struct global_opts *g, unsigned flags);

/* Prints the host's discovery warnings on stderr. */
void print_warnings(const gctk_host *h);

int cmd_info(int argc, char **argv, struct global_opts *g);
int cmd_list(int argc, char **argv, struct global_opts *g);
int cmd_configure(int argc, char **argv, struct global_opts *g);
int cmd_sim(int argc, char **argv, struct global_opts *g);
int cmd_runtime(int argc, char **argv, struct global_opts *g);
int cmd_compose(int argc, char **argv, struct global_opts *g);
int cmd_compat(int argc, char **argv, struct global_opts *g);
int cmd_cdi(int argc, char **argv, struct global_opts *g);
int cmd_hook(int argc, char **argv, struct global_opts *g);
int cmd_doctor(int argc, char **argv, struct global_opts *g);
int cmd_ps(int argc, char **argv, struct global_opts *g);
int cmd_config(int argc, char **argv, struct global_opts *g);
int cmd_dev_char_links(int argc, char **argv, struct global_opts *g);

/* Makes the /dev/char links and prints what was done; shared with
 * `nvidia-ctk system create-dev-char-symlinks`. Returns the exit status. */
int run_dev_char_links(const struct gctk_devchar_options *o);

/* gctk config's listing of the effective settings (path NULL: the default
 * file); `nvidia-ctk config` prints it too. Returns the exit status. */
int print_effective_config(const char *path, bool as_json);

#endif
