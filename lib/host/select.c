/* Which GPUs a container gets: NVIDIA_VISIBLE_DEVICES and `--device` values. */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "host.h"

void gctk_selection_clear(struct gctk_selection *s)
{
    free(s->gpus);
    free(s->migs);
    free(s->config_gpus);
    free(s->note);
    free(s->imex);
    *s = (struct gctk_selection){0};
}

/* "0 (GPU-..., 00000000:18:00.0), 1 (...)" for error messages: the UUIDs
 * come from the driver's /proc files and may be of any length */
static char *list_gpus(const gctk_host *h)
{
    struct strbuf b = {0};
    for (size_t i = 0; i < h->ngpus; i++)
        strbuf_addf(&b, "%s%zu (%s, %s)", i ? ", " : "", i, h->gpus[i].uuid, h->gpus[i].bus_id);
    return strbuf_steal(&b);
}

static char *describe_gpus(const gctk_host *h)
{
    if (h->ngpus == 0)
        return xstrdup("this host has no GPU");
    cleanup_free char *list = list_gpus(h);
    return xasprintf("this host has %s", list);
}

static bool all_digits(const char *s)
{
    if (*s == '\0')
        return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return false;
    return true;
}

/* Returns the index of the GPU an id names, or -1 with *err set. */
static int resolve_id(const gctk_host *h, const char *id, gctk_error **err)
{
    if (all_digits(id)) {
        char *end = NULL;
        errno = 0;
        unsigned long v = strtoul(id, &end, 10);
        if (errno == 0 && v < h->ngpus)
            return (int)v;
    } else if (strncasecmp(id, "GPU-", 4) == 0) {
        /* a full UUID, or a unique prefix of at least 8 characters after "GPU-" */
        size_t n = strlen(id);
        int found = -1;
        for (size_t i = 0; i < h->ngpus; i++) {
            if (strcasecmp(h->gpus[i].uuid, id) == 0)
                return (int)i;
            if (n >= 12 && strncasecmp(h->gpus[i].uuid, id, n) == 0) {
                if (found >= 0) {
                    cleanup_free char *all = describe_gpus(h);
                    return gctk_fail(err, 0, "GPU id `%s` is ambiguous: give more of the UUID; %s",
                                     id, all);
                }
                found = (int)i;
            }
        }
        if (found >= 0)
            return found;
    } else {
        char bus[32];
        if (host_normalize_bus_id(id, bus, sizeof(bus)) == 0)
            for (size_t i = 0; i < h->ngpus; i++)
                if (strcmp(h->gpus[i].bus_id, bus) == 0)
                    return (int)i;
    }
    cleanup_free char *all = describe_gpus(h);
    return gctk_fail(err, 0, "unknown GPU `%s`: %s", id, all);
}

/* Docker turns `--gpus N` (and Compose `count: N`) into the ids 0,...,N-1,
 * so a count beyond the host's GPUs reaches us as an unknown index. When the
 * whole list is exactly that sequence, say so in the user's terms. */
static int fail_count_beyond(const gctk_host *h, const char *ids, gctk_error **err)
{
    cleanup_free char *copy = xstrdup(ids);
    size_t n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
        str_strip(tok);
        char expect[24];
        snprintf(expect, sizeof(expect), "%zu", n);
        if (strcmp(tok, expect) != 0)
            return 0;
        n++;
    }
    if (n < 2 || n <= h->ngpus || h->ngpus == 0)
        return 0;
    cleanup_free char *list = list_gpus(h);
    return gctk_fail(err, 0,
                     "%zu GPUs asked for (ids 0 to %zu: what `docker run --gpus %zu` and Compose's "
                     "`count: %zu` ask for) but this host has %zu: %s; ask for at most %zu, or "
                     "for all",
                     n, n - 1, n, n, h->ngpus, list, h->ngpus);
}

static int int_cmp(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

/* ---- MIG devices ---------------------------------------------------------- */

/* "0:0 (MIG-..., 1g.10gb), 0:1 (...)": the MIG devices of GPU gpu (-1: all) */
static char *describe_migs(const gctk_host *h, int gpu)
{
    struct strbuf b = {0};
    for (size_t i = 0; i < h->nmigs; i++) {
        const struct gctk_mig *m = &h->migs[i];
        if (gpu >= 0 && m->gpu != gpu)
            continue;
        strbuf_addf(&b, "%s%d:%d (%s%s%s)", b.len ? ", " : "", m->gpu, m->index,
                    m->uuid ? m->uuid : "no UUID without NVML", m->profile ? ", " : "",
                    m->profile ? m->profile : "");
    }
    if (b.len == 0)
        strbuf_addf(&b, "none");
    return strbuf_steal(&b);
}

/* MIG ids: "GPU:MIG" index pairs, "MIG-<uuid>" and the older
 * "MIG-GPU-<uuid>/<gi>/<ci>". A PCI bus id has a ':' too, but also a '.'. */
static bool is_mig_id(const char *id)
{
    return strncasecmp(id, "MIG-", 4) == 0 || (strchr(id, ':') != NULL && strchr(id, '.') == NULL);
}

static int gpu_not_in_mig_mode(const gctk_host *h, const char *id, int gpu, gctk_error **err)
{
    const struct gctk_gpu *g = &h->gpus[gpu];
    cleanup_free char *all = describe_migs(h, -1);
    return gctk_fail(err, 0,
                     "MIG device `%s`: GPU %d (%s) is not in MIG mode (MIG mode %s): ask for the "
                     "whole GPU as `%d`, or enable MIG (`nvidia-smi -i %d -mig 1`) and create "
                     "instances; MIG devices of this host: %s",
                     id, gpu, g->uuid, gctk_mig_mode_name(g->mig_mode), gpu, gpu, all);
}

/* Returns the index of the MIG device an id names, or -1 with *err set. */
static int resolve_mig(const gctk_host *h, const char *id, gctk_error **err)
{
    if (strncasecmp(id, "MIG-GPU-", 8) == 0) {
        /* MIG-GPU-<uuid>/<gi>/<ci>, from drivers before R470 */
        const char *slash = strchr(id, '/');
        int gi = -1, ci = -1, used = 0;
        if (slash == NULL || sscanf(slash, "/%d/%d%n", &gi, &ci, &used) != 2 ||
            slash[used] != '\0' || gi < 0 || ci < 0)
            return gctk_fail(err, 0, "MIG device `%s`: expected MIG-GPU-<uuid>/<gi>/<ci>", id);
        size_t ulen = (size_t)(slash - id) - 4;
        for (size_t i = 0; i < h->ngpus; i++) {
            if (strlen(h->gpus[i].uuid) != ulen || strncasecmp(h->gpus[i].uuid, id + 4, ulen) != 0)
                continue;
            if (h->gpus[i].mig_mode != GCTK_MIG_ENABLED)
                return gpu_not_in_mig_mode(h, id, (int)i, err);
            for (size_t k = 0; k < h->nmigs; k++)
                if (h->migs[k].gpu == (int)i && h->migs[k].gi == gi && h->migs[k].ci == ci)
                    return (int)k;
            cleanup_free char *valid = describe_migs(h, (int)i);
            return gctk_fail(err, 0,
                             "unknown MIG device `%s`: GPU %zu has no GPU instance %d "
                             "with compute instance %d; its MIG devices: %s",
                             id, i, gi, ci, valid);
        }
        cleanup_free char *all = describe_gpus(h);
        return gctk_fail(err, 0, "MIG device `%s`: no GPU has that UUID; %s", id, all);
    }
    if (strncasecmp(id, "MIG-", 4) == 0) {
        bool any_uuid = false;
        for (size_t k = 0; k < h->nmigs; k++) {
            any_uuid = any_uuid || h->migs[k].uuid != NULL;
            if (h->migs[k].uuid != NULL && strcasecmp(h->migs[k].uuid, id) == 0)
                return (int)k;
        }
        cleanup_free char *valid = describe_migs(h, -1);
        if (h->nmigs > 0 && !any_uuid)
            return gctk_fail(err, 0,
                             "MIG device `%s`: MIG UUIDs are known only through NVML, "
                             "which was not loaded: use a GPU:MIG index pair; MIG devices of "
                             "this host: %s",
                             id, valid);
        return gctk_fail(err, 0, "unknown MIG device `%s`: MIG devices of this host: %s", id,
                         valid);
    }
    /* GPU:MIG */
    const char *colon = strchr(id, ':');
    cleanup_free char *gpu_part = xstrndup(id, (size_t)(colon - id));
    const char *mig_part = colon + 1;
    if (!all_digits(gpu_part) || !all_digits(mig_part) || strlen(gpu_part) > 6 ||
        strlen(mig_part) > 6)
        return gctk_fail(err, 0,
                         "MIG device `%s`: expected GPU:MIG indexes (like `0:1`) or a "
                         "MIG UUID",
                         id);
    int gpu = atoi(gpu_part), index = atoi(mig_part);
    if ((size_t)gpu >= h->ngpus) {
        cleanup_free char *all = describe_gpus(h);
        return gctk_fail(err, 0, "MIG device `%s`: unknown GPU `%d`: %s", id, gpu, all);
    }
    if (h->gpus[gpu].mig_mode != GCTK_MIG_ENABLED)
        return gpu_not_in_mig_mode(h, id, gpu, err);
    for (size_t k = 0; k < h->nmigs; k++)
        if (h->migs[k].gpu == gpu && h->migs[k].index == index)
            return (int)k;
    cleanup_free char *valid = describe_migs(h, gpu);
    return gctk_fail(err, 0, "unknown MIG device `%s`: GPU %d has %s", id, gpu, valid);
}

static void push_unique(int **items, size_t *count, size_t *cap, int v)
{
    for (size_t i = 0; i < *count; i++)
        if ((*items)[i] == v)
            return;
    if (*count == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        *items = xrealloc(*items, *cap * sizeof(int));
    }
    (*items)[(*count)++] = v;
}

/* A whole GPU in MIG mode gives its node but none of its instances: CUDA
 * then sees no device on it. Allowed (MIG management tools need exactly
 * that), but said. */
static char *whole_gpu_note(const gctk_host *h, const struct gctk_selection *s)
{
    char *note = NULL;
    for (size_t i = 0; i < s->count; i++) {
        const struct gctk_gpu *g = &h->gpus[s->gpus[i]];
        if (g->mig_mode != GCTK_MIG_ENABLED)
            continue;
        cleanup_free char *valid = describe_migs(h, g->index);
        char *line = xasprintf("%s%sGPU %d (%s) is in MIG mode: the container gets the whole "
                               "GPU's device node but none of its MIG devices, so CUDA sees no "
                               "device on it; ask for its MIG devices instead: %s",
                               note ? note : "", note ? "; " : "", g->index, g->uuid, valid);
        free(note);
        note = line;
    }
    return note;
}

/* "all" or a comma list of GPU ids (indexes, UUIDs, bus ids) of GPUs in MIG mode */
static int mig_gpu_list(const gctk_host *h, const char *what, const char *ids, int **out,
                        size_t *count, gctk_error **err)
{
    struct gctk_selection s = {0};
    if (gctk_select(h, ids, &s, err) < 0)
        return gctk_wrap(err, "%s", what);
    size_t cap = 0;
    int *list = NULL;
    size_t n = 0;
    for (size_t i = 0; i < s.count; i++) {
        const struct gctk_gpu *g = &h->gpus[s.gpus[i]];
        if (s.mode == GCTK_SELECT_ALL && g->mig_mode != GCTK_MIG_ENABLED)
            continue;
        if (g->mig_mode != GCTK_MIG_ENABLED) {
            gctk_fail(err, 0, "%s: GPU %d (%s) is not in MIG mode (MIG mode %s)", what, g->index,
                      g->uuid, gctk_mig_mode_name(g->mig_mode));
            free(list);
            gctk_selection_clear(&s);
            return -1;
        }
        push_unique(&list, &n, &cap, g->index);
    }
    bool mig_ids = s.mode == GCTK_SELECT_LIST && s.mig_count > 0;
    gctk_selection_clear(&s);
    if (mig_ids) {
        free(list);
        return gctk_fail(err, 0, "%s `%s`: name GPUs, not MIG devices", what, ids);
    }
    *out = list;
    *count = n;
    return 0;
}

int gctk_select_mig_caps(const gctk_host *h, const char *config_ids, const char *monitor_ids,
                         struct gctk_selection *sel, gctk_error **err)
{
    int *config = NULL;
    size_t nconfig = 0;
    if (config_ids != NULL && config_ids[0] != '\0' &&
        mig_gpu_list(h, "NVIDIA_MIG_CONFIG_DEVICES", config_ids, &config, &nconfig, err) < 0)
        return -1;
    if (config_ids != NULL && config_ids[0] != '\0' && h->mig_config_minor < 0) {
        free(config);
        return gctk_fail(err, 0,
                         "NVIDIA_MIG_CONFIG_DEVICES: the driver has no MIG config "
                         "capability (`" HOST_MIG_CONFIG "` is missing)");
    }
    bool monitor = false;
    if (monitor_ids != NULL && monitor_ids[0] != '\0') {
        int *unused = NULL;
        size_t n = 0;
        if (mig_gpu_list(h, "NVIDIA_MIG_MONITOR_DEVICES", monitor_ids, &unused, &n, err) < 0) {
            free(config);
            return -1;
        }
        free(unused);
        if (h->mig_monitor_minor < 0) {
            free(config);
            return gctk_fail(err, 0,
                             "NVIDIA_MIG_MONITOR_DEVICES: the driver has no MIG monitor "
                             "capability (`" HOST_MIG_MONITOR "` is missing)");
        }
        monitor = true;
    }
    free(sel->config_gpus);
    sel->config_gpus = config;
    sel->config_count = nconfig;
    sel->mig_monitor = monitor;
    if (nconfig > 0)
        qsort(sel->config_gpus, nconfig, sizeof(int), int_cmp);
    return 0;
}

/* ids with NVIDIA's jit-cdi names ("runtime.nvidia.com/gpu=0") turned into
 * the ids they name; another CDI name is refused: its spec's edits are the
 * runtime's to apply (gctk-runtime does for NVIDIA_VISIBLE_DEVICES made of CDI
 * names, Docker 25 and later for --device), the hook cannot. */
static char *plain_ids(const char *ids, gctk_error **err)
{
    static const char jit[] = GCTK_JIT_CDI_KIND "=";
    cleanup_strbuf struct strbuf b = {0};
    cleanup_free char *copy = xstrdup(ids != NULL ? ids : "");
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
        str_strip(tok);
        if (str_has_prefix(tok, jit)) {
            tok += strlen(jit);
            if (*tok == '\0') {
                gctk_fail(err, 0,
                          "`" GCTK_JIT_CDI_KIND "=` names no GPU: add an index, a UUID, a MIG "
                          "device or `all`");
                return NULL;
            }
        } else if (strchr(tok, '/') != NULL && strchr(tok, '=') != NULL) {
            gctk_fail(err, 0,
                      "`%s` is a CDI device name, which the runtime applies, not the hook: run "
                      "the container with `--runtime=nvidia` (gctk-runtime), or give it to "
                      "Docker 25 or later as `--device %s`, or name the GPU by its index or UUID",
                      tok, tok);
            return NULL;
        }
        strbuf_addf(&b, "%s%s", b.len ? "," : "", tok);
    }
    return strbuf_steal(&b);
}

static int unsigned_cmp(const void *a, const void *b)
{
    unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
    return x < y ? -1 : x > y;
}

/* The most channels a driver offers (NVreg_ImexChannelCount's default is
 * 2048); a larger number is a typo, not a channel. */
#define IMEX_CHANNEL_MAX (1u << 20)

int gctk_select_imex(const char *ids, struct gctk_selection *sel, gctk_error **err)
{
    cleanup_free char *copy = xstrdup(ids != NULL ? ids : "");
    str_strip(copy);
    if (copy[0] == '\0' || strcmp(copy, "void") == 0 || strcmp(copy, "none") == 0)
        return 0;
    cleanup_free unsigned *list = NULL;
    size_t n = 0, cap = 0;
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
        str_strip(tok);
        if (tok[0] == '\0')
            continue;
        /* "channel3" is NVIDIA's other name of channel 3 */
        const char *num = str_has_prefix(tok, "channel") ? tok + strlen("channel") : tok;
        char *end = NULL;
        errno = 0;
        unsigned long v = num[0] >= '0' && num[0] <= '9' ? strtoul(num, &end, 10) : 0;
        if (end == NULL || *end != '\0' || errno != 0 || v >= IMEX_CHANNEL_MAX)
            return gctk_fail(err, 0,
                             "NVIDIA_IMEX_CHANNELS `%s`: `%s` is not an IMEX channel: name "
                             "channels by number, comma separated (`0`, `0,1`; `channel0` "
                             "also names channel 0)",
                             ids, tok);
        bool seen = false;
        for (size_t i = 0; i < n && !seen; i++)
            seen = list[i] == (unsigned)v;
        if (seen)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 4;
            list = xrealloc(list, cap * sizeof(*list));
        }
        list[n++] = (unsigned)v;
    }
    if (n > 1)
        qsort(list, n, sizeof(*list), unsigned_cmp);
    free(sel->imex);
    sel->imex = steal_pointer(&list);
    sel->imex_count = n;
    return 0;
}

int gctk_select(const gctk_host *h, const char *ids, struct gctk_selection *out, gctk_error **err)
{
    struct gctk_selection s = {0};
    cleanup_free char *copy = plain_ids(ids, err);
    if (copy == NULL)
        return -1;
    str_strip(copy);
    if (copy[0] == '\0' || strcmp(copy, "void") == 0) {
        *out = s;
        return 0;
    }
    if (strcmp(copy, "none") == 0) {
        s.mode = GCTK_SELECT_NONE;
        *out = s;
        return 0;
    }
    if (strcmp(copy, "all") == 0) {
        s.mode = GCTK_SELECT_ALL;
        s.count = h->ngpus;
        s.gpus = xcalloc(h->ngpus, sizeof(int));
        for (size_t i = 0; i < h->ngpus; i++)
            s.gpus[i] = (int)i;
        /* as NVIDIA's toolkit does: every MIG device too */
        s.mig_count = h->nmigs;
        s.migs = xcalloc(h->nmigs + 1, sizeof(int));
        for (size_t i = 0; i < h->nmigs; i++)
            s.migs[i] = (int)i;
        *out = s;
        return 0;
    }
    if (fail_count_beyond(h, copy, err) < 0)
        return -1;
    s.mode = GCTK_SELECT_LIST;
    size_t cap = 0, mig_cap = 0;
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
        str_strip(tok);
        if (*tok == '\0')
            continue;
        if (strcmp(tok, "all") == 0 || strcmp(tok, "none") == 0 || strcmp(tok, "void") == 0) {
            gctk_selection_clear(&s);
            return gctk_fail(err, 0, "GPU list `%s`: `%s` cannot be combined with other ids", ids,
                             tok);
        }
        if (is_mig_id(tok)) {
            int m = resolve_mig(h, tok, err);
            if (m < 0) {
                gctk_selection_clear(&s);
                return -1;
            }
            push_unique(&s.migs, &s.mig_count, &mig_cap, m);
            continue;
        }
        int idx = resolve_id(h, tok, err);
        if (idx < 0) {
            gctk_selection_clear(&s);
            return -1;
        }
        bool dup = false;
        for (size_t i = 0; i < s.count; i++)
            dup = dup || s.gpus[i] == idx;
        if (dup)
            continue;
        if (s.count == cap) {
            cap = cap ? cap * 2 : 8;
            s.gpus = xrealloc(s.gpus, cap * sizeof(int));
        }
        s.gpus[s.count++] = idx;
    }
    if (s.count == 0 && s.mig_count == 0) {
        gctk_selection_clear(&s);
        return gctk_fail(err, 0, "GPU list `%s` names no GPU", ids);
    }
    if (s.count > 0)
        qsort(s.gpus, s.count, sizeof(int), int_cmp);
    if (s.mig_count > 0)
        qsort(s.migs, s.mig_count, sizeof(int), int_cmp);
    s.note = whole_gpu_note(h, &s);
    *out = s;
    return 0;
}
