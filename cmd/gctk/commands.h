/* The subcommands of gctk: one file each, found through the table in main.c. */
#ifndef GCTK_COMMANDS_H
#define GCTK_COMMANDS_H

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
