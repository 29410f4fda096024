"""The app against its emitted R script on random simulated cohorts and matching settings:
matched pairs, pairs decided by ties, medians with their CIs and HRs per endpoint.
Usage: python3 benches/compare/random_r_script.py SEED N_CASES  (needs R with survival; the
debug binary at target/debug/survival-explorer; writes cohorts to /tmp/rand).
"""
import json, math, os, random, subprocess, sys
BIN = os.path.join(os.path.dirname(__file__), "..", "..", "target", "debug", "survival-explorer")
os.makedirs("/tmp/rand", exist_ok=True)
random.seed(int(sys.argv[1]) if len(sys.argv)>1 else 1)
covsets=["ecog,albi_grade","ecog,albi_grade,age","ecog,albi_grade,prior_io_response,age","ecog:factor,albi_grade,bclc","age,afp_ge_400,etiology"]
bad=0; total=0
for case in range(int(sys.argv[2]) if len(sys.argv)>2 else 20):
    n=random.choice([80,150,300,600])
    seed=random.randint(1,100000)
    f=f"/tmp/rand/c{case}.csv"
    subprocess.run([BIN,"simulate","--n",str(n),"--seed",str(seed),"--out",f,"--force"],check=True)
    args=["--match",random.choice(covsets),"--caliper",str(random.choice([0.05,0.1,0.2,0.5])),
          "--order",random.choice(["largest","smallest","data","random"]),"--seed",str(random.randint(1,999))]
    if random.random()<0.3: args+=["--ratio","2"]
    if random.random()<0.2: args+=["--replace"]
    if random.random()<0.3: args+=["--caliper-scale","ps"]
    out=subprocess.run([BIN,"analyze",f,"--summary"]+args,capture_output=True,text=True)
    if out.returncode!=0: continue
    j=json.loads(out.stdout); m=j["matching"]
    scr=subprocess.run([BIN,"analyze",f]+args+["--emit-r"],capture_output=True,text=True).stdout
    open("/tmp/rand/s.R","w").write(scr)
    r=subprocess.run(["Rscript","/tmp/rand/s.R"],capture_output=True,text=True)
    res={}
    for l in r.stdout.splitlines():
        if l.startswith("RESULT "):
            p=l.split(); res[p[1]]=[float(x) if x!="NA" else float("nan") for x in p[2:]]
    total+=1
    ours=set((int(a),int(b)) for a,b in m["pairs"])
    rp=res.get("pairs",[]); theirs=set(zip(map(int,rp[0::2]),map(int,rp[1::2])))
    problems=[]
    if ours!=theirs: problems.append(f"pairs differ {len(ours^theirs)}")
    if m["n_tie_decisions"]!=res.get("tie_decisions",[None])[0]: problems.append(f"ties {m['n_tie_decisions']} vs {res.get('tie_decisions')}")
    for ep,e in j["endpoints"].items():
        for arm,a in e["arms"].items():
            rv=res.get(f"{ep}_median_{arm}")
            if rv is None: continue
            for ours_v,rv_v in zip([a["median"]]+a["median_ci"],rv):
                ov=float("nan") if ours_v is None else ours_v
                if not (math.isnan(ov) and math.isnan(rv_v)) and abs(ov-rv_v)>1e-6*max(1,abs(rv_v)):
                    problems.append(f"{ep} {arm} median {ov} vs {rv_v}")
        hr=res.get(f"{ep}_hr"); ohr=e["cox"]["hr"]
        if hr and ohr is not None and abs(ohr-hr[0])>1e-6*abs(hr[0]): problems.append(f"{ep} hr {ohr} vs {hr[0]}")
    if problems:
        bad+=1; print(case,n,seed,args,problems[:4])
print(f"{total} cases, {bad} with differences")
