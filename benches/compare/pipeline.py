"""The comparison pipeline in Python (pandas, statsmodels, lifelines, scipy), timed in-process.

    python3 benches/compare/pipeline.py COHORT.csv

The same analysis as
    survival-explorer analyze COHORT.csv --summary \\
      --match ecog,albi_grade,prior_io_response,bclc,etiology,afp_ge_400,age
1. read the CSV; 2. logistic propensity model (statsmodels formula API); 3. 1:1 greedy
nearest-neighbour matching on the logit, caliper 0.2 SD of the logit, largest first, without
replacement; 4. standardized mean differences before/after; 5. per endpoint: Kaplan-Meier per
arm (median and its CI, lifelines' exponential Greenwood = log-log), log-rank test, Cox HR
(lifelines, Efron ties); 6. disease control rate per arm (Clopper-Pearson) and Fisher's test.

Python has no MatchIt; the greedy match here is written for speed (sort once, then "next
available" links with path compression: O(n log n)), with the rule of our tool and of
MatchIt: treated visited largest logit first, the nearest available control below or
at/above its place in the stable sort by logit, the lower one winning a tie, kept when the gap
is at most 0.2 x SD(logit). Timing covers steps 1-6; the imports are outside it.
"""

import sys
import time
import warnings

import numpy as np
import pandas as pd
import statsmodels
import statsmodels.formula.api as smf
import lifelines
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.statistics import logrank_test
from lifelines.utils import median_survival_times
import scipy
from scipy import stats

warnings.filterwarnings("ignore")

PS_FORMULA = (
    "treated ~ ecog + albi_grade + C(prior_io_response) + C(bclc) + C(etiology)"
    " + afp_ge_400 + age"
)
ENDPOINTS = {
    "pfs": ("pfs_months", "pfs_event"),
    "os": ("os_months", "os_event"),
    "seq_os": ("seq_os_months", "os_event"),
}


def _find(nxt, i):
    """Smallest available slot >= i in a 'next available' array (path-compressed)."""
    root = i
    while nxt[root] != root:
        root = nxt[root]
    while nxt[i] != root:
        nxt[i], i = root, nxt[i]
    return root


def greedy_match(d, treated, caliper_sd):
    """Returns pair ids (0 = unmatched) for 1:1 greedy matching without replacement."""
    n = len(d)
    width = caliper_sd * np.std(d, ddof=1)
    order = np.argsort(d, kind="stable")
    is_t = treated[order]
    # controls in sorted order; for each treated, the number of controls before it
    controls = order[~is_t]
    n_before = np.cumsum(~is_t) - (~is_t)
    insert_at = np.empty(n, dtype=np.int64)
    insert_at[order] = n_before
    t_idx = np.flatnonzero(treated)
    t_idx = t_idx[np.argsort(-d[t_idx], kind="stable")]
    nc = len(controls)
    dc = d[controls].tolist()
    right = list(range(nc + 1))  # right: smallest available slot >= i (nc = none)
    left = list(range(nc + 1))   # mirrored: slot k stored at nc-1-k
    pair = np.zeros(n, dtype=np.int64)
    dl_t = d.tolist()
    ins = insert_at.tolist()
    k = 0
    for t in t_idx.tolist():
        dt = dl_t[t]
        pos = ins[t]
        r = _find(right, pos)
        m = _find(left, nc - pos) if pos > 0 else nc
        l = nc - 1 - m if m < nc else -1
        gl = dt - dc[l] if l >= 0 else np.inf
        gr = dc[r] - dt if r < nc else np.inf
        if gl <= gr:
            j, gap = l, gl
        else:
            j, gap = r, gr
        if j >= 0 and gap <= width:
            k += 1
            pair[t] = k
            pair[controls[j]] = k
            right[j] = j + 1
            left[nc - 1 - j] = nc - j
    return pair


def smd_table(X, treated, matched):
    """MatchIt-style SMD: (mean_t - mean_c) / SD of the treated before matching
    (sqrt(p(1-p)) for 0/1 columns)."""
    rows = []
    for name in X.columns:
        x = X[name].to_numpy(dtype=float)
        xt = x[treated]
        binary = np.isin(x, (0.0, 1.0)).all()
        den = np.sqrt(xt.mean() * (1 - xt.mean())) if binary else xt.std(ddof=1)
        before = (xt.mean() - x[~treated].mean()) / den
        after = (x[treated & matched].mean() - x[~treated & matched].mean()) / den
        rows.append((name, before, after))
    return rows


def main(path):
    t0 = time.perf_counter()

    # 1. load
    df = pd.read_csv(path)
    df["treated"] = (df["arm"] == "lenvatinib").astype(int)
    t_load = time.perf_counter()

    # 2. propensity model
    fit = smf.logit(PS_FORMULA, data=df).fit(disp=0)
    X = fit.model.exog
    lp = X @ fit.params.to_numpy()
    # 3. matching
    treated = df["treated"].to_numpy() == 1
    pair = greedy_match(lp, treated, 0.2)
    matched_mask = pair > 0
    # 4. balance
    design = pd.DataFrame(X[:, 1:], columns=fit.model.exog_names[1:])
    design.insert(0, "distance", lp)
    balance = smd_table(design, treated, matched_mask)
    m = df.loc[matched_mask].copy()
    t_match = time.perf_counter()

    # 5. endpoints
    m["seq_os_months"] = m["first_line_months"] + m["os_months"]
    results = {}
    mt = m["treated"].to_numpy() == 1
    for name, (tcol, ecol) in ENDPOINTS.items():
        T = m[tcol].to_numpy(dtype=float)
        E = m[ecol].to_numpy(dtype=int)
        arms = {}
        for arm, sel in (("sorafenib", ~mt), ("lenvatinib", mt)):
            km = KaplanMeierFitter().fit(T[sel], E[sel])
            ci = median_survival_times(km.confidence_interval_)
            arms[arm] = (int(sel.sum()), int(E[sel].sum()), km.median_survival_time_,
                         float(ci.iloc[0, 0]), float(ci.iloc[0, 1]))
        lr = logrank_test(T[mt], T[~mt], E[mt], E[~mt])
        cph = CoxPHFitter().fit(
            pd.DataFrame({"T": T, "E": E, "lenvatinib": mt.astype(float)}),
            duration_col="T", event_col="E")
        hr = float(cph.hazard_ratios_["lenvatinib"])
        lo, hi = np.exp(cph.confidence_intervals_.loc["lenvatinib"].to_numpy())
        results[name] = (arms, lr.p_value, hr, lo, hi)

    # 6. response (DCR among evaluable patients: NE and missing left out, as our tool)
    br = m["best_response"]
    evaluable = (br.notna() & (br != "NE")).to_numpy()
    dc = br.isin(["CR", "PR", "SD"]).to_numpy()
    dcr = {}
    table = []
    for arm, sel in (("sorafenib", ~mt), ("lenvatinib", mt)):
        x = int((dc & evaluable & sel).sum())
        n = int((evaluable & sel).sum())
        ci = stats.binomtest(x, n).proportion_ci(confidence_level=0.95, method="exact")
        dcr[arm] = (x, n, x / n, ci.low, ci.high)
        table.append([x, n - x])
    fisher_p = stats.fisher_exact(table).pvalue
    t_end = time.perf_counter()

    print(f"Python {sys.version.split()[0]}, pandas {pd.__version__}, numpy {np.__version__}, "
          f"statsmodels {statsmodels.__version__}, lifelines {lifelines.__version__}, "
          f"scipy {scipy.__version__}")
    print(f"rows {len(df)}; matched: lenvatinib {int(mt.sum())}, sorafenib {int((~mt).sum())}")
    print("SMD before / after:")
    for name, b, a in balance:
        print(f"  {name:32s} {b:8.4f} {a:8.4f}")
    for name, (arms, p, hr, lo, hi) in results.items():
        print(f"{name}:")
        for arm, (n, ev, med, mlo, mhi) in arms.items():
            print(f"  {arm:12s} n={n} events={ev} median {med:.2f} ({mlo:.2f}-{mhi:.2f})")
        print(f"  HR lenvatinib vs sorafenib {hr:.4f} ({lo:.4f}-{hi:.4f}), log-rank p {p:.3g}")
    for arm, (x, n, p, lo, hi) in dcr.items():
        print(f"DCR {arm:10s} {x}/{n} = {p:.4f} ({lo:.4f}-{hi:.4f})")
    print(f"Fisher p {fisher_p:.3g}")
    print(f"time: load {t_load - t0:.3f} s, match+balance {t_match - t_load:.3f} s, "
          f"survival+response {t_end - t_match:.3f} s")
    print(f"in_process_s={t_end - t0:.4f}")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: python3 pipeline.py COHORT.csv")
    main(sys.argv[1])
