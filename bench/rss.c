/* rss OUT CMD [ARGS]: runs CMD (stdin, stdout, stderr inherited), writes its
 * peak RSS in KiB (wait4's ru_maxrss) to OUT and exits with its status.
 * posix_spawn shares this small program's memory with the child until the
 * exec, so the figure includes this program's few hundred KiB, as GNU time's
 * %M does; `rss OUT /bin/true` shows that baseline. A wrapper in Python or
 * Go would add its interpreter's tens of MiB instead. */
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>

extern char **environ;

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: rss OUT CMD [ARGS]\n");
        return 2;
    }
    pid_t pid;
    int rc = posix_spawn(&pid, argv[2], NULL, NULL, argv + 2, environ);
    if (rc != 0) {
        fprintf(stderr, "rss: run `%s`: %s\n", argv[2], strerror(rc));
        return 127;
    }
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) < 0) {
        perror("rss: wait4");
        return 1;
    }
    FILE *f = fopen(argv[1], "we");
    if (f == NULL) {
        perror("rss: open");
        return 1;
    }
    fprintf(f, "%ld\n", ru.ru_maxrss);
    fclose(f);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
