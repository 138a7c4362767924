/* The process attributes of config.json that are not about identity or
 * privileges: process.scheduler (sched_setattr), process.ioPriority
 * (ioprio_set), process.oomScoreAdj, linux.personality,
 * process.execCPUAffinity and linux.memoryPolicy (set_mempolicy).
 *
 * Every field is checked by husk_process_attrs_validate() in the parent,
 * before anything of the container exists, so that a bad value costs no
 * clone, cgroup or state dir; the apply functions then only meet what the
 * kernel itself refuses. Errors name the field and the value. */
#ifndef HUSK_PROCESS_ATTRS_H
#define HUSK_PROCESS_ATTRS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "ocispec.h"

/* Parent, before clone: every field above. */
int husk_process_attrs_validate(const ocispec_config *c, husk_error_t *err);

/* Parent, right after clone, before the init is let go (GO) and before it
 * joins its cgroup: process.oomScoreAdj written to /proc/<pid>/oom_score_adj
 * (the parent keeps the capability a lowered score needs, which an init in
 * a user namespace would lack), and execCPUAffinity.initial set on the init
 * with sched_setaffinity(pid), so that all its setup work runs there. */
int husk_process_attrs_apply_early(pid_t pid, const ocispec_config *c, husk_error_t *err);

/* Init, placed in its cgroup, still holding its capabilities, just before
 * it drops them: scheduler, ioPriority, personality, memoryPolicy, then
 * execCPUAffinity.final (last, since joining a cpuset resets affinity). */
int husk_process_attrs_apply_late(const ocispec_config *c, husk_error_t *err);

/* ---- parsers, exposed for the unit tests ---- */

/* A list of ids like "0-3,7" into bits[0..nbits): sets the named bits
 * (others untouched). Refuses empty lists, empty items, reversed ranges,
 * signs, spaces, and ids >= nbits; errors name `field`. */
int husk_id_list_parse(const char *list, unsigned long *bits, size_t nbits, const char *field,
                       husk_error_t *err);

/* Name -> kernel value, or -1 when unknown. */
int husk_sched_policy_value(const char *name);
int husk_sched_flag_value(const char *name);
int husk_ioprio_class_value(const char *name);
int husk_personality_domain_value(const char *name);
long husk_personality_flag_value(const char *name);
int husk_mempolicy_mode_value(const char *name);
int husk_mempolicy_flag_value(const char *name);

#endif
