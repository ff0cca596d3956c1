/* TOML documents as JSON values: the configuration files of containerd,
 * CRI-O and NVIDIA's toolkit are read and written through these two calls,
 * so the code that edits them works on one data model (jansson's).
 *
 * The parser and the writer are Debian's tomlplusplus, a C++ library. It is
 * kept in a module of its own (gctk-toml.so), loaded with dlopen on the first
 * call, so that programs which never meet a TOML file (the hook on a host
 * without NVIDIA's config.toml) never load the C++ runtime.
 *
 * Mapping: a table is an object, an array an array, a string a string, an
 * integer an integer, a float a real, a boolean true/false. TOML dates and
 * times, which JSON lacks, become {"$toml": "<RFC 3339 text>"} objects and are
 * written back as dates and times. JSON null has no TOML form: formatting it
 * is an error, as is a root that is not an object. Key order is not kept
 * (tables are written sorted); comments are not kept.
 */
#ifndef GCTK_TOML_H
#define GCTK_TOML_H

#include <jansson.h>
#include <stddef.h>

#include "core.h"

/* The key of the object that carries a TOML date or time. */
#define GCTK_TOML_DATETIME_KEY "$toml"

/* Parses text (len bytes, NUL not needed) into a new JSON object. `what`
 * names the document in messages ("`/etc/containerd/config.toml`: line 3,
 * column 7: ..."). NULL and *err on failure. */
json_t *gctk_toml_parse(const char *text, size_t len, const char *what, gctk_error **err);

/* Reads and parses a TOML file of at most max bytes. */
json_t *gctk_toml_load(const char *path, size_t max, gctk_error **err);

/* The TOML text of doc (a JSON object), NUL-terminated, to be freed. NULL
 * and *err when a value has no TOML form. */
char *gctk_toml_format(const json_t *doc, gctk_error **err);

/* For the unit tests only: load the module from path (before the first use),
 * so that they run in a build set up with -Dbuild_tree_modules=false. */
void gctk_toml_use_module(const char *path);

#endif
