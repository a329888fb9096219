#include "checkpoint.h"
#include "../core/fault.h"
#include <signal.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

static const char MAGIC[8] = {'N', 'D', 'C', 'K', 'P', 'T', '\r', '\n'};
static const char TRAILER[8] = {'N', 'D', 'E', 'N', 'D', 0, 0, 0};

static nd_status write_all(int fd, const void *p, size_t n, uLong *crc, const char *path, nd_error *err) {
    const unsigned char *b = p;
    if (crc) {
        size_t left = n;
        const unsigned char *q = b;
        while (left) {
            uInt chunk = left > (1u << 30) ? (1u << 30) : (uInt)left;
            *crc = crc32(*crc, q, chunk);
            q += chunk;
            left -= chunk;
        }
    }
    if (n > 1 && nd_fault_hit("ND_FAULT_WRITE_ENOSPC")) { /* disk-full injection (tests) */
        errno = ENOSPC;
        return nd_fail(err, ND_ERR_IO, "%s: write failed: %s", path, strerror(errno));
    }
    if (n > 1 && nd_fault_hit("ND_FAULT_WRITE_KILL")) { /* die half-way through a write (crash tests) */
        if (write(fd, b, n / 2) < 0) { /* the kill below is the point */ }
        raise(SIGKILL);
    }
    while (n) {
        ssize_t w = write(fd, b, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return nd_fail(err, ND_ERR_IO, "%s: write failed: %s", path, strerror(errno));
        }
        b += w;
        n -= (size_t)w;
    }
    return ND_OK;
}

static void fsync_dir_of(const char *path) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", path);
    int fd = open(dirname(tmp), O_RDONLY);
    if (fd >= 0) { fsync(fd); close(fd); }
}

typedef struct { const void *data; size_t bytes; } piece;

static nd_status write_atomic_pieces(const char *path, const nd_ckpt_section *s, int n, int framed,
                                     const char *keep_prev, nd_error *err) {
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return nd_fail(err, ND_ERR_ARG, "%s: path too long", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return nd_fail(err, ND_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
    uLong crc = crc32(0L, Z_NULL, 0);
    nd_status st = ND_OK;
    if (framed) {
        uint32_t hdr[2] = {ND_CKPT_VERSION, (uint32_t)n};
        st = write_all(fd, MAGIC, 8, &crc, tmp, err);
        if (!st) st = write_all(fd, hdr, sizeof hdr, &crc, tmp, err);
    }
    for (int i = 0; i < n && !st; i++) {
        if (framed) {
            char name[32] = {0};
            strncpy(name, s[i].name, sizeof name - 1);
            uint64_t bytes = s[i].bytes;
            st = write_all(fd, name, sizeof name, &crc, tmp, err);
            if (!st) st = write_all(fd, &bytes, sizeof bytes, &crc, tmp, err);
        }
        if (!st) st = write_all(fd, s[i].data, s[i].bytes, &crc, tmp, err);
    }
    if (framed && !st) {
        uint32_t c32 = (uint32_t)crc;
        st = write_all(fd, &c32, sizeof c32, NULL, tmp, err);
        if (!st) st = write_all(fd, TRAILER, 8, NULL, tmp, err);
    }
    if (!st && fsync(fd) != 0) st = nd_fail(err, ND_ERR_IO, "%s: fsync failed: %s", tmp, strerror(errno));
    if (close(fd) != 0 && !st) st = nd_fail(err, ND_ERR_IO, "%s: close failed: %s", tmp, strerror(errno));
    /* keep the previous version: if we die between the two renames, both the previous file and the
     * complete temp file exist, and a reader falls back to the previous one */
    if (!st && keep_prev && access(path, F_OK) == 0 && rename(path, keep_prev) != 0)
        st = nd_fail(err, ND_ERR_IO, "%s: cannot keep the previous version as %s: %s", path, keep_prev,
                     strerror(errno));
    if (!st && rename(tmp, path) != 0)
        st = nd_fail(err, ND_ERR_IO, "%s: cannot rename into place: %s", path, strerror(errno));
    if (st) unlink(tmp);
    else fsync_dir_of(path);
    return st;
}

nd_status nd_ckpt_write(const char *path, const nd_ckpt_section *s, int n, nd_error *err) {
    return write_atomic_pieces(path, s, n, 1, NULL, err);
}

nd_status nd_ckpt_write_keep(const char *path, const char *prev_path, const nd_ckpt_section *s, int n,
                             nd_error *err) {
    return write_atomic_pieces(path, s, n, 1, prev_path, err);
}

nd_status nd_write_file_atomic(const char *path, const void *data, size_t bytes, nd_error *err) {
    nd_ckpt_section s = {"", data, bytes};
    return write_atomic_pieces(path, &s, 1, 0, NULL, err);
}

nd_status nd_ckpt_read(const char *path, nd_ckpt *c, nd_error *err) {
    memset(c, 0, sizeof *c);
    FILE *f = fopen(path, "rb");
    if (!f) return nd_fail(err, ND_ERR_IO, "%s: cannot open checkpoint: %s", path, strerror(errno));
    if (fseek(f, 0, SEEK_END) != 0) { fclose(f); return nd_fail(err, ND_ERR_IO, "%s: cannot seek", path); }
    long size = ftell(f);
    rewind(f);
    if (size < 8 + 8 + 4 + 8) {
        fclose(f);
        return nd_fail(err, ND_ERR_CHECKPOINT, "%s: checkpoint truncated (%ld bytes)", path, size);
    }
    unsigned char *buf = malloc((size_t)size);
    if (!buf) { fclose(f); return nd_fail(err, ND_ERR_NOMEM, "%s: out of memory reading checkpoint", path); }
    size_t got = fread(buf, 1, (size_t)size, f);
    fclose(f);
    nd_status st = ND_OK;
    if (got != (size_t)size) { st = nd_fail(err, ND_ERR_IO, "%s: short read", path); goto fail; }
    if (memcmp(buf, MAGIC, 8) != 0) {
        st = nd_fail(err, ND_ERR_CHECKPOINT, "%s: not a neurodyn checkpoint (bad magic)", path);
        goto fail;
    }
    if (memcmp(buf + size - 8, TRAILER, 8) != 0) {
        st = nd_fail(err, ND_ERR_CHECKPOINT, "%s: checkpoint truncated or corrupt (no trailer)", path);
        goto fail;
    }
    uint32_t version, nsec, stored;
    memcpy(&version, buf + 8, 4);
    memcpy(&nsec, buf + 12, 4);
    memcpy(&stored, buf + size - 12, 4);
    if (version < ND_CKPT_VERSION_MIN || version > ND_CKPT_VERSION) {
        st = nd_fail(err, ND_ERR_CHECKPOINT, "%s: checkpoint version %u, this build reads versions %u to %u", path,
                     version, ND_CKPT_VERSION_MIN, ND_CKPT_VERSION);
        goto fail;
    }
    uLong crc = crc32(0L, Z_NULL, 0);
    size_t body = (size_t)size - 12;
    for (size_t off = 0; off < body;) {
        uInt chunk = body - off > (1u << 30) ? (1u << 30) : (uInt)(body - off);
        crc = crc32(crc, buf + off, chunk);
        off += chunk;
    }
    if ((uint32_t)crc != stored) {
        st = nd_fail(err, ND_ERR_CHECKPOINT, "%s: checksum mismatch (file corrupt)", path);
        goto fail;
    }
    if (nsec > 10000) { st = nd_fail(err, ND_ERR_CHECKPOINT, "%s: implausible section count", path); goto fail; }
    c->e = calloc(nsec ? nsec : 1, sizeof *c->e);
    if (!c->e) { st = nd_fail(err, ND_ERR_NOMEM, "%s: out of memory", path); goto fail; }
    size_t off = 16;
    for (uint32_t i = 0; i < nsec; i++) {
        uint64_t bytes;
        if (off + 40 > body) { st = nd_fail(err, ND_ERR_CHECKPOINT, "%s: section table truncated", path); goto fail; }
        memcpy(c->e[i].name, buf + off, 32);
        c->e[i].name[31] = 0;
        memcpy(&bytes, buf + off + 32, 8);
        off += 40;
        if (bytes > body - off) {
            st = nd_fail(err, ND_ERR_CHECKPOINT, "%s: section '%s' runs past the end", path, c->e[i].name);
            goto fail;
        }
        c->e[i].data = buf + off;
        c->e[i].bytes = (size_t)bytes;
        off += bytes;
    }
    if (off != body) { st = nd_fail(err, ND_ERR_CHECKPOINT, "%s: trailing bytes after sections", path); goto fail; }
    c->n = (int)nsec;
    c->buf = buf;
    return ND_OK;
fail:
    free(c->e);
    c->e = NULL;
    free(buf);
    return st;
}

const nd_ckpt_entry *nd_ckpt_find(const nd_ckpt *c, const char *name) {
    for (int i = 0; i < c->n; i++)
        if (!strcmp(c->e[i].name, name)) return &c->e[i];
    return NULL;
}

nd_status nd_ckpt_get(const nd_ckpt *c, const char *path, const char *name, void *dst, size_t bytes, nd_error *err) {
    const nd_ckpt_entry *e = nd_ckpt_find(c, name);
    if (!e) return nd_fail(err, ND_ERR_CHECKPOINT, "%s: section '%s' missing", path, name);
    if (e->bytes != bytes)
        return nd_fail(err, ND_ERR_CHECKPOINT, "%s: section '%s' has %zu bytes, expected %zu", path, name, e->bytes,
                       bytes);
    memcpy(dst, e->data, bytes);
    return ND_OK;
}

void nd_ckpt_free(nd_ckpt *c) {
    free(c->e);
    free(c->buf);
    memset(c, 0, sizeof *c);
}
