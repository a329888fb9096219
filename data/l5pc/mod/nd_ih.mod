: neurodyn: hyperpolarisation-activated cation current Ih of the Hay et al. (2011) L5PC (Kole et al. 2006),
: reversal -45 mV. g = gbar m.
NEURON {
    SUFFIX nd_ih
    NONSPECIFIC_CURRENT ihcn
    RANGE gbar, ehcn
}
UNITS { (mV) = (millivolt) (mA) = (milliamp) (S) = (siemens) }
PARAMETER { gbar = 0 (S/cm2) ehcn = -45 (mV) }
ASSIGNED { v (mV) ihcn (mA/cm2) minf mtau (ms) }
STATE { m }
BREAKPOINT {
    SOLVE states METHOD cnexp
    ihcn = gbar * m * (v - ehcn)
}
DERIVATIVE states {
    rates(v)
    m' = (minf - m) / mtau
}
INITIAL { rates(v) m = minf }
PROCEDURE rates(v (mV)) { LOCAL a, b, x
    x = v + 154.9
    if (fabs(x) < 1e-6) { a = 0.00643 * 11.9 } else { a = 0.00643 * x / (exp(x / 11.9) - 1) }
    b = 0.193 * exp(v / 33.1)
    minf = a / (a + b)
    mtau = 1 / (a + b)
}
