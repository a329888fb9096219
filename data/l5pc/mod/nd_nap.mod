: neurodyn: persistent sodium current of the Hay et al. (2011) L5PC (their Nap_Et2; Magistretti & Alonso 1999).
: g = gbar m^3 h.
NEURON {
    SUFFIX nd_nap
    USEION na READ ena WRITE ina
    RANGE gbar
}
UNITS { (mV) = (millivolt) (mA) = (milliamp) (S) = (siemens) }
PARAMETER { gbar = 0 (S/cm2) }
ASSIGNED { v (mV) ena (mV) ina (mA/cm2) minf mtau (ms) hinf htau (ms) }
STATE { m h }
BREAKPOINT {
    SOLVE states METHOD cnexp
    ina = gbar * m * m * m * h * (v - ena)
}
DERIVATIVE states {
    rates(v)
    m' = (minf - m) / mtau
    h' = (hinf - h) / htau
}
INITIAL { rates(v) m = minf h = hinf }
FUNCTION lin(x, k) {
    if (fabs(x) < 1e-6) { lin = k } else { lin = x / (1 - exp(-x / k)) }
}
PROCEDURE rates(v (mV)) { LOCAL qt, a, b
    qt = 2.3 ^ ((34 - 21) / 10)
    minf = 1 / (1 + exp(-(v + 52.6) / 4.6))
    a = 0.182 * lin(v + 38, 6)
    b = 0.124 * lin(-v - 38, 6)
    mtau = 6 / (a + b) / qt
    hinf = 1 / (1 + exp((v + 48.8) / 10))
    a = 2.88e-6 * lin(-v - 17, 4.63)
    b = 6.94e-6 * lin(v + 64.4, 2.63)
    htau = 1 / (a + b) / qt
}
