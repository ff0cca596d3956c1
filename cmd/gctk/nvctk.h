/* nvidia-ctk: NVIDIA's command names and flags read into gctk's own
 * commands. nvctk-flags.c only reads a command line (a pure function, unit
 * tested); nvctk.c runs what it says. docs/nvidia-compat.md lists every
 * command and flag and what gctk does with it. */
#ifndef GCTK_NVCTK_H
#define GCTK_NVCTK_H

#include "gctk.h"

enum nvctk_action {
    NVCTK_GCTK,    /* run gctk's command line in argv (verb first) */
    NVCTK_CONFIG,  /* nvidia-ctk config: show, or edit NVIDIA's config.toml */
    NVCTK_DEVCHAR, /* system create-dev-char-symlinks */
    NVCTK_VERSION, /* --version, info */
    NVCTK_HELP,    /* --help: the usage of `help_of` */
};

struct nvctk_call {
    enum nvctk_action action;
    struct strv argv;    /* NVCTK_GCTK */
    char *nvidia_config; /* the global --config: NVIDIA's config.toml, or NULL */
    bool quiet;          /* --quiet: only errors (and what the command produces) */
    const char *help_of; /* NVCTK_HELP: "" (the top), "runtime configure", ... */
    /* NVCTK_CONFIG */
    bool config_default;  /* `config default` */
    char *config_file;    /* --config-file; NULL: where gctk reads it */
    struct strv sets;     /* --set key[=value], in order */
    char *list_separator; /* --set-list-separator, ":" */
    bool in_place;        /* -i */
    char *output;         /* -o; NULL: stdout */
    /* NVCTK_DEVCHAR */
    char *dev_root, *dev_char_path;
    bool create_all, dry_run;
};

void nvctk_call_clear(struct nvctk_call *c);

/* Reads NVIDIA's command line (argv[0] is the program) and the environment
 * variables NVIDIA's commands read flags from (NVIDIA_CTK_*, DRY_RUN, ...;
 * getenv). Returns 0 and *out, or -1 and *why: one line naming the flag,
 * command or variable gctk does not take and what to use instead. */
int nvctk_parse(int argc, char *const *argv, struct nvctk_call *out, char **why);

#endif
