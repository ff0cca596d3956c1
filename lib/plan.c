/* The plan: exactly the files and device nodes a container gets for a GPU
 * selection and a set of capabilities. `gctk list`, the hook and the CDI
 * generator all read it, so they cannot disagree. */
#include <string.h>

#include "caps.h"
#include "host.h"

struct gctk_plan {
    unsigned caps;
    const struct gctk_file **files;
    size_t nfiles;
    const struct gctk_node **nodes;
    size_t nnodes;
    const struct gctk_gpu **gpus;
    size_t ngpus;
};

static bool file_wanted(const struct gctk_file *f, unsigned caps)
{
    unsigned want = cap_expand(caps);
    if (f->kind == GCTK_FILE_LIB32 && !(caps & GCTK_CAP_COMPAT32))
        return false;
    return (f->caps & want & ~GCTK_CAP_COMPAT32) != 0;
}

static bool node_wanted(const struct gctk_node *n, unsigned caps, const struct gctk_selection *sel)
{
    if (n->kind == GCTK_NODE_GPU) {
        for (size_t i = 0; i < sel->count; i++)
            if (sel->gpus[i] == n->gpu)
                return true;
        return false;
    }
    return n->caps == 0 || (n->caps & cap_expand(caps)) != 0;
}

int gctk_plan_new(gctk_host *h, const struct gctk_selection *sel, unsigned caps, gctk_plan **out,
                  gctk_error **err)
{
    (void)err;
    gctk_plan *p = xcalloc(1, sizeof(*p));
    p->caps = caps;
    if (sel->mode == GCTK_SELECT_VOID) {
        *out = p;
        return 0;
    }
    p->files = xcalloc(h->nfiles, sizeof(*p->files));
    for (size_t i = 0; i < h->nfiles; i++)
        if (file_wanted(&h->files[i], caps))
            p->files[p->nfiles++] = &h->files[i];
    p->nodes = xcalloc(h->nnodes, sizeof(*p->nodes));
    for (size_t i = 0; i < h->nnodes; i++)
        if (node_wanted(&h->nodes[i], caps, sel))
            p->nodes[p->nnodes++] = &h->nodes[i];
    p->gpus = xcalloc(sel->count, sizeof(*p->gpus));
    for (size_t i = 0; i < sel->count; i++)
        p->gpus[p->ngpus++] = &h->gpus[sel->gpus[i]];
    *out = p;
    return 0;
}

void gctk_plan_free(gctk_plan *p)
{
    if (p == NULL)
        return;
    free(p->files);
    free(p->nodes);
    free(p->gpus);
    free(p);
}

size_t gctk_plan_file_count(const gctk_plan *p)
{
    return p->nfiles;
}
const struct gctk_file *gctk_plan_file(const gctk_plan *p, size_t i)
{
    return i < p->nfiles ? p->files[i] : NULL;
}
size_t gctk_plan_node_count(const gctk_plan *p)
{
    return p->nnodes;
}
const struct gctk_node *gctk_plan_node(const gctk_plan *p, size_t i)
{
    return i < p->nnodes ? p->nodes[i] : NULL;
}
size_t gctk_plan_gpu_count(const gctk_plan *p)
{
    return p->ngpus;
}
const struct gctk_gpu *gctk_plan_gpu(const gctk_plan *p, size_t i)
{
    return i < p->ngpus ? p->gpus[i] : NULL;
}
unsigned gctk_plan_caps(const gctk_plan *p)
{
    return p->caps;
}
