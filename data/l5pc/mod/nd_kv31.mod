: neurodyn: Kv3.1 potassium current of the Hay et al. (2011) L5PC (their SKv3_1; Rettig et al. 1992). g = gbar m.
NEURON {
    SUFFIX nd_kv31
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
PROCEDURE rates(v (mV)) {
    minf = 1 / (1 + exp((v - 18.7) / -9.7))
    mtau = 4 / (1 + exp((v + 46.56) / -44.14))
}
