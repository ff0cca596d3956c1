/* GET requests to a container engine's UNIX socket (see engineapi.h). One
 * deadline covers the whole exchange: a daemon that hangs costs its caller
 * at most timeout_ms, never a stuck command. */
#include <poll.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include "engineapi.h"

#define ANSWER_MAX (8u << 20)

const char *engineapi_socket_path(const char *host)
{
    return host != NULL && str_has_prefix(host, "unix://") ? host + strlen("unix://") : NULL;
}

/* Milliseconds left before deadline (ns, monotonic); 0 when past it. */
static int left_ms(unsigned long long deadline)
{
    unsigned long long now = now_ns();
    return now >= deadline ? 0 : (int)((deadline - now + 999999) / 1000000);
}

static void set_timeouts(int fd, int ms)
{
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* Reads to EOF, polling against the deadline. */
static int read_answer(int fd, unsigned long long deadline, const char *sock, char **out,
                       size_t *len, gctk_error **err)
{
    size_t cap = 16384, n = 0;
    cleanup_free char *buf = xmalloc(cap + 1);
    for (;;) {
        int ms = left_ms(deadline);
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = ms > 0 ? poll(&p, 1, ms) : 0;
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return gctk_fail(err, errno, "read from `%s`", sock);
        if (r == 0)
            return gctk_fail(err, ETIMEDOUT, "read from `%s`", sock);
        if (n == cap) {
            if (cap >= ANSWER_MAX)
                return gctk_fail(err, EFBIG, "read from `%s`: an answer over %u bytes", sock,
                                 ANSWER_MAX);
            cap *= 2;
            buf = xrealloc(buf, cap + 1);
        }
        ssize_t got = recv(fd, buf + n, cap - n, 0);
        if (got < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (got < 0)
            return gctk_fail(err, errno, "read from `%s`", sock);
        if (got == 0)
            break;
        n += (size_t)got;
    }
    buf[n] = '\0';
    *out = steal_pointer(&buf);
    *len = n;
    return 0;
}

/* Decodes a chunked body in place (HTTP/1.0 answers are not chunked, but a
 * proxy in front of a daemon may chunk anyway); its length, or -1. */
static long dechunk(char *body, size_t len)
{
    size_t in = 0, out = 0;
    for (;;) {
        char *end = NULL;
        unsigned long size = strtoul(body + in, &end, 16);
        char *crlf = strstr(end, "\r\n");
        if (end == body + in || crlf == NULL)
            return -1;
        in = (size_t)(crlf - body) + 2;
        if (size == 0)
            return (long)out;
        if (size > len - in)
            return -1;
        memmove(body + out, body + in, size);
        out += size;
        in += size;
        if (len - in < 2 || body[in] != '\r' || body[in + 1] != '\n')
            return -1;
        in += 2;
    }
}

int engineapi_get(const char *host, const char *path, int timeout_ms, json_t **out,
                  gctk_error **err)
{
    unsigned long long deadline = now_ns() + (unsigned long long)timeout_ms * 1000000ull;
    const char *sock = engineapi_socket_path(host);
    if (sock == NULL)
        return gctk_fail(err, 0, "engine host `%s`: only unix:// sockets are supported", host);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(sock) >= sizeof(sa.sun_path))
        return gctk_fail(err, ENAMETOOLONG, "engine socket `%s`", sock);
    strcpy(sa.sun_path, sock);
    cleanup_fd int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return gctk_fail(err, errno, "socket");
    /* a UNIX connect and send wait at most SO_SNDTIMEO */
    set_timeouts(fd, timeout_ms);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        return gctk_fail(err, errno == EAGAIN || errno == EINPROGRESS ? ETIMEDOUT : errno,
                         "connect to `%s`", sock);
    /* HTTP/1.0: the daemon closes the connection after the answer, which
     * then ends at EOF */
    cleanup_free char *req =
        xasprintf("GET %s HTTP/1.0\r\nHost: engine\r\nUser-Agent: gctk\r\n\r\n", path);
    size_t len = strlen(req);
    for (size_t off = 0; off < len;) {
        if (left_ms(deadline) == 0)
            return gctk_fail(err, ETIMEDOUT, "send to `%s`", sock);
        ssize_t w = send(fd, req + off, len - off, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return gctk_fail(err, errno == EAGAIN ? ETIMEDOUT : errno, "send to `%s`", sock);
        off += (size_t)w;
    }
    cleanup_free char *resp = NULL;
    size_t n = 0;
    if (read_answer(fd, deadline, sock, &resp, &n, err) < 0)
        return -1;
    int status = 0;
    if (sscanf(resp, "HTTP/%*d.%*d %d", &status) != 1)
        return gctk_fail(err, 0, "`%s` GET %s: not an HTTP answer", sock, path);
    char *body = strstr(resp, "\r\n\r\n");
    if (body == NULL)
        return gctk_fail(err, 0, "`%s` GET %s: truncated answer", sock, path);
    *body = '\0'; /* the headers end here */
    body += 4;
    size_t body_len = n - (size_t)(body - resp);
    if (status != 200)
        return gctk_fail(err, 0, "`%s` GET %s: HTTP %d: %.200s", sock, path, status, body);
    for (char *h = strstr(resp, "\r\n"); h != NULL; h = strstr(h + 2, "\r\n")) {
        const char *line = h + 2, *eol = strstr(line, "\r\n");
        size_t ll = eol != NULL ? (size_t)(eol - line) : strlen(line);
        if (ll > 18 && strncasecmp(line, "Transfer-Encoding:", 18) == 0 &&
            memmem(line, ll, "chunked", 7) != NULL) {
            long d = dechunk(body, body_len);
            if (d < 0)
                return gctk_fail(err, 0, "`%s` GET %s: a broken chunked answer", sock, path);
            body_len = (size_t)d;
            break;
        }
    }
    cleanup_free char *what = xasprintf("`%s` GET %s", sock, path);
    return json_parse(what, body, body_len, out, err);
}
