: neurodyn: fast inactivating potassium current of the Hay et al. (2011) L5PC (their K_Tst; Korngreen & Sakmann
: 2000, shifted by -10 mV). g = gbar m^4 h.
NEURON {
    SUFFIX nd_kt
    USEION k READ ek WRITE ik
    RANGE gbar
}
UNITS { (mV) = (millivolt) (mA) = (milliamp) (S) = (siemens) }
PARAMETER { gbar = 0 (S/cm2) }
ASSIGNED { v (mV) ek (mV) ik (mA/cm2) minf mtau (ms) hinf htau (ms) }
STATE { m h }
BREAKPOINT {
    SOLVE states METHOD cnexp
    ik = gbar * m * m * m * m * h * (v - ek)
}
DERIVATIVE states {
    rates(v)
    m' = (minf - m) / mtau
    h' = (hinf - h) / htau
}
INITIAL { rates(v) m = minf h = hinf }
PROCEDURE rates(v (mV)) { LOCAL qt, u
    qt = 2.3 ^ ((34 - 21) / 10)
    u = v + 10
    minf = 1 / (1 + exp(-u / 19))
    mtau = (0.34 + 0.92 * exp(-((u + 71) / 59) ^ 2)) / qt
    hinf = 1 / (1 + exp((u + 66) / 10))
    htau = (8 + 49 * exp(-((u + 73) / 23) ^ 2)) / qt
}
