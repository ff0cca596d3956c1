/* gctk sim create DIR: builds a simulated GPU host (sim/sim.c). */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: gctk sim create DIR [--gpus N] [--driver VERSION] [--cuda VERSION]\n"
            "                           [--model NAME] [--mig GPU:PROFILE,...]...\n"
            "                           [--driver-dir DIR] [--arch ARCH] [--force]\n"
            "                           [--lib-version VERSION | --no-libs |\n"
            "                            --uncached-lib-dir DIR] [--cold-init-ms MS]\n\n"
            "Builds under DIR the files of a host with the NVIDIA driver installed (proc\n"
            "files, device nodes, libraries, ld.so.cache, nvidia-smi) with mock driver\n"
            "libraries, to rehearse a GPU setup or test gctk without a GPU.\n\n"
            "  --gpus N          number of GPUs, 0 to %d (default %d)\n"
            "  --driver VERSION  driver version (default %s)\n"
            "  --cuda VERSION    CUDA version the driver reports (default: the one that\n"
            "                    driver version supports, from gctk's CUDA table)\n"
            "  --model NAME      GPU model (default \"%s\")\n"
            "  --mig GPU:PROFILES  GPU in MIG mode with one instance per profile, like\n"
            "                    --mig 0:1g.10gb,1g.10gb,2g.20gb (repeat per GPU)\n"
            "  --driver-dir DIR  keep the driver's libraries, programs, configs and firmware\n"
            "                    under DIR (like /usr/local/nvidia) with absolute links to\n"
            "                    them at the standard paths\n"
            "  --arch ARCH       the host's architecture, x86_64 or aarch64 (default: gctk's\n"
            "                    own); aarch64 (Grace Hopper, Grace Blackwell) has no\n"
            "                    32-bit libraries\n"
            "  --force           rebuild over a non-empty DIR\n\n"
            "Broken installs, to rehearse what users meet (docs/troubleshooting.md):\n"
            "  --lib-version VERSION  user-space libraries of VERSION, the kernel module of\n"
            "                    --driver: a driver upgraded without a reboot\n"
            "  --no-libs         the kernel module and its nodes, no user-space library\n"
            "  --uncached-lib-dir DIR  the 64-bit libraries in DIR, which ld.so.cache does\n"
            "                    not list (NixOS's /run/opengl-driver/lib)\n"
            "  --cold-init-ms MS persistence mode off, and the first open of the driver\n"
            "                    (nvmlInit, cuInit) takes MS milliseconds\n",
            GCTK_SIM_MAX_GPUS, GCTK_SIM_DEFAULT_GPUS, GCTK_SIM_DEFAULT_DRIVER,
            GCTK_SIM_DEFAULT_MODEL);
}

static int sim_create(int argc, char **argv)
{
    static const struct option opts[] = {
        {"gpus", required_argument, NULL, 'g'},
        {"driver", required_argument, NULL, 'd'},
        {"cuda", required_argument, NULL, 'c'},
        {"model", required_argument, NULL, 'm'},
        {"force", no_argument, NULL, 'f'},
        {"mig", required_argument, NULL, 'M'},
        {"driver-dir", required_argument, NULL, 'D'},
        {"arch", required_argument, NULL, 'a'},
        {"lib-version", required_argument, NULL, 'L'},
        {"no-libs", no_argument, NULL, 'N'},
        {"uncached-lib-dir", required_argument, NULL, 'U'},
        {"cold-init-ms", required_argument, NULL, 'C'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    struct gctk_sim_options o;
    gctk_sim_options_init(&o);
    cleanup_free const char **migs = xcalloc((size_t)argc + 1, sizeof(char *));
    size_t nmig = 0;
    struct verb_args v = {.name = "sim create",
                          .shortopts = "f",
                          .opts = opts,
                          .usage = usage,
                          .argc = argc,
                          .argv = argv};
    int c;
    while ((c = verb_option(&v)) >= 0) {
        switch (c) {
        case 'g': {
            char *end;
            errno = 0;
            unsigned long n = strtoul(optarg, &end, 10);
            if (errno != 0 || *end != '\0' || optarg[0] == '\0' || optarg[0] == '-' ||
                n > GCTK_SIM_MAX_GPUS)
                return report("invalid --gpus `%s`: expected 0 to %d", optarg, GCTK_SIM_MAX_GPUS);
            o.gpus = (unsigned)n;
            break;
        }
        case 'd':
            o.driver = optarg;
            break;
        case 'c':
            o.cuda = optarg;
            break;
        case 'm':
            o.model = optarg;
            break;
        case 'f':
            o.force = true;
            break;
        case 'M':
            migs[nmig++] = optarg;
            break;
        case 'D':
            o.driver_dir = optarg;
            break;
        case 'a':
            o.arch = optarg;
            break;
        case 'L':
            o.lib_version = optarg;
            break;
        case 'N':
            o.no_libs = true;
            break;
        case 'U':
            o.uncached_lib_dir = optarg;
            break;
        case 'C': {
            char *end;
            errno = 0;
            unsigned long n = strtoul(optarg, &end, 10);
            if (errno != 0 || *end != '\0' || optarg[0] == '\0' || optarg[0] == '-' || n > 60000)
                return report("invalid --cold-init-ms `%s`: expected 0 to 60000", optarg);
            o.cold_init_ms = (unsigned)n;
            break;
        }
        }
    }
    int first = c == VERB_EXIT ? -1 : verb_operands(&v, 1, 1, "DIR");
    if (first < 0)
        return v.status;
    o.mig = migs;
    o.nmig = nmig;
    const char *dir = argv[first];
    struct strv warnings = {0};
    cleanup_error gctk_error *err = NULL;
    int r = gctk_sim_create(dir, &o, &warnings, &err);
    for (size_t i = 0; i < warnings.len; i++)
        fprintf(stderr, "gctk: warning: %s\n", warnings.items[i]);
    strv_clear(&warnings);
    if (r < 0) {
        gctk_wrap(&err, "create simulated host in `%s`", dir);
        return report_error(err);
    }
    char root[PATH_MAX];
    if (realpath(dir, root) == NULL)
        snprintf(root, sizeof(root), "%s", dir);
    printf("simulated GPU host created in %s\n", root);
    printf("  GPUs:    %u x %s\n", o.gpus, o.model);
    printf("  driver:  %s (%s)\n", o.driver, gctk_sim_arch(&o));
    char cuda[16];
    printf("  CUDA:    %s%s\n", gctk_sim_cuda(&o, cuda, sizeof(cuda)),
           o.cuda == NULL ? " (what this driver supports)" : "");
    for (size_t i = 0; i < nmig; i++)
        printf("  MIG:     GPU %s\n", migs[i]);
    if (o.driver_dir != NULL)
        printf("  files:   under %s, linked from the standard paths\n", o.driver_dir);
    if (o.lib_version != NULL)
        printf("  broken:  user-space libraries of %s, kernel module %s\n", o.lib_version,
               o.driver);
    if (o.no_libs)
        printf("  broken:  no user-space library\n");
    if (o.uncached_lib_dir != NULL)
        printf("  broken:  libraries in %s, which ld.so.cache does not list\n", o.uncached_lib_dir);
    if (o.cold_init_ms > 0)
        printf("  slow:    persistence mode off, driver init %u ms\n", o.cold_init_ms);
    printf("use it with:\n  export GCTK_CONFIG=%s/gctk.conf\n", root);
    /* a driver dir's links are absolute: they lead to the right file only
     * inside the simulated host; another architecture's programs run in its
     * containers (or under an emulator) */
    if (strcmp(gctk_sim_arch(&o), gctk_sim_arch(NULL)) != 0)
        printf("its programs are %s's: run them in a container of that architecture\n",
               gctk_sim_arch(&o));
    else if (o.driver_dir != NULL)
        printf("try:\n  %s%s/bin/nvidia-smi -L\n", root, o.driver_dir);
    else
        printf("try:\n  %s/usr/bin/nvidia-smi -L\n", root);
    return 0;
}

int cmd_sim(int argc, char **argv, struct global_opts *g)
{
    (void)g;
    static const char *const subcommands[] = {"create", NULL};
    int status = 0;
    if (verb_subcommand(argc, argv, "sim", subcommands, usage, &status) < 0)
        return status;
    return sim_create(argc - 1, argv + 1);
}
