"""The Python session of docs/python.md on the shared rat auditory-cortex recording: a SMALL model for a doc example
(small dimensions, few epochs, few posterior samples), not LFADS's best scores (docs/results.md has those).
Usage: PYTHONPATH=python /usr/bin/python3 scripts/python_session.py DATA.h5 OUTDIR [EPOCHS [SAMPLES]]
DATA.h5 is `neurodyn convert rat_auditory_cortex.h5 --out DATA.h5 --bin-ms 10 --condition sound_id
--heldout-fraction 0.25 --keep-test-targets`. The training resumes OUTDIR/run, so a rerun repeats only what follows."""
import os
import sys
import time

import neurodyn as nd

path, outdir = sys.argv[1], sys.argv[2]
epochs = int(sys.argv[3]) if len(sys.argv) > 3 else 10
samples = int(sys.argv[4]) if len(sys.argv) > 4 else 10
os.makedirs(outdir, exist_ok=True)

data = nd.load_data(path)
print(data, 'bin', data.bin_ms, 'ms')
t0 = time.time()
run = nd.train(data, out=os.path.join(outdir, 'run'), gen_dim=32, con_dim=16, co_dim=2, ic_enc_dim=32,
               ci_enc_dim=16, ic_dim=16, fac_dim=8, max_epochs=epochs, kl_increase_epoch=epochs // 2,
               l2_increase_epoch=epochs // 2, threads=2, resume=True)
print('trained:', {k: round(v, 1) for k, v in run.report.items()}, '%.0f s' % (time.time() - t0))
t0 = time.time()
out = nd.infer(run, data, samples=samples, threads=2)
print('inferred in %.0f s:' % (time.time() - t0), {k: v.shape for k, v in out.items() if k.startswith('test_')})
rates_hz, trials, neurons = nd.rates(out, data, return_ids=True)
print('rates (Hz):', rates_hz.shape, 'trials %d..%d' % (trials[0], trials[-1]),
      'neurons %d..%d' % (neurons[0], neurons[-1]), 'mean %.2f Hz' % rates_hz.mean())
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
