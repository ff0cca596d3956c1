/* The HTTP APIs that container engines serve on a UNIX socket (Docker's, and
 * Podman's Docker-compatible one): read-only GET requests answered with JSON. */
#ifndef GCTK_ENGINEAPI_H
#define GCTK_ENGINEAPI_H

#include "json.h"

/* Where an engine listens when nothing says otherwise. */
#define ENGINEAPI_DOCKER_HOST "unix:///var/run/docker.sock"
#define ENGINEAPI_PODMAN_HOST "unix:///run/podman/podman.sock"

/* The socket path of "unix:///x.sock"; NULL for any other scheme. */
const char *engineapi_socket_path(const char *host);

/* Sends GET path to host ("unix:///x.sock") as HTTP/1.0 and parses the JSON
 * body of a 200 answer into *out. The whole exchange (connect, send, read)
 * must end within timeout_ms. The body goes through json_parse() (duplicate
 * keys refused; errors name "`socket` GET path"). Errors carry errno where there is one: ENOENT
 * or ECONNREFUSED (nobody listens), EACCES (the socket's permissions),
 * ETIMEDOUT. */
int engineapi_get(const char *host, const char *path, int timeout_ms, json_t **out,
                  gctk_error **err);

#endif
