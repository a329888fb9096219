/* "Did you mean" hints for mistyped names (commands, options, config keys, datasets). */
#ifndef ND_CORE_SUGGEST_H
#define ND_CORE_SUGGEST_H

/* The candidate closest to word (edit distance, a swap of two neighbours counting 1) when it is close enough to be
 * a typo: distance <= 1 for words of up to 4 letters, <= 2 for longer ones, or word is a prefix of exactly one
 * candidate; NULL otherwise. */
const char *nd_suggest(const char *word, const char *const *cands, int n);

#endif
