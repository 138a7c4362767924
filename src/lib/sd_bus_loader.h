/* libsystemd's sd-bus, loaded with dlopen on first use instead of linked:
 * only the systemd cgroup driver talks D-Bus, and linking libsystemd (and
 * the five libraries it pulls in) cost every husk invocation ~1.2 ms in
 * the dynamic loader. The prototypes still come from <systemd/sd-bus.h>,
 * so the compiler checks every call made through the table.
 *
 * Built only with systemd support (HAVE_SYSTEMD). Internal to
 * cgroup_systemd.c; unit tests include it. */
#ifndef HUSK_SD_BUS_LOADER_H
#define HUSK_SD_BUS_LOADER_H

#include <systemd/sd-bus.h>

#include "error.h"

/* The library the runtime requires (Debian: libsystemd0). */
#define SD_BUS_LIBRARY "libsystemd.so.0"

/* One pointer per sd_bus_* function the driver calls: `api->call` is
 * sd_bus_call. */
struct sd_bus_api {
    __typeof__(sd_bus_call) *call;
    __typeof__(sd_bus_call_method) *call_method;
    __typeof__(sd_bus_error_free) *error_free;
    __typeof__(sd_bus_error_has_name) *error_has_name;
    __typeof__(sd_bus_error_is_set) *error_is_set;
    __typeof__(sd_bus_flush_close_unref) *flush_close_unref;
    __typeof__(sd_bus_match_signal) *match_signal;
    __typeof__(sd_bus_message_append) *message_append;
    __typeof__(sd_bus_message_append_array) *message_append_array;
    __typeof__(sd_bus_message_close_container) *message_close_container;
    __typeof__(sd_bus_message_new_method_call) *message_new_method_call;
    __typeof__(sd_bus_message_open_container) *message_open_container;
    __typeof__(sd_bus_message_read) *message_read;
    __typeof__(sd_bus_message_unref) *message_unref;
    __typeof__(sd_bus_new) *new;
    __typeof__(sd_bus_open_system) *open_system;
    __typeof__(sd_bus_process) *process;
    __typeof__(sd_bus_set_address) *set_address;
    __typeof__(sd_bus_slot_unref) *slot_unref;
    __typeof__(sd_bus_start) *start;
    __typeof__(sd_bus_unref) *unref;
    __typeof__(sd_bus_wait) *wait;
};

/* Loads SD_BUS_LIBRARY and resolves every function once; later calls
 * return the same table. On failure *api is untouched, the library is
 * closed again and the error reads "systemd cgroup driver: cannot load
 * libsystemd.so.0: <dlerror>"; the next call tries again. */
int sd_bus_api_load(const struct sd_bus_api **api, husk_error_t *err);

/* sd_bus_api_load from another soname (for tests). Once a load has
 * succeeded, every call returns that table whatever soname says. */
int sd_bus_api_load_from(const char *soname, const struct sd_bus_api **api, husk_error_t *err);

#endif
