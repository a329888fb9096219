/* Gaussian smoothing along time of [n][T][N] arrays (the eval metrics' baseline, PSTHs, the stitching
 * initialisation). Lives in core so that every layer may use it. */
#ifndef ND_CORE_SMOOTH_H
#define ND_CORE_SMOOTH_H

/* Acausal Gaussian smoothing along time of every (trial, neuron) series of counts
 * [n][T][N] into out [n][T][N] (out must not alias counts). Kernel w_k = exp(-k^2 / (2 sigma^2))
 * for |k| <= ceil(3 sigma); at each t the weights of the taps that fall inside [0, T) are
 * renormalised to sum to 1, so the output stays in counts/bin (also near the edges).
 * sigma_bins <= 0 (or not finite) copies the input. */
void nd_smooth_gaussian(float *out, const float *counts, int n, int T, int N, double sigma_bins);
/* The same smoothing in double precision (out must not alias x). */
void nd_smooth_gaussian_d(double *out, const double *x, int n, int T, int N, double sigma_bins);

#endif
