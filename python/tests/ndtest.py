"""What both pytest files share: the package from the build tree, the CLI binary and a runner for it."""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, '..', '..'))
sys.path.insert(0, os.path.join(ROOT, 'python'))

ND = os.environ.get('NEURODYN', os.path.join(ROOT, 'bin', 'neurodyn'))
if not os.path.isabs(ND):
    ND = os.path.join(ROOT, ND)


def cli(*args, check=True):
    r = subprocess.run([ND] + [str(a) for a in args], capture_output=True, text=True)
    if check and r.returncode != 0:
        raise AssertionError('neurodyn %s: %s' % (' '.join(map(str, args)), r.stderr))
    return r
