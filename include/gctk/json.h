/* JSON through jansson: the one loader of every JSON document gctk reads
 * (an OCI config.json and the hook's state, daemon.json, CDI specs, gctk's
 * settings, Docker's answers) and the cleanup helper of json_t. */
#ifndef GCTK_JSON_H
#define GCTK_JSON_H

#include <jansson.h>

#include "util.h"

/* The most of any JSON document gctk reads (an OCI config.json of a large
 * container is well under a megabyte). The hook's state on stdin has its own,
 * smaller cap (OCI_STATE_MAX): it is read before anything else, from a pipe
 * whose writer could otherwise keep the hook reading. */
#define JSON_MAX (64u << 20)

/* jansson's own json_decrefp */
#define cleanup_json __attribute__((cleanup(json_decrefp)))

/* Parses a JSON text (need not be NUL-terminated). The rules are the same
 * for every document: a duplicated key is refused (two readers may take two
 * different values of it: one config, two meanings), and so is anything but
 * blanks after the value. Errors read "<what> line L column C: <jansson's
 * reason>"; what names the document as the caller wants it shown. */
int json_parse(const char *what, const char *data, size_t len, json_t **out, gctk_error **err);

/* Reads path (at most JSON_MAX bytes) and parses it; what as above, NULL:
 * "`path`". A read error keeps its errno (ENOENT for a missing file). */
int json_load(const char *path, const char *what, json_t **out, gctk_error **err);

#endif
