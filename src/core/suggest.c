#include "suggest.h"
#include <string.h>

/* optimal string alignment distance (Levenshtein plus transpositions of neighbours), capped at 64 characters */
static int edit_distance(const char *a, const char *b) {
    int la = (int)strlen(a), lb = (int)strlen(b);
    if (la > 64 || lb > 64) return 99;
    int d[65][65];
    for (int i = 0; i <= la; i++) d[i][0] = i;
    for (int j = 0; j <= lb; j++) d[0][j] = j;
    for (int i = 1; i <= la; i++)
        for (int j = 1; j <= lb; j++) {
            int v = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < v) v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v) v = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1;
            d[i][j] = v;
        }
    return d[la][lb];
}

const char *nd_suggest(const char *word, const char *const *cands, int n) {
    const char *best = NULL, *prefix = NULL;
    int bd = 99, nprefix = 0;
    size_t lw = strlen(word);
    for (int i = 0; i < n; i++) {
        int dist = edit_distance(word, cands[i]);
        if (dist < bd) bd = dist, best = cands[i];
        if (lw >= 2 && !strncmp(word, cands[i], lw)) prefix = cands[i], nprefix++;
    }
    if (best && bd <= (lw <= 4 ? 1 : 2)) return best;
    return nprefix == 1 ? prefix : NULL;
}
