/* gctk doctor: runs every check of the GPU container chain and prints one
 * line per check, with the fix for anything wrong (see include/gctk/doctor.h).
 *
 *   gctk doctor [--root DIR] [--json] [--docker-host unix:///PATH] [--daemon-json PATH]
 *               [--cdi-dir DIR]... [--config PATH] [--cuda VERSION] [--image-env FILE]
 *               [--dockerd-pid PID] [--slow-nvml-ms MS] [--image IMAGE]
 *               [--container ID] [--runc-root DIR]
 *
 * Exit status: 0 when no check is an error, 1 otherwise, 2 bad usage. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: gctk doctor [--root DIR] [--json] [--docker-host unix:///PATH]\n"
               "                   [--daemon-json PATH] [--cdi-dir DIR]... [--config PATH]\n"
               "                   [--cuda VERSION] [--image-env FILE] [--dockerd-pid PID]\n"
               "                   [--slow-nvml-ms MS] [--image IMAGE] [--container ID]\n"
               "                   [--runc-root DIR]\n\n"
               "Checks the driver, device nodes, NVML, the GPUs, Docker, daemon.json, the hook\n"
               "on dockerd's PATH, cgroups, CDI specs and gctk's config, and prints the fix for\n"
               "anything wrong. --image IMAGE also reads an image (its driver files, its CUDA\n"
               "requirements); --container ID a container (the GPUs it asked for, whether its\n"
               "device cgroup lets it open them, the driver libraries its loader finds).\n"
               "Exit status: 0 when nothing is an error, 1 otherwise.\n");
}

static const char *tag(enum doctor_status s)
{
    switch (s) {
    case DOCTOR_OK:
        return "[ ok  ]";
    case DOCTOR_WARNING:
        return "[warn ]";
    case DOCTOR_ERROR:
        return "[error]";
    case DOCTOR_SKIPPED:
        return "[skip ]";
    }
    return "[ ?   ]";
}

static bool parse_uint(const char *s, unsigned long max, unsigned long *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v > max)
        return false;
    *out = v;
    return true;
}

int cmd_doctor(int argc, char **argv, struct global_opts *g)
{
    static const struct option opts[] = {
        {"root", required_argument, NULL, 'r'},
        {"json", no_argument, NULL, 'j'},
        {"docker-host", required_argument, NULL, 'H'},
        {"daemon-json", required_argument, NULL, 'd'},
        {"cdi-dir", required_argument, NULL, 'C'},
        {"config", required_argument, NULL, 'c'},
        {"cuda", required_argument, NULL, 'u'},
        {"image-env", required_argument, NULL, 'e'},
        {"dockerd-pid", required_argument, NULL, 'p'},
        {"slow-nvml-ms", required_argument, NULL, 's'},
        {"image", required_argument, NULL, 'i'},
        {"container", required_argument, NULL, 'n'},
        {"runc-root", required_argument, NULL, 'R'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    struct doctor_options o;
    doctor_options_init(&o);
    bool json = false;
    cleanup_free const char **cdi = NULL;
    size_t ncdi = 0;
    unsigned long v = 0;
    struct verb_args args = {
        .name = "doctor", .opts = opts, .usage = usage, .argc = argc, .argv = argv};
    int c;
    while ((c = verb_option(&args)) >= 0) {
        switch (c) {
        case 'r':
            g->root = optarg;
            break;
        case 'j':
            json = true;
            break;
        case 'H':
            o.docker_host = optarg;
            break;
        case 'd':
            o.daemon_json = optarg;
            break;
        case 'C':
            cdi = xrealloc(cdi, (ncdi + 2) * sizeof(*cdi));
            cdi[ncdi++] = optarg;
            cdi[ncdi] = NULL;
            break;
        case 'c':
            o.config_path = optarg;
            break;
        case 'u':
            o.cuda = optarg;
            break;
        case 'e':
            o.image_env = optarg;
            break;
        case 'p':
            if (!parse_uint(optarg, 1u << 30, &v) || v == 0)
                return report("doctor: bad --dockerd-pid `%s`", optarg), 2;
            o.dockerd_pid = (pid_t)v;
            break;
        case 's':
            if (!parse_uint(optarg, 1u << 30, &v))
                return report("doctor: bad --slow-nvml-ms `%s`", optarg), 2;
            o.slow_nvml_ms = (unsigned)v;
            break;
        case 'i':
            o.image = optarg;
            break;
        case 'n':
            o.container = optarg;
            break;
        case 'R':
            o.runc_root = optarg;
            break;
        }
    }
    if (c == VERB_EXIT || verb_operands(&args, 0, 0, NULL) < 0)
        return args.status;
    if (g->root != NULL)
        o.root = g->root;
    o.cdi_dirs = cdi;

    struct doctor_report r = {0};
    cleanup_error gctk_error *err = NULL;
    if (doctor_run(&o, &r, &err) < 0) {
        doctor_report_clear(&r);
        report_error(err);
        return 2;
    }
    if (json) {
        json_t *a = doctor_report_json(&r);
        char *text = json_dumps(a, JSON_INDENT(2));
        if (text != NULL)
            puts(text);
        free(text);
        json_decref(a);
    } else {
        for (size_t i = 0; i < r.len; i++) {
            const struct doctor_result *x = &r.items[i];
            printf("%s %s: %s", tag(x->status), x->check, x->message);
            if (x->fix != NULL)
                printf(" -> fix: %s", x->fix);
            putchar('\n');
        }
    }
    int rc = doctor_report_failed(&r) ? 1 : 0;
    doctor_report_clear(&r);
    return rc;
}
