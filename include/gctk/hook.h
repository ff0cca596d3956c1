/* The OCI hook's work, from the runtime's state to a configured container.
 * cmd/gctk-hook is a thin main() around hook_run(). */
#ifndef GCTK_HOOK_H
#define GCTK_HOOK_H

#include "config.h"
#include "oci.h"
#include "util.h"

/* One line per decision, for the log file. */
struct hook_log {
    struct strv lines;
};
void hook_log_add(struct hook_log *log, const char *fmt, ...) GCTK_PRINTF(2, 3);
void hook_log_clear(struct hook_log *log);
/* Longest line (in bytes of the original) the log and stderr get. */
#define HOOK_LINE_MAX 4096
/* str_escape_line(s, HOOK_LINE_MAX): a copy of s fit for one line of a log
 * or a terminal (controls C0 and C1, line separators, bidirectional controls
 * and bytes that are not UTF-8 escaped), cut at HOOK_LINE_MAX with the length
 * said. The messages quote NVIDIA_VISIBLE_DEVICES and other values of the
 * image: without this an image could forge log lines or drive a terminal. */
char *hook_escape(const char *s);
/* Appends the lines, prefixed with a timestamp and the container id, to the
 * log file (O_APPEND: concurrent hooks do not interleave within a line). */
void hook_log_write(const struct hook_log *log, const char *path, const char *id);

/* Checks every requirement (names[i] is the variable requires[i] came from;
 * names may be NULL) against every selected GPU, or the driver alone when the
 * plan has none. NVML is asked for brand and arch only when a requirement
 * cannot be decided without them. */
int hook_check_requirements(gctk_host *h, const gctk_plan *p, const struct strv *names,
                            const struct strv *requires, gctk_error **err);

/* Decides and injects for the container of state. 0: done (also when the
 * container asked for nothing); -1: the container must not start. */
int hook_run(const struct gctk_config *cfg, const struct oci_state *state, struct hook_log *log,
             gctk_error **err);

#endif
