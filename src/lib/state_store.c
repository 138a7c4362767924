#include "state_store.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "utils.h"

#define STORE_LOCK ".lock"


#define CONTAINER_LOCK "lock"

/* ---------- ids ---------- */

static bool id_char_ok(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '.' || c == '+' || c == '-';
}

int husk_store_validate_id(const char *id, husk_error_t *err)
{
    if (id == NULL || id[0] == '\0')
        return husk_error_plain(err, EINVAL, "invalid container id ``: must not be empty");
    if (strlen(id) > 1024)
        return husk_error_plain(err, EINVAL, "invalid container id `%.32s...`: longer than 1024",
                              id);
    if (id[0] == '.')
        return husk_error_plain(err, EINVAL, "invalid container id `%s`: must not start with `.`",
                              id);
    for (const char *p = id; *p != '\0'; p++)
        if (!id_char_ok(*p))
            return husk_error_plain(err, EINVAL,
                               "invalid container id `%s`: only [A-Za-z0-9_.+-] allowed", id);
    return 0;
}

/* ---------- store ---------- */

int husk_store_open(const char *root, bool create, husk_store **out, husk_error_t *err)
{
    cleanup_close int fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && create) {
        if (husk_mkdir_p(root, 0700, err) < 0)
            return husk_error_wrap(err, "state root");
        fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    }
    if (fd < 0)
        return husk_error_set(err, errno, "open state root `%s`", root);

    husk_store *s = calloc(1, sizeof(*s));
    if (s == NULL || (s->root = strdup(root)) == NULL) {
        free(s);
        return husk_error_set(err, ENOMEM, "open state root `%s`", root);
    }
    s->root_fd = steal_fd(&fd);
    *out = s;
    return 0;
}

void husk_store_free(husk_store *store)
{
    if (store == NULL)
        return;
    if (store->root_fd >= 0)
        close(store->root_fd);
    free(store->root);
    free(store);
}

void husk_store_free_ptr(husk_store **store)
{
    husk_store_free(*store);
    *store = NULL;
}

/* The store-wide lock, held only for a mkdir or rmdir. */
static int store_lock(husk_store *store, husk_error_t *err)
{
    int fd = openat(store->root_fd, STORE_LOCK, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return husk_error_set(err, errno, "open `%s/%s`", store->root, STORE_LOCK);
    while (flock(fd, LOCK_EX) < 0) {
        if (errno != EINTR) {
            int saved = errno;
            close(fd);
            return husk_error_set(err, saved, "lock `%s/%s`", store->root, STORE_LOCK);
        }
    }
    return fd;
}

static int flock_retry(int fd, int op)
{
    int r;
    while ((r = flock(fd, op)) < 0 && errno == EINTR)
        ;
    return r;
}

static husk_container_dir *container_dir_new(husk_store *store, const char *id)
{
    husk_container_dir *d = calloc(1, sizeof(*d));
    if (d == NULL)
        return NULL;
    d->dir_fd = -1;
    d->lock_fd = -1;
    if ((d->id = strdup(id)) == NULL || asprintf(&d->path, "%s/%s", store->root, id) < 0) {
        d->path = NULL;
        husk_container_dir_free(d);
        return NULL;
    }
    return d;
}

void husk_container_dir_free(husk_container_dir *d)
{
    if (d == NULL)
        return;
    if (d->dir_fd >= 0)
        close(d->dir_fd);
    if (d->lock_fd >= 0)
        close(d->lock_fd);
    free(d->id);
    free(d->path);
    free(d);
}

void husk_container_dir_free_ptr(husk_container_dir **d)
{
    husk_container_dir_free(*d);
    *d = NULL;
}

int husk_store_reserve(husk_store *store, const char *id, husk_container_dir **out,
                       husk_error_t *err)
{
    if (husk_store_validate_id(id, err) < 0)
        return -1;
    cleanup_container_dir husk_container_dir *d = container_dir_new(store, id);
    if (d == NULL)
        return husk_error_set(err, ENOMEM, "reserve container `%s`", id);

    cleanup_close int store_fd = store_lock(store, err);
    if (store_fd < 0)
        return -1;
    if (mkdirat(store->root_fd, id, 0711) < 0) {
        if (errno == EEXIST)
            return husk_error_plain(err, EEXIST, "container `%s` already exists", id);
        return husk_error_set(err, errno, "mkdir `%s`", d->path);
    }
    d->dir_fd = openat(store->root_fd, id, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (d->dir_fd >= 0)
        d->lock_fd = openat(d->dir_fd, CONTAINER_LOCK, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (d->dir_fd < 0 || d->lock_fd < 0 || flock_retry(d->lock_fd, LOCK_EX) < 0) {
        int saved = errno;
        if (d->lock_fd >= 0)
            unlinkat(d->dir_fd, CONTAINER_LOCK, 0);
        unlinkat(store->root_fd, id, AT_REMOVEDIR);
        return husk_error_set(err, saved, "set up `%s`", d->path);
    }
    *out = steal_pointer(&d);
    return 0;
}

int husk_store_open_container(husk_store *store, const char *id, bool exclusive,
                              husk_container_dir **out, husk_error_t *err)
{
    if (husk_store_validate_id(id, err) < 0)
        return -1;
    cleanup_container_dir husk_container_dir *d = container_dir_new(store, id);
    if (d == NULL)
        return husk_error_set(err, ENOMEM, "open container `%s`", id);

    d->dir_fd = openat(store->root_fd, id, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (d->dir_fd < 0) {
        if (errno == ENOENT)
            return husk_error_plain(err, ENOENT, "container `%s` does not exist", id);
        return husk_error_set(err, errno, "open `%s`", d->path);
    }
    d->lock_fd = openat(d->dir_fd, CONTAINER_LOCK, O_RDWR | O_CLOEXEC);
    if (d->lock_fd < 0) {
        if (errno == ENOENT)
            return husk_error_plain(err, ENOENT, "container `%s` does not exist", id);
        return husk_error_set(err, errno, "open `%s/%s`", d->path, CONTAINER_LOCK);
    }
    if (flock_retry(d->lock_fd, exclusive ? LOCK_EX : LOCK_SH) < 0)
        return husk_error_set(err, errno, "lock `%s/%s`", d->path, CONTAINER_LOCK);

    /* Whoever held the lock before us may have deleted the container. */
    struct stat st;
    if (fstat(d->lock_fd, &st) < 0)
        return husk_error_set(err, errno, "stat `%s/%s`", d->path, CONTAINER_LOCK);
    if (st.st_nlink == 0)
        return husk_error_plain(err, ENOENT, "container `%s` does not exist", id);
    *out = steal_pointer(&d);
    return 0;
}

int husk_store_remove_container(husk_store *store, husk_container_dir *d, husk_error_t *err)
{
    cleanup_close int fd = openat(d->dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return husk_error_set(err, errno, "open `%s`", d->path);
    cleanup_dir DIR *dir = fdopendir(fd);
    if (dir == NULL)
        return husk_error_set(err, errno, "read `%s`", d->path);
    fd = -1;
    struct dirent *de;
    /* The lock file goes last: a waiter that finds it unlinked knows the
     * container is gone. */
    while ((de = readdir(dir)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
            strcmp(de->d_name, CONTAINER_LOCK) == 0)
            continue;
        if (unlinkat(dirfd(dir), de->d_name, 0) < 0 && errno != ENOENT)
            return husk_error_set(err, errno, "remove `%s/%s`", d->path, de->d_name);
    }
    if (unlinkat(d->dir_fd, CONTAINER_LOCK, 0) < 0 && errno != ENOENT)
        return husk_error_set(err, errno, "remove `%s/%s`", d->path, CONTAINER_LOCK);

    cleanup_close int store_fd = store_lock(store, err);
    if (store_fd < 0)
        return -1;
    if (unlinkat(store->root_fd, d->id, AT_REMOVEDIR) < 0 && errno != ENOENT)
        return husk_error_set(err, errno, "remove `%s`", d->path);
    return 0;
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

int husk_store_list_ids(husk_store *store, char ***ids, husk_error_t *err)
{
    cleanup_close int fd = openat(store->root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return husk_error_set(err, errno, "open state root `%s`", store->root);
    cleanup_dir DIR *dir = fdopendir(fd);
    if (dir == NULL)
        return husk_error_set(err, errno, "read state root `%s`", store->root);
    fd = -1;

    cleanup_strv char **v = calloc(1, sizeof(char *));
    size_t n = 0;
    if (v == NULL)
        return husk_error_set(err, ENOMEM, "list `%s`", store->root);
    struct dirent *de;
    while ((de = readdir(dir)) != NULL) {
        if (de->d_name[0] == '.' || (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN))
            continue;
        char **bigger = realloc(v, (n + 2) * sizeof(char *));
        if (bigger == NULL)
            return husk_error_set(err, ENOMEM, "list `%s`", store->root);
        v = bigger;
        if ((v[n] = strdup(de->d_name)) == NULL)
            return husk_error_set(err, ENOMEM, "list `%s`", store->root);
        v[++n] = NULL;
    }
    qsort(v, n, sizeof(char *), compare_strings);
    *ids = steal_pointer(&v);
    return 0;
}

/* ---------- state.json ---------- */

static void gen_str(yajl_gen g, const char *s)
{
    yajl_gen_string(g, (const unsigned char *) s, strlen(s));
}

static void gen_kv_str(yajl_gen g, const char *k, const char *v)
{
    if (v == NULL)
        return;
    gen_str(g, k);
    gen_str(g, v);
}

static void gen_kv_int(yajl_gen g, const char *k, long long v)
{
    gen_str(g, k);
    yajl_gen_integer(g, v);
}

int husk_state_record_save(int dir_fd, const husk_state_record *rec, husk_error_t *err)
{
    yajl_gen g = yajl_gen_alloc(NULL);
    if (g == NULL)
        return husk_error_set(err, ENOMEM, "write " HUSK_STATE_FILE);
    yajl_gen_map_open(g);
    gen_kv_str(g, "id", rec->id);
    gen_kv_int(g, "pid", rec->pid);
    /* A decimal string: start times can exceed what a JSON double holds. */
    char start[32];
    snprintf(start, sizeof(start), "%" PRIu64, rec->pid_start);
    gen_kv_str(g, "pidStart", start);
    gen_kv_str(g, "bundle", rec->bundle);
    gen_kv_str(g, "rootfs", rec->rootfs);
    gen_kv_str(g, "created", rec->created);
    gen_kv_int(g, "ownerUid", rec->owner_uid);
    gen_kv_str(g, "cgroupPath", rec->cgroup_path);
    gen_kv_str(g, "cgroupManager", rec->cgroup_manager);
    gen_str(g, "keepConfig");
    yajl_gen_bool(g, rec->keep_config);
    gen_str(g, "creating");
    yajl_gen_bool(g, rec->creating);
    gen_str(g, "noNewKeyring");
    yajl_gen_bool(g, rec->no_new_keyring);
    if (rec->annotations != NULL) {
        gen_str(g, "annotations");
        yajl_gen_map_open(g);
        for (size_t i = 0; i < rec->annotations->len; i++)
            gen_kv_str(g, rec->annotations->keys[i], rec->annotations->values[i]);
        yajl_gen_map_close(g);
    }
    yajl_gen_map_close(g);

    const unsigned char *buf;
    size_t len;
    int ret;
    if (yajl_gen_get_buf(g, &buf, &len) != yajl_gen_status_ok)
        ret = husk_error_set(err, EINVAL, "generate " HUSK_STATE_FILE);
    else
        ret = husk_write_file_atomic_at(dir_fd, HUSK_STATE_FILE, buf, len, 0600, err);
    yajl_gen_free(g);
    return ret;
}

static char *tree_strdup(yajl_val root, const char *key)
{
    const char *path[] = { key, NULL };
    yajl_val v = yajl_tree_get(root, path, yajl_t_string);
    const char *s = v != NULL ? YAJL_GET_STRING(v) : NULL;
    return s != NULL ? strdup(s) : NULL;
}

static long long tree_int(yajl_val root, const char *key, long long dflt)
{
    const char *path[] = { key, NULL };
    yajl_val v = yajl_tree_get(root, path, yajl_t_number);
    return v != NULL && YAJL_IS_INTEGER(v) ? YAJL_GET_INTEGER(v) : dflt;
}

static ocispec_string_map *tree_map(yajl_val root, const char *key)
{
    const char *path[] = { key, NULL };
    yajl_val v = yajl_tree_get(root, path, yajl_t_object);
    if (v == NULL)
        return NULL;
    ocispec_string_map *m = calloc(1, sizeof(*m));
    if (m == NULL)
        return NULL;
    size_t n = v->u.object.len;
    m->keys = calloc(n + 1, sizeof(char *));
    m->values = calloc(n + 1, sizeof(char *));
    for (size_t i = 0; m->keys != NULL && m->values != NULL && i < n; i++) {
        yajl_val val = v->u.object.values[i];
        m->keys[m->len] = strdup(v->u.object.keys[i]);
        m->values[m->len] = strdup(YAJL_IS_STRING(val) ? YAJL_GET_STRING(val) : "");
        m->len++;
    }
    return m;
}

int husk_state_record_load(int dir_fd, husk_state_record **out, husk_error_t *err)
{
    cleanup_free char *text = NULL;
    if (husk_read_file_at(dir_fd, HUSK_STATE_FILE, &text, NULL, err) < 0)
        return -1;
    char errbuf[256];
    yajl_val root = yajl_tree_parse(text, errbuf, sizeof(errbuf));
    if (root == NULL || !YAJL_IS_OBJECT(root)) {
        yajl_tree_free(root);
        return husk_error_set(err, EINVAL, HUSK_STATE_FILE ": not a JSON object");
    }
    husk_state_record *rec = calloc(1, sizeof(*rec));
    if (rec == NULL) {
        yajl_tree_free(root);
        return husk_error_set(err, ENOMEM, "read " HUSK_STATE_FILE);
    }
    rec->id = tree_strdup(root, "id");
    rec->pid = (pid_t) tree_int(root, "pid", 0);
    cleanup_free char *start = tree_strdup(root, "pidStart");
    rec->pid_start = start != NULL ? strtoull(start, NULL, 10) : 0;
    rec->bundle = tree_strdup(root, "bundle");
    rec->rootfs = tree_strdup(root, "rootfs");
    rec->created = tree_strdup(root, "created");
    rec->owner_uid = (uid_t) tree_int(root, "ownerUid", 0);
    rec->cgroup_path = tree_strdup(root, "cgroupPath");
    rec->cgroup_manager = tree_strdup(root, "cgroupManager");
    const char *kc[] = { "keepConfig", NULL };
    rec->keep_config = YAJL_IS_TRUE(yajl_tree_get(root, kc, yajl_t_true));
    const char *cr[] = { "creating", NULL };
    rec->creating = YAJL_IS_TRUE(yajl_tree_get(root, cr, yajl_t_true));
    const char *nk[] = { "noNewKeyring", NULL };
    rec->no_new_keyring = YAJL_IS_TRUE(yajl_tree_get(root, nk, yajl_t_true));
    rec->annotations = tree_map(root, "annotations");
    yajl_tree_free(root);
    if (rec->id == NULL || rec->bundle == NULL) {
        husk_state_record_free(rec);
        return husk_error_set(err, EINVAL, HUSK_STATE_FILE ": missing id or bundle");
    }
    *out = rec;
    return 0;
}

static void string_map_free(ocispec_string_map *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->len; i++) {
        free(m->keys[i]);
        free(m->values[i]);
    }
    free(m->keys);
    free(m->values);
    free(m);
}

void husk_state_record_free(husk_state_record *rec)
{
    if (rec == NULL)
        return;
    free(rec->id);
    free(rec->bundle);
    free(rec->rootfs);
    free(rec->created);
    free(rec->cgroup_path);
    free(rec->cgroup_manager);
    string_map_free(rec->annotations);
    free(rec);
}

void husk_state_record_free_ptr(husk_state_record **rec)
{
    husk_state_record_free(*rec);
    *rec = NULL;
}

/* ---------- processes and time ---------- */

int husk_proc_start_time(pid_t pid, uint64_t *start, bool *zombie, husk_error_t *err)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
    cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return husk_error_set(err, errno, "open `%s`", path);
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    if (n <= 0)
        return husk_error_set(err, n < 0 ? errno : ESRCH, "read `%s`", path);
    buf[n] = '\0';
    /* comm (field 2) may hold spaces and parentheses: parse after the last ')'. */
    char *p = strrchr(buf, ')');
    if (p == NULL || p[1] != ' ')
        return husk_error_set(err, EINVAL, "parse `%s`", path);
    p += 2;
    if (zombie != NULL)
        *zombie = *p == 'Z' || *p == 'X';
    /* p is at field 3; field 22 is 19 fields further. */
    for (int field = 3; field < 22; field++) {
        p = strchr(p, ' ');
        if (p == NULL)
            return husk_error_set(err, EINVAL, "parse `%s`", path);
        p++;
    }
    *start = strtoull(p, NULL, 10);
    return 0;
}

char *husk_rfc3339_now(void)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    char date[32], frac[16];
    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
    frac[0] = '\0';
    if (ts.tv_nsec != 0) {
        snprintf(frac, sizeof(frac), ".%09ld", ts.tv_nsec);
        /* Like Go's RFC3339Nano: no trailing zeros. */
        size_t len = strlen(frac);
        while (frac[len - 1] == '0')
            frac[--len] = '\0';
    }
    char *out = NULL;
    if (asprintf(&out, "%s%sZ", date, frac) < 0)
        return NULL;
    return out;
}

int husk_store_open_for(const char *root, const char *id, husk_store **out, husk_error_t *err)
{
    if (husk_store_validate_id(id, err) < 0)
        return -1;
    if (husk_store_open(root, false, out, err) < 0) {
        if ((*err)->errno_value != ENOENT)
            return -1;
        husk_error_free(err);
        return husk_error_plain(err, ENOENT, "container `%s` does not exist", id);
    }
    return 0;
}
