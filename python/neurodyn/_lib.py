"""Loading libneurodyn.so.0 through cffi (ABI mode) with the declarations of the public header neurodyn.h."""
import os
import re

import cffi

_here = os.path.dirname(os.path.abspath(__file__))


def _first(paths):
    for p in paths:
        if p and os.path.exists(p):
            return p
    return None


def _header():
    """neurodyn.h: installed beside the package, else the build tree's include/, else PREFIX/include."""
    p = _first([os.path.join(_here, 'neurodyn.h'),
                os.path.join(_here, '..', '..', 'include', 'neurodyn.h'),
                os.path.join(_here, '..', '..', '..', '..', 'include', 'neurodyn.h')])
    if not p:
        raise ImportError('neurodyn: cannot find neurodyn.h beside %s or in the build tree' % _here)
    return p


def _cdef_text(path):
    # the header declares everything without macros: only the include guard and #include lines go
    keep = [l for l in open(path).read().splitlines()
            if not re.match(r'\s*#\s*(include|ifndef|define|endif)\b', l)]
    return '\n'.join(keep)


def _library():
    """libneurodyn.so.0: NEURODYN_LIB, beside the package, PREFIX/lib for PREFIX/lib/python3/dist-packages/neurodyn,
    the build tree's lib/, else the dynamic loader's search (LD_LIBRARY_PATH, system paths)."""
    name = 'libneurodyn.so.0'
    p = _first([os.environ.get('NEURODYN_LIB'),
                os.path.join(_here, name),
                os.path.join(_here, '..', '..', '..', name),
                os.path.join(_here, '..', '..', 'lib', name)])
    return p or name


ffi = cffi.FFI()
ffi.cdef(_cdef_text(_header()))
try:
    lib = ffi.dlopen(_library())
except OSError as e:  # pragma: no cover - depends on the installation
    raise ImportError('neurodyn: cannot load libneurodyn.so.0 (%s); build with make, or set LD_LIBRARY_PATH or '
                      'NEURODYN_LIB' % e)

# OpenBLAS picks its kernels when it is loaded; on a CPU it does not recognise it runs generic ones, 4-5 times slower
# (nd_blas_suggested_core). The CLI restarts itself with the better ones; a Python process cannot, so say how.
_core = lib.nd_blas_suggested_core()
if _core != ffi.NULL:
    import warnings
    _core = ffi.string(_core).decode()
    warnings.warn('neurodyn: OpenBLAS runs its generic kernels on this CPU (matrix products 4-5 times slower than '
                  'its %s kernels); start Python with OPENBLAS_CORETYPE=%s in the environment, e.g. after '
                  'eval "$(neurodyn --blas-env)"' % (_core, _core), RuntimeWarning, stacklevel=2)
