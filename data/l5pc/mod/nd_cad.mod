: neurodyn: intracellular calcium of the Hay et al. (2011) L5PC: a shell of depth 0.1 um under the membrane,
: a free fraction gamma of the calcium influx, removal to 1e-4 mM with time constant decay.
NEURON {
    SUFFIX nd_cad
    USEION ca READ ica WRITE cai
    RANGE gamma, decay, depth, mincai
}
UNITS { (mV) = (millivolt) (mA) = (milliamp) FARADAY = (faraday) (coulombs) (molar) = (1/liter)
        (mM) = (millimolar) (um) = (micron) }
PARAMETER { gamma = 0.05 decay = 80 (ms) depth = 0.1 (um) mincai = 1e-4 (mM) }
ASSIGNED { ica (mA/cm2) }
STATE { cai (mM) }
BREAKPOINT { SOLVE states METHOD cnexp }
DERIVATIVE states {
    cai' = -10000 * ica * gamma / (2 * FARADAY * depth) - (cai - mincai) / decay
}
