/* What the unit tests share (testutil.c). */
#ifndef GCTK_TESTUTIL_H
#define GCTK_TESTUTIL_H

#include <ftw.h>
#include <sys/stat.h>

/* The simulated driver of this build tree (the mocks `gctk sim create`
 * copies), beside this test program. Owned; NULL when its path is unknown. */
char *test_build_sim_dir(void);

/* GCTK_SIM_DIR: the simulated driver of this build tree (the mocks `gctk
 * sim create` copies); 0, or -1 when this program's path is unknown */
int test_use_build_sim(void);

/* For nftw(dir, test_rm_entry, 32, FTW_DEPTH | FTW_PHYS): removes a tree */
int test_rm_entry(const char *path, const struct stat *st, int flag, struct FTW *f);

/* The path of an entry of dir whose name starts with prefix (malloc'ed;
 * NULL when there is none), and in *count how many there are */
char *test_entry_of(const char *dir, const char *prefix, size_t *count);

#endif
