#!/usr/bin/python3
"""neurodyn: the layer-5 pyramidal cell of Hay et al. (2011) in NEURON, driven as in Beniaguev, Segev & London
(2021); called by `neurodyn neuron simulate --cell l5pc|l5pc-ampa` (src/models/l5pc.c), writes a sims.h5 in the
layout of docs/neuron.md. Mechanisms: mod/*.mod (this project's, written from the published equations); the
morphology: cell1.asc (Hay et al. 2011, ModelDB 139653; see README.md). Errors: one line on stderr, exit 2 (bad
arguments), 3 (NEURON missing or a mechanism that does not compile), 1 (anything else)."""
import argparse, os, shutil, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))


def die(code, msg):
    sys.stderr.write(msg.rstrip() + "\n")
    sys.exit(code)


def build_mechanisms(mech_dir, quiet):
    """nrnivmodl into mech_dir (reused while the .mod files are unchanged). Debian's nrnivmodl looks for its
    makefile, nocmodl and -lnrniv under $NRNHOME, so NRNHOME points at a directory of links to the Debian
    locations."""
    mods = sorted(f for f in os.listdir(os.path.join(HERE, "mod")) if f.endswith(".mod"))
    stamp = "\n".join(f + ":" + open(os.path.join(HERE, "mod", f)).read() for f in mods)
    lib = os.path.join(mech_dir, "x86_64", "libnrnmech.so")
    if os.path.exists(lib) and os.path.exists(os.path.join(mech_dir, "stamp")) and \
            open(os.path.join(mech_dir, "stamp")).read() == stamp:
        return
    if shutil.which("nrnivmodl") is None:
        die(3, "NEURON's nrnivmodl is missing: install it with 'sudo apt-get install neuron neuron-dev "
               "python3-neuron' (or 'make deps')")
    shutil.rmtree(mech_dir, ignore_errors=True)
    home = os.path.join(mech_dir, "nrnhome")
    os.makedirs(os.path.join(home, "bin"))
    os.makedirs(os.path.join(home, "share"))
    os.symlink("/usr/lib/nrn/nrnmech_makefile", os.path.join(home, "bin", "nrnmech_makefile"))
    for tool in ("nocmodl", "modlunit"):
        if shutil.which(tool):
            os.symlink(shutil.which(tool), os.path.join(home, "bin", tool))
    os.symlink("/usr/lib/nrn", os.path.join(home, "lib"))
    os.symlink("/usr/include", os.path.join(home, "include"))
    os.symlink("/usr/share/nrn", os.path.join(home, "share", "nrn"))
    for f in mods:
        shutil.copy(os.path.join(HERE, "mod", f), mech_dir)
    if not quiet:
        sys.stderr.write("compiling %d NEURON mechanisms into %s\n" % (len(mods), mech_dir))
    env = dict(os.environ, NRNHOME=home)
    # the library is all we need; the 'special' executable that nrnivmodl links last does not build with
    # Debian's headers (nrnconf.h wants <ivstream.h>), so make's status is not the verdict: the .mod files are
    # compiled first, and a failure there leaves no library
    p = subprocess.run(["nrnivmodl"] + mods, cwd=mech_dir, env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, universal_newlines=True)
    if not os.path.exists(lib):
        out = p.stdout.splitlines()
        k = next((i for i, l in enumerate(out) if "rror" in l), len(out) - 1)
        msg = " ".join(l.strip() for l in out[k:k + 2]) if out else "?"
        die(3, "a NEURON mechanism failed to compile in %s: %s" % (mech_dir, msg))
    with open(os.path.join(mech_dir, "stamp"), "w") as f:
        f.write(stamp)


class L5PC:
    """Hay et al. (2011) morphology and channels; the perisomatic / basal / apical densities of their model as
    used by Beniaguev et al. (2021) (the L5PCbiophys5b set), axon replaced by two 30 um sections."""

    def __init__(self, h, nmda):
        self.h = h
        h.load_file("import3d.hoc")
        r = h.Import3d_Neurolucida3()
        r.quiet = 1
        r.input(os.path.join(HERE, "cell1.asc"))
        h.Import3d_GUI(r, 0).instantiate(None)
        self.soma = list(h.soma)
        self.dend = list(h.dend)
        self.apic = list(h.apic)
        for s in list(h.axon):
            h.delete_section(sec=s)
        self.axon = [h.Section(name="ax0"), h.Section(name="ax1")]
        for s in self.axon:
            s.L, s.diam = 30, 1
        self.axon[0].connect(self.soma[0](0.5), 0)
        self.axon[1].connect(self.axon[0](1), 0)
        for s in h.allsec():
            s.nseg = 1 + 2 * int(s.L / 40)
        self.biophys()
        self.synapses(nmda)

    def biophys(self):
        h = self.h
        for s in h.allsec():
            s.insert("pas")
            s.cm, s.Ra, s.e_pas = 1, 100, -90
        def ins(secs, mechs, **kw):
            for s in secs:
                for m in mechs:
                    s.insert(m)
                for k, v in kw.items():
                    for seg in s:
                        setattr(seg, k, v)
        ax = ["nd_im", "nd_calva", "nd_cahva", "nd_cad", "nd_kv31", "nd_sk", "nd_kt", "nd_kp", "nd_nap", "nd_nat", "nd_ih"]
        ins(self.axon, ax, gbar_nd_ih=0.0001 / 2, g_pas=3e-5, gbar_nd_im=0.013322, decay_nd_cad=277.300774,
            gamma_nd_cad=0.000525, gbar_nd_calva=0.000813, gbar_nd_cahva=0.000222, gbar_nd_kv31=0.473799,
            gbar_nd_sk=0.000047, gbar_nd_kt=0.077274, gbar_nd_kp=0.188851, gbar_nd_nap=0.005834,
            gbar_nd_nat=3.89618, vm_nd_nat=-38, vh_nd_nat=-66)
        so = ["nd_im", "nd_calva", "nd_cahva", "nd_cad", "nd_sk", "nd_kv31", "nd_nat", "nd_ih"]
        ins(self.soma, so, gbar_nd_ih=0.0001 * 0.75, g_pas=3e-5, gbar_nd_im=0.000008, decay_nd_cad=294.679571,
            gamma_nd_cad=0.000509, gbar_nd_calva=0.000557, gbar_nd_cahva=0.000644, gbar_nd_sk=0.09965,
            gbar_nd_kv31=0.338029, gbar_nd_nat=0.998912, vm_nd_nat=-32, vh_nd_nat=-60)
        ap = ["nd_cad", "nd_sk", "nd_calva", "nd_cahva", "nd_kv31", "nd_nat", "nd_im", "nd_ih"]
        ins(self.apic, ap, cm=2, g_pas=6e-5, decay_nd_cad=35.725651, gamma_nd_cad=0.000637, gbar_nd_sk=0.000002,
            gbar_nd_cahva=0.000701, gbar_nd_kv31=0.001808, gbar_nd_nat=0.021489, vm_nd_nat=-32, vh_nd_nat=-60,
            gbar_nd_im=0.00099)
        ins(self.dend, ["nd_ih"], gbar_nd_ih=0.0001 / 2, cm=2, g_pas=6e-5)
        for s in h.allsec():
            if h.ismembrane("k_ion", sec=s):
                s.ek = -85
            if h.ismembrane("na_ion", sec=s):
                s.ena = 50
        # apical gradients: Ih grows exponentially with the normalised distance (constant beyond 0.65 of the
        # longest apical path); Ca_LVA is 100 x denser in the 685-885 um "hot zone" near the main bifurcation
        o = self.soma[0](0.5)
        maxl = max(h.distance(o, s(1)) for s in self.apic if len(h.SectionRef(sec=s).child) == 0)
        for s in self.apic:
            for seg in s:
                d = h.distance(o, seg)
                x = min(d / maxl, 0.65)
                seg.gbar_nd_ih = (-0.8696 + 2.087 * __import__("math").exp(3.6161 * x)) * 0.0001
                seg.gbar_nd_calva = 0.141954 * 1.6 * (1.0 if 685 < d < 885 else 0.01)

    def synapses(self, nmda):
        """one excitatory (AMPA [+ NMDA], 0.4 nS each) and one inhibitory (GABA_A, 1 nS; rise 0.2, decay 8 ms,
        -80 mV) input per basal and apical segment, as in the paper"""
        h = self.h
        o = self.soma[0](0.5)
        self.seg, self.seg_len, self.seg_apical, self.seg_dist, self.seg_sec = [], [], [], [], []
        for k, s in enumerate(self.dend + self.apic):
            for seg in s:
                self.seg.append(seg)
                self.seg_len.append(s.L / s.nseg)
                self.seg_apical.append(k >= len(self.dend))
                self.seg_dist.append(h.distance(o, seg))
                self.seg_sec.append(k + 1)
        self.exc, self.inh = [], []
        for seg in self.seg:
            e = h.NdExc(seg)
            e.gampa, e.gnmda = 0.0004, 0.0004 if nmda else 0.0
            g = h.Exp2Syn(seg)
            g.tau1, g.tau2, g.e = 0.2, 8, -80
            self.exc.append(e)
            self.inh.append(g)
        self.nc_exc = [h.NetCon(None, e) for e in self.exc]
        self.nc_inh = [h.NetCon(None, g) for g in self.inh]
        for nc in self.nc_exc:
            nc.weight[0], nc.delay = 1, 0
        for nc in self.nc_inh:
            nc.weight[0], nc.delay = 0.001, 0


INTERVALS = [25, 30, 35, 40, 45, 55, 60, 65, 70, 75, 80, 85, 90, 100, 150, 200, 300, 450]
SIGMAS = [25, 30, 35, 40, 50, 60, 80, 100, 150, 200, 300, 400, 500, 600]
# total input spikes per 100 ms per tree (basal / apical): excitation U(0, EXC_MAX), inhibition - excitation in
# DIFF (the paper's ranges for its NMDA and its AMPA models)
RANGES = {"l5pc": (800, (-600, 200)), "l5pc-ampa": (1900, (-1650, 150))}


def make_inputs(rng, np, ms, seg_len, apical, cell):
    """Beniaguev et al.'s generator (re-implemented): per simulation an interval (25..450 ms +- 20) and a
    smoothing SD (25..600 ms +- 20); per interval and tree the total excitatory and inhibitory spike counts; per
    interval and segment a factor U(0.5, 1.5); rates proportional to segment length (+10 um); Gaussian smoothing;
    per bin the probability rate x Exp(1). Returns binary [segments x ms] for excitation and inhibition."""
    exc_max, (dlo, dhi) = RANGES[cell]
    L = INTERVALS[rng.integers(len(INTERVALS))] + int(40 * rng.random() - 20)
    sd = SIGMAS[rng.integers(len(SIGMAS))] + int(40 * rng.random() - 20)
    L, sd = max(L, 5), max(sd, 5)
    n = int(np.ceil(ms / L))
    ln = np.asarray(seg_len) + 10.0
    ap = np.asarray(apical)
    out = []
    counts = {}
    for tree in (0, 1):
        e = rng.uniform(0, exc_max, n)
        i = rng.uniform(np.maximum(0, e + dlo), e + dhi)
        counts[tree] = (e, i)
    rates = []
    for kind in (0, 1):
        per_um = np.where(ap[:, None], counts[1][kind][None, :] / (ln[ap].sum() * 100.0),
                          counts[0][kind][None, :] / (ln[~ap].sum() * 100.0))
        r = per_um * rng.uniform(0.5, 1.5, per_um.shape) * ln[:, None]
        r = np.repeat(r, L, axis=1)[:, :ms]
        k = np.arange(-int(3.5 * sd), int(3.5 * sd) + 1)
        w = np.exp(-0.5 * (k / sd) ** 2)
        w /= w.sum()
        h0 = (len(w) - 1) // 2  # centred, the length kept at ms even when the kernel is longer than the run
        r = np.array([np.convolve(x, w, mode="full")[h0:h0 + ms] for x in r])
        rates.append(r)
    for r in rates:
        p = rng.exponential(1.0, r.shape) * r
        out.append(rng.random(r.shape) < p)
    return out[0], out[1]


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--cell", required=True, choices=["l5pc", "l5pc-ampa"])
    ap.add_argument("--sims", type=int, default=10)
    ap.add_argument("--seconds", type=float, default=6)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dt", type=float, default=0.025)
    ap.add_argument("--mech-dir", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args()
    if a.sims < 1 or not (0.6 <= a.seconds <= 3600) or not (0 < a.dt <= 0.1) or abs(1 / a.dt - round(1 / a.dt)) > 1e-9:
        die(2, "l5pc: --sims >= 1, --seconds 0.6..3600 and a --dt that divides 1 ms (<= 0.1) are required")
    try:
        import numpy as np
        import h5py
    except ImportError as e:
        die(3, "l5pc: %s: install python3-numpy and python3-h5py" % e)
    os.environ.setdefault("NEURON_MODULE_OPTIONS", "-nogui")
    try:
        import neuron
        from neuron import h
    except ImportError:
        die(3, "NEURON is not installed for /usr/bin/python3: install it with 'sudo apt-get install neuron "
               "neuron-dev python3-neuron' (or 'make deps')")
    build_mechanisms(a.mech_dir, a.quiet)
    neuron.load_mechanisms(a.mech_dir)
    h.load_file("stdrun.hoc")
    cell = L5PC(h, a.cell == "l5pc")
    nseg = len(cell.seg)
    ms = int(round(a.seconds * 1000))
    h.celsius = 34
    h.dt = a.dt
    steps = int(round(1 / a.dt))
    h.steps_per_ms = steps
    h.tstop = ms
    h.v_init = -80
    vrec = h.Vector()
    vrec.record(cell.soma[0](0.5)._ref_v)  # every step; the end of each ms is every steps-th sample
    spk = h.Vector()
    det = h.NetCon(cell.soma[0](0.5)._ref_v, None, sec=cell.soma[0])
    det.threshold = 0
    det.record(spk)
    rng = np.random.default_rng(a.seed)
    soma_v = np.zeros((a.sims, ms), np.float32)
    spikes = np.zeros((a.sims, ms), np.uint8)
    t_all, s_all, k_all = [], [], []
    n_exc = n_inh = 0
    t0 = time.time()
    for k in range(a.sims):
        ex, inh = make_inputs(rng, np, ms, cell.seg_len, cell.seg_apical, a.cell)
        n_exc += int(ex.sum())
        n_inh += int(inh.sum())
        events = []
        for kind, arr, ncs in ((0, ex, cell.nc_exc), (1, inh, cell.nc_inh)):
            seg_i, t_i = np.nonzero(arr)
            events.append((seg_i, t_i, ncs))
            syn = seg_i + kind * nseg
            t_all.append(t_i.astype(np.int32))
            s_all.append(syn.astype(np.int32))
            k_all.append(np.full(len(t_i), k, np.int32))

        def queue():
            for seg_i, t_i, ncs in events:
                for s, t in zip(seg_i.tolist(), t_i.tolist()):
                    ncs[s].event(t + 0.0)
        fih = h.FInitializeHandler(1, queue)
        h.finitialize(-80)
        h.continuerun(ms + 0.5 * a.dt)  # half a step more: t accumulates rounding, the last step must run
        del fih
        v = np.array(vrec)[steps::steps][:ms]
        if len(v) != ms:
            die(1, "l5pc: the soma recorded %d ms of %d" % (len(v), ms))
        soma_v[k] = v
        st = np.array(spk)
        st = st[st < ms]
        spikes[k, np.floor(st).astype(int)] = 1
        if not a.quiet:
            sys.stderr.write("simulated %d / %d (%.1f s, %d output spikes)\n" % (k + 1, a.sims, time.time() - t0,
                                                                                   len(st)))
    t = np.concatenate(t_all)
    s = np.concatenate(s_all)
    kk = np.concatenate(k_all)
    order = np.lexsort((s, t, kk))
    syn_type = np.r_[np.zeros(nseg, np.uint8), np.ones(nseg, np.uint8)]
    sec = np.arange(nseg, dtype=np.int32)
    tmp = a.out + ".tmp"
    with h5py.File(tmp, "w") as f:
        f["soma_v"] = soma_v
        f["spikes"] = spikes
        f["spike_times_ms"] = t[order]
        f["spike_synapse"] = s[order]
        f["spike_sim"] = kk[order]
        f["syn_type"] = syn_type
        f["syn_section"] = np.r_[sec, sec] + 1  # segment index + 1 (0 = soma)
        f["syn_branch"] = np.r_[cell.seg_sec, cell.seg_sec].astype(np.int32)
        f["syn_distance_um"] = np.r_[cell.seg_dist, cell.seg_dist].astype(np.float32)
        sec_s = a.sims * a.seconds
        at = f.attrs
        at["cell"] = a.cell
        at["inputs"] = "paper"
        at["dt"] = a.dt
        at["bin_ms"] = 1.0
        at["seed"] = np.int64(a.seed)
        at["sims"] = np.int64(a.sims)
        at["ms_per_sim"] = np.int64(ms)
        at["synapses"] = np.int64(2 * nseg)
        at["exc_rate_hz"] = n_exc / (nseg * sec_s)
        at["inh_rate_hz"] = n_inh / (nseg * sec_s)
        at["output_rate_hz"] = float(spikes.sum()) / sec_s
        at["simulator"] = "NEURON %s, Hay et al. 2011 L5PC (%s)" % (neuron.__version__, a.cell)
        at["neurodyn_version"] = "0.1.0"
        at["syn_type_values"] = "0 = excitatory, 1 = inhibitory"
        at["simulate_seconds"] = time.time() - t0
    os.replace(tmp, a.out)
    print("%d %d %.4f %.4f %.4f %d %.3f" % (a.sims, 2 * nseg, n_exc / (nseg * sec_s), n_inh / (nseg * sec_s),
                                           float(spikes.sum()) / sec_s, len(t), time.time() - t0))


if __name__ == "__main__":
    main()
