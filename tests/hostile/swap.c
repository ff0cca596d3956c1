/* The image's attacker in the symlink-swap race: exchanges two names in a
 * directory, atomically and as fast as it can, until killed. Each NAME pair
 * is "real:decoy" where decoy is a symlink out of the rootfs, so that at any
 * moment a path component the hook walks may be either.
 * usage: swap DIR REAL:DECOY [REAL:DECOY...] */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: swap DIR REAL:DECOY...\n");
        return 2;
    }
    int dir = open(argv[1], O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) {
        perror(argv[1]);
        return 1;
    }
    int n = argc - 2;
    char **a = calloc((size_t)n, sizeof(*a)), **b = calloc((size_t)n, sizeof(*b));
    for (int i = 0; i < n; i++) {
        a[i] = argv[i + 2];
        char *colon = strchr(a[i], ':');
        if (colon == NULL || a == NULL || b == NULL) {
            fprintf(stderr, "swap: `%s` is not REAL:DECOY\n", argv[i + 2]);
            return 2;
        }
        *colon = '\0';
        b[i] = colon + 1;
    }
    for (unsigned long k = 0;; k++)
        if (renameat2(dir, a[k % (unsigned)n], dir, b[k % (unsigned)n], RENAME_EXCHANGE) < 0) {
            perror("renameat2");
            return 1;
        }
}
