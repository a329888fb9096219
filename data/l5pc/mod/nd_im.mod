: neurodyn: muscarinic potassium current Im of the Hay et al. (2011) L5PC (Adams et al. 1982). g = gbar m.
NEURON {
    SUFFIX nd_im
    USEION k READ ek WRITE ik
    RANGE gbar
}
UNITS { (mV) = (millivolt) (mA) = (milliamp) (S) = (siemens) }
PARAMETER { gbar = 0 (S/cm2) }
ASSIGNED { v (mV) ek (mV) ik (mA/cm2) minf mtau (ms) }
STATE { m }
BREAKPOINT {
    SOLVE states METHOD cnexp
    ik = gbar * m * (v - ek)
}
DERIVATIVE states {
    rates(v)
    m' = (minf - m) / mtau
}
INITIAL { rates(v) m = minf }
PROCEDURE rates(v (mV)) { LOCAL qt, a, b
    qt = 2.3 ^ ((34 - 21) / 10)
    a = 3.3e-3 * exp(0.1 * (v + 35))
    b = 3.3e-3 * exp(-0.1 * (v + 35))
    minf = a / (a + b)
    mtau = 1 / (a + b) / qt
}
