//! Harrell's concordance of a Cox model's linear predictor, as `coxph()$concordance` of
//! survival 3.x (`concordancefit(y, lp, reverse = TRUE, timewt = "n")`): over the pairs
//! where the shorter time is an event (a censored time tied with it counts as longer), the
//! share where the higher risk score died first, tied scores counting one half; pairs tied
//! on an event time are not comparable. Its standard error is the infinitesimal jackknife of
//! survival 3.x: sqrt(Σ dfbetaᵢ²) / 2 with dfbetaᵢ = wᵢ·((Cᵢ − Dᵢ)/N − (S/N)·(Cᵢ + Dᵢ + Tᵢ)),
//! where Cᵢ, Dᵢ, Tᵢ are the weights of the concordant, discordant and score-tied pairs that
//! subject i is in, N the weight of all comparable pairs and S Somers' d (R's C routine
//! `concordance3`, with a Fenwick tree over the ranks of the score for its balanced tree).

/// Concordance and its standard error.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Concordance {
    pub value: f64,
    pub se: f64,
    /// Weights of the concordant, discordant and score-tied comparable pairs.
    pub concordant: f64,
    pub discordant: f64,
    pub tied_score: f64,
}

/// Weight sums over the ranks of the score: per rank and in prefix (Fenwick) form.
struct RankTree {
    node: Vec<f64>,
    fenwick: Vec<f64>,
    total: f64,
}

impl RankTree {
    fn new(m: usize) -> Self {
        RankTree {
            node: vec![0.0; m],
            fenwick: vec![0.0; m + 1],
            total: 0.0,
        }
    }

    fn add(&mut self, rank: usize, w: f64) {
        self.node[rank] += w;
        self.total += w;
        let mut i = rank + 1;
        while i < self.fenwick.len() {
            self.fenwick[i] += w;
            i += i & i.wrapping_neg();
        }
    }

    /// Weight with a rank below `rank`.
    fn below(&self, rank: usize) -> f64 {
        let (mut i, mut s) = (rank, 0.0);
        while i > 0 {
            s += self.fenwick[i];
            i -= i & i.wrapping_neg();
        }
        s
    }

    /// [greater, smaller, tied] weight relative to `rank` (R's `walkup`).
    fn walkup(&self, rank: usize) -> [f64; 3] {
        let below = self.below(rank);
        let tied = self.node[rank];
        [self.total - below - tied, below, tied]
    }
}

/// The concordance of `score` (higher = higher risk) with survival; `time` need not be
/// sorted. With `cluster`, the influence is summed per cluster before squaring (R's
/// `cluster`). `None` when no pair is comparable.
pub fn concordance(
    time: &[f64],
    status: &[bool],
    weight: &[f64],
    score: &[f64],
    cluster: Option<&[u32]>,
) -> Option<Concordance> {
    let n = time.len();
    // Ranks of the score (ties share a rank).
    let mut distinct: Vec<f64> = score.to_vec();
    distinct.sort_by(f64::total_cmp);
    distinct.dedup();
    let rank: Vec<usize> = score
        .iter()
        .map(|s| distinct.partition_point(|d| d < s))
        .collect();
    // R: order(-time, status, score): the longest first, censored before events at a time.
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| {
        time[b]
            .total_cmp(&time[a])
            .then(status[a].cmp(&status[b]))
            .then(score[a].total_cmp(&score[b]))
    });
    let m = distinct.len();
    let mut risk = RankTree::new(m);
    let mut deaths = RankTree::new(m);
    // Per subject: concordant, discordant, tied-on-score weight (before R's `reverse`).
    let mut infl = vec![[0.0f64; 3]; n];
    let mut count = [0.0f64; 3];
    let mut i = 0;
    while i < n {
        let ii = order[i];
        if !status[ii] {
            let w = deaths.walkup(rank[ii]);
            infl[ii][0] -= w[1];
            infl[ii][1] -= w[0];
            infl[ii][2] -= w[2];
            risk.add(rank[ii], weight[ii]);
            i += 1;
            continue;
        }
        let mut j = i;
        while j < n && time[order[j]] == time[ii] && status[order[j]] {
            let jj = order[j];
            let w = risk.walkup(rank[jj]);
            for k in 0..3 {
                count[k] += weight[jj] * w[k];
                infl[jj][k] += w[k];
            }
            deaths.add(rank[jj], weight[jj]);
            j += 1;
        }
        for &jj in &order[i..j] {
            let w = deaths.walkup(rank[jj]);
            infl[jj][0] -= w[1];
            infl[jj][1] -= w[0];
            infl[jj][2] -= w[2];
            risk.add(rank[jj], weight[jj]);
        }
        i = j;
    }
    for (k, inf) in infl.iter_mut().enumerate() {
        let w = deaths.walkup(rank[k]);
        inf[0] += w[1];
        inf[1] += w[0];
        inf[2] += w[2];
    }
    let npair = count[0] + count[1] + count[2];
    if npair <= 0.0 {
        return None;
    }
    let somers = (count[0] - count[1]) / npair;
    let dfbeta = infl
        .iter()
        .zip(weight)
        .map(|(c, w)| w * ((c[0] - c[1]) / npair - somers / npair * (c[0] + c[1] + c[2])));
    let var = match cluster {
        None => dfbeta.map(|d| d * d).sum::<f64>() / 4.0,
        Some(g) => {
            let mut sums = std::collections::BTreeMap::<u32, f64>::new();
            for (d, &c) in dfbeta.zip(g) {
                *sums.entry(c).or_default() += d;
            }
            sums.values().map(|d| d * d).sum::<f64>() / 4.0
        }
    };
    // R's `reverse = TRUE`: a higher score should go with a shorter time.
    Some(Concordance {
        value: 1.0 - (somers + 1.0) / 2.0,
        se: var.sqrt(),
        concordant: count[1],
        discordant: count[0],
        tied_score: count[2],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SplitMix64;

    /// Against the definition, pair by pair, on small random data with ties in time and
    /// score: the value, and each subject's pair counts through the variance.
    #[test]
    fn equals_the_pairwise_definition() {
        let mut rng = SplitMix64::new(3);
        for _ in 0..300 {
            let n = 2 + (rng.next_f64() * 15.0) as usize;
            let time: Vec<f64> = (0..n).map(|_| (rng.next_f64() * 5.0).floor()).collect();
            let status: Vec<bool> = (0..n).map(|_| rng.next_f64() < 0.6).collect();
            let weight: Vec<f64> = (0..n)
                .map(|_| 0.5 + (rng.next_f64() * 2.0).floor())
                .collect();
            let score: Vec<f64> = (0..n).map(|_| (rng.next_f64() * 4.0).floor()).collect();
            let mut c = vec![[0.0f64; 3]; n];
            let mut tot = [0.0f64; 3];
            for a in 0..n {
                for b in 0..n {
                    // a dies first, b is still at risk.
                    let comparable =
                        status[a] && (time[b] > time[a] || (time[b] == time[a] && !status[b]));
                    if !comparable {
                        continue;
                    }
                    let k = if score[a] > score[b] {
                        0
                    } else if score[a] < score[b] {
                        1
                    } else {
                        2
                    };
                    c[a][k] += weight[b];
                    c[b][k] += weight[a];
                    tot[k] += weight[a] * weight[b];
                }
            }
            let got = concordance(&time, &status, &weight, &score, None);
            let npair = tot.iter().sum::<f64>();
            if npair == 0.0 {
                assert!(got.is_none());
                continue;
            }
            let got = got.expect("comparable pairs");
            let value = (tot[0] + tot[2] / 2.0) / npair;
            assert!(
                (got.value - value).abs() < 1e-12,
                "{} vs {value}",
                got.value
            );
            let somers = (tot[0] - tot[1]) / npair;
            let var: f64 = (0..n)
                .map(|i| {
                    let d = weight[i]
                        * ((c[i][0] - c[i][1]) / npair - somers / npair * c[i].iter().sum::<f64>());
                    d * d
                })
                .sum::<f64>()
                / 4.0;
            assert!(
                (got.se - var.sqrt()).abs() < 1e-12,
                "{} vs {}",
                got.se,
                var.sqrt()
            );
        }
    }
}
