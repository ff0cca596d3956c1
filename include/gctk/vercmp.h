/* Dotted version numbers: driver versions ("535.104.05"), CUDA versions
 * ("12.4") and compute capabilities ("8.6"), compared numerically part by
 * part, so that 12.4 < 12.10 and 535.104.05 > 535.54.03.
 *
 * (Named vercmp, not version: build/version.h is the generated GCTK_VERSION
 * header, and include/gctk/ comes first on the include path.) */
#ifndef GCTK_VERCMP_H
#define GCTK_VERCMP_H

#include <stdbool.h>
#include <stddef.h>

#include "core.h"

#define VERSION_MAX_PARTS 4
/* Longest CUDA version text cuda_version_format writes, with the NUL. */
#define CUDA_VERSION_BUF 24

/* Parses "535.104.05" into parts[] (leading zeros allowed: "05" is 5) and
 * the number of parts. Rejects an empty string, empty parts ("12..4", "12."),
 * anything but digits and dots, a part above UINT_MAX and more than
 * VERSION_MAX_PARTS parts. n may be NULL. */
int version_parse(const char *s, unsigned parts[VERSION_MAX_PARTS], size_t *n, gctk_error **err);
bool version_valid(const char *s);

/* <0, 0, >0 as a is older, equal, newer than b. Missing parts count as 0:
 * "12" == "12.0". Meant for strings that passed version_parse; an invalid
 * string compares as its longest valid prefix (NULL and "" as 0). */
int version_cmp(const char *a, const char *b);

/* The integer form of cuDriverGetVersion and NVML (major * 1000 + minor * 10):
 * 12040 <-> "12.4". */
int cuda_version_to_int(const char *s, int *out, gctk_error **err);
/* Writes "12.4" for 12040 into buf; NULL when v is not a valid CUDA version
 * (<= 0, or a minor above 99). */
char *cuda_version_format(int v, char *buf, size_t size);

#endif
