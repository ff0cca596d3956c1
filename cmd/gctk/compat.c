/* gctk compat: can this host run an image's CUDA, GPU by GPU, and why.
 *
 *   gctk compat [--root DIR] (--cuda VERSION | --require EXPR | --image-env FILE) [--json]
 *
 * Exit status: 0 runs natively (or the requirements hold), 3 runs only through
 * minor-version compatibility, 1 cannot run, 2 bad usage. NVIDIA_REQUIRE_*
 * expressions stay strict, as the hook applies them: minor-version
 * compatibility does not satisfy `cuda>=12.4`; the report says when it would
 * run with NVIDIA_DISABLE_REQUIRE=true. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"

enum { EXIT_NATIVE = 0, EXIT_CANNOT = 1, EXIT_USAGE = 2, EXIT_MINOR = 3 };

static void usage(FILE *f)
{
    fprintf(f, "usage: gctk compat [--root DIR] (--cuda VERSION | --require EXPR | "
               "--image-env FILE) [--json]\n\n"
               "Says, per GPU, whether this host's driver runs a CUDA version, an\n"
               "NVIDIA_REQUIRE_* expression, or an image's environment (KEY=VALUE lines, as\n"
               "`docker inspect --format '{{range .Config.Env}}{{println .}}{{end}}' IMAGE`\n"
               "prints them), and why.\n\n"
               "exit status: 0 native, 3 minor-version compatibility only, 1 cannot run,\n"
               "2 bad usage\n");
}

/* What one GPU (or the host, when it has none) gets. */
struct verdict {
    int status;       /* EXIT_NATIVE, EXIT_MINOR, EXIT_CANNOT */
    const char *name; /* "native", "minor-version", "satisfied", ... */
    char *why;        /* owned */
};

/* The CUDA-version verdict for one GPU: 0 native, 3 minor, 1 cannot. */
static int cuda_verdict(const char *want, const char *driver, const char *cuda, const char *brand,
                        struct verdict *v, gctk_error **err)
{
    struct cudacompat_result r = {0};
    if (cudacompat_check(want, driver, cuda, &r, err) < 0)
        return -1;
    v->name = cudacompat_verdict_name(r.verdict);
    switch (r.verdict) {
    case CUDACOMPAT_NATIVE:
        v->status = EXIT_NATIVE;
        v->why = steal_pointer(&r.explanation);
        break;
    case CUDACOMPAT_MINOR_VERSION:
        v->status = EXIT_MINOR;
        v->why = steal_pointer(&r.explanation);
        break;
    case CUDACOMPAT_FORWARD_COMPAT_NEEDED: {
        v->status = EXIT_CANNOT;
        int fwd = cudacompat_forward_compat_brand(brand);
        const char *b = brand != NULL ? brand : "brand unknown";
        cleanup_free char *gpu_text =
            fwd > 0    ? xasprintf("this GPU (%s) supports forward compatibility", b)
            : fwd == 0 ? xasprintf("this GPU (%s) does not support forward compatibility", b)
                       : xasprintf("whether this GPU (%s) supports forward compatibility "
                                   "depends on the board",
                                   b);
        v->why = xasprintf("%s; %s", r.explanation, gpu_text);
        break;
    }
    case CUDACOMPAT_UNSUPPORTED:
        v->status = EXIT_CANNOT;
        v->why = steal_pointer(&r.explanation);
        break;
    }
    cudacompat_result_clear(&r);
    return 0;
}

/* A strict requirement check, with the minor-version hint when it applies. */
static int require_verdict(int r, gctk_error **eval_err, const char *cuda_min, const char *driver,
                           const char *cuda, struct verdict *v)
{
    if (r > 0) {
        v->status = EXIT_NATIVE;
        v->name = "satisfied";
        v->why = xstrdup("the image's requirements hold");
        return 0;
    }
    v->status = EXIT_CANNOT;
    v->name = "unsatisfied";
    v->why = xstrdup((*eval_err)->msg);
    struct cudacompat_result c = {0};
    if (cuda_min != NULL && cudacompat_check(cuda_min, driver, cuda, &c, NULL) == 0) {
        if (c.verdict == CUDACOMPAT_MINOR_VERSION) {
            char *more = xasprintf("%s; CUDA %s would run through minor-version compatibility, "
                                   "but the requirement is strict: NVIDIA_DISABLE_REQUIRE=true "
                                   "starts it anyway",
                                   v->why, cuda_min);
            free(v->why);
            v->why = more;
        }
        cudacompat_result_clear(&c);
    }
    return 0;
}

int cmd_compat(int argc, char **argv, struct global_opts *g)
{
    static const struct option opts[] = {
        {"root", required_argument, NULL, 'r'},
        {"cuda", required_argument, NULL, 'c'},
        {"require", required_argument, NULL, 'q'},
        {"image-env", required_argument, NULL, 'e'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    const char *want = NULL, *expr = NULL, *env_path = NULL;
    bool json = false;
    struct verb_args args = {
        .name = "compat", .opts = opts, .usage = usage, .argc = argc, .argv = argv};
    int c;
    while ((c = verb_option(&args)) >= 0) {
        switch (c) {
        case 'r':
            g->root = optarg;
            break;
        case 'c':
            want = optarg;
            break;
        case 'q':
            expr = optarg;
            break;
        case 'e':
            env_path = optarg;
            break;
        case 'j':
            json = true;
            break;
        }
    }
    if (c == VERB_EXIT || verb_operands(&args, 0, 0, NULL) < 0)
        return args.status;
    if ((want != NULL) + (expr != NULL) + (env_path != NULL) != 1) {
        report("compat: give one of --cuda VERSION, --require EXPR or --image-env FILE");
        return EXIT_USAGE;
    }

    /* Check the request before touching the host: bad input is bad usage. */
    cleanup_error gctk_error *err = NULL;
    cleanup_require struct require_expr *req = NULL;
    cleanup_strv struct strv env = {0};
    bool strict = false;         /* --require, or the image's NVIDIA_REQUIRE_* */
    const char *cuda_min = NULL; /* for the minor-version hint */
    if (want != NULL) {
        unsigned parts[VERSION_MAX_PARTS];
        size_t n = 0;
        if (version_parse(want, parts, &n, &err) < 0 || n > 3) {
            report("compat: bad CUDA version `%s`: expected MAJOR.MINOR[.UPDATE], like 12.4", want);
            return EXIT_USAGE;
        }
    } else if (expr != NULL) {
        if (require_parse(expr, &req, &err) < 0) {
            report_error(err);
            return EXIT_USAGE;
        }
        strict = true;
        cuda_min = require_cuda_min(req);
    } else {
        if (env_file_read(env_path, &env, &err) < 0) {
            report_error(err);
            return EXIT_USAGE;
        }
        cleanup_free char *note = NULL;
        bool disabled = require_disabled(env.items, &note);
        if (note != NULL)
            report("warning: `%s`: %s", env_path, note);
        const char *image_cuda = env_get(&env, "CUDA_VERSION");
        if (image_cuda != NULL && *image_cuda == '\0')
            image_cuda = NULL;
        cleanup_strv struct strv requires = {0};
        require_collect(env.items, NULL, &requires);
        if (requires.len > 0 && !disabled) {
            strict = true;
            /* every expression parses, or the image itself is malformed */
            const struct require_facts none = {"0", "0", NULL, NULL};
            if (require_check_env(env.items, &none, false, &err) < 0) {
                gctk_wrap(&err, "`%s`", env_path);
                report_error(err);
                return EXIT_USAGE;
            }
            gctk_error_free(err);
            err = NULL;
            const char *rc = env_get(&env, "NVIDIA_REQUIRE_CUDA");
            struct require_expr *tmp = NULL;
            if (rc != NULL && require_parse(rc, &tmp, NULL) == 0 && require_cuda_min(tmp) != NULL)
                req = tmp, cuda_min = require_cuda_min(req);
            else
                require_free(tmp);
            if (cuda_min == NULL)
                cuda_min = image_cuda;
        } else {
            want = image_cuda;
        }
    }

    gctk_host *h = open_host_or_report(g, 0);
    if (h == NULL)
        return EXIT_CANNOT;
    const char *driver = gctk_host_driver_version(h);
    const char *cuda = gctk_host_cuda_version_nvml(h);
    char derived[CUDA_VERSION_BUF];
    const char *shown_cuda =
        cuda != NULL ? cuda : cudacompat_driver_cuda(driver, derived, sizeof(derived));
    size_t count = gctk_host_gpu_count(h);
    size_t targets = count > 0 ? count : 1;

    cleanup_json json_t *gpus = json_array();
    int worst = EXIT_NATIVE;
    int rc = 0;
    if (!json)
        printf("driver %s, CUDA %s%s\n", driver, shown_cuda != NULL ? shown_cuda : "unknown",
               cuda == NULL && shown_cuda != NULL ? " (from gctk's table)" : "");
    for (size_t i = 0; i < targets && rc == 0; i++) {
        const struct gctk_gpu *gpu = count > 0 ? gctk_host_gpu_nvml(h, i) : NULL;
        const struct require_facts facts = {
            .cuda = cuda,
            .driver = driver,
            .arch = gpu != NULL ? gpu->arch : NULL,
            .brand = gpu != NULL ? gpu->brand : NULL,
        };
        struct verdict v = {EXIT_NATIVE, "native", NULL};
        if (strict) {
            gctk_error *eval_err = NULL;
            int r = expr != NULL ? require_eval(req, &facts, &eval_err)
                                 : require_check_env(env.items, &facts, false, &eval_err);
            if (r < 0) {
                report_error(eval_err);
                gctk_error_free(eval_err);
                rc = -1;
                break;
            }
            require_verdict(r, &eval_err, cuda_min, driver, cuda, &v);
            gctk_error_free(eval_err);
        } else if (want != NULL) {
            if (cuda_verdict(want, driver, cuda, facts.brand, &v, &err) < 0) {
                report_error(err);
                rc = -1;
                break;
            }
        } else {
            v.name = "no-requirement";
            v.why = xstrdup("the image states no CUDA version and no NVIDIA_REQUIRE_* variable");
        }
        /* 1 (cannot) outranks 3 (minor only), which outranks 0 */
        if (v.status == EXIT_CANNOT || (v.status == EXIT_MINOR && worst == EXIT_NATIVE))
            worst = v.status;
        if (json) {
            json_t *o = json_object();
            json_object_set_new(o, "index", gpu != NULL ? json_integer(gpu->index) : json_null());
            json_object_set_new(
                o, "uuid", gpu != NULL && gpu->uuid != NULL ? json_string(gpu->uuid) : json_null());
            json_object_set_new(o, "brand",
                                facts.brand != NULL ? json_string(facts.brand) : json_null());
            json_object_set_new(o, "arch",
                                facts.arch != NULL ? json_string(facts.arch) : json_null());
            json_object_set_new(o, "verdict", json_string(v.name));
            json_object_set_new(o, "status", json_integer(v.status));
            json_object_set_new(o, "why", json_string(v.why));
            json_array_append_new(gpus, o);
        } else if (gpu != NULL) {
            printf("GPU %d (%s, %s, arch %s): %s: %s\n", gpu->index,
                   gpu->uuid != NULL ? gpu->uuid : "no uuid",
                   facts.brand != NULL ? facts.brand : "brand unknown",
                   facts.arch != NULL ? facts.arch : "unknown", v.name, v.why);
        } else {
            printf("host (no GPU): %s: %s\n", v.name, v.why);
        }
        free(v.why);
    }
    if (rc < 0) {
        gctk_host_free(h);
        return EXIT_CANNOT;
    }
    if (json) {
        cleanup_json json_t *root = json_object();
        json_object_set_new(root, "driver", json_string(driver));
        json_object_set_new(root, "cuda",
                            shown_cuda != NULL ? json_string(shown_cuda) : json_null());
        json_object_set_new(root, "cuda_from_table",
                            json_boolean(cuda == NULL && shown_cuda != NULL));
        json_t *request = json_object();
        if (want != NULL)
            json_object_set_new(request, "cuda", json_string(want));
        if (expr != NULL)
            json_object_set_new(request, "require", json_string(expr));
        if (env_path != NULL)
            json_object_set_new(request, "image_env", json_string(env_path));
        json_object_set_new(request, "strict", json_boolean(strict));
        json_object_set_new(root, "request", request);
        json_object_set(root, "gpus", gpus);
        json_object_set_new(root, "status", json_integer(worst));
        char *text = json_dumps(root, JSON_INDENT(2));
        if (text != NULL)
            puts(text);
        free(text);
    }
    gctk_host_free(h);
    return worst;
}
