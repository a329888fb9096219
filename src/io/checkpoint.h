/* Checkpoint files: named binary sections, written atomically (temp file, fsync,
 * rename, fsync of the directory) and verified on load (magic, version, sizes,
 * CRC-32 of everything before the checksum). Layout:
 *   "NDCKPT\r\n" | u32 version | u32 nsections |
 *   nsections x ( char name[32] | u64 bytes | data ) | u32 crc32 | "NDEND\0\0\0" */
#ifndef ND_IO_CHECKPOINT_H
#define ND_IO_CHECKPOINT_H
#include <stddef.h>
#include <stdint.h>
#include "../core/status.h"

/* version 2 (issue 16) adds the optional section "fingerprint"; version 1 files are still read */
#define ND_CKPT_VERSION 2u
#define ND_CKPT_VERSION_MIN 1u

typedef struct {
    const char *name;
    const void *data;
    size_t bytes;
} nd_ckpt_section;

typedef struct {
    char name[32];
    const void *data;
    size_t bytes;
} nd_ckpt_entry;

typedef struct {
    int n;
    nd_ckpt_entry *e;
    void *buf;
} nd_ckpt;

nd_status nd_ckpt_write(const char *path, const nd_ckpt_section *s, int n, nd_error *err);
/* Same, but an existing `path` is first renamed to `prev_path` (the last two versions are kept). */
nd_status nd_ckpt_write_keep(const char *path, const char *prev_path, const nd_ckpt_section *s, int n,
                             nd_error *err);
nd_status nd_ckpt_read(const char *path, nd_ckpt *c, nd_error *err);
/* the named section, or NULL */
const nd_ckpt_entry *nd_ckpt_find(const nd_ckpt *c, const char *name);
/* copy a section of exactly `bytes` bytes into dst; error names the file and section */
nd_status nd_ckpt_get(const nd_ckpt *c, const char *path, const char *name, void *dst, size_t bytes, nd_error *err);
void nd_ckpt_free(nd_ckpt *c);

/* Write a whole file atomically (temp + fsync + rename). */
nd_status nd_write_file_atomic(const char *path, const void *data, size_t bytes, nd_error *err);

#endif
