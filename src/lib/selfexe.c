#include "selfexe.h"

#include <elf.h>
#include <errno.h>
#include <link.h>
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

#if __ELF_NATIVE_CLASS == 64
#define NATIVE_ELFCLASS ELFCLASS64
#else
#define NATIVE_ELFCLASS ELFCLASS32
#endif

#define HUSK_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

static bool already_protected(int exe_fd)
{
    int seals = fcntl(exe_fd, F_GET_SEALS);
    if (seals >= 0 && (seals & HUSK_SEALS) == HUSK_SEALS)
        return true;
    struct statvfs vfs;
    return fstatvfs(exe_fd, &vfs) == 0 && (vfs.f_flag & ST_RDONLY);
}

/* How much of the binary execution needs: up to the end of the last
 * segment the program headers name. What follows (symbol tables, debug
 * info, section headers) is for debuggers; leaving it out makes the copy,
 * and so every create/run, cheaper (a -g build is ~3.5x larger than what
 * it runs). Returns the full size when the file is not a native ELF. The
 * caller clears the section-header fields, which would point past the end. */
static off_t exec_prefix_size(int fd, off_t size, bool *truncated)
{
    ElfW(Ehdr) eh;
    *truncated = false;
    if (pread(fd, &eh, sizeof(eh), 0) != (ssize_t) sizeof(eh) ||
        memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != NATIVE_ELFCLASS ||
        eh.e_phentsize != sizeof(ElfW(Phdr)) || eh.e_phnum == 0 || eh.e_phnum > 64)
        return size;
    ElfW(Phdr) ph[64];
    size_t len = (size_t) eh.e_phnum * sizeof(ElfW(Phdr));
    if (pread(fd, ph, len, (off_t) eh.e_phoff) != (ssize_t) len)
        return size;
    uint64_t end = eh.e_phoff + len;
    for (size_t i = 0; i < eh.e_phnum; i++)
        if (ph[i].p_offset + ph[i].p_filesz > end)
            end = ph[i].p_offset + ph[i].p_filesz;
    if (end >= (uint64_t) size)
        return size;
    *truncated = true;
    return (off_t) end;
}

static int clear_section_headers(int fd)
{
    ElfW(Ehdr) eh;
    if (pread(fd, &eh, sizeof(eh), 0) != (ssize_t) sizeof(eh))
        return -1;
    eh.e_shoff = 0;
    eh.e_shnum = 0;
    eh.e_shstrndx = 0;
    return pwrite(fd, &eh, sizeof(eh), 0) == (ssize_t) sizeof(eh) ? 0 : -1;
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
    bool truncated;
    off_t size = exec_prefix_size(exe, st.st_size, &truncated);
    if (copy_all(exe, copy, size) < 0 || (truncated && clear_section_headers(copy) < 0))
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
