/* The hook's flow: state -> config.json -> request -> host -> plan ->
 * requirements -> injection. A container that asks for nothing costs one
 * read of its config.json: the host is not even looked at. */
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>

#include "host.h"
#include "hook.h"
#include "inject.h"
#include "request.h"
#include "require.h"

void hook_log_add(struct hook_log *log, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    strv_push(&log->lines, xvasprintf(fmt, ap));
    va_end(ap);
}

void hook_log_clear(struct hook_log *log)
{
    strv_clear(&log->lines);
}

char *hook_escape(const char *s)
{
    return str_escape_line(s, HOOK_LINE_MAX);
}

void hook_log_write(const struct hook_log *log, const char *path, const char *id)
{
    if (path == NULL || path[0] == '\0' || log->lines.len == 0)
        return;
    cleanup_fd int fd =
        open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
    if (fd < 0)
        return; /* the log must never stop a container */
    char stamp[UTC_STAMP_MAX];
    utc_stamp(stamp, NULL, true);
    for (size_t i = 0; i < log->lines.len; i++) {
        /* the lines quote the image's variables: one line each, whatever they hold */
        cleanup_free char *text = hook_escape(log->lines.items[i]);
        cleanup_free char *safe_id = hook_escape(id != NULL ? id : "-");
        cleanup_free char *line = xasprintf("%s %.12s %s\n", stamp, safe_id, text);
        if (write(fd, line, strlen(line)) < 0)
            return;
    }
}

/* The requirements against one GPU (or, without one, the driver alone).
 * NVML is asked for brand and arch only when a requirement fails for want
 * of them: unknown facts count as unmet. */
static int check_one(gctk_host *h, const struct require_set *set, const struct gctk_gpu *g,
                     gctk_error **err)
{
    struct require_facts facts = {
        .cuda = gctk_host_cuda_version_nvml(h),
        .driver = gctk_host_driver_version(h),
        .arch = g ? g->arch : NULL,
        .brand = g ? g->brand : NULL,
    };
    cleanup_error gctk_error *e = NULL;
    int r = require_set_check(set, &facts, &e);
    if (r == 0 && g != NULL && (facts.arch == NULL || facts.brand == NULL)) {
        const struct gctk_gpu *full = gctk_host_gpu_nvml(h, (size_t)g->index);
        facts.arch = full->arch;
        facts.brand = full->brand;
        gctk_error_free(steal_pointer(&e));
        r = require_set_check(set, &facts, &e);
    }
    if (r > 0)
        return 0;
    gctk_error_propagate(err, &e);
    if (g != NULL)
        gctk_wrap(err, "GPU %d (%s)", g->index, g->uuid);
    return -1;
}

int hook_check_requirements(gctk_host *h, const gctk_plan *p, const struct strv *names,
                            const struct strv *requires, gctk_error **err)
{
    if (requires->len == 0)
        return 0;
    cleanup_require_set struct require_set *set = NULL;
    if (require_set_parse(names, requires, &set, err) < 0)
        return -1;
    if (gctk_plan_gpu_count(p) == 0)
        return check_one(h, set, NULL, err);
    for (size_t i = 0; i < gctk_plan_gpu_count(p); i++)
        if (check_one(h, set, gctk_host_gpu(h, (size_t)gctk_plan_gpu(p, i)->index), err) < 0)
            return -1;
    return 0;
}

/* The steps of hook_run(); what they own is freed by cleanup helpers, what
 * they do to the container is undone by inject() itself. */
static int run(const struct gctk_config *cfg, const struct oci_state *state, struct hook_log *log,
               gctk_error **err)
{
    unsigned long long t0 = now_ns();
    cleanup_oci_spec struct oci_spec spec = {0};
    cleanup_request struct request req = {0};
    if (oci_spec_load(state->bundle, &spec, err) < 0 ||
        request_from_spec(&spec, cfg, &req, err) < 0)
        return -1;
    if (req.ignored != NULL)
        hook_log_add(log, "%s", req.ignored);
    if (req.devices == NULL) {
        hook_log_add(log, "not a GPU container: nothing to do (%.3f ms)", ns_ms(now_ns() - t0));
        return 0;
    }
    unsigned long long t_parse = now_ns() - t0, t = now_ns();
    cleanup_host gctk_host *h = NULL;
    struct gctk_host_cache cache = {
        .dir = cfg->discovery_cache, .config = cfg->digest, .caps = req.caps};
    if (gctk_host_open_cached(cfg->root, 0, &cache, &h, err) < 0)
        return -1;
    const char *cached = gctk_host_cache_status(h);
    if (!str_has_prefix(cached, "used") && strcmp(cached, "off") != 0)
        hook_log_add(log, "discovery cache: %s", cached);
    for (size_t i = 0; gctk_host_warning(h, i) != NULL; i++)
        hook_log_add(log, "warning: %s", gctk_host_warning(h, i));
    cleanup_selection struct gctk_selection sel = {0};
    if (gctk_select(h, req.devices, &sel, err) < 0)
        return gctk_wrap(err, "%s=%s", req.devices_from, req.devices);
    if (gctk_select_mig_caps(h, req.mig_config, req.mig_monitor, &sel, err) < 0 ||
        gctk_select_imex(req.imex, &sel, err) < 0)
        return -1;
    if (sel.note != NULL)
        hook_log_add(log, "note: %s", sel.note);
    cleanup_plan gctk_plan *plan = NULL;
    if (gctk_plan_new(h, &sel, req.caps, &plan, err) < 0 || host_plan_check(h, plan, err) < 0)
        return -1;
    unsigned long long t_discover = now_ns() - t;
    t = now_ns();
    if (hook_check_requirements(h, plan, &req.require_names, &req.requires, err) < 0)
        return gctk_wrap(err, "the image's requirements are not met (set "
                              "NVIDIA_DISABLE_REQUIRE=true to skip the check)");
    unsigned long long t_require = now_ns() - t;
    char caps[128];
    hook_log_add(log, "pid %d rootfs `%s`: %s=%s -> %zu GPU(s), capabilities %s%s%s%s",
                 (int)state->pid, spec.rootfs, req.devices_from, req.devices,
                 gctk_plan_gpu_count(plan), gctk_caps_format(req.caps, caps, sizeof(caps)),
                 sel.imex_count > 0 ? ", IMEX channels " : "", sel.imex_count > 0 ? req.imex : "",
                 spec.privileged ? ", privileged" : "");
    struct inject_opts o = {
        .pid = state->pid,
        .rootfs = spec.rootfs,
        .no_cgroups = cfg->no_cgroups,
        .ldconfig = cfg->ldconfig,
        .cuda_compat = cfg->cuda_compat,
    };
    cleanup_inject_report struct inject_report rep = {0};
    if (inject(h, plan, &o, &rep, err) < 0)
        return -1;
    for (size_t i = 0; i < rep.notes.len; i++)
        hook_log_add(log, "%s", rep.notes.items[i]);
    hook_log_add(log,
                 "done in %.3f ms: parse %.3f, discovery %.3f, require %.3f, cgroup %.3f, "
                 "mounts %.3f (%zu mounts, %zu links, libs in %s), proc %.3f, ldcache %.3f, "
                 "cache %s",
                 ns_ms(now_ns() - t0), ns_ms(t_parse), ns_ms(t_discover), ns_ms(t_require),
                 ns_ms(rep.cgroup_ns), ns_ms(rep.mounts_ns), rep.mounts, rep.links, rep.libdir,
                 ns_ms(rep.proc_ns), ns_ms(rep.ldcache_ns), gctk_host_cache_word(h));
    return 0;
}

int hook_run(const struct gctk_config *cfg, const struct oci_state *state, struct hook_log *log,
             gctk_error **err)
{
    int rc = run(cfg, state, log, err);
    if (rc < 0 && err != NULL && *err != NULL)
        hook_log_add(log, "error: %s", (*err)->msg);
    return rc;
}
