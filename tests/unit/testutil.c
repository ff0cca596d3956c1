/* Linked into every unit test (tests/unit/meson.build): what the tests share.
 *
 * The tests load the TOML module of this build, also where the build records
 * no build path (-Dbuild_tree_modules=false, as the Debian package's build
 * runs them). */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "toml.h"

__attribute__((constructor)) static void use_build_module(void)
{
    gctk_toml_use_module(TEST_TOML_MODULE);
}

char *test_build_sim_dir(void)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0)
        return NULL;
    exe[n] = '\0';
    *strrchr(exe, '/') = '\0';
    char *dir = NULL;
    return asprintf(&dir, "%s/../../sim", exe) < 0 ? NULL : dir;
}

int test_use_build_sim(void)
{
    char *dir = test_build_sim_dir();
    int rc = dir != NULL ? setenv("GCTK_SIM_DIR", dir, 1) : -1;
    free(dir);
    return rc;
}

int test_rm_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
    (void)st, (void)flag, (void)f;
    return remove(path);
}

char *test_entry_of(const char *dir, const char *prefix, size_t *count)
{
    DIR *d = opendir(dir);
    char *found = NULL;
    *count = 0;
    struct dirent *de;
    while (d != NULL && (de = readdir(d)) != NULL)
        if (strncmp(de->d_name, prefix, strlen(prefix)) == 0) {
            free(found);
            found = NULL;
            if (asprintf(&found, "%s/%s", dir, de->d_name) < 0)
                found = NULL;
            (*count)++;
        }
    if (d != NULL)
        closedir(d);
    return found;
}
