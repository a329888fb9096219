"""The analysis wrappers (nd.rdm, nd.jpca, nd.predict, nd.decode, nd.ablate, nd.fixedpoints, nd.baseline) and nd.rates against
the CLI on the same inputs: the same numbers, bit for bit where the CLI writes HDF5 and to the printed digits where
it prints JSON; one one-line error each. Tiny synthetic data and models: a few seconds on one core."""
import json
import os
import re
import subprocess
import sys

import h5py
import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ndtest import HERE, ROOT, ND, cli  # noqa: E402,F401
import neurodyn as nd  # noqa: E402

HP = dict(gen_dim=12, con_dim=6, co_dim=2, ic_enc_dim=6, ci_enc_dim=6, ic_dim=6, fac_dim=6, batch_size=8,
          max_epochs=2, seed=1)


def close(a, b, tol=1e-13):
    """the CLI's JSON has every double to 15-17 significant digits"""
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))


def one_line(e):
    s = str(e)
    return s and '\n' not in s


@pytest.fixture(scope='module')
def z(tmp_path_factory):
    """Lorenz data with condition ids and true rates, a CLI run on it and its CLI outputs"""
    d = tmp_path_factory.mktemp('nda')
    cli('simulate', 'lorenz', '--conditions', 4, '--trials-per-condition', 6, '--neurons', 10, '--bins', 12,
        '--out', d / 'lz.h5')
    sets = []
    for k, v in HP.items():
        sets += ['--set', '%s=%s' % (k, v)]
    cli('train', d / 'lz.h5', '--out', d / 'run', '--threads', 1, '--quiet', *sets)
    cli('infer', d / 'run', '--data', d / 'lz.h5', '--out', d / 'out.h5', '--samples', 2, '--threads', 1, '--quiet')
    with h5py.File(d / 'out.h5', 'r') as o, h5py.File(d / 'lz.h5', 'r') as f:
        arrays = {k: o[k][()] for k in ('valid_factors', 'train_factors', 'valid_output_params')}
        arrays.update({k: f[k][()] for k in ('valid_condition', 'train_condition', 'valid_truth')})
    return {'dir': d, 'a': arrays}


def h5(path, *names):
    with h5py.File(path, 'r') as f:
        return [f[n][()] for n in names]


def test_rdm_matches_cli(z):
    d, a = z['dir'], z['a']
    out, data = d / 'out.h5', d / 'lz.h5'
    cases = [  # CLI arguments, wrapper call
        (['--distance', 'euclidean'], dict(distance='euclidean')),
        (['--distance', 'correlation', '--conditions', '%s:valid_condition' % data, '--condition-average'],
         dict(distance='correlation', conditions=a['valid_condition'], condition_average=True)),
    ]
    for args, kw in cases:
        cli('rdm', '%s:valid_factors' % out, '--out', d / 'rdm.h5', *args)
        got = nd.rdm(a['valid_factors'], **kw)
        ref, sq = h5(d / 'rdm.h5', 'rdm', 'rdm_square')
        np.testing.assert_array_equal(got['rdm'], ref)
        np.testing.assert_array_equal(got['rdm_square'], sq)
        if 'conditions' in kw:
            np.testing.assert_array_equal(got['condition_ids'], h5(d / 'rdm.h5', 'condition_ids')[0])
    # crossnobis on the train trials (several per condition)
    cli('rdm', '%s:train_factors' % out, '--out', d / 'rdm.h5', '--distance', 'crossnobis', '--conditions',
        '%s:train_condition' % data)
    got = nd.rdm(a['train_factors'], a['train_condition'], distance='crossnobis')
    np.testing.assert_array_equal(got['rdm'], h5(d / 'rdm.h5', 'rdm')[0])
    r = json.loads(cli('rdm', '%s:valid_factors' % out, '--out', d / 'rdm.h5', '--json').stdout)
    got = nd.rdm(a['valid_factors'])
    assert r['patterns'] == got['patterns'] and r['channels'] == got['channels']
    assert all(close(r[k], got[k]) for k in ('mean', 'min', 'max'))


def test_rdm_error(z):
    with pytest.raises(nd.Error, match="unknown distance 'cosine'") as e:
        nd.rdm(z['a']['valid_factors'], distance='cosine')
    assert one_line(e.value) and e.value.code == nd.lib.ND_ERR_ARG
    with pytest.raises(nd.Error, match='crossnobis needs the condition ids'):
        nd.rdm(z['a']['valid_factors'], distance='crossnobis')


def test_jpca_matches_cli(z):
    d, a = z['dir'], z['a']
    r = json.loads(cli('jpca', d / 'out.h5', '--data', d / 'lz.h5', '--dims', 4, '-o', d / 'jpca.h5',
                       '--json').stdout)
    got = nd.jpca(a['valid_factors'], a['valid_condition'], dims=4)
    for name in ('proj', 'M_skew', 'M_best', 'jpcs', 'condition_mean'):
        np.testing.assert_array_equal(got[name], h5(d / 'jpca.h5', name)[0], err_msg=name)
    np.testing.assert_array_equal(got['condition_ids'], h5(d / 'jpca.h5', 'condition_ids')[0])
    assert close(got['r2_skew'], r['r2_skew']) and close(got['r2_best'], r['r2_best'])
    assert close(got['pca_var_frac'], r['pca_var_frac'])
    for p, pl in enumerate(r['planes']):
        assert close(got['omega'][p], pl['omega_rad_per_bin']) and close(got['r2_skew_plane'][p], pl['r2_skew'])


def test_jpca_error(z):
    x = z['a']['valid_factors']
    with pytest.raises(nd.Error, match='--dims 8 exceeds the 6 units') as e:
        nd.jpca(x, z['a']['valid_condition'], dims=8)
    assert one_line(e.value) and e.value.code == nd.lib.ND_ERR_ARG
    with pytest.raises(nd.Error, match='expected 4 integer condition ids'):
        nd.jpca(x, z['a']['valid_condition'][:3])
    with pytest.raises(nd.Error, match='at least 2 conditions'):
        nd.jpca(x, np.zeros(len(x), int))


def test_predict_matches_cli(z):
    d, a = z['dir'], z['a']
    for args, kw in ((['--pls', 3, '--folds', 3], dict(pls=3, folds=3)),
                     (['--ridge', 0.5, '--folds', 4, '--seed', 2], dict(ridge=0.5, folds=4, seed=2))):
        r = json.loads(cli('predict', '%s:valid_factors' % (d / 'out.h5'), '%s:valid_truth' % (d / 'lz.h5'), *args,
                           '--json').stdout)
        got = nd.predict(a['valid_factors'], a['valid_truth'], **kw)
        assert r['samples'] == got['samples'] == 4 * 12 and r['neurons_with_r'] == got['n_valid']
        assert close(r['median_r'], got['median_r']) and close(r['fold_median_mean_r'], got['fold_median_mean'])
        assert all(close(u, v) for u, v in zip(r['r'], got['r'])) and len(r['r']) == 10


def test_predict_error(z):
    a = z['a']
    with pytest.raises(nd.Error, match='same samples') as e:
        nd.predict(a['valid_factors'], a['train_factors'])
    assert one_line(e.value)
    with pytest.raises(nd.Error, match='too few for 30 folds'):
        nd.predict(a['valid_factors'], a['valid_truth'], folds=30)


def test_decode_matches_cli(z):
    d, a = z['dir'], z['a']
    with h5py.File(d / 'out.h5', 'r') as o:
        xtr, xva = o['train_output_params'][()], o['valid_output_params'][()]
    ctr = h5(d / 'lz.h5', 'train_condition')[0]
    for args, kw in ((['--alphas', '-1:3:5', '--folds', 4], dict(classify=True, alphas=(-1, 3, 5), folds=4)),
                     (['--regress', '--time-bins', 3, '--contiguous-folds'], dict(time_bins=3, contiguous=True))):
        r = json.loads(cli('decode', d / 'out.h5', '--target', 'condition', '--data', d / 'lz.h5', *args,
                           '--json').stdout)
        got = nd.decode(xtr, ctr, xva, a['valid_condition'], **kw)
        metric = 'accuracy' if kw.get('classify') else 'r2'
        assert r['test_split'] == 'valid' and r['n_features'] == got['n_features']
        assert close(r[metric], got[metric]) and close(r['chance'], got['chance']) and close(r['alpha'], got['alpha'])
        assert all(close(u, v) for u, v in zip(r['cv_score'], got['cv_score'])) and len(r['cv_score']) == len(
            got['cv_score'])


def test_decode_error(z):
    a = z['a']
    with pytest.raises(nd.Error, match='folds 30 must be 2') as e:
        nd.decode(a['train_factors'], a['train_condition'], a['valid_factors'], a['valid_condition'], folds=30)
    assert one_line(e.value) and e.value.code == nd.lib.ND_ERR_ARG
    with pytest.raises(nd.Error, match='one target row per trial'):
        nd.decode(a['train_factors'], a['valid_condition'], a['valid_factors'], a['valid_condition'])


def test_ablate_matches_cli(z):
    d = z['dir']
    r = json.loads(cli('ablate', d / 'run', '--data', d / 'lz.h5', '--orders', 3, '--mode', 'mean', '--threads', 1,
                       '--json').stdout)
    got = nd.ablate(d / 'run', nd.load_data(d / 'lz.h5'), orders=3, mode='mean', threads=1)
    assert got['factors'] == r['factors'] == 6 and got['trials'] == r['trials']
    for k, row in enumerate(r['rows']):
        assert close(got['nll'][k], row['nll_per_trial']) and close(got['nll_sd'][k], row['nll_sd'])
        assert close(got['rate_r2'][k], row['rate_r2'])
    assert all(close(u, v) for u, v in zip(got['single_factor_nll_increase'], r['single_factor_nll_increase']))
    assert got['orders'].shape == (3, 6) and all(sorted(o) == list(range(6)) for o in got['orders'])


def test_ablate_error(z):
    with pytest.raises(nd.Error) as e:
        nd.ablate(z['dir'] / 'no_run', nd.load_data(z['dir'] / 'lz.h5'))
    assert one_line(e.value) and 'no_run' in str(e.value)
    r = cli('ablate', z['dir'] / 'no_run', '--data', z['dir'] / 'lz.h5', check=False)
    assert r.returncode != 0 and r.stderr.strip() == 'neurodyn ablate: ' + str(e.value)


def test_fixedpoints_match_cli(z, tmp_path):
    d = z['dir']
    cli('fixedpoints', d / 'run', '--outputs', d / 'out.h5', '--starts', 12, '--threads', 1, '-o', tmp_path / 'fp.h5')
    got = nd.fixedpoints(d / 'run', outputs=d / 'out.h5', starts=12, threads=1)
    for name in ('x', 'q', 'jacobian', 'eig_re', 'eig_im', 'start_q', 'u', 'dist_to_states'):
        np.testing.assert_array_equal(got[name], h5(tmp_path / 'fp.h5', name)[0], err_msg=name)
    with h5py.File(tmp_path / 'fp.h5', 'r') as f:
        assert got['n_fixed_points'] == f.attrs['n_fixed_points']
        if got['n_fixed_points']:
            np.testing.assert_array_equal(got['stable'], f['stable'][()])
    # the Outputs of nd.infer in place of the file (the same arrays as the CLI's: test_neurodyn.py)
    out = nd.infer(d / 'run', nd.load_data(d / 'lz.h5'), samples=2, threads=1)
    again = nd.fixedpoints(d / 'run', outputs=out, starts=12, threads=1)
    np.testing.assert_array_equal(again['x'], got['x'])


def test_fixedpoints_error(z):
    with pytest.raises(nd.Error, match='starts >= 1') as e:
        nd.fixedpoints(z['dir'] / 'run', starts=0)
    assert one_line(e.value)
    with pytest.raises(nd.Error, match='input_mean needs the outputs'):
        nd.fixedpoints(z['dir'] / 'run', inputs='mean')


@pytest.mark.parametrize('method,args,kw', [
    ('smoothing', ['--kernel-ms', 40, '--alpha', 0.1], dict(kernel_ms=40, alpha=0.1)),
    ('gpfa', ['--latents', 2, '--em-iters', 5, '--alpha', 0.1], dict(gpfa_latents=2, gpfa_iters=5, alpha=0.1))])
def test_baselines_match_cli(tmp_path, method, args, kw):
    rng = np.random.default_rng(4)
    rate = 0.3 + 0.5 * (1 + np.sin(np.arange(16)[None, :, None] / 2.5 + np.arange(9)[None, None, :])) / 2
    with h5py.File(tmp_path / 'counts.h5', 'w') as f:
        f['spikes'] = rng.poisson(np.broadcast_to(rate, (24, 16, 9))).astype('int32')
        f.attrs['bin_ms'] = 20.0
    cli('convert', tmp_path / 'counts.h5', '--out', tmp_path / 'c.h5', '--bin-ms', 20, '--heldout-fraction', 0.3,
        '--seed', 2)
    cli('baseline', method, tmp_path / 'c.h5', '--out', tmp_path / 'b.h5', '--threads', 1, '--quiet', *args)
    got = nd.baseline(nd.load_data(tmp_path / 'c.h5'), method, threads=1, **kw)
    with h5py.File(tmp_path / 'b.h5', 'r') as f:
        for name in ('train_output_params', 'valid_output_params') + (('valid_factors',) if method == 'gpfa' else ()):
            np.testing.assert_array_equal(got[name], f[name][()], err_msg=name)


def test_baseline_error(z):
    with pytest.raises(nd.Error, match='unknown method') as e:
        nd.baseline(nd.load_data(z['dir'] / 'lz.h5'), 'pca')
    assert one_line(e.value)


def _rates_numpy(out, data, bin_ms=None):
    """nd.rates as it was in numpy before nd_rates (the reference it must equal bit for bit)"""
    b = float(bin_ms) if bin_ms else data.bin_ms
    parts, inds, start = [], [], 0
    for split in ('train', 'valid', 'test'):
        r = out.get(split + '_output_params')
        if r is None:
            continue
        ti = data.trial_inds(split)
        parts.append(r)
        inds.append(np.asarray(ti, dtype=np.int64) if ti is not None else np.arange(start, start + len(r)))
        start += len(r)
    inds = np.concatenate(inds)
    order = np.argsort(inds, kind='stable')
    ids = data.neuron_ids()
    norder = np.argsort(ids, kind='stable')
    return np.concatenate(parts)[order][:, :, norder] * np.float32(1000.0 / b), inds[order], ids[norder]


def _doc_recipe():
    """the h5py recipe of docs/python.md ("Rates in Hz without the package"), as a function of two paths"""
    text = open(os.path.join(ROOT, 'docs', 'python.md')).read()
    m = re.search(r'<!-- rates-recipe -->\s*```python\n(.*?)```', text, re.S)
    assert m, 'docs/python.md lost its rates recipe'
    return m.group(1)


def test_rates_equal_numpy_and_the_doc_recipe(z, tmp_path):
    d = z['dir']
    for data in (nd.load_data(d / 'lz.h5'), ):
        out = nd.infer(d / 'run', data, samples=2, threads=1)
        hz, trials, neurons = nd.rates(out, data, return_ids=True)
        ref, rt, rn = _rates_numpy(out, out.data)
        assert hz.dtype == np.float32 and np.array_equal(hz, ref)
        assert np.array_equal(trials, rt) and np.array_equal(neurons, rn)
        np.testing.assert_array_equal(nd.rates(out, data, bin_ms=5), _rates_numpy(out, out.data, 5)[0])
        out.write(tmp_path / 'o.h5')
        env = {'data_path': str(d / 'lz.h5'), 'out_path': str(tmp_path / 'o.h5')}
        exec(_doc_recipe(), env)
        np.testing.assert_array_equal(hz, env['hz'])
    # a baseline on a converted file (held-out neurons with shuffled ids, a test split)
    rng = np.random.default_rng(1)
    with h5py.File(tmp_path / 'counts.h5', 'w') as f:
        f['spikes'] = rng.poisson(0.5, size=(30, 10, 8)).astype('int32')
        f.attrs['bin_ms'] = 10.0
    cli('convert', tmp_path / 'counts.h5', '--out', tmp_path / 'c.h5', '--bin-ms', 10, '--heldout-fraction', 0.4,
        '--seed', 3, '--keep-test-targets')
    data = nd.load_data(tmp_path / 'c.h5')
    out = nd.baseline(data, 'smoothing', kernel_ms=30, alpha=0.1, threads=1)
    hz, trials, neurons = nd.rates(out, data, return_ids=True)
    ref, rt, rn = _rates_numpy(out, data)
    assert np.array_equal(hz, ref) and np.array_equal(trials, rt) and np.array_equal(neurons, rn)
    assert not np.array_equal(data.neuron_ids(), np.arange(8))
    out.write(tmp_path / 'b.h5')
    env = {'data_path': str(tmp_path / 'c.h5'), 'out_path': str(tmp_path / 'b.h5')}
    exec(_doc_recipe(), env)
    np.testing.assert_array_equal(hz, env['hz'])


def test_rates_errors(z, tmp_path):
    data = nd.load_data(z['dir'] / 'lz.h5')
    out = nd.infer(z['dir'] / 'run', data, samples=0, threads=1)
    other = nd.simulate_lorenz(conditions=3, trials_per_condition=5, neurons=10, bins=12)
    out.data = None
    with pytest.raises(nd.Error, match='the train split has 12 trials but') as e:
        nd.rates(out, other)
    assert one_line(e.value) and e.value.code == nd.lib.ND_ERR_ARG
    with pytest.raises(nd.Error, match='must be the Outputs'):
        nd.rates(dict(out), data)
    with h5py.File(tmp_path / 'plain.h5', 'w') as f:
        f['train_data'] = np.zeros((4, 12, 10), 'int32')
        f['valid_data'] = np.zeros((2, 12, 10), 'int32')
    plain = nd.load_data(tmp_path / 'plain.h5')
    base = nd.baseline(plain, 'smoothing', kernel_ms=40, alpha=1, threads=1)
    with pytest.raises(nd.Error, match='bin width unknown'):
        nd.rates(base, plain)
