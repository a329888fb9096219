"""The Python session of docs/python.md on the shared rat auditory-cortex recording.
Usage: PYTHONPATH=python /usr/bin/python3 scripts/python_session.py DATA.h5 OUTDIR [EPOCHS]
DATA.h5 is `neurodyn convert rat_auditory_cortex.h5 --out DATA.h5 --bin-ms 10 --condition sound_id
--heldout-fraction 0.25 --keep-test-targets`."""
import os
import sys
import time

import numpy as np

import neurodyn as nd

path, outdir = sys.argv[1], sys.argv[2]
epochs = int(sys.argv[3]) if len(sys.argv) > 3 else 60
os.makedirs(outdir, exist_ok=True)

data = nd.load_data(path)
print(data, 'bin', data.bin_ms, 'ms')
t0 = time.time()
run = nd.train(data, out=os.path.join(outdir, 'run'), gen_dim=64, max_epochs=epochs, kl_increase_epoch=epochs // 2,
               l2_increase_epoch=epochs // 2, threads=2, resume=True)
print('trained:', run.report, '%.0f s' % (time.time() - t0))
out = nd.infer(run, data, samples=50, threads=2)
print('outputs:', {k: v.shape for k, v in out.items() if k.startswith('test_')})
rates_hz, trials, neurons = nd.rates(out, data, return_ids=True)
print('rates (Hz):', rates_hz.shape, 'trials %d..%d' % (trials[0], trials[-1]), 'mean %.2f Hz' % rates_hz.mean())
scores = nd.evaluate(out, data)
print('LFADS:', {k: round(v, 3) for k, v in scores.items()})
base = nd.baseline(data, 'smoothing', threads=2)
print('smoothing:', {k: round(v, 3) for k, v in nd.evaluate(base, data).items()})
print('CCA(LFADS factors, smoothed rates), test trials: %.3f' %
      nd.compare(out['test_factors'], base['test_output_params'], method='cca'))
print('CKA(LFADS factors, smoothed rates), test trials: %.3f' %
      nd.compare(out['test_factors'], base['test_output_params'], method='cka'))
nd.export(run, os.path.join(outdir, 'weights.h5'))
nd.export(out, os.path.join(outdir, 'submission.h5'), format='nlb', dataset='rat_auditory')
print('wrote', os.path.join(outdir, 'weights.h5'), 'and', os.path.join(outdir, 'submission.h5'))
