/* The default config.json that `husk spec` writes: the same starter
 * configuration `runc spec` writes (clients and test suites generate bundles
 * with `RUNTIME spec` and then edit them), except that ociVersion names the
 * spec version husk implements and the hostname is "husk". */
#ifndef HUSK_SPEC_DEFAULT_H
#define HUSK_SPEC_DEFAULT_H

#include <stdbool.h>

#include "error.h"
#include "ocispec.h"

/* Builds the default configuration. rootless: a configuration an
 * unprivileged user can run: a user namespace mapping container root to the
 * caller's effective uid/gid, no network namespace, no device cgroup rules,
 * /sys bind-mounted from the host. */
int husk_spec_default(bool rootless, ocispec_config **out, husk_error_t *err);

/* Serializes config the way `runc spec` formats it and writes it to
 * BUNDLE/config.json (bundle NULL: the current directory), mode 0666 minus
 * the umask. Never replaces an existing file (or symlink): that is an EEXIST
 * error naming the file, and the file is left untouched. */
int husk_spec_write(const char *bundle, const ocispec_config *config, husk_error_t *err);

#endif
