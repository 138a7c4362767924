#include "selfexe.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "utils.h"

#define HUSK_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

static bool already_protected(int exe_fd)
{
    int seals = fcntl(exe_fd, F_GET_SEALS);
    if (seals >= 0 && (seals & HUSK_SEALS) == HUSK_SEALS)
        return true;
    struct statvfs vfs;
    return fstatvfs(exe_fd, &vfs) == 0 && (vfs.f_flag & ST_RDONLY);
}

static int copy_all(int from, int to, off_t size)
{
    off_t done = 0;
    while (done < size) {
        ssize_t n = sendfile(to, from, NULL, (size_t) (size - done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        done += n;
    }
    return 0;
}

extern char **environ;

/* argv as the kernel holds it: NUL-separated in /proc/self/cmdline. */
static char **read_own_argv(char **buf_out)
{
    char *buf = NULL;
    size_t len = 0;
    if (husk_read_file("/proc/self/cmdline", &buf, &len, NULL) < 0)
        return NULL;
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (buf[i] == '\0')
            n++;
    char **argv = calloc(n + 1, sizeof(char *));
    if (argv == NULL) {
        free(buf);
        return NULL;
    }
    size_t k = 0;
    for (size_t i = 0; i < len && k < n; i += strlen(buf + i) + 1)
        argv[k++] = buf + i;
    *buf_out = buf;
    return argv;
}

int husk_selfexe_ensure_sealed(husk_error_t *err)
{
    cleanup_close int exe = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (exe < 0)
        return husk_error_set(err, errno, "open `/proc/self/exe`");
    if (already_protected(exe))
        return 0;

    struct stat st;
    if (fstat(exe, &st) < 0)
        return husk_error_set(err, errno, "stat `/proc/self/exe`");
    cleanup_close int copy = memfd_create("husk", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (copy < 0)
        return husk_error_set(err, errno, "memfd_create for the sealed husk copy");
    if (copy_all(exe, copy, st.st_size) < 0)
        return husk_error_set(err, errno, "copy `/proc/self/exe` into a memfd");
    if (fcntl(copy, F_ADD_SEALS, HUSK_SEALS) < 0)
        return husk_error_set(err, errno, "seal the husk copy");
    cleanup_free char *argbuf = NULL;
    cleanup_free char **argv = read_own_argv(&argbuf);
    if (argv == NULL)
        return husk_error_set(err, errno ? errno : ENOMEM, "read `/proc/self/cmdline`");
    fexecve(copy, argv, environ);
    return husk_error_set(err, errno, "re-execute husk from its sealed copy");
}
