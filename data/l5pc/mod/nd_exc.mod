: neurodyn: excitatory synapse of the L5PC simulations (Beniaguev, Segev & London 2021, shared/spec/neuron-dnn.md):
: AMPA (rise 0.3, decay 3 ms) plus NMDA (rise 2, decay 70 ms) with the magnesium block
: 1 / (1 + exp(-0.062 v) [Mg] / 3.57), [Mg] 1 mM; reversal 0 mV. Each conductance is a difference of exponentials
: normalised to a peak of its weight: gampa, gnmda (uS) per input spike (gnmda = 0: AMPA only). Kinetics are
: linear, so all the inputs of one segment share one instance.
NEURON {
    POINT_PROCESS NdExc
    RANGE gampa, gnmda, e, mg, tr_a, td_a, tr_n, td_n
    NONSPECIFIC_CURRENT i
}
UNITS { (mV) = (millivolt) (nA) = (nanoamp) (uS) = (microsiemens) (mM) = (milli/liter) }
PARAMETER {
    gampa = 0.0004 (uS) gnmda = 0.0004 (uS) e = 0 (mV) mg = 1 (mM)
    tr_a = 0.3 (ms) td_a = 3 (ms) tr_n = 2 (ms) td_n = 70 (ms)
}
ASSIGNED { v (mV) i (nA) fa fn }
STATE { ra da rn dn }
INITIAL { LOCAL tp
    ra = 0 da = 0 rn = 0 dn = 0
    tp = tr_a * td_a / (td_a - tr_a) * log(td_a / tr_a)
    fa = 1 / (exp(-tp / td_a) - exp(-tp / tr_a))
    tp = tr_n * td_n / (td_n - tr_n) * log(td_n / tr_n)
    fn = 1 / (exp(-tp / td_n) - exp(-tp / tr_n))
}
BREAKPOINT {
    SOLVE states METHOD cnexp
    i = (gampa * (da - ra) + gnmda * (dn - rn) / (1 + exp(-0.062 * v) * mg / 3.57)) * (v - e)
}
DERIVATIVE states {
    ra' = -ra / tr_a
    da' = -da / td_a
    rn' = -rn / tr_n
    dn' = -dn / td_n
}
NET_RECEIVE (w) {
    ra = ra + w * fa
    da = da + w * fa
    rn = rn + w * fn
    dn = dn + w * fn
}
