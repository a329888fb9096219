/* h5cmp A.h5 B.h5 NAME...: exit 0 when every named float dataset has the same shape and the same bits in both
 * files, else 1 with a line naming the first difference (tests/api.sh: the C example vs the CLI). */
#include "../src/core/mem.h"
#include "../src/io/h5.h"
#include <stdio.h>
#include <string.h>

static int same(const char *a, const char *b, const char *name) {
    float *x = NULL, *y = NULL;
    int rx = 0, ry = 0;
    size_t dx[8], dy[8];
    nd_error err;
    if (nd_h5_read_float(a, name, &x, &rx, dx, &err) || nd_h5_read_float(b, name, &y, &ry, dy, &err)) {
        printf("h5cmp: %s\n", err.msg);
        nd_free(x);
        return 0;
    }
    size_t n = 1;
    int ok = rx == ry;
    for (int i = 0; ok && i < rx; i++) ok = dx[i] == dy[i], n *= dx[i];
    if (!ok) printf("h5cmp: %s: shapes differ\n", name);
    for (size_t i = 0; ok && i < n; i++)
        if (memcmp(&x[i], &y[i], sizeof(float))) {
            printf("h5cmp: %s[%zu]: %.9g vs %.9g\n", name, i, x[i], y[i]);
            ok = 0;
        }
    if (ok) printf("h5cmp: %s: %zu values, same bits\n", name, n);
    nd_free(x);
    nd_free(y);
    return ok;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: h5cmp A.h5 B.h5 NAME...\n");
        return 2;
    }
    int ok = 1;
    for (int i = 3; i < argc; i++) ok &= same(argv[1], argv[2], argv[i]);
    return ok ? 0 : 1;
}
