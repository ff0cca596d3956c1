/* Paths inside a container's rootfs, resolved so that they never leave it, and
 * mounts made onto opened file descriptors with a journal to undo them.
 *
 * The rootfs belongs to the image author: every component may be a symlink,
 * absolute or relative, pointing anywhere. Resolution is done inside the root
 * (openat2 RESOLVE_IN_ROOT, else a component walk with O_NOFOLLOW that treats
 * the root as "/"), and mounts go to the opened fd, never to a path string
 * that could be swapped between the check and the mount. */
#ifndef GCTK_ROOTFS_H
#define GCTK_ROOTFS_H

#include <stdbool.h>
#include <sys/types.h>

#include "util.h"

struct rootfs {
    int fd;     /* O_PATH|O_DIRECTORY of the root */
    char *path; /* for messages */
    /* what is created inside belongs to uid:gid (the container's root in a
     * user namespace of its own) when owner_mapped; else to the caller */
    uid_t uid;
    gid_t gid;
    bool owner_mapped;
    /* the directory the last file or link was made in (parent_path; NULL:
     * none), kept for the next one made there: the driver's libraries and
     * links all go to one directory. Dropped whenever a directory's fd goes
     * out to a caller, who may mount on it: the fd kept would then name the
     * directory under the mount; and not used after a journal's undo, which
     * may have removed it (parent_undo). */
    char *parent_path;
    int parent_fd;
    unsigned parent_undo;
};

/* For tests: take the component walk even where openat2 exists, and the
 * mount(2) fallback even where the new mount API exists. */
extern bool rootfs_force_walk;
extern bool rootfs_force_legacy_mount;

/* What was done inside the rootfs, newest last, so it can be undone. */
struct mount_journal;

struct mount_journal *mount_journal_new(void);
/* Undoes everything recorded (unmount, then remove created targets), newest first. */
void mount_journal_undo(struct mount_journal *j);
/* Forgets the records (the work is kept) and frees the journal. NULL is fine. */
void mount_journal_free(struct mount_journal *j);
static inline void mount_journal_freep(struct mount_journal **j)
{
    mount_journal_free(*j);
}
#define cleanup_journal __attribute__((cleanup(mount_journal_freep)))
size_t mount_journal_mounts(const struct mount_journal *j);

int rootfs_open(const char *path, struct rootfs *out, gctk_error **err);
/* Makes what the functions below create belong to the root of process pid's
 * user namespace, as the host sees it (its uid_map and gid_map): a namespace
 * of its own owns the container's /dev (and may own its rootfs), where the
 * kernel refuses an inode owned by an id it cannot name (EOVERFLOW). Nothing
 * changes for a container in the hook's namespace or one whose map has no
 * root. Files are created with the filesystem ids of the calling thread set
 * to those ids and the filesystem capabilities kept. */
int rootfs_owner_of(struct rootfs *r, pid_t pid, gctk_error **err);
void rootfs_close(struct rootfs *r);
/* rootfs_close() at the end of the scope; initialise with {.fd = -1} */
#define cleanup_rootfs __attribute__((cleanup(rootfs_close)))

/* Opens path (absolute, taken relative to the root) inside the root, following
 * symlinks as if the root were "/". flags as for openat (O_PATH etc.). */
int rootfs_open_path(struct rootfs *r, const char *path, int flags, int *fd_out, gctk_error **err);

/* mkdir -p inside the root; *fd_out gets an O_PATH|O_DIRECTORY fd of the last
 * directory. Created directories are recorded in j (may be NULL). */
int rootfs_mkdir_p(struct rootfs *r, const char *path, mode_t mode, struct mount_journal *j,
                   int *fd_out, gctk_error **err);

/* Makes sure a mount target of type S_IFREG or S_IFDIR exists at path (parents
 * created); an existing object of another type (FIFO, socket, device, a dir
 * where a file is expected) is an error naming the path. *fd_out: an fd of
 * the target, O_PATH, or the new file's own when it was created here.
 * Returns 1 when the file was created here (nothing was there), else 0. */
int rootfs_make_target(struct rootfs *r, const char *path, mode_t type, struct mount_journal *j,
                       int *fd_out, gctk_error **err);

/* In dirfd, a directory of the hook's own that nothing in the container
 * has run in (a tmpfs it mounted just now): the directory name made (and
 * opened O_PATH), or the file name made and written, at its name, as
 * rootfs_mkdir_p() and rootfs_write_file() make them (owned by the
 * container's root), without resolving a path or renaming. Something
 * already at name is an error. */
int rootfs_mkdir_in(struct rootfs *r, int dirfd, const char *name, mode_t mode, int *fd_out,
                    gctk_error **err);
int rootfs_write_file_in(struct rootfs *r, int dirfd, const char *name, const void *data,
                         size_t len, mode_t mode, gctk_error **err);

/* Creates the symlink linkpath -> target inside the root (parents created). An
 * existing symlink with the same target is fine; one with another target is
 * replaced; any other existing file is left alone and reported. */
int rootfs_symlink(struct rootfs *r, const char *target, const char *linkpath,
                   struct mount_journal *j, gctk_error **err);

/* Writes a file atomically inside the root: a temporary file in the same
 * directory, then rename (a symlink at path is replaced, never followed). */
int rootfs_write_file(struct rootfs *r, const char *path, const void *data, size_t len, mode_t mode,
                      gctk_error **err);

enum {
    MOUNT_RO = 1u << 0,
    MOUNT_NOSUID = 1u << 1,
    MOUNT_NODEV = 1u << 2,
    MOUNT_NOEXEC = 1u << 3,
};

/* Bind-mounts the object open as src_fd (any mount namespace the caller can
 * see) onto the target open as target_fd, with the MOUNT_* flags applied
 * before the mount becomes visible where the kernel allows it. */
int mount_bind_fd(int src_fd, int target_fd, unsigned flags, struct mount_journal *j,
                  gctk_error **err);
/* Mounts a tmpfs on the directory open as target_fd; *root_fd_out: O_PATH fd of
 * the new mount's root, to fill it before making it read-only. */
int mount_tmpfs_fd(int target_fd, const char *options, struct mount_journal *j, int *root_fd_out,
                   gctk_error **err);
/* Makes the mount whose root is open as fd read-only (and nosuid, nodev, noexec).
 * EBUSY while a file in it is open for writing. */
int mount_seal_fd(int fd, gctk_error **err);

#endif
