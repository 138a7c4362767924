/* dlopen of libsystemd for the systemd cgroup driver; see sd_bus_loader.h. */
#define _GNU_SOURCE
#include "config.h"
#include "sd_bus_loader.h"

#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

#define SYMBOL(field) {"sd_bus_" #field, offsetof(struct sd_bus_api, field)}

static const struct {
    const char *name;
    size_t offset;
} symbols[] = {
    SYMBOL(call),
    SYMBOL(call_method),
    SYMBOL(error_free),
    SYMBOL(error_has_name),
    SYMBOL(error_is_set),
    SYMBOL(flush_close_unref),
    SYMBOL(match_signal),
    SYMBOL(message_append),
    SYMBOL(message_append_array),
    SYMBOL(message_close_container),
    SYMBOL(message_new_method_call),
    SYMBOL(message_open_container),
    SYMBOL(message_read),
    SYMBOL(message_unref),
    SYMBOL(new),
    SYMBOL(open_system),
    SYMBOL(process),
    SYMBOL(set_address),
    SYMBOL(slot_unref),
    SYMBOL(start),
    SYMBOL(unref),
    SYMBOL(wait),
};

/* A field without a row would stay NULL and crash on first call. */
_Static_assert(sizeof(struct sd_bus_api) == sizeof symbols / sizeof symbols[0] * sizeof(void *),
               "every sd_bus_api field needs a row in symbols[]");

static struct sd_bus_api loaded;
static void *handle;

static int load_error(husk_error_t *err, const char *soname)
{
    const char *why = dlerror();
    return husk_error_plain(err, ENOTSUP, "systemd cgroup driver: cannot load %s: %s", soname,
                            why != NULL ? why : "unknown dlerror");
}

int sd_bus_api_load_from(const char *soname, const struct sd_bus_api **api, husk_error_t *err)
{
    if (handle != NULL) {
        *api = &loaded;
        return 0;
    }
    /* RTLD_LOCAL: libsystemd's symbols stay out of the global namespace
     * the rest of husk resolves against. */
    void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL)
        return load_error(err, soname);
    struct sd_bus_api table;
    for (size_t i = 0; i < sizeof symbols / sizeof symbols[0]; i++) {
        dlerror();
        void *sym = dlsym(h, symbols[i].name);
        if (sym == NULL) {
            int r = load_error(err, soname);
            dlclose(h);
            return r;
        }
        /* POSIX guarantees a function pointer survives the trip through void *. */
        memcpy((char *)&table + symbols[i].offset, &sym, sizeof sym);
    }
    loaded = table;
    handle = h;
    *api = &loaded;
    return 0;
}

int sd_bus_api_load(const struct sd_bus_api **api, husk_error_t *err)
{
    return sd_bus_api_load_from(SD_BUS_LIBRARY, api, err);
}
