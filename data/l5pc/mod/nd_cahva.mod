: neurodyn: high-voltage-activated calcium current of the Hay et al. (2011) L5PC (Reuveni et al. 1993).
: g = gbar m^2 h.
NEURON {
    SUFFIX nd_cahva
    USEION ca READ eca WRITE ica
    RANGE gbar
}
UNITS { (mV) = (millivolt) (mA) = (milliamp) (S) = (siemens) }
PARAMETER { gbar = 0 (S/cm2) }
ASSIGNED { v (mV) eca (mV) ica (mA/cm2) minf mtau (ms) hinf htau (ms) }
STATE { m h }
BREAKPOINT {
    SOLVE states METHOD cnexp
    ica = gbar * m * m * h * (v - eca)
}
DERIVATIVE states {
    rates(v)
    m' = (minf - m) / mtau
    h' = (hinf - h) / htau
}
INITIAL { rates(v) m = minf h = hinf }
PROCEDURE rates(v (mV)) { LOCAL a, b, x
    x = -27 - v
    if (fabs(x) < 1e-6) { a = 0.055 * 3.8 } else { a = 0.055 * x / (exp(x / 3.8) - 1) }
    b = 0.94 * exp((-75 - v) / 17)
    minf = a / (a + b)
    mtau = 1 / (a + b)
    a = 0.000457 * exp((-13 - v) / 50)
    b = 0.0065 / (exp((-v - 15) / 28) + 1)
    hinf = a / (a + b)
    htau = 1 / (a + b)
}
