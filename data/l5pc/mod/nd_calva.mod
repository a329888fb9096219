: neurodyn: low-voltage-activated calcium current of the Hay et al. (2011) L5PC (Avery & Johnston 1996; Randall
: & Tsien 1997; shifted by -10 mV). g = gbar m^2 h.
NEURON {
    SUFFIX nd_calva
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
PROCEDURE rates(v (mV)) { LOCAL qt, u
    qt = 2.3 ^ ((34 - 21) / 10)
    u = v + 10
    minf = 1 / (1 + exp((u + 30) / -6))
    mtau = (5 + 20 / (1 + exp((u + 25) / 5))) / qt
    hinf = 1 / (1 + exp((u + 80) / 6.4))
    htau = (20 + 50 / (1 + exp((u + 40) / 7))) / qt
}
