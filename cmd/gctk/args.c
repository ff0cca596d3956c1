/* The command line of a verb (commands.h): every verb reads its options,
 * answers --help and refuses what it does not take the same way, with the
 * same messages. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"

/* The long option of that name (len bytes of name); NULL when none is
 * (getopt_long also takes an unambiguous prefix: that one was parsed). */
static const struct option *long_option(const struct option *opts, const char *name, size_t len)
{
    for (const struct option *o = opts; o->name != NULL; o++)
        if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
            return o;
    return NULL;
}

/* The line for the option getopt_long refused (c: '?' or ':'). */
static void refuse(const struct verb_args *v, int c)
{
    const char *arg = optind > 0 && optind <= v->argc ? v->argv[optind - 1] : NULL;
    char name[64];
    bool takes_none = false;
    if (arg != NULL && str_has_prefix(arg, "--")) {
        size_t len = strcspn(arg + 2, "=");
        const struct option *o = long_option(v->opts, arg + 2, len);
        takes_none = o != NULL && o->has_arg == no_argument && arg[2 + len] == '=';
        snprintf(name, sizeof(name), "--%.*s", (int)len, arg + 2);
    } else {
        snprintf(name, sizeof(name), "-%c", optopt);
    }
    if (c == ':')
        report("%s: option `%s` needs a value: `gctk %s --help` says which", v->name, name,
               v->name);
    else if (takes_none)
        report("%s: option `%s` takes no value: `gctk %s --help` lists the options", v->name, name,
               v->name);
    else
        report("%s: unknown option `%s`: `gctk %s --help` lists the options", v->name, name,
               v->name);
}

int verb_option(struct verb_args *v)
{
    char shortopts[32];
    snprintf(shortopts, sizeof(shortopts), ":%sh", v->shortopts != NULL ? v->shortopts : "");
    if (!v->started) {
        optind = 0; /* glibc: start afresh on this argv */
        v->started = true;
    }
    opterr = 0;
    int c = getopt_long(v->argc, v->argv, shortopts, v->opts, NULL);
    switch (c) {
    case 'h':
        v->usage(stdout);
        v->status = 0;
        return VERB_EXIT;
    case '?':
    case ':':
        refuse(v, c);
        v->status = 2;
        return VERB_EXIT;
    default:
        return c;
    }
}

int verb_operands(struct verb_args *v, int min, int max, const char *what)
{
    int n = v->argc - optind;
    if (n < min) {
        report("%s: missing %s: `gctk %s --help` shows the usage", v->name, what, v->name);
        v->status = 2;
        return -1;
    }
    if (max >= 0 && n > max) {
        report("%s: unexpected argument `%s`", v->name, v->argv[optind + max]);
        v->status = 2;
        return -1;
    }
    return optind;
}

int verb_subcommand(int argc, char **argv, const char *verb, const char *const *names,
                    void (*usage)(FILE *f), int *status)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        *status = argc < 2 ? 2 : 0;
        return -1;
    }
    size_t n = 0;
    for (; names[n] != NULL; n++)
        if (strcmp(argv[1], names[n]) == 0)
            return (int)n;
    cleanup_free char *list = xstrdup("");
    for (size_t i = 0; i < n; i++) {
        char *more = xasprintf("%s%s`%s`", list, i == 0 ? "" : i + 1 < n ? ", " : " or ", names[i]);
        free(list);
        list = more;
    }
    report("unknown `%s` command `%s`: use %s", verb, argv[1], list);
    *status = 2;
    return -1;
}
