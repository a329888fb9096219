: neurodyn: transient sodium current of the Hay et al. (2011) L5PC (their NaTa_t / NaTs2_t, one mechanism with
: the activation and inactivation midpoints as parameters: axon vm -38, vh -66; soma and apical vm -32, vh -60).
: g = gbar m^3 h; rates from Colbert & Pan (2002), temperature factor 2.3^((34 - 21) / 10).
NEURON {
    SUFFIX nd_nat
    USEION na READ ena WRITE ina
    RANGE gbar, vm, vh
}
UNITS { (mV) = (millivolt) (mA) = (milliamp) (S) = (siemens) }
PARAMETER { gbar = 0 (S/cm2) vm = -32 (mV) vh = -60 (mV) }
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
FUNCTION lin(x, k) { : x / (1 - exp(-x / k)), its limit k at x = 0
    if (fabs(x) < 1e-6) { lin = k } else { lin = x / (1 - exp(-x / k)) }
}
PROCEDURE rates(v (mV)) { LOCAL qt, a, b
    qt = 2.3 ^ ((34 - 21) / 10)
    a = 0.182 * lin(v - vm, 6)
    b = 0.124 * lin(vm - v, 6)
    minf = a / (a + b)
    mtau = 1 / (a + b) / qt
    a = 0.015 * lin(vh - v, 6)
    b = 0.015 * lin(v - vh, 6)
    hinf = a / (a + b)
    htau = 1 / (a + b) / qt
}
