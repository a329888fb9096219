/* The table-driven option parser of the CLI (see opt.h). */
#include "opt.h"
#include "../core/suggest.h"
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_NAMES 256

long cli_default_threads(void) {
    const char *e = getenv("OMP_NUM_THREADS");
    if (e && *e) {
        char *end;
        long v = strtol(e, &end, 10);
        if ((*end == 0 || *end == ',') && v >= 1) return v > 1024 ? 1024 : v;
    }
    long c = sysconf(_SC_NPROCESSORS_ONLN);
    return c < 1 ? 1 : c > 1024 ? 1024 : c;
}

void cli_list_free(cli_list *l) {
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

/* is word[0..n) one of the '|'-separated entries of list? */
static int in_list(const char *list, const char *word, size_t n) {
    const char *p = list;
    while (*p) {
        size_t k = strcspn(p, "|");
        if (k == n && !strncmp(p, word, n)) return 1;
        p += k;
        if (*p == '|') p++;
    }
    return 0;
}

static const char *meta_of(const cli_opt *o) {
    if (o->meta) return o->meta;
    switch (o->kind) {
    case CLI_INT: case CLI_THREADS: return "N";
    case CLI_REAL: case CLI_OPTREAL: return "X";
    case CLI_CHOICE: return o->choices;
    default: return "VALUE";
    }
}

/* `as`: the option's name as the user wrote it (an alias, or a short option: "-t"), with its dashes */
static int bad_value(const cli_spec *s, const cli_opt *o, const char *v, const char *as) {
    fprintf(stderr, "neurodyn %s: bad value '%s' for %s", s->cmd, v, as);
    if (o->kind == CLI_CHOICE) fprintf(stderr, " (one of %s)", o->choices);
    else if (o->kind == CLI_REAL && o->hi >= 1e300 && o->lo > 0 && o->lo < 1e-100)
        fprintf(stderr, " (a number > 0)");
    else if ((o->kind == CLI_REAL || o->kind == CLI_OPTREAL) && o->hi >= 1e300 && (o->lo != 0 || o->hi != 0))
        fprintf(stderr, " (a number >= %.15g)", o->lo);
    else if ((o->kind == CLI_INT || o->kind == CLI_REAL) && (o->lo != 0 || o->hi != 0))
        fprintf(stderr, " (%s from %.15g to %.15g)", o->kind == CLI_INT ? "a whole number" : "a number", o->lo, o->hi);
    else if (o->kind == CLI_THREADS) fprintf(stderr, " (a whole number from 1 to 1024)");
    fprintf(stderr, "; see 'neurodyn %s --help'\n", s->cmd);
    return 2;
}

/* store value v (NULL for a flag) into o's destination; 0 or 2 after a message */
static int store(const cli_spec *s, const cli_opt *o, const char *v, const char *as) {
    char *end;
    switch (o->kind) {
    case CLI_FLAG: *(int *)o->dst = 1; return 0;
    case CLI_STR: *(const char **)o->dst = v; return 0;
    case CLI_CHOICE:
        if (!in_list(o->choices, v, strlen(v))) return bad_value(s, o, v, as);
        *(const char **)o->dst = v;
        return 0;
    case CLI_JSON: {
        cli_json *j = o->dst;
        j->on = 1;
        j->path = v && *v ? v : NULL;
        return 0;
    }
    case CLI_INT: case CLI_THREADS: {
        errno = 0;
        long x = strtol(v, &end, 10);
        double lo = o->kind == CLI_THREADS ? 1 : o->lo, hi = o->kind == CLI_THREADS ? 1024 : o->hi;
        if (end == v || *end || errno || ((lo != 0 || hi != 0) && (x < lo || x > hi))) return bad_value(s, o, v, as);
        *(long *)o->dst = x;
        return 0;
    }
    case CLI_REAL: {
        double x = strtod(v, &end);
        if (end == v || *end || !isfinite(x) || ((o->lo != 0 || o->hi != 0) && (x < o->lo || x > o->hi)))
            return bad_value(s, o, v, as);
        *(double *)o->dst = x;
        return 0;
    }
    case CLI_OPTREAL: {
        cli_optreal *q = o->dst;
        q->on = 1;
        if (!v) return 0;
        double x = strtod(v, &end);
        if (end == v || *end || !isfinite(x) || ((o->lo != 0 || o->hi != 0) && (x < o->lo || x > o->hi)))
            return bad_value(s, o, v, as);
        q->v = x;
        return 0;
    }
    case CLI_LIST: {
        cli_list *l = o->dst;
        const char **nv = realloc(l->v, sizeof(char *) * (size_t)(l->n + 1));
        if (!nv) { fprintf(stderr, "neurodyn %s: out of memory\n", s->cmd); return 2; }
        l->v = nv;
        l->v[l->n++] = v;
        return 0;
    }
    }
    return 2;
}

static int unknown(const cli_spec *s, const char *arg) {
    const char *names[MAX_NAMES];
    char buf[MAX_NAMES][64];
    int n = 0;
    for (const cli_opt *o = s->opts; o->name && n < MAX_NAMES - 1; o++) {
        const char *p = o->name;
        while (*p && n < MAX_NAMES - 1) {
            size_t k = strcspn(p, "|");
            snprintf(buf[n], sizeof buf[n], "%.*s", (int)k, p);
            names[n] = buf[n];
            n++;
            p += k;
            if (*p == '|') p++;
        }
    }
    names[n++] = "help";
    const char *w = arg;
    while (*w == '-') w++;
    char word[64];
    snprintf(word, sizeof word, "%.*s", (int)strcspn(w, "="), w);
    const char *near = arg[0] == '-' && arg[1] == '-' ? nd_suggest(word, names, n) : NULL;
    if (near)
        fprintf(stderr, "neurodyn %s: unknown option '%s'; did you mean '--%s'? (see 'neurodyn %s --help')\n", s->cmd,
                arg, near, s->cmd);
    else
        fprintf(stderr, "neurodyn %s: unknown option '%s' (see 'neurodyn %s --help')\n", s->cmd, arg, s->cmd);
    return 2;
}

static int ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

int cli_parse(const cli_spec *s, int argc, char **argv, char **pos, int *npos) {
    *npos = 0;
    for (const cli_opt *o = s->opts; o->name; o++) {
        if (o->kind == CLI_THREADS) *(long *)o->dst = cli_default_threads();
        char as[64];
        snprintf(as, sizeof as, "--%.*s", (int)strcspn(o->name, "|"), o->name);
        if (o->def && store(s, o, o->def, as)) return 2;
    }
    int only_pos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (only_pos || a[0] != '-' || a[1] == 0) { pos[(*npos)++] = argv[i]; continue; }
        if (!strcmp(a, "--")) { only_pos = 1; continue; }
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { cli_help(s, stdout); return -1; }
        const cli_opt *o = NULL;
        const char *v = NULL;
        int attached = 0;
        if (a[1] == '-') {
            const char *nm = a + 2;
            size_t k = strcspn(nm, "=");
            for (const cli_opt *p = s->opts; p->name && !o; p++)
                if (in_list(p->name, nm, k)) o = p;
            if (o && nm[k] == '=') { v = nm + k + 1; attached = 1; }
        } else {
            for (const cli_opt *p = s->opts; p->name && !o; p++)
                if (p->shrt && p->shrt == a[1]) o = p;
            if (o && a[2]) { v = a + 2; attached = 1; }
        }
        if (!o) return unknown(s, a);
        size_t k = strcspn(o->name, "|");
        if (o->kind == CLI_FLAG) {
            if (attached) {
                fprintf(stderr, "neurodyn %s: --%.*s takes no value (see 'neurodyn %s --help')\n", s->cmd, (int)k,
                        o->name, s->cmd);
                return 2;
            }
        } else if (o->kind == CLI_OPTREAL) {
            /* --NAME X when X is a number (a negative one too, to be refused by its bounds) */
            if (!attached && i + 1 < argc) {
                char *end;
                strtod(argv[i + 1], &end);
                if (end != argv[i + 1] && !*end) v = argv[++i];
            }
        } else if (o->kind == CLI_JSON) {
            /* --json FILE.json (the older form) as well as --json=FILE */
            if (!attached && i + 1 < argc && argv[i + 1][0] != '-' && ends_with(argv[i + 1], ".json")) v = argv[++i];
        } else if (!attached) {
            if (i + 1 >= argc) {
                fprintf(stderr, "neurodyn %s: --%.*s needs a value (%s; see 'neurodyn %s --help')\n", s->cmd, (int)k,
                        o->name, meta_of(o), s->cmd);
                return 2;
            }
            v = argv[++i];
        }
        char as[64];
        snprintf(as, sizeof as, "%.*s", (int)strcspn(a, "="), a);
        if (a[1] != '-') snprintf(as, sizeof as, "-%c", a[1]);
        int rc = store(s, o, v, as);
        if (rc) return rc;
    }
    if (*npos < s->min_pos || (s->max_pos >= 0 && *npos > s->max_pos)) {
        fprintf(stderr, "neurodyn %s: expected %s (see 'neurodyn %s --help')\n", s->cmd, s->pos_what, s->cmd);
        return 2;
    }
    return 0;
}

void cli_help(const cli_spec *s, FILE *f) {
    fprintf(f, "usage: neurodyn %s %s\n\n%s\noptions:\n", s->cmd, s->usage, s->about);
    for (const cli_opt *o = s->opts; o->name; o++) {
        char left[128];
        size_t k = strcspn(o->name, "|");
        int n = 0;
        if (o->shrt) n = snprintf(left, sizeof left, "-%c, ", o->shrt);
        if (o->kind == CLI_FLAG || o->kind == CLI_JSON)
            snprintf(left + n, sizeof left - n, "--%.*s%s", (int)k, o->name, o->kind == CLI_JSON ? "[=FILE]" : "");
        else if (o->kind == CLI_OPTREAL)
            snprintf(left + n, sizeof left - n, "--%.*s [%s]", (int)k, o->name, meta_of(o));
        else
            snprintf(left + n, sizeof left - n, "--%.*s %s", (int)k, o->name, meta_of(o));
        fprintf(f, "  %-26s %s", left, o->help);
        if (o->kind == CLI_THREADS) fprintf(f, " (default: all cores, or OMP_NUM_THREADS)");
        else if (o->def && o->kind != CLI_FLAG) fprintf(f, " (default %s)", o->def);
        if (o->name[k] == '|') fprintf(f, " [also --%s]", o->name + k + 1);
        fprintf(f, "\n");
    }
    fprintf(f, "  %-26s %s\n", "-h, --help", "this text");
    if (s->extra_help) s->extra_help(f);
    fprintf(f, "\nexample%s:\n", strchr(s->examples, '\n') && strchr(s->examples, '\n')[1] ? "s" : "");
    const char *p = s->examples;
    while (*p) {
        size_t k = strcspn(p, "\n");
        fprintf(f, "  neurodyn %s %.*s\n", s->cmd, (int)k, p);
        p += k;
        if (*p) p++;
    }
}
