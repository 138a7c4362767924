/* Small helpers shared by every part of husk: scope-based cleanup, fd and
 * file helpers. Anything that grows a concern of its own gets its own file. */
#ifndef HUSK_UTILS_H
#define HUSK_UTILS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>
#include <dirent.h>

#include "error.h"

void husk_free_ptr(void *pp);   /* free(*(void **)pp) */
void husk_close_fd(int *fd);    /* close(*fd) if >= 0, keeps errno */
void husk_fclose_ptr(FILE **f);
void husk_closedir_ptr(DIR **d);
void husk_free_strv(char ***strv); /* NULL-terminated string vector */

#define cleanup_free   __attribute__((cleanup(husk_free_ptr)))
#define cleanup_close  __attribute__((cleanup(husk_close_fd)))
#define cleanup_file   __attribute__((cleanup(husk_fclose_ptr)))
#define cleanup_dir    __attribute__((cleanup(husk_closedir_ptr)))
#define cleanup_strv   __attribute__((cleanup(husk_free_strv)))

/* Hand ownership on: returns the value and clears the variable so the
 * cleanup attribute does nothing. */
#define steal_pointer(pp) ({ __typeof__(*(pp)) _p = *(pp); *(pp) = NULL; _p; })
#define steal_fd(fdp)     ({ int _fd = *(fdp); *(fdp) = -1; _fd; })

/* Reads a whole file (by path or by dirfd+path) into a malloc'd,
 * NUL-terminated buffer. */
int husk_read_file(const char *path, char **out, size_t *len, husk_error_t *err);
int husk_read_file_at(int dirfd, const char *path, char **out, size_t *len, husk_error_t *err);

/* Writes all of buf (retrying short writes and EINTR). */
int husk_write_all(int fd, const void *buf, size_t len);

/* Writes a file atomically: tmp file in the same dir + fsync-less rename. */
int husk_write_file_atomic_at(int dirfd, const char *name, const void *buf, size_t len,
                              mode_t mode, husk_error_t *err);

/* Writes --pid-file (just the number, as runc) atomically: a temporary
 * file next to it, renamed. Errors name the flag and the path. */
int husk_write_pid_file(const char *path, pid_t pid, husk_error_t *err);

/* mkdir -p. */
int husk_mkdir_p(const char *path, mode_t mode, husk_error_t *err);

#endif
