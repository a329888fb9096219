: neurodyn: slow inactivating potassium current of the Hay et al. (2011) L5PC (their K_Pst; Korngreen & Sakmann
: 2000, shifted by -10 mV). g = gbar m^2 h.
NEURON {
    SUFFIX nd_kp
    USEION k READ ek WRITE ik
    RANGE gbar
}
UNITS { (mV) = (millivolt) (mA) = (milliamp) (S) = (siemens) }
PARAMETER { gbar = 0 (S/cm2) }
ASSIGNED { v (mV) ek (mV) ik (mA/cm2) minf mtau (ms) hinf htau (ms) }
STATE { m h }
BREAKPOINT {
    SOLVE states METHOD cnexp
    ik = gbar * m * m * h * (v - ek)
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
    minf = 1 / (1 + exp(-(u + 1) / 12))
    if (u < -50) { mtau = (1.25 + 175.03 * exp(0.026 * u)) / qt } else { mtau = (1.25 + 13 * exp(-0.026 * u)) / qt }
    hinf = 1 / (1 + exp((u + 54) / 11))
    htau = (360 + (1010 + 24 * (u + 55)) * exp(-((u + 75) / 48) ^ 2)) / qt
}
