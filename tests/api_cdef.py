"""The public header through cffi's C parser (tests/api.sh): after removing only the include guard and the
#include lines, ffi.cdef() must accept it (no macros or attributes needed to declare anything) and every name it
declares must be nd_ / ND_. Usage: python3 tests/api_cdef.py include/neurodyn.h"""
import re
import sys

import cffi

text = open(sys.argv[1]).read()
kept = [l for l in text.splitlines()
        if not re.match(r'\s*#\s*(include|ifndef\s+NEURODYN_H|define\s+NEURODYN_H|endif)\b', l)]
rest = [l for l in kept if l.lstrip().startswith('#')]
if rest:
    sys.exit('preprocessor lines besides the guard and #include: %r' % rest)
ffi = cffi.FFI()
ffi.cdef('\n'.join(kept))
names = []
for key in ffi._parser._declarations:
    kind, name = key.split(' ', 1)
    names.append(name)
    tp = ffi._parser._declarations[key][0]
    for e in getattr(tp, 'enumerators', ()) or ():
        names.append(e)
bad = [n for n in names if not (n.startswith('nd_') or n.startswith('ND_') or n.startswith('$'))]
if bad:
    sys.exit('names outside nd_ / ND_: %s' % ', '.join(sorted(bad)))
funcs = sorted(k.split(' ', 1)[1] for k in ffi._parser._declarations if k.startswith('function '))
print('cffi: %d declarations, %d functions, all nd_/ND_' % (len(names), len(funcs)))
open(sys.argv[2], 'w').write('\n'.join(funcs) + '\n') if len(sys.argv) > 2 else None
