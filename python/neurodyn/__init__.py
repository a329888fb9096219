"""neurodyn: LFADS and baselines for neural population data, in Python over the C library (libneurodyn).

    import neurodyn as nd
    data = nd.load_data("data.h5")
    run = nd.train(data, out="run/", gen_dim=64, max_epochs=100, progress=True)
    out = nd.infer(run, data, samples=50)      # dict of numpy arrays under lfads-torch names
    rates_hz = nd.rates(out, data)             # original trial and neuron order, Hz
    print(nd.evaluate(out, data))              # co_bps, fp_bps, vel_r2, psth_r2, rate_r2
    nd.compare(out["valid_factors"], other, method="cka")

Arrays coming out (data counts, outputs) are read-only numpy views of the library's buffers (no copy); they keep
their owner alive. C errors raise nd.Error with the library's one-line message (the CLI's). See docs/python.md.
"""
import os
import signal
import threading

import numpy as np

from ._lib import ffi, lib

__all__ = ['Error', 'Interrupted', 'Data', 'Run', 'Outputs', 'load_data', 'from_arrays', 'simulate_lorenz', 'train',
           'infer', 'baseline', 'rates', 'evaluate', 'compare', 'export', 'version']

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
    heldout_neurons). bin_ms: the data's unless given. return_ids=True also returns (trial ids, neuron ids)."""
    data = getattr(out, 'data', None) or data
    if data is None:
        raise Error('rates: no data (pass the data the outputs were computed on)', lib.ND_ERR_ARG)
    b = float(bin_ms) if bin_ms else data.bin_ms
    if not b > 0:
        raise Error('rates: %s: bin width unknown (no bin_ms attribute); pass bin_ms=' % (data.path or 'data'),
                    lib.ND_ERR_ARG)
    parts, inds, start = [], [], 0
    for split in ('train', 'valid', 'test'):
        r = out.get(split + '_output_params')
        if r is None:
            continue
        ti = data.trial_inds(split)
        parts.append(r)
        inds.append(np.asarray(ti, dtype=np.int64) if ti is not None else np.arange(start, start + len(r)))
        start += len(r)
    if not parts:
        raise Error('rates: the outputs have no *_output_params', lib.ND_ERR_ARG)
    inds = np.concatenate(inds)
    order = np.argsort(inds, kind='stable')
    ids = data.neuron_ids()
    norder = np.argsort(ids, kind='stable')
    hz = np.concatenate(parts)[order][:, :, norder] * np.float32(1000.0 / b)
    return (hz, inds[order], ids[norder]) if return_ids else hz


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
