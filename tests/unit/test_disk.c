/*
 * Unit tests for cache/disk: a value stored and read back with its meta;
 * every kind of damage to an entry (magic, lengths, key, payload, a
 * truncation) read as a miss, counted and deleted; another key's entry
 * under the same name (a hash collision) a miss that is left alone; the
 * byte bound with least-recently-stored eviction; an unusable directory.
 * In a fresh directory under $TMPDIR, removed at the end.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../cache/disk.h"
#include "unit.h"

static void quiet(int level, const char *fmt, ...)
{
    (void)level;
    (void)fmt;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Wait up to 5 s for the tier's stores to reach n. */
static int wait_stores(struct disk *d, unsigned long n)
{
    struct disk_stats st;

    for (int i = 0; i < 500; i++) {
        disk_stats(d, &st);
        if (st.stores >= n)
            return 1;
        sleep_ms(10);
    }
    return 0;
}

static struct blob *filled(size_t n, int seed)
{
    struct blob *b = blob_new(n);

    for (size_t i = 0; i < n; i++)
        b->data[i] = (unsigned char)(i * 31 + (size_t)seed);
    return b;
}

/* The entry files in dir (not temporary ones): up to max paths into out;
 * their count. */
static int list_entries(const char *dir, char (*out)[700], int max)
{
    int n = 0;

    for (int i = 0; i < 256; i++) {
        char sub[600];
        DIR *dp;
        struct dirent *e;

        snprintf(sub, sizeof(sub), "%s/%02x", dir, i);
        if (!(dp = opendir(sub)))
            continue;
        while ((e = readdir(dp)))
            if (strlen(e->d_name) == 32 && n < max)
                snprintf(out[n++], sizeof(out[0]), "%s/%s", sub, e->d_name);
        closedir(dp);
    }
    return n;
}

/* The one entry file in dir (its path in out), or 0 when not exactly one. */
static int only_entry(const char *dir, char *out, size_t len)
{
    char found[2][700];

    if (list_entries(dir, found, 2) != 1)
        return 0;
    snprintf(out, len, "%s", found[0]);
    return 1;
}

static void flip_at(const char *path, long off)
{
    int fd = open(path, O_RDWR);
    unsigned char c;

    if (off < 0)
        off += lseek(fd, 0, SEEK_END);
    pread(fd, &c, 1, off);
    c ^= 0x5a;
    pwrite(fd, &c, 1, off);
    close(fd);
}

static void rm_tree(const char *dir)
{
    char cmd[700];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

int main(void)
{
    char dir[512], err[256], path[700];
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    struct cache_meta meta = {12345, 640, 360}, got;
    struct disk_stats st;
    struct disk *d;
    struct blob *b, *r;

    snprintf(dir, sizeof(dir), "%s/framefs-test-disk.XXXXXX", tmp);
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    strcat(dir, "/cache");                     /* made by disk_new() */

    /* ---- store, read back ---- */
    d = disk_new(dir, 1 << 20, quiet, err, sizeof(err));
    CHECK(d != NULL, "disk_new makes the directory and starts");
    disk_stats(d, &st);
    CHECK(st.state == DISK_ON, "the tier is on");
    b = filled(50000, 1);
    disk_put(d, "F:abc:0:t=1", b, &meta);
    CHECK(wait_stores(d, 1), "the store lands");
    r = disk_get(d, "F:abc:0:t=1", &got, NULL, NULL);
    CHECK(r && r->size == b->size && memcmp(r->data, b->data, b->size) == 0,
          "the value reads back byte for byte");
    CHECK(r && got.tag == 12345 && got.width == 640 && got.height == 360, "with its meta");
    blob_unref(r);
    CHECK(!disk_get(d, "F:abc:0:t=2", &got, NULL, NULL), "another key misses");
    CHECK(only_entry(dir, path, sizeof(path)), "one entry file, named by the key's hash");
    disk_free(d);

    /* ---- damage, each read as a miss, counted, deleted ---- */
    {
        static const struct { long off; const char *what; } damage[] = {
            {0, "the magic"}, {12, "the key length"}, {16, "the payload length"},
            {24, "the meta"}, {48, "the key"}, {-1, "the payload's last byte"},
            {-25000, "the payload's middle"},
        };

        for (size_t k = 0; k < sizeof(damage) / sizeof(damage[0]); k++) {
            d = disk_new(dir, 1 << 20, quiet, err, sizeof(err));
            disk_put(d, "F:abc:0:t=1", b, &meta);
            wait_stores(d, 1);
            only_entry(dir, path, sizeof(path));
            flip_at(path, damage[k].off);
            r = disk_get(d, "F:abc:0:t=1", &got, NULL, NULL);
            disk_stats(d, &st);
            CHECK(!r && st.corrupt == 1 && access(path, F_OK) != 0,
                  "a flipped byte in %s: a miss, counted corrupt, deleted", damage[k].what);
            blob_unref(r);
            disk_free(d);
        }
        d = disk_new(dir, 1 << 20, quiet, err, sizeof(err));
        disk_put(d, "F:abc:0:t=1", b, &meta);
        wait_stores(d, 1);
        only_entry(dir, path, sizeof(path));
        CHECK(truncate(path, 30000) == 0, "(truncated to 30000 bytes)");
        r = disk_get(d, "F:abc:0:t=1", &got, NULL, NULL);
        disk_stats(d, &st);
        CHECK(!r && st.corrupt == 1 && access(path, F_OK) != 0,
              "a truncated entry: a miss, counted corrupt, deleted");
        disk_free(d);
    }

    /* ---- another key's entry under this key's name ---- */
    {
        char other[700];

        d = disk_new(dir, 1 << 20, quiet, err, sizeof(err));
        disk_put(d, "F:abc:0:t=1", b, &meta);
        wait_stores(d, 1);
        only_entry(dir, other, sizeof(other));
        disk_put(d, "F:abc:0:t=9", b, &meta);
        wait_stores(d, 2);
        /* the second entry's name */
        {
            char two[2][700];

            CHECK(list_entries(dir, two, 2) == 2, "(two entries)");
            snprintf(path, sizeof(path), "%s", strcmp(two[0], other) ? two[0] : two[1]);
        }
        CHECK(rename(other, path) == 0, "(t=1's entry moved to t=9's name)");
        r = disk_get(d, "F:abc:0:t=9", &got, NULL, NULL);
        disk_stats(d, &st);
        CHECK(!r && st.corrupt == 0 && access(path, F_OK) == 0,
              "an entry of another key under the name: a miss, not corrupt, left alone");
        disk_free(d);
    }
    rm_tree(dir);

    /* ---- the byte bound ---- */
    d = disk_new(dir, 200 * 1024, quiet, err, sizeof(err));
    for (int i = 0; i < 12; i++) {
        char key[32];
        struct blob *v = filled(40000, i);

        snprintf(key, sizeof(key), "F:bound:%d", i);
        disk_put(d, key, v, &meta);
        blob_unref(v);
        wait_stores(d, (unsigned long)i + 1);
        sleep_ms(5);                          /* distinct mtimes */
    }
    disk_stats(d, &st);
    CHECK(st.bytes <= 200 * 1024 && st.evictions >= 6,
          "12 entries of 40 KB under a 200 KiB bound: %llu bytes kept, %lu evicted",
          (unsigned long long)st.bytes, st.evictions);
    r = disk_get(d, "F:bound:11", &got, NULL, NULL);
    CHECK(r != NULL, "the newest entry is kept");
    blob_unref(r);
    r = disk_get(d, "F:bound:0", &got, NULL, NULL);
    CHECK(r == NULL, "the oldest one was evicted");
    blob_unref(r);
    {
        struct blob *big = blob_new(300 * 1024);

        memset(big->data, 7, big->size);
        disk_put(d, "F:bound:big", big, &meta);
        sleep_ms(200);
        r = disk_get(d, "F:bound:big", &got, NULL, NULL);
        CHECK(r == NULL, "a value larger than the bound is not stored");
        blob_unref(r);
        blob_unref(big);
    }
    disk_free(d);
    rm_tree(dir);

    /* ---- an unusable directory ---- */
    {
        char file[600];
        FILE *f;

        snprintf(file, sizeof(file), "%s", dir);
        *strrchr(file, '/') = 0;
        strcat(file, "/a-file");
        f = fopen(file, "w");
        fclose(f);
        d = disk_new(file, 1 << 20, quiet, err, sizeof(err));
        disk_stats(d, &st);
        CHECK(d && st.state == DISK_OFF, "a cache_dir that is a file: the tier is off");
        disk_put(d, "F:x", b, &meta);
        CHECK(!disk_get(d, "F:x", &got, NULL, NULL), "and every get misses");
        disk_free(d);
        unlink(file);
    }
    blob_unref(b);
    *strrchr(dir, '/') = 0;
    rm_tree(dir);
    return unit_done();
}
