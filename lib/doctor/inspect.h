/* gctk doctor's look at one container or image (inspect.c), and the one
 * function of doctor.c it reports through. */
#ifndef GCTK_DOCTOR_INSPECT_H
#define GCTK_DOCTOR_INSPECT_H

#include "doctor.h"
#include "gctk.h"

/* What the checks of doctor.c found that these build on. */
struct doctor_facts {
    const char *root;        /* the driver root */
    const char *driver;      /* the kernel module's version; NULL when not loaded */
    gctk_host *host;         /* discovery; NULL when it failed */
    const char *docker_host; /* "unix:///..." */
};

/* Appends a line to the report (fix owned, or NULL). */
void doctor_add(struct doctor_report *r, const char *check, enum doctor_status s, char *fix,
                const char *fmt, ...) GCTK_PRINTF(5, 6);

/* --image: the image's driver files (through Docker's API and the layer
 * directories it names) and, in *env, its environment for the requirement
 * check. Fails only for a malformed name. */
int doctor_inspect_image(const struct doctor_facts *f, const char *image, struct doctor_report *r,
                         struct strv *env, gctk_error **err);
/* --container: what the container asked for, its device access and
 * libraries from inside (a running one), or its files (one Docker knows that
 * is not running). Fails when no container has that name or id. */
int doctor_inspect_container(const struct doctor_facts *f, const char *query, const char *runc_root,
                             struct doctor_report *r, gctk_error **err);

#endif
