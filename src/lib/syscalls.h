/* Raw wrappers for the syscalls glibc 2.36 does not wrap (or wraps only in
 * newer releases), with the constants older headers lack. Everything else in
 * husk calls these and reads as plain C. Each returns what the syscall
 * returns: -1 with errno set on failure. */
#ifndef HUSK_SYSCALLS_H
#define HUSK_SYSCALLS_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <linux/openat2.h>
#include <linux/sched.h>

#ifndef __NR_clone3
#define __NR_clone3 435
#endif
#ifndef __NR_pidfd_open
#define __NR_pidfd_open 434
#endif
#ifndef __NR_pidfd_send_signal
#define __NR_pidfd_send_signal 424
#endif
#ifndef __NR_openat2
#define __NR_openat2 437
#endif
#ifndef __NR_close_range
#define __NR_close_range 436
#endif
#ifndef __NR_open_tree
#define __NR_open_tree 428
#endif
#ifndef __NR_move_mount
#define __NR_move_mount 429
#endif
#ifndef __NR_mount_setattr
#define __NR_mount_setattr 442
#endif
#ifndef __NR_pivot_root
#define __NR_pivot_root 155
#endif

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef OPEN_TREE_CLOEXEC
#define OPEN_TREE_CLOEXEC O_CLOEXEC
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#endif
#ifndef MOVE_MOUNT_T_EMPTY_PATH
#define MOVE_MOUNT_T_EMPTY_PATH 0x00000040
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif

/* clone3's argument: the kernel's struct clone_args (v2, with cgroup). */
struct husk_clone_args {
    uint64_t flags;
    uint64_t pidfd;
    uint64_t child_tid;
    uint64_t parent_tid;
    uint64_t exit_signal;
    uint64_t stack;
    uint64_t stack_size;
    uint64_t tls;
    uint64_t set_tid;
    uint64_t set_tid_size;
    uint64_t cgroup;
};

/* Fork-like clone3 (no CLONE_VM): returns twice like fork(). */
static inline pid_t husk_clone3(struct husk_clone_args *args, size_t size)
{
    return (pid_t) syscall(__NR_clone3, args, size);
}

static inline int husk_pidfd_open(pid_t pid, unsigned int flags)
{
    return (int) syscall(__NR_pidfd_open, pid, flags);
}

static inline int husk_pidfd_send_signal(int pidfd, int sig, siginfo_t *info, unsigned int flags)
{
    return (int) syscall(__NR_pidfd_send_signal, pidfd, sig, info, flags);
}

static inline int husk_openat2(int dirfd, const char *path, struct open_how *how, size_t size)
{
    return (int) syscall(__NR_openat2, dirfd, path, how, size);
}

static inline int husk_close_range(unsigned int first, unsigned int last, unsigned int flags)
{
    return (int) syscall(__NR_close_range, first, last, flags);
}

static inline int husk_open_tree(int dirfd, const char *path, unsigned int flags)
{
    return (int) syscall(__NR_open_tree, dirfd, path, flags);
}

static inline int husk_move_mount(int from_dirfd, const char *from_path, int to_dirfd,
                                  const char *to_path, unsigned int flags)
{
    return (int) syscall(__NR_move_mount, from_dirfd, from_path, to_dirfd, to_path, flags);
}

static inline int husk_pivot_root(const char *new_root, const char *put_old)
{
    return (int) syscall(__NR_pivot_root, new_root, put_old);
}

#endif
