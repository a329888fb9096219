: neurodyn: small-conductance calcium-activated potassium current of the Hay et al. (2011) L5PC (Koehler et al.
: 1996): z_inf = 1 / (1 + (0.43 uM / [Ca]i)^4.8), tau 1 ms. g = gbar z.
NEURON {
    SUFFIX nd_sk
    USEION k READ ek WRITE ik
    USEION ca READ cai
    RANGE gbar
}
UNITS { (mV) = (millivolt) (mA) = (milliamp) (S) = (siemens) (mM) = (milli/liter) }
PARAMETER { gbar = 0 (S/cm2) ztau = 1 (ms) }
ASSIGNED { v (mV) ek (mV) ik (mA/cm2) cai (mM) zinf }
STATE { z }
BREAKPOINT {
    SOLVE states METHOD cnexp
    ik = gbar * z * (v - ek)
}
DERIVATIVE states {
    rates(cai)
    z' = (zinf - z) / ztau
}
INITIAL { rates(cai) z = zinf }
PROCEDURE rates(ca (mM)) { LOCAL c
    c = ca
    if (c < 1e-7) { c = c + 1e-7 }
    zinf = 1 / (1 + (0.00043 / c) ^ 4.8)
}
