"""The Python package against the CLI and independent references (tests/python.sh runs this with pytest).
Tiny data and models: the whole file takes a few seconds on one core."""
import json
import os
import subprocess
import sys

import h5py
import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ndtest import HERE, ROOT, ND, cli  # noqa: E402,F401
import neurodyn as nd  # noqa: E402

HP = dict(gen_dim=16, con_dim=8, co_dim=2, ic_enc_dim=8, ci_enc_dim=8, ic_dim=8, fac_dim=6, batch_size=8,
          max_epochs=4, seed=3)


def sets(hp):
    out = []
    for k, v in hp.items():
        out += ['--set', '%s=%s' % (k, v)]
    return out


@pytest.fixture(scope='module')
def w(tmp_path_factory):
    """a converted file (held-out neurons, forward-prediction bins, shuffled neuron ids), one CLI run on it"""
    d = tmp_path_factory.mktemp('nd')
    rng = np.random.default_rng(0)
    t = np.arange(24)
    rate = 0.2 + 0.6 * (1 + np.sin(t[None, :, None] / 3.0 + np.arange(10)[None, None, :])) / 2
    x = rng.poisson(np.broadcast_to(rate, (30, 24, 10))).astype('int32')
    with h5py.File(d / 'counts.h5', 'w') as f:
        f.create_dataset('spikes', data=x)
        f.attrs['bin_ms'] = 10.0
    cli('convert', d / 'counts.h5', '--out', d / 'conv.h5', '--bin-ms', 20, '--heldout-fraction', 0.3,
        '--fp-bins', 2, '--seed', 1)
    cli('train', d / 'conv.h5', '--out', d / 'cli_run', '--threads', 1, '--quiet', *sets(HP))
    cli('infer', d / 'cli_run', '--data', d / 'conv.h5', '--out', d / 'cli_out.h5', '--samples', 5, '--threads', 1,
        '--quiet')
    data = nd.load_data(d / 'conv.h5')
    run = nd.train(data, out=d / 'py_run', threads=1, **HP)
    out = nd.infer(run, data, samples=5, threads=1)
    return {'dir': d, 'data': data, 'run': run, 'out': out}


def test_train_infer_match_cli_bit_for_bit(w):
    d = w['dir']
    assert open(d / 'py_run' / 'best.ckpt', 'rb').read() == open(d / 'cli_run' / 'best.ckpt', 'rb').read()
    with h5py.File(d / 'cli_out.h5', 'r') as f:
        for name in ('train_output_params', 'valid_output_params', 'valid_factors', 'valid_co_means',
                     'valid_gen_init'):
            ref = f[name][()]
            got = w['out'][name]
            assert got.shape == ref.shape and got.dtype == ref.dtype
            assert np.array_equal(got, ref), name


def test_evaluate_equals_cli_json(w):
    d = w['dir']
    cli('eval', d / 'cli_out.h5', '--data', d / 'conv.h5', '--json=%s' % (d / 'eval.json'))
    ref = json.load(open(d / 'eval.json'))
    got = nd.evaluate(w['out'])
    assert {'co_bps', 'fp_bps', 'eval_trials'} <= set(got)
    for k, v in got.items():  # the same numbers; cJSON prints 15 significant digits when they round-trip within eps
        assert k in ref and abs(v - ref[k]) <= 1e-13 * max(1.0, abs(v)), (k, v, ref.get(k))


def test_rates_in_hz_in_original_order(w):
    d, out = w['dir'], w['out']
    hz, trials, neurons = nd.rates(out, w['data'], return_ids=True)
    # independent reference from the files: place every split's rates by *_inds and every neuron by its id
    with h5py.File(d / 'conv.h5', 'r') as f, h5py.File(d / 'cli_out.h5', 'r') as o:
        ids = np.concatenate([f['heldin_neurons'][()], f['heldout_neurons'][()]])
        n = len(f['train_inds']) + len(f['valid_inds'])
        ref = np.zeros((n, 12, 10), np.float32)
        for s in ('train', 'valid'):
            ref[f[s + '_inds'][()][:, None], :, ids[None, :]] = \
                o[s + '_output_params'][()].transpose(0, 2, 1) * np.float32(1000 / 20.0)
    assert list(trials) == list(range(n)) and list(neurons) == list(range(10))
    assert not np.array_equal(ids, np.arange(10))  # the fixture's ids are shuffled: the reordering is tested
    np.testing.assert_array_equal(hz, ref)


def test_zero_copy_views(w):
    data, out = w['data'], w['out']
    a = out['valid_factors']
    assert not a.flags['OWNDATA'] and not a.flags['WRITEABLE']
    assert a.__array_interface__['data'][0] == out['valid_factors'].__array_interface__['data'][0]
    c = data.counts('valid')
    assert not c.flags['OWNDATA']
    with h5py.File(w['dir'] / 'conv.h5', 'r') as f:
        np.testing.assert_array_equal(c, f['valid_encod_data'][()])
        np.testing.assert_array_equal(data.trial_inds('valid'), f['valid_inds'][()])
    del out  # the view keeps the outputs alive
    assert np.isfinite(a).all()


def test_errors_carry_the_cli_message(w, tmp_path):
    missing = tmp_path / 'nope.h5'
    r = cli('infer', w['dir'] / 'cli_run', '--data', missing, '--out', tmp_path / 'o.h5', check=False)
    assert r.returncode == 1
    with pytest.raises(nd.Error) as e:
        nd.load_data(missing)
    assert r.stderr.strip() == 'neurodyn infer: ' + str(e.value)
    assert e.value.code == nd.lib.ND_ERR_IO
    with pytest.raises(nd.Error, match='gen_dimm'):
        nd.train(w['data'], out=tmp_path / 'r', gen_dimm=3)
    with pytest.raises(nd.Error, match='holds a run'):
        nd.train(w['data'], out=w['dir'] / 'py_run', threads=1, **HP)


def test_interrupt_and_resume_is_exact(w, tmp_path):
    seen = []

    def stop_after_two(epoch, total, value):
        seen.append((epoch, total))
        return epoch == 2

    with pytest.raises(nd.Interrupted, match='after epoch 2'):
        nd.train(w['data'], out=tmp_path / 'r', threads=1, callback=stop_after_two, **HP)
    assert seen == [(1, 4), (2, 4)]
    run = nd.train(w['data'], out=tmp_path / 'r', threads=1, resume=True, **HP)
    assert run.report['epochs_run'] == 4
    assert open(tmp_path / 'r' / 'best.ckpt', 'rb').read() == open(w['dir'] / 'cli_run' / 'best.ckpt', 'rb').read()


def test_from_arrays_trains_as_the_file(w, tmp_path):
    with h5py.File(w['dir'] / 'conv.h5', 'r') as f:
        tr, va = f['train_encod_data'][()], f['valid_encod_data'][()]
    data = nd.from_arrays(tr, va, bin_ms=20)
    hp = dict(HP, max_epochs=2)
    a = nd.infer(nd.train(data, out=tmp_path / 'a', threads=1, **hp), data, samples=0, threads=1)
    # the file's encoder data only (no held-out neurons): write it as its own file and train the CLI on it
    with h5py.File(tmp_path / 'plain.h5', 'w') as f:
        f['train_data'], f['valid_data'] = tr, va
    cli('train', tmp_path / 'plain.h5', '--out', tmp_path / 'b', '--threads', 1, '--quiet', *sets(hp))
    cli('infer', tmp_path / 'b', '--data', tmp_path / 'plain.h5', '--out', tmp_path / 'b.h5', '--posterior-mean',
        '--threads', 1, '--quiet')
    with h5py.File(tmp_path / 'b.h5', 'r') as f:
        np.testing.assert_array_equal(a['valid_output_params'], f['valid_output_params'][()])
    with pytest.raises(nd.Error, match='not a spike count'):
        nd.from_arrays(tr + 0.5, va)


def test_compare_cka_against_numpy_and_cli(w):
    x = w['out']['valid_factors']
    y = w['out']['valid_con_states']
    X, Y = x.reshape(-1, x.shape[-1]).astype(np.float64), y.reshape(-1, y.shape[-1]).astype(np.float64)
    X, Y = X - X.mean(0), Y - Y.mean(0)
    ref = np.linalg.norm(Y.T @ X) ** 2 / (np.linalg.norm(X.T @ X) * np.linalg.norm(Y.T @ Y))
    assert abs(nd.compare(x, y, method='cka') - ref) < 1e-6
    o = w['dir'] / 'cli_out.h5'
    for method in ('cca', 'pwcca', 'cka-debiased', 'procrustes'):
        r = json.loads(cli('compare', '%s:valid_factors' % o, '%s:valid_con_states' % o, '--method', method,
                           '--json').stdout)
        with h5py.File(o, 'r') as f:
            v = nd.compare(f['valid_factors'][()], f['valid_con_states'][()], method=method)
        assert abs(v - r['score']) <= 1e-13, (method, v, r['score'])
    with pytest.raises(nd.Error, match='unknown method'):
        nd.compare(x, y, method='cka2')


def test_export_nlb_layout(w, tmp_path):
    d = w['dir']
    cli('export', d / 'cli_out.h5', '--format', 'nlb', '--data', d / 'conv.h5', '--dataset', 'mc_maze', '-o',
        tmp_path / 'sub.h5')
    nd.export(w['out'], tmp_path / 'sub_py.h5', format='nlb', dataset='mc_maze')
    with h5py.File(tmp_path / 'sub.h5', 'r') as s, h5py.File(tmp_path / 'sub_py.h5', 'r') as p, \
            h5py.File(d / 'cli_out.h5', 'r') as o:
        g = s['mc_maze']
        assert sorted(g) == ['eval_rates_heldin', 'eval_rates_heldin_forward', 'eval_rates_heldout',
                             'eval_rates_heldout_forward', 'train_rates_heldin', 'train_rates_heldout']
        v, t = o['valid_output_params'][()], o['train_output_params'][()]
        np.testing.assert_array_equal(g['eval_rates_heldin'][()], v[:, :10, :7])
        np.testing.assert_array_equal(g['eval_rates_heldout'][()], v[:, :10, 7:])
        np.testing.assert_array_equal(g['eval_rates_heldin_forward'][()], v[:, 10:, :7])
        np.testing.assert_array_equal(g['eval_rates_heldout_forward'][()], v[:, 10:, 7:])
        np.testing.assert_array_equal(g['train_rates_heldout'][()], t[:, :10, 7:])
        for k in g:
            np.testing.assert_array_equal(g[k][()], p['mc_maze'][k][()])


@pytest.mark.parametrize('co_dim', [2, 0])
def test_export_lfads_torch_reproduces_rates(w, tmp_path, co_dim):
    torch = pytest.importorskip('torch')
    sys.path.insert(0, HERE)
    import lfads_torch_ref
    d = w['dir']
    run = w['run'] if co_dim else nd.train(w['data'], out=tmp_path / 'r', threads=1, **dict(HP, co_dim=0,
                                                                                           max_epochs=2))
    cli('export', run.path, '-o', tmp_path / 'w.h5')
    nd.export(run, tmp_path / 'w_py.h5')
    model, attrs = lfads_torch_ref.build(str(tmp_path / 'w.h5'))  # load_state_dict(strict=True)
    assert attrs['recon_seq_len'] == 12 and attrs['encod_seq_len'] == 10 and attrs['co_dim'] == co_dim
    out = nd.infer(run, w['data'], samples=0, threads=1)
    with h5py.File(tmp_path / 'w.h5', 'r') as a, h5py.File(tmp_path / 'w_py.h5', 'r') as b:
        assert sorted(a) == sorted(b) and all(np.array_equal(a[k][()], b[k][()]) for k in a)
    with torch.no_grad():
        x = torch.from_numpy(np.asarray(w['data'].counts('valid')).copy())
        r = torch.exp(model(x)).numpy()
    ref = out['valid_output_params']
    assert r.shape == ref.shape
    assert np.max(np.abs(r - ref)) <= 1e-4 * max(1.0, float(ref.max()))


def test_export_cli_errors(w, tmp_path):
    r = cli('export', tmp_path / 'no_run', '-o', tmp_path / 'w.h5', check=False)
    assert r.returncode == 1 and r.stderr.count('\n') == 1 and r.stderr.startswith('neurodyn export: ')
    assert str(tmp_path / 'no_run') in r.stderr
    r = cli('export', w['dir'] / 'cli_run', '-o', tmp_path / 'w.h5', '--format', 'onnx', check=False)
    assert r.returncode == 2 and 'lfads-torch|nlb' in r.stderr and 'onnx' in r.stderr
    r = cli('export', w['dir'] / 'cli_out.h5', '--format', 'nlb', '-o', tmp_path / 's.h5', check=False)
    assert r.returncode == 2 and '--data' in r.stderr
    help_text = cli('export', '--help').stdout
    assert 'example' in help_text and help_text.rstrip().splitlines()[-1].strip().startswith('neurodyn export')
    with pytest.raises(nd.Error, match="format 'onnx'"):
        nd.export(w['run'], tmp_path / 'x.h5', format='onnx')
