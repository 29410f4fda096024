"""The app's multivariable Cox model (--adjust, --univariable) against its emitted R script on
random simulated cohorts: blanks in a covariate, factor/numeric/text covariates, Breslow ties,
a subgroup, matching with --robust or --ratio 2.
Usage: python3 benches/compare/random_adjusted.py SEED N_CASES  (needs R with survival; the
debug binary at target/debug/survival-explorer; writes cohorts and scripts to /tmp/randadj).
The emitted script prints 10 significant digits; it is run with %.10g turned into %.17g so
that the comparison can be at 1e-9 relative: |ours - R| <= 1e-9 * max(|R|, 1e-12).
Compared per endpoint: adj n/events, every coef and se, LR chi-square, concordance and its
se, every cox.zph row and the global test, the univariable coefs and LR p, the arm-only zph.
Cases where one side says not estimable and the other fits are listed apart.
Each case is also appended as JSON to /tmp/randadj/cases_SEED.jsonl.
"""
import json, math, os, random, subprocess, sys, time

BIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "target", "debug", "survival-explorer")
OUT = "/tmp/randadj"
os.makedirs(OUT, exist_ok=True)
SEED = int(sys.argv[1]) if len(sys.argv) > 1 else 1
NCASES = int(sys.argv[2]) if len(sys.argv) > 2 else 20
random.seed(SEED)
TOL = 1e-9
NUMERIC = ["ecog", "albi_grade", "age", "afp_ge_400", "nlr", "pvt"]
TEXT = ["etiology", "bclc", "prior_io_response"]
FACTORABLE = ["ecog", "albi_grade", "afp_ge_400", "pvt"]


def run(cmd, **kw):
    """Run the binary, waiting out a rebuild ("text file busy", missing file)."""
    for attempt in range(20):
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, **kw)
        except OSError:  # ETXTBSY, ENOENT while the linker writes
            time.sleep(30); continue
        if r.returncode != 0 and ("busy" in r.stderr.lower() or r.returncode in (126, 127)):
            time.sleep(30); continue
        return r
    raise RuntimeError("binary unavailable: " + " ".join(cmd))


def blank_column(path, col, frac, rng):
    lines = open(path).read().splitlines()
    head = lines[0].split(",")
    k = head.index(col)
    out = [lines[0]]
    nb = 0
    for l in lines[1:]:
        p = l.split(",")
        if rng.random() < frac:
            p[k] = ""; nb += 1
        out.append(",".join(p))
    open(path, "w").write("\n".join(out) + "\n")
    return nb


def close(ours, theirs):
    if ours is None:
        ours = float("nan")
    if math.isnan(ours) and math.isnan(theirs):
        return True
    if math.isnan(ours) or math.isnan(theirs):
        return False
    return abs(ours - theirs) <= TOL * max(abs(theirs), 1e-12)


def rel(ours, theirs):
    if ours is None or math.isnan(theirs):
        return float("inf")
    return abs(ours - theirs) / max(abs(theirs), 1e-300)


def parse_results(text):
    res = {}
    for l in text.splitlines():
        if l.startswith("RESULT "):
            p = l.split()
            vals = []
            for x in p[2:]:
                try:
                    vals.append(float(x))
                except ValueError:
                    vals.append(float("nan"))
            res[p[1]] = vals
    return res


def make_case(case):
    n = random.choice([60, 120, 300, 800])
    seed = random.randint(1, 100000)
    f = f"{OUT}/s{SEED}_c{case}.csv"
    run([BIN, "simulate", "--n", str(n), "--seed", str(seed), "--out", f, "--force"], check=True)
    header = open(f).readline().strip().split(",")
    numeric = [c for c in NUMERIC if c in header]
    text = [c for c in TEXT if c in header]
    blanked = None
    if random.random() < 0.5:
        col = random.choice(numeric + text)
        blanked = (col, blank_column(f, col, 0.05, random.Random(seed)))
    covs = random.sample(numeric + text, random.randint(1, 4))
    spec = []
    for c in covs:
        if c in FACTORABLE and random.random() < 0.4:
            spec.append(c + ":factor")
        else:
            spec.append(c)
    args = ["--adjust", ",".join(spec)]
    if random.random() < 0.5: args += ["--univariable"]
    if random.random() < 0.3: args += ["--ties", "breslow"]
    if random.random() < 0.25: args += ["--subgroup", "prior_io_response=PD"]
    if random.random() < 0.35:
        args += ["--match", "ecog,albi_grade,prior_io_response"]
        if random.random() < 0.5: args += ["--robust"]
        if random.random() < 0.4: args += ["--ratio", "2"]
    return dict(case=case, n=n, sim_seed=seed, file=f, blanked=blanked, args=args)


MAXREL = {}


def kind_of(label):
    t = label.split()[1:]
    if t[0].startswith("zph["): return "arm-only zph"
    if t[0] == "adj":
        if t[1] == "concordance": return "adj concordance" + (" se" if len(t) > 2 else "")
        if t[1] == "zph": return "adj zph " + ("global" if t[2] == "GLOBAL" else "term")
        return "adj " + t[1]
    if t[0] == "uni":
        return "uni arm coef" if t[1] == "arm" else "uni " + ("LR p" if t[-1] == "LRp" else "coef")
    return " ".join(t)


def compare(c, j, res, problems, ne):
    """Fill problems (list of str) and ne (list of str) for one case; return count compared."""
    cnt = 0
    spec = c["args"][c["args"].index("--adjust") + 1].split(",")
    bases = [s.split(":")[0] for s in spec]

    def chk(label, ours, theirs):
        nonlocal cnt
        cnt += 1
        if ours is not None and math.isfinite(theirs):
            kind = kind_of(label)
            MAXREL[kind] = max(MAXREL.get(kind, 0.0), rel(ours, theirs))
        if not close(ours, theirs):
            problems.append(f"{label}: ours {ours!r} R {theirs!r} rel {rel(ours, theirs):.2e}")

    for ep, e in j["endpoints"].items():
        # arm-only zph
        cx = e.get("cox") or {}
        rz = res.get(f"{ep}_zph")
        if cx.get("ph_test") and rz is not None:
            ozr = [t["chi_square"] for t in cx["ph_test"]["terms"]] + [cx["ph_test"]["global"]["chi_square"]]
            if len(ozr) != len(rz):
                problems.append(f"{ep} zph length ours {len(ozr)} R {len(rz)}")
            for i, (o, t) in enumerate(zip(ozr, rz)):
                chk(f"{ep} zph[{i}]", o, t)
        elif cx.get("not_estimable") and rz is not None:
            ne.append(f"{ep} arm-only: app not_estimable ({cx['not_estimable']}); R still prints zph {rz}"
                      + (f" with HR {res[f'{ep}_hr'][0]:.3g}" if res.get(f"{ep}_hr") else ""))
        elif (cx.get("ph_test") is None) != (rz is None):
            problems.append(f"{ep} arm-only zph present: ours {cx.get('ph_test') is not None} R {rz is not None}")
        a = e.get("cox_adjusted")
        rcoef = res.get(f"{ep}_adj_coef")
        if a is None:
            problems.append(f"{ep}: no cox_adjusted in JSON")
            continue
        r_fits = rcoef is not None and len(rcoef) > 0 and all(math.isfinite(x) for x in rcoef)
        app_ne = bool(a.get("not_estimable"))
        if app_ne and r_fits:
            big = max(abs(x) for x in rcoef)
            ne.append(f"{ep} adj: app not_estimable ({a.get('not_estimable')}) but R returns coef={rcoef}"
                      + (f" (max |coef| {big:.1f}: R's 'coefficient may be infinite' case)" if big > 10
                         else " (FINITE in R: app false positive?)"))
        elif not app_ne and not r_fits:
            ne.append(f"{ep} adj: app fits but R does not (R coef={rcoef})")
        if not app_ne and r_fits:
            rn = res.get(f"{ep}_adj_n")
            if rn:
                chk(f"{ep} adj n", a["n"], rn[0]); chk(f"{ep} adj events", a["events"], rn[1])
            terms = a["terms"]
            rse = res.get(f"{ep}_adj_se", [])
            if len(terms) != len(rcoef):
                problems.append(f"{ep} adj #terms ours {[t['term'] for t in terms]} R {len(rcoef)}")
            for i, (t, rc) in enumerate(zip(terms, rcoef)):
                chk(f"{ep} adj coef {t['term']}", t["coef"], rc)
                if i < len(rse): chk(f"{ep} adj se {t['term']}", t["se"], rse[i])
            lr = res.get(f"{ep}_adj_lr")
            if lr: chk(f"{ep} adj LR", a["tests"]["likelihood_ratio"]["chi_square"], lr[0])
            cc = res.get(f"{ep}_adj_concordance")
            if cc:
                chk(f"{ep} adj concordance", a["concordance"]["value"], cc[0])
                chk(f"{ep} adj concordance se", a["concordance"]["se"], cc[1])
            az = res.get(f"{ep}_adj_zph")
            if az is not None and a.get("ph_test"):
                ozr = [(t["term"], t["chi_square"]) for t in a["ph_test"]["terms"]] + [("GLOBAL", a["ph_test"]["global"]["chi_square"])]
                if len(ozr) != len(az):
                    problems.append(f"{ep} adj zph rows ours {[x[0] for x in ozr]} R {len(az)}")
                for (nm, o), t in zip(ozr, az):
                    chk(f"{ep} adj zph {nm}", o, t)
            elif (az is None) != (not a.get("ph_test")):
                problems.append(f"{ep} adj zph present: ours {bool(a.get('ph_test'))} R {az is not None}")
        # univariable
        uni = e.get("cox_univariable")
        if uni is not None:
            byname = {u["covariate"]: u for u in uni}
            if uni and uni[0]["covariate"] == "arm" and res.get(f"{ep}_hr") and not uni[0].get("not_estimable"):
                chk(f"{ep} uni arm coef", uni[0]["terms"][0]["coef"], math.log(res[f"{ep}_hr"][0]))
            for k, b in enumerate(bases, start=1):
                ru = res.get(f"{ep}_uni_{k}")
                u = byname.get(b) or byname.get(spec[k - 1])
                if u is None:
                    if ru is not None: problems.append(f"{ep} uni {b}: missing in JSON, R has {ru}")
                    continue
                u_ne = bool(u.get("not_estimable"))
                ru_fits = ru is not None and all(math.isfinite(x) for x in ru)
                if u_ne and ru_fits:
                    big = max(abs(x) for x in ru[:-1])
                    ne.append(f"{ep} uni {b}: app not_estimable ({u.get('not_estimable')}) but R returns {ru}"
                              + (f" (max |coef| {big:.1f}: R's 'coefficient may be infinite' case)" if big > 10
                                 else " (FINITE in R: app false positive?)"))
                    continue
                if not u_ne and not ru_fits:
                    ne.append(f"{ep} uni {b}: app fits but R does not ({ru})")
                    continue
                if u_ne:
                    continue
                oc = [t["coef"] for t in u["terms"]] + [u["likelihood_ratio_p"]]
                if len(oc) != len(ru):
                    problems.append(f"{ep} uni {b} length ours {len(oc)} R {len(ru)}")
                for i, (o, t) in enumerate(zip(oc, ru)):
                    chk(f"{ep} uni {b} {'LRp' if i == len(oc) - 1 else 'coef' + str(i)}", o, t)
        elif "--univariable" in c["args"]:
            problems.append(f"{ep}: --univariable but no cox_univariable")
    return cnt


def main():
    total = bad = nebad = skipped = values = 0
    log = open(f"{OUT}/cases_{SEED}.jsonl", "w")
    for case in range(NCASES):
        c = make_case(case)
        f, args = c["file"], c["args"]
        out = run([BIN, "analyze", f, "--summary"] + args)
        if out.returncode != 0:
            skipped += 1
            print(f"case {case} n={c['n']} sim={c['sim_seed']} {args}: app failed: {out.stderr.strip()[:200]}")
            c["app_error"] = out.stderr.strip(); log.write(json.dumps(c) + "\n"); continue
        j = json.loads(out.stdout)
        scr = run([BIN, "analyze", f] + args + ["--emit-r"]).stdout
        scr = scr.replace("%.10g", "%.17g")
        sp = f"{OUT}/s{SEED}_c{case}.R"
        open(sp, "w").write(scr)
        r = subprocess.run(["Rscript", sp], capture_output=True, text=True)
        res = parse_results(r.stdout)
        total += 1
        problems, ne = [], []
        if r.returncode != 0:
            problems.append("R script failed: " + r.stderr.strip().splitlines()[-1][:200] if r.stderr.strip() else "R failed")
        values += compare(c, j, res, problems, ne)
        c.update(problems=problems, not_estimable=ne)
        log.write(json.dumps(c) + "\n"); log.flush()
        if problems:
            bad += 1
            print(f"case {case} n={c['n']} sim={c['sim_seed']} blank={c['blanked']} {' '.join(args)}")
            for p in problems[:12]: print("   ", p)
            if len(problems) > 12: print(f"    ... {len(problems) - 12} more")
        if ne:
            nebad += 1
            print(f"case {case} n={c['n']} sim={c['sim_seed']} blank={c['blanked']} {' '.join(args)} [estimability]")
            for p in ne: print("   ", p)
    print("largest relative difference per statistic: " + ", ".join(f"{k} {v:.1e}" for k, v in sorted(MAXREL.items())))
    print(f"seed {SEED}: {total} cases compared ({values} values), {bad} with differences, "
          f"{nebad} with estimability disagreements, {skipped} where the app failed")


if __name__ == "__main__":
    main()
