"""Python overhead vs the CLI for train and infer on the demo data (scripts/demo.sh's file and configuration), in
one run: each step timed through the CLI (subprocess, wall clock, including process start and file I/O) and
through the package (in-process, including loading the data and, for infer, writing the same outputs file),
alternating, REPEATS times; ratio = median Python / median CLI.
Usage: PYTHONPATH=python /usr/bin/python3 scripts/python_overhead.py [EPOCHS] [REPEATS] [SAMPLES]
(NEURODYN=bin/neurodyn; defaults 10 epochs, 3 repeats, 50 posterior samples)"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

import neurodyn as nd

ND = os.environ.get('NEURODYN', 'bin/neurodyn')
epochs = int(sys.argv[1]) if len(sys.argv) > 1 else 10
repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
samples = int(sys.argv[3]) if len(sys.argv) > 3 else 50
threads = 2
demo = dict(co_dim=0, gen_dim=64, ic_enc_dim=64, ic_dim=64, fac_dim=20, lr_init=0.01, kl_increase_epoch=50,
            l2_increase_epoch=50, max_epochs=epochs)
d = tempfile.mkdtemp(prefix='nd_overhead_')
data_path = os.path.join(d, 'lorenz.h5')
subprocess.run([ND, 'simulate', 'lorenz', '--out', data_path, '--seed', '0'], check=True, capture_output=True)
sets = []
for k, v in demo.items():
    if k != 'max_epochs':
        sets += ['--set', '%s=%s' % (k, v)]


def timed(f):
    t = time.perf_counter()
    f()
    return time.perf_counter() - t


res = {'train_cli': [], 'train_py': [], 'infer_cli': [], 'infer_py': []}
for r in range(repeats):
    for p in ('cli_run', 'py_run'):
        shutil.rmtree(os.path.join(d, p), ignore_errors=True)
    res['train_cli'].append(timed(lambda: subprocess.run(
        [ND, 'train', data_path, '--out', os.path.join(d, 'cli_run'), '--threads', str(threads), '--max-epochs',
         str(epochs), '--quiet'] + sets, check=True)))
    res['train_py'].append(timed(lambda: nd.train(nd.load_data(data_path), out=os.path.join(d, 'py_run'),
                                                  threads=threads, **demo)))
    res['infer_cli'].append(timed(lambda: subprocess.run(
        [ND, 'infer', os.path.join(d, 'cli_run'), '--data', data_path, '--out', os.path.join(d, 'cli_out.h5'),
         '--threads', str(threads), '--samples', str(samples), '--quiet'], check=True)))
    res['infer_py'].append(timed(lambda: nd.infer(os.path.join(d, 'py_run'), nd.load_data(data_path),
                                                  threads=threads, samples=samples).write(os.path.join(d, 'py_out.h5'))))
    same = open(os.path.join(d, 'cli_run', 'best.ckpt'), 'rb').read() == \
        open(os.path.join(d, 'py_run', 'best.ckpt'), 'rb').read()
    assert same, 'the Python and CLI runs differ'


def med(v):
    return sorted(v)[len(v) // 2]


print('demo data (65 x 24 trials, 50 bins, 30 neurons), demo configuration, %d epochs, %d posterior samples, '
      '%d threads, %d repeats' % (epochs, samples, threads, repeats))
for step in ('train', 'infer'):
    c, p = med(res[step + '_cli']), med(res[step + '_py'])
    print('%-6s CLI %.3f s  Python %.3f s  ratio Python/CLI %.3f   (all: CLI %s, Python %s)' % (
        step, c, p, p / c, ' '.join('%.3f' % x for x in res[step + '_cli']),
        ' '.join('%.3f' % x for x in res[step + '_py'])))
shutil.rmtree(d)
