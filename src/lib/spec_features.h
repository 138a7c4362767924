/* The runtime-spec "features" document (features.md, features-linux.md of
 * runtime-spec 1.3.0) that `husk features` prints: what this build of husk
 * recognizes and implements. Callers (containerd, podman, test suites) read it
 * to decide what they may put in config.json, so it must never claim more
 * than husk does.
 * (Not named features.h: with src/lib on the include path that would hide
 * glibc's <features.h> from every system header.) */
#ifndef HUSK_SPEC_FEATURES_H
#define HUSK_SPEC_FEATURES_H

#include "error.h"
#include "ocispec.h"

/* The annotation keys husk puts in the document. */
#define HUSK_ANNOTATION_VERSION "io.github.husk.version"
#define HUSK_ANNOTATION_COMMIT "io.github.husk.commit"
#define HUSK_ANNOTATION_LIBSECCOMP_VERSION "io.github.husk.libseccomp.version"

/* Builds the document. Most of it is fixed at build time (as the spec
 * recommends); seccomp.supportedFlags also asks the running kernel. */
int husk_features_build(ocispec_features **out, husk_error_t *err);

#endif
