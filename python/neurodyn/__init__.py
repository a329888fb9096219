"""neurodyn: LFADS and baselines for neural population data, in Python over the C library (libneurodyn).

    import neurodyn as nd
    data = nd.load_data("data.h5")
    run = nd.train(data, out="run/", gen_dim=64, max_epochs=100, progress=True)
    out = nd.infer(run, data, samples=50)      # dict of numpy arrays under lfads-torch names
    rates_hz = nd.rates(out, data)             # original trial and neuron order, Hz
    print(nd.evaluate(out, data))              # co_bps, fp_bps, vel_r2, psth_r2, rate_r2
    nd.compare(out["valid_factors"], other, method="cka")
    nd.rdm(x, conditions); nd.jpca(x, conditions); nd.predict(x, y); nd.decode(x_tr, y_tr, x_te, y_te)
    nd.ablate(run, data); nd.fixedpoints(run, outputs=out)   # dicts of numpy arrays, as the CLI commands

Arrays coming out (data counts, outputs) are read-only numpy views of the library's buffers (no copy); they keep
their owner alive. C errors raise nd.Error with the library's one-line message (the CLI's). See docs/python.md.
"""
import os
import signal
import threading

import numpy as np

from ._lib import ffi, lib

__all__ = ['Error', 'Interrupted', 'Data', 'Run', 'Outputs', 'load_data', 'from_arrays', 'simulate_lorenz', 'train',
           'infer', 'baseline', 'rates', 'evaluate', 'compare', 'rdm', 'jpca', 'predict', 'decode', 'ablate', 'fixedpoints', 'export',
           'version']

TRAIN, VALID, TEST = lib.ND_SPLIT_TRAIN, lib.ND_SPLIT_VALID, lib.ND_SPLIT_TEST
_SPLITS = {'train': TRAIN, 'valid': VALID, 'test': TEST}


def version():
    return ffi.string(lib.nd_version()).decode()


class Error(Exception):
    """A failed library call: str(e) is the library's one-line message; e.code the nd_status."""

    def __init__(self, message, code=lib.ND_ERR_INTERNAL):
        super().__init__(message)
        self.code = code


class Interrupted(Error, KeyboardInterrupt):
    """Training stopped at an epoch boundary (Ctrl-C, or the callback returned True); train(..., resume=True)
    continues it exactly."""


class _Ctx:
    """One nd_context per call (they are cheap; a context must not be shared between threads)."""

    def __init__(self, threads=0, progress=False):
        p = ffi.new('nd_context **')
        if lib.nd_context_create(p) != lib.ND_OK:
            raise MemoryError('nd_context_create')
        self.c = ffi.gc(p[0], lib.nd_context_free)
        self.check(lib.nd_set_threads(self.c, int(threads)))
        lib.nd_set_progress(self.c, 1 if progress else 0)

    def check(self, status):
        if status != lib.ND_OK:
            msg = ffi.string(lib.nd_errmsg(self.c)).decode(errors='replace')
            raise (Interrupted if status == lib.ND_INTERRUPTED else Error)(msg, status)


class _View:
    """__array_interface__ over a library buffer; numpy keeps this object (and so the owner) alive."""

    def __init__(self, ptr, shape, typestr, owner):
        self._owner = owner
        self.__array_interface__ = {'data': (int(ffi.cast('uintptr_t', ptr)), True), 'shape': tuple(shape),
                                    'typestr': typestr, 'version': 3}


def _view(ptr, shape, owner, typestr='<f4'):
    if ptr == ffi.NULL:
        return None
    return np.asarray(_View(ptr, shape, typestr, owner))


def _f32(a, name):
    """a C-contiguous float32 array (no copy when it already is one)"""
    a = np.ascontiguousarray(a, dtype=np.float32)
    if not np.all(np.isfinite(a)):
        raise Error('%s: NaN or Inf values' % name, lib.ND_ERR_ARG)
    return a


class Data:
    """A dataset (nd_data): from load_data, from_arrays or simulate_lorenz."""

    def __init__(self, handle, path=None):
        self._h = handle
        self.path = path

    def trials(self, split='train'):
        return lib.nd_data_trials(self._h, _SPLITS[split])

    @property
    def bins(self):
        return lib.nd_data_bins(self._h)

    @property
    def neurons(self):
        return lib.nd_data_neurons(self._h)

    @property
    def recon_bins(self):
        return lib.nd_data_recon_bins(self._h)

    @property
    def recon_neurons(self):
        return lib.nd_data_recon_neurons(self._h)

    @property
    def bin_ms(self):
        return lib.nd_data_bin_ms(self._h)

    def counts(self, split='train'):
        """[trials, bins, neurons] float32, read-only, no copy (None for an empty split)"""
        n = self.trials(split)
        return _view(lib.nd_data_counts(self._h, _SPLITS[split]), (n, self.bins, self.neurons), self) if n else None

    def trial_inds(self, split='train'):
        """original trial indices of a split (int32, no copy), or None when the data gives none"""
        n = self.trials(split)
        return _view(lib.nd_data_trial_inds(self._h, _SPLITS[split]), (n,), self, '<i4') if n else None

    def neuron_ids(self):
        """original ids of the reconstructed neurons (held-in, then held-out)"""
        ctx = _Ctx()
        ids = np.empty(self.recon_neurons, dtype=np.int32)
        ctx.check(lib.nd_data_neuron_ids(ctx.c, self._h, ffi.from_buffer('int[]', ids), ids.size))
        return ids

    def __repr__(self):
        return 'neurodyn.Data(%s: %d train + %d valid + %d test trials x %d bins x %d neurons)' % (
            self.path or 'arrays', self.trials('train'), self.trials('valid'), self.trials('test'), self.bins,
            self.neurons)


def load_data(path, split_seed=0, valid_fraction=0.2):
    """Any file `neurodyn train` reads. Without valid_data, a seeded split (split_seed, valid_fraction) as the CLI's
    default (seed 0); nd.infer re-opens the file with the model's own split."""
    ctx = _Ctx()
    p = ffi.new('nd_data **')
    ctx.check(lib.nd_data_open(ctx.c, os.fsencode(path), int(split_seed), float(valid_fraction), p))
    return Data(ffi.gc(p[0], lib.nd_data_free), os.fspath(path))


def from_arrays(train, valid=None, bin_ms=0.0, split_seed=0, valid_fraction=0.2):
    """Data from spike-count arrays [trials, bins, neurons] (copied into the library). Without valid, a seeded split
    of train."""
    tr = _f32(train, 'train')
    va = None if valid is None else _f32(valid, 'valid')
    if tr.ndim != 3 or (va is not None and (va.ndim != 3 or va.shape[1:] != tr.shape[1:])):
        raise Error('from_arrays: train and valid must be [trials, bins, neurons] with the same bins and neurons',
                    lib.ND_ERR_ARG)
    ctx = _Ctx()
    p = ffi.new('nd_data **')
    ctx.check(lib.nd_data_from_arrays(ctx.c, ffi.from_buffer('float[]', tr), tr.shape[0],
                                      ffi.NULL if va is None else ffi.from_buffer('float[]', va),
                                      0 if va is None else va.shape[0], tr.shape[1], tr.shape[2], float(bin_ms),
                                      int(split_seed), float(valid_fraction), p))
    return Data(ffi.gc(p[0], lib.nd_data_free))


def simulate_lorenz(**opts):
    """Synthetic Lorenz data (neurodyn simulate lorenz): conditions, trials_per_condition, neurons, bins, bin_ms,
    base_rate_hz, valid_fraction, seed."""
    o = ffi.new('nd_lorenz_options *')
    lib.nd_lorenz_options_default(o)
    for k, v in opts.items():
        if not hasattr(o, k):
            raise Error('simulate_lorenz: unknown option %r' % k, lib.ND_ERR_ARG)
        setattr(o, k, v)
    ctx = _Ctx()
    p = ffi.new('nd_data **')
    ctx.check(lib.nd_simulate_lorenz(ctx.c, o, p))
    return Data(ffi.gc(p[0], lib.nd_data_free))


class Run:
    """A run directory (best.ckpt, last.ckpt, config.txt, train_log.tsv)."""

    def __init__(self, path, report=None):
        self.path = os.fspath(path)
        self.report = report or {}

    def model(self):
        ctx = _Ctx()
        p = ffi.new('nd_model **')
        ctx.check(lib.nd_model_open(ctx.c, os.fsencode(self.path), p))
        return ffi.gc(p[0], lib.nd_model_free)

    def __repr__(self):
        return 'neurodyn.Run(%r, %r)' % (self.path, self.report)


def _run_path(run):
    return run.path if isinstance(run, Run) else os.fspath(run)


def train(data, out, resume=False, progress=False, threads=0, callback=None, config=None, **hparams):
    """Train LFADS in-process (the C trainer, as `neurodyn train`). hparams are the lfads-torch names of
    `neurodyn train --help` (gen_dim=64, max_epochs=100, seed=0, ...); config= a config.txt to start from.
    progress=True prints the trainer's per-epoch lines on stderr. callback(epoch, max_epochs, smoothed_valid_recon)
    runs after every epoch; returning True stops there. Ctrl-C also stops at the end of the current epoch (its
    checkpoint written): both raise nd.Interrupted, and train(..., resume=True) continues exactly.
    threads: 0 = all cores. Returns a Run."""
    ctx = _Ctx(threads, progress)
    po = ffi.new('nd_train_options **')
    ctx.check(lib.nd_train_options_create(ctx.c, po))
    opts = ffi.gc(po[0], lib.nd_train_options_free)
    if config is not None:
        ctx.check(lib.nd_train_options_load(ctx.c, opts, os.fsencode(config)))
    for k, v in hparams.items():
        v = ('1' if v else '0') if isinstance(v, bool) else repr(v) if isinstance(v, float) else str(v)
        ctx.check(lib.nd_train_options_set(ctx.c, opts, k.encode(), v.encode()))
    stop = {'sigint': False}

    @ffi.callback('int(void *, int, int, double)', onerror=lambda *a: 1)
    def on_epoch(user, epoch, total, value):
        if callback is not None and callback(epoch, total, value):
            return 1
        return 1 if stop['sigint'] else 0

    lib.nd_set_progress_callback(ctx.c, on_epoch, ffi.NULL)
    old = None
    if threading.current_thread() is threading.main_thread():
        def on_sigint(signum, frame):
            if stop['sigint']:  # a second Ctrl-C: the default behaviour at the next Python bytecode
                raise KeyboardInterrupt
            stop['sigint'] = True
            print('neurodyn: stopping after this epoch (its checkpoint is written); Ctrl-C again to abort',
                  flush=True)
        old = signal.signal(signal.SIGINT, on_sigint)
    rep = ffi.new('nd_train_report *')
    try:
        ctx.check(lib.nd_train(ctx.c, data._h, opts, os.fsencode(out), 1 if resume else 0, rep))
    finally:
        lib.nd_set_progress_callback(ctx.c, ffi.NULL, ffi.NULL)
        if old is not None:
            signal.signal(signal.SIGINT, old)
    return Run(out, {'epochs_run': rep.epochs_run, 'best_epoch': rep.best_epoch,
                     'best_valid_recon': rep.best_valid_recon, 'seconds': rep.seconds})


_NAMES = ['output_params', 'factors', 'gen_states', 'gen_inputs', 'con_states', 'co_means', 'co_stds', 'gen_init',
          'ic_mean', 'ic_std']


class Outputs(dict):
    """Outputs of infer/baseline: a dict name -> numpy array (read-only views of the library's buffers) under the
    lfads-torch names ("valid_output_params", ...), plus .data (the data they were computed on) and .write(path)."""

    def __init__(self, handle, data):
        super().__init__()
        self._h = handle
        self.data = data
        dims = ffi.new('size_t[3]')
        rank = ffi.new('int *')
        for split in ('train', 'valid', 'test'):
            for n in _NAMES:
                name = '%s_%s' % (split, n)
                ptr = lib.nd_outputs_array(handle, name.encode(), dims, rank)
                if ptr != ffi.NULL:
                    self[name] = _view(ptr, tuple(dims[i] for i in range(rank[0])), self)

    def write(self, path):
        """the HDF5 file `neurodyn infer` writes (atomically)"""
        ctx = _Ctx()
        ctx.check(lib.nd_outputs_write(ctx.c, self._h, os.fsencode(path)))


def infer(run, data, samples=50, seed=0, batch_size=0, session=0, threads=0, progress=False):
    """Run a trained model on data's train, valid (and test) trials: `neurodyn infer`. samples=0 is one pass with the
    posterior means (--posterior-mean). A file is re-opened with the split the model was trained with, as the CLI
    does. Returns Outputs."""
    ctx = _Ctx(threads, progress)
    pm = ffi.new('nd_model **')
    ctx.check(lib.nd_model_open(ctx.c, os.fsencode(_run_path(run)), pm))
    model = ffi.gc(pm[0], lib.nd_model_free)
    if data.path:
        pd = ffi.new('nd_data **')
        ctx.check(lib.nd_model_open_data(ctx.c, model, os.fsencode(data.path), pd))
        data = Data(ffi.gc(pd[0], lib.nd_data_free), data.path)
    o = ffi.new('nd_infer_options *')
    lib.nd_infer_options_default(o)
    o.samples, o.seed, o.batch_size, o.session = int(samples), int(seed), int(batch_size), int(session)
    po = ffi.new('nd_outputs **')
    ctx.check(lib.nd_infer(ctx.c, model, data._h, o, po))
    return Outputs(ffi.gc(po[0], lib.nd_outputs_free), data)


def baseline(data, method='smoothing', threads=0, progress=False, **opts):
    """Spike smoothing + Poisson GLM or GPFA (`neurodyn baseline`); opts are nd_baseline_options fields (kernel_ms,
    bin_ms, alpha, log_offset, gpfa_latents, gpfa_iters). Returns Outputs."""
    m = {'smoothing': lib.ND_BASELINE_SMOOTHING, 'gpfa': lib.ND_BASELINE_GPFA}
    if method not in m:
        raise Error('baseline: unknown method %r (smoothing or gpfa)' % method, lib.ND_ERR_ARG)
    o = ffi.new('nd_baseline_options *')
    lib.nd_baseline_options_default(o)
    for k, v in opts.items():
        if not hasattr(o, k):
            raise Error('baseline: unknown option %r' % k, lib.ND_ERR_ARG)
        setattr(o, k, v)
    ctx = _Ctx(threads, progress)
    po = ffi.new('nd_outputs **')
    ctx.check(lib.nd_baseline(ctx.c, data._h, m[method], o, po))
    return Outputs(ffi.gc(po[0], lib.nd_outputs_free), data)


def rates(out, data=None, bin_ms=None, return_ids=False):
    """Rates in Hz, [trials, bins, neurons], every split's trials together in original trial order (by the data's
    *_inds; else train, valid, test) and the neurons in original id order (a converted file's heldin_neurons /
    heldout_neurons): the library's nd_rates. out: the Outputs of infer or baseline (their own data is used when they
    have one, else data). bin_ms: the data's unless given. return_ids=True also returns (trial ids, neuron ids)."""
    if not isinstance(out, Outputs):
        raise Error('rates: out must be the Outputs of nd.infer or nd.baseline', lib.ND_ERR_ARG)
    data = getattr(out, 'data', None) or data
    if data is None:
        raise Error('rates: no data (pass the data the outputs were computed on)', lib.ND_ERR_ARG)
    ctx = _Ctx()
    dims = ffi.new('size_t[3]')
    b = float(bin_ms) if bin_ms else 0.0
    ctx.check(lib.nd_rates(ctx.c, out._h, data._h, b, ffi.NULL, 0, ffi.NULL, ffi.NULL, dims))
    shape = (dims[0], dims[1], dims[2])
    hz = np.empty(shape, dtype=np.float32)
    trials = np.empty(shape[0], dtype=np.int32)
    neurons = np.empty(shape[2], dtype=np.int32)
    ctx.check(lib.nd_rates(ctx.c, out._h, data._h, b, ffi.from_buffer('float[]', hz), hz.size,
                           ffi.from_buffer('int[]', trials), ffi.from_buffer('int[]', neurons), dims))
    return (hz, trials, neurons) if return_ids else hz


# ---------------------------------------------------------------- analyses (nd_result: named double arrays)

_INT_NAMES = {'condition_ids', 'patterns', 'channels', 'folds', 't_start', 't_end', 'conditions', 'n_valid', 'samples',
              'components', 'orders', 'factors', 'trials', 'stable', 'slow', 'count', 'n_fixed_points', 'n_stable',
              'n_unstable', 'n_slow', 'n_converged', 'n_unconverged', 'n_outliers', 'n_duplicates'}


def _result(ctx, call):
    """run call(out_pointer) and turn its nd_result into a dict: scalars as float (int for counts and ids), arrays as
    read-only float64 views of the result's buffers (int64 copies for ids, counts and flags)"""
    p = ffi.new('nd_result **')
    ctx.check(call(p))
    res = ffi.gc(p[0], lib.nd_result_free)
    owner = _Owner(res)
    out = {}
    dims = ffi.new('size_t[3]')
    rank = ffi.new('int *')
    for i in range(lib.nd_result_count(res)):
        name = ffi.string(lib.nd_result_name(res, i)).decode()
        ptr = lib.nd_result_get(res, name.encode(), dims, rank)
        if rank[0] == 0:
            out[name] = int(ptr[0]) if name in _INT_NAMES else float(ptr[0])
        else:
            a = _view(ptr, tuple(dims[k] for k in range(rank[0])), owner, '<f8')
            out[name] = a.astype(np.int64) if name in _INT_NAMES else a
    return out


class _Owner:
    def __init__(self, handle):
        self._h = handle


def _x3(x, name):
    """float32 C-contiguous [trials, bins, units] (a 2-D array is [trials, 1, units], 1-D [trials, 1, 1])"""
    a = _f32(x, name)
    if a.ndim == 1:
        a = a.reshape(-1, 1, 1)
    elif a.ndim == 2:
        a = a.reshape(a.shape[0], 1, a.shape[1])
    if a.ndim != 3 or a.size == 0:
        raise Error('%s: expected a non-empty 1-D, 2-D (samples x units) or 3-D (trials x bins x units) array, got '
                    'shape %s' % (name, a.shape), lib.ND_ERR_ARG)
    return a


def _conds(conditions, trials, fn):
    if conditions is None:
        return None, ffi.NULL
    c = np.ascontiguousarray(conditions)
    if c.ndim != 1 or c.shape[0] != trials or not np.issubdtype(c.dtype, np.integer):
        raise Error('%s: conditions: expected %d integer condition ids (one per trial), got %s %s' % (
            fn, trials, c.dtype, c.shape), lib.ND_ERR_ARG)
    c = c.astype(np.int32)
    return c, ffi.from_buffer('int[]', c)


def rdm(x, conditions=None, distance='correlation', condition_average=False, folds=0):
    """Representational dissimilarity matrix (`neurodyn rdm`): one pattern per trial of x [trials, bins, units] (bins x
    units flattened), or per condition with condition_average=True. distance: correlation (default), euclidean,
    mahalanobis (identity noise covariance) or crossnobis (needs conditions). Returns a dict: rdm (upper triangle), rdm_square,
    condition_ids, patterns, channels, mean, min, max (folds for crossnobis)."""
    a = _x3(x, 'x')
    c, cp = _conds(conditions, a.shape[0], 'rdm')
    o = ffi.new('nd_rsa_options *')
    lib.nd_rsa_options_default(o)
    dist = ffi.new('char[]', str(distance).encode())
    o.distance, o.condition_average, o.folds = dist, 1 if condition_average else 0, int(folds)
    ctx = _Ctx()
    return _result(ctx, lambda p: lib.nd_rsa_rdm(ctx.c, ffi.from_buffer('float[]', a), *a.shape, cp, o, p))


def jpca(x, conditions, dims=6, t_start=0, t_end=0, soft_norm=10.0, normalize=True):
    """jPCA (`neurodyn jpca`) of the condition means of x [trials, bins, units] (e.g. out["valid_factors"] with
    data's valid_condition). Returns a dict: proj [conditions, bins, dims], M_skew, M_best, jpcs, pcs, eig_re,
    eig_im, omega (rad/bin), plane_var_frac, r2_skew_plane, r2_best_plane, condition_mean, condition_ids, r2_skew,
    r2_best, pca_var_frac, t_start, t_end, conditions."""
    a = _x3(x, 'x')
    if conditions is None:
        raise Error('jpca: needs the condition id of every trial (conditions=)', lib.ND_ERR_ARG)
    c, cp = _conds(conditions, a.shape[0], 'jpca')
    o = ffi.new('nd_jpca_options *')
    lib.nd_jpca_options_default(o)
    o.dims, o.t_start, o.t_end, o.soft_norm = int(dims), int(t_start), int(t_end), float(soft_norm)
    o.normalize = 1 if normalize else 0
    ctx = _Ctx()
    return _result(ctx, lambda p: lib.nd_jpca_arrays(ctx.c, ffi.from_buffer('float[]', a), *a.shape, cp, o, p))


def predict(x, y, pls=25, ridge=None, folds=5, seed=None, scale=True, conditions=None, condition_average=False):
    """Neural predictivity (`neurodyn predict`): cross-validated PLS (pls components; or ridge=ALPHA) maps from x
    [trials, bins, p] to y [trials, bins, q], one sample per trial and bin. seed: shuffled folds (as --seed). Returns a
    dict: r [q] (held-out Pearson r per neuron), pred, median_r, fold_median_mean, n_valid, samples, components."""
    a, b = _x3(x, 'x'), _x3(y, 'y')
    if a.shape[:2] != b.shape[:2]:
        raise Error('predict: x has %d x %d samples, y %d x %d: they must be the same samples' % (
            a.shape[0], a.shape[1], b.shape[0], b.shape[1]), lib.ND_ERR_ARG)
    c, cp = _conds(conditions, a.shape[0], 'predict')
    o = ffi.new('nd_predict_options *')
    lib.nd_predict_options_default(o)
    o.pls_components = 0 if ridge is not None else int(pls)
    if ridge is not None:
        o.ridge_alpha = float(ridge)
    o.folds, o.scale, o.condition_average = int(folds), 1 if scale else 0, 1 if condition_average else 0
    if seed is not None:
        o.shuffle, o.seed = 1, int(seed)
    ctx = _Ctx()
    return _result(ctx, lambda p: lib.nd_predict_arrays(ctx.c, ffi.from_buffer('float[]', a),
                                                        ffi.from_buffer('float[]', b), a.shape[0], a.shape[1],
                                                        a.shape[2], b.shape[2], cp, o, p))


def decode(x_train, y_train, x_test, y_test, classify=False, time_bins=0, alphas=(-2.0, 6.0, 17), folds=5, seed=0,
           contiguous=False):
    """Decode one value per trial (`neurodyn decode`): ridge regression, or with classify=True a ridge classifier of
    integer labels, from x [trials, bins, units] (each trial's bins averaged into time_bins chunks, or all kept) to y
    [trials] or [trials, q]; the penalty among 10^lo .. 10^hi (alphas=(lo, hi, n)) by folds-fold CV on the train
    trials (seeded permutation; contiguous=True: contiguous folds), scored on the test trials. Targets are passed as
    float32, as the CLI reads them. Returns a dict: r2 or accuracy, chance, n_classes, alpha, alphas, cv_score, pred,
    n_features."""
    xa, xb = _x3(x_train, 'x_train'), _x3(x_test, 'x_test')
    ya, yb = _f32(y_train, 'y_train'), _f32(y_test, 'y_test')
    ya, yb = (ya.reshape(-1, 1) if ya.ndim == 1 else ya), (yb.reshape(-1, 1) if yb.ndim == 1 else yb)
    if xa.shape[1:] != xb.shape[1:] or ya.ndim != 2 or yb.ndim != 2 or ya.shape[1] != yb.shape[1] or \
            len(ya) != len(xa) or len(yb) != len(xb):
        raise Error('decode: x_train %s, y_train %s, x_test %s, y_test %s: need the same bins and units, the same target '
                    'columns and one target row per trial' % (xa.shape, ya.shape, xb.shape, yb.shape), lib.ND_ERR_ARG)
    o = ffi.new('nd_decode_options *')
    lib.nd_decode_options_default(o)
    o.classify, o.time_bins, o.folds, o.seed = 1 if classify else 0, int(time_bins), int(folds), int(seed)
    o.alpha_log10_lo, o.alpha_log10_hi, o.n_alphas = float(alphas[0]), float(alphas[1]), int(alphas[2])
    o.shuffle = 0 if contiguous else 1
    ctx = _Ctx()
    res = _result(ctx, lambda p: lib.nd_decode_arrays(
        ctx.c, ffi.from_buffer('float[]', xa), ffi.from_buffer('float[]', ya), xa.shape[0],
        ffi.from_buffer('float[]', xb), ffi.from_buffer('float[]', yb), xb.shape[0], xa.shape[1], xa.shape[2],
        ya.shape[1], o, p))
    for k in ('n_classes', 'n_features'):
        if k in res:
            res[k] = int(res[k])
    return res


def _model_and_data(ctx, run, data):
    pm = ffi.new('nd_model **')
    ctx.check(lib.nd_model_open(ctx.c, os.fsencode(_run_path(run)), pm))
    model = ffi.gc(pm[0], lib.nd_model_free)
    if data is not None and data.path:
        pd = ffi.new('nd_data **')
        ctx.check(lib.nd_model_open_data(ctx.c, model, os.fsencode(data.path), pd))
        data = Data(ffi.gc(pd[0], lib.nd_data_free), data.path)
    return model, data


def ablate(run, data, orders=10, mode='zero', seed=0, split='valid', threads=0):
    """Silence a growing random subset of a model's factors at the read-out and score the rates (`neurodyn ablate`).
    Returns a dict: nll, nll_sd, nll_increase [factors+1], rate_r2, rate_r2_sd (data with true rates),
    single_factor_nll_increase, clamp [factors], orders [orders, factors], factors, trials."""
    if mode not in ('zero', 'mean') or split not in ('train', 'valid'):
        raise Error("ablate: mode must be 'zero' or 'mean' and split 'train' or 'valid'", lib.ND_ERR_ARG)
    ctx = _Ctx(threads)
    model, data = _model_and_data(ctx, run, data)
    o = ffi.new('nd_ablate_options *')
    lib.nd_ablate_options_default(o)
    o.orders, o.mode_mean, o.seed, o.split = int(orders), 1 if mode == 'mean' else 0, int(seed), _SPLITS[split]
    return _result(ctx, lambda p: lib.nd_ablate(ctx.c, model, data._h, o, p))


def fixedpoints(run, outputs=None, inputs='zero', split='valid', starts=256, noise=0.0, seed=0, max_iters=200,
                tol=1e-12, dedup=1e-3, outlier_scale=10.0, slow_q=0.0, threads=0):
    """Fixed points of a model's generator (`neurodyn fixedpoints RUN`): starts sampled from outputs' {split}_gen_states
    (an outputs file, or the Outputs of nd.infer) or N(0, 1); inputs 'zero' or 'mean' (of the outputs'
    gen_inputs). Returns a dict: x [points, gen_dim], q, jacobian, eig_re, eig_im, max_abs_eig, stable, slow, count,
    dist_to_states, u, start_q, n_fixed_points, n_stable, n_unstable, ... (see include/neurodyn.h)."""
    if inputs not in ('zero', 'mean') or split not in ('train', 'valid'):
        raise Error("fixedpoints: inputs must be 'zero' or 'mean' and split 'train' or 'valid'", lib.ND_ERR_ARG)
    ctx = _Ctx(threads)
    model, _ = _model_and_data(ctx, run, None)
    o = ffi.new('nd_fixedpoints_options *')
    lib.nd_fixedpoints_options_default(o)
    o.input_mean, o.split, o.starts, o.noise, o.seed = 1 if inputs == 'mean' else 0, _SPLITS[split], int(starts), \
        float(noise), int(seed)
    o.max_iters, o.tol_q, o.dedup_tol, o.outlier_scale, o.slow_q = int(max_iters), float(tol), float(dedup), \
        float(outlier_scale), float(slow_q)
    tmpdir = None
    try:
        if isinstance(outputs, Outputs):
            import tempfile
            tmpdir = tempfile.mkdtemp(prefix='nd_fp_')
            path = os.path.join(tmpdir, 'outputs.h5')
            outputs.write(path)
            outputs = path
        keep = ffi.new('char[]', os.fsencode(outputs)) if outputs is not None else ffi.NULL
        o.outputs = keep
        return _result(ctx, lambda p: lib.nd_fixedpoints(ctx.c, model, o, p))
    finally:
        if tmpdir:
            import shutil
            shutil.rmtree(tmpdir, ignore_errors=True)


_METRICS = [('co_bps', lib.ND_METRIC_CO_BPS), ('fp_bps', lib.ND_METRIC_FP_BPS), ('vel_r2', lib.ND_METRIC_VEL_R2),
            ('psth_r2', lib.ND_METRIC_PSTH_R2), ('rate_r2', lib.ND_METRIC_RATE_R2)]


def evaluate(out, data=None, use_test=True, bin_ms=0, psth_kernel_ms=70):
    """Scores as `neurodyn eval`: a dict with co_bps, fp_bps, vel_r2, psth_r2, rate_r2 (those the data supports)
    and eval_trials."""
    data = getattr(out, 'data', None) or data
    o = ffi.new('nd_eval_options *')
    lib.nd_eval_options_default(o)
    o.use_test, o.bin_ms, o.psth_kernel_ms = 1 if use_test else 0, float(bin_ms), float(psth_kernel_ms)
    m = ffi.new('nd_metrics *')
    ctx = _Ctx()
    ctx.check(lib.nd_eval(ctx.c, data._h, out._h, o, m))
    res = {k: getattr(m, k) for k, bit in _METRICS if m.computed & bit}
    res['eval_trials'] = m.eval_trials
    return res


def compare(x, y, method='cka'):
    """Similarity of two representations of the same samples (`neurodyn compare`, default options): x [n, p] and
    y [n, q], or [trials, bins, units] (flattened to (trials*bins) x units). method: cca, svcca, pwcca, cka, cka-rbf,
    cka-debiased, procrustes. float32 C-contiguous arrays are passed without a copy."""
    a, b = _f32(x, 'x'), _f32(y, 'y')
    a = a.reshape(-1, a.shape[-1]) if a.ndim != 2 else a
    b = b.reshape(-1, b.shape[-1]) if b.ndim != 2 else b
    if a.shape[0] != b.shape[0]:
        raise Error('compare: x has %d samples, y %d: they must be the same samples' % (a.shape[0], b.shape[0]),
                    lib.ND_ERR_ARG)
    v = ffi.new('double *')
    ctx = _Ctx()
    ctx.check(lib.nd_compare(ctx.c, ffi.from_buffer('float[]', a), ffi.from_buffer('float[]', b), a.shape[0],
                             a.shape[1], b.shape[1], method.encode(), v))
    return v[0]


def export(src, path, format='lfads-torch', data=None, dataset=None, eval_split='auto'):
    """format='lfads-torch': src a Run (or run directory / checkpoint); writes its weights under lfads-torch's
    state_dict names (`neurodyn export RUN`). format='nlb': src an Outputs (or an outputs file) and data; writes the
    NLB submission layout under group `dataset` (default: the data file's base name)."""
    ctx = _Ctx()
    if format == 'lfads-torch':
        pm = ffi.new('nd_model **')
        ctx.check(lib.nd_model_open(ctx.c, os.fsencode(_run_path(src)), pm))
        model = ffi.gc(pm[0], lib.nd_model_free)
        ctx.check(lib.nd_model_export(ctx.c, model, os.fsencode(path)))
        return
    if format != 'nlb':
        raise Error("export: format %r: must be 'lfads-torch' or 'nlb'" % format, lib.ND_ERR_ARG)
    es = {'auto': TRAIN, 'valid': VALID, 'test': TEST}[eval_split]
    if isinstance(src, Outputs):
        data = data or src.data
        tmp = os.fspath(path) + '.outputs.h5'
        src.write(tmp)
        try:
            ctx.check(lib.nd_export_nlb(ctx.c, data._h, os.fsencode(tmp),
                                        dataset.encode() if dataset else ffi.NULL, es, os.fsencode(path)))
        finally:
            os.remove(tmp)
    else:
        if data is None:
            raise Error('export: format nlb needs data=', lib.ND_ERR_ARG)
        ctx.check(lib.nd_export_nlb(ctx.c, data._h, os.fsencode(src), dataset.encode() if dataset else ffi.NULL,
                                    es, os.fsencode(path)))
