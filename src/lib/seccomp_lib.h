/* libseccomp's own <seccomp.h>. husk's src/lib/seccomp.h shadows it on the
 * include path (-I src/lib comes before the system directories), so
 * src/lib/seccomp.c includes this file *with angle brackets*: found through
 * -I src/lib, its #include_next resumes the search after src/lib and
 * reaches the library's header. */
#ifndef HUSK_SECCOMP_LIB_H
#define HUSK_SECCOMP_LIB_H
#include_next <seccomp.h>
#ifndef SCMP_VER_MAJOR
#error "libseccomp's seccomp.h was not found behind src/lib/seccomp.h"
#endif
#endif
