/* JSON through jansson: the cleanup helper of json_t. */
#ifndef GCTK_JSON_H
#define GCTK_JSON_H

#include <jansson.h>

#include "util.h"

/* jansson's own json_decrefp */
#define cleanup_json __attribute__((cleanup(json_decrefp)))

#endif
