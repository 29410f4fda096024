# The comparison pipeline in R (survival + MatchIt), timed in-process.
#
#   Rscript benches/compare/pipeline.R COHORT.csv [--own-greedy]
#
# The same analysis as
#   survival-explorer analyze COHORT.csv --summary \
#     --match ecog,albi_grade,prior_io_response,bclc,etiology,afp_ge_400,age
# 1. read the CSV; 2. logistic propensity model; 3. 1:1 greedy nearest-neighbour matching on
# the logit, caliper 0.2 SD, largest distance first, without replacement (MatchIt::matchit);
# 4. balance (summary() of the matchit object); 5. per endpoint: Kaplan-Meier per arm (median
# and log-log CI), log-rank test, Cox HR (Efron ties); 6. disease control rate per arm
# (Clopper-Pearson) and Fisher's exact test.
#
# MatchIt 4.5.1-4.5.3 ignore the caliper on this path (MatchIt issue #163), so matchit()
# matches every treated unit it can. `--own-greedy` replaces matchit() by a short plain-R
# greedy match that does apply the caliper (same rule: largest logit first, nearest available
# control, ties to the lower one), to check the numbers against the other tools; it is
# O(n_treated x n_control) and meant for the agreement check at small n, not for timing.
# Timing covers steps 1-6; loading the packages and starting R are outside it.

suppressPackageStartupMessages({
  library(survival)
  library(MatchIt)
})

args <- commandArgs(trailingOnly = TRUE)
if (length(args) < 1) stop("usage: Rscript pipeline.R COHORT.csv [--own-greedy]")
path <- args[1]
own_greedy <- "--own-greedy" %in% args

covariates <- c("ecog", "albi_grade", "prior_io_response", "bclc", "etiology",
                "afp_ge_400", "age")
ps_formula <- treated ~ ecog + albi_grade + prior_io_response + bclc + etiology +
  afp_ge_400 + age

# Plain-R greedy matching with the caliper (only with --own-greedy). The rule of our tool:
# all units sorted by distance (stable), treated visited largest first, for each the nearest
# available control below and at/above its place in that order, the lower one winning a tie,
# kept when the gap is at most the caliper width (caliper_sd x SD of the distance).
greedy_match <- function(d, treated, caliper_sd) {
  width <- caliper_sd * sd(d)
  pos <- integer(length(d))
  pos[order(d)] <- seq_along(d)             # order() is stable: ties keep input order
  t_idx <- which(treated == 1)
  t_idx <- t_idx[order(-d[t_idx])]          # largest first, ties in input order
  c_idx <- which(treated == 0)
  c_idx <- c_idx[order(pos[c_idx])]         # controls in sorted order
  cpos <- pos[c_idx]
  dc <- d[c_idx]
  avail <- rep(TRUE, length(c_idx))
  pair_of <- integer(length(d))
  k <- 0L
  for (t in t_idx) {
    below <- which(avail & cpos < pos[t])
    above <- which(avail & cpos > pos[t])
    l <- if (length(below)) below[length(below)] else NA_integer_
    r <- if (length(above)) above[1] else NA_integer_
    gl <- if (is.na(l)) Inf else d[t] - dc[l]
    gr <- if (is.na(r)) Inf else dc[r] - d[t]
    j <- if (gl <= gr) l else r
    g <- min(gl, gr)
    if (!is.na(j) && g <= width) {
      k <- k + 1L
      avail[j] <- FALSE
      pair_of[t] <- k
      pair_of[c_idx[j]] <- k
    }
  }
  pair_of
}

t0 <- Sys.time()

# 1. load
cohort <- read.csv(path, stringsAsFactors = FALSE)
cohort$treated <- as.integer(cohort$arm == "lenvatinib")
for (v in c("prior_io_response", "bclc", "etiology")) cohort[[v]] <- factor(cohort[[v]])
t_load <- Sys.time()

# 2.-4. propensity model, matching, balance
if (!own_greedy) {
  m <- matchit(ps_formula, data = cohort, method = "nearest", distance = "glm",
               link = "linear.logit", caliper = 0.2, std.caliper = TRUE,
               m.order = "largest", replace = FALSE, ratio = 1)
  bal <- summary(m)
  matched <- match.data(m)
  smd_before <- bal$sum.all[, "Std. Mean Diff."]
  smd_after <- bal$sum.matched[, "Std. Mean Diff."]
} else {
  fit <- glm(ps_formula, data = cohort, family = binomial())
  lp <- predict(fit, type = "link")
  pair <- greedy_match(lp, cohort$treated, 0.2)
  matched <- cohort[pair > 0, ]
  X <- model.matrix(fit)[, -1, drop = FALSE]
  X <- cbind(distance = lp, X)
  tr <- cohort$treated == 1
  smd <- function(rows) {
    apply(X, 2, function(x) {
      bin <- all(x %in% c(0, 1))
      den <- if (bin) sqrt(mean(x[tr]) * (1 - mean(x[tr]))) else sd(x[tr])
      (mean(x[rows & tr]) - mean(x[rows & !tr])) / den
    })
  }
  smd_before <- smd(rep(TRUE, nrow(cohort)))
  smd_after <- smd(pair > 0)
}
matched$arm <- factor(matched$arm, levels = c("sorafenib", "lenvatinib"))
t_match <- Sys.time()

# 5. endpoints on the matched sample
matched$seq_os_months <- matched$first_line_months + matched$os_months
endpoints <- list(
  pfs = c("pfs_months", "pfs_event"),
  os = c("os_months", "os_event"),
  seq_os = c("seq_os_months", "os_event")
)
results <- list()
for (name in names(endpoints)) {
  tm <- matched[[endpoints[[name]][1]]]
  ev <- matched[[endpoints[[name]][2]]]
  arm <- matched$arm
  km <- survfit(Surv(tm, ev) ~ arm, conf.type = "log-log")
  tab <- summary(km)$table
  lr <- survdiff(Surv(tm, ev) ~ arm)
  lr_p <- pchisq(lr$chisq, df = length(lr$n) - 1, lower.tail = FALSE)
  cx <- coxph(Surv(tm, ev) ~ arm, ties = "efron")
  hr <- exp(coef(cx))
  ci <- exp(confint(cx))
  results[[name]] <- list(tab = tab, lr_p = lr_p, hr = hr, ci = ci)
}

# 6. response
# DCR among evaluable patients (NE and missing left out of the denominator, as our tool).
evaluable <- !is.na(matched$best_response) & matched$best_response != "NE"
dc <- matched$best_response %in% c("CR", "PR", "SD")
dcr <- lapply(levels(matched$arm), function(a) {
  x <- sum(dc[evaluable & matched$arm == a])
  n <- sum(evaluable & matched$arm == a)
  bt <- binom.test(x, n)
  c(x = x, n = n, dcr = x / n, lower = bt$conf.int[1], upper = bt$conf.int[2])
})
names(dcr) <- levels(matched$arm)
fisher_p <- fisher.test(table(matched$arm[evaluable], dc[evaluable]))$p.value
t_end <- Sys.time()

# print (outside the timed part only the formatting)
secs <- function(a, b) as.numeric(difftime(b, a, units = "secs"))
cat(sprintf("R %s, survival %s, MatchIt %s%s\n", paste(R.version$major, R.version$minor, sep = "."),
            packageVersion("survival"), packageVersion("MatchIt"),
            if (own_greedy) " (own greedy with caliper, not matchit())" else ""))
cat(sprintf("rows %d; matched: lenvatinib %d, sorafenib %d\n", nrow(cohort),
            sum(matched$arm == "lenvatinib"), sum(matched$arm == "sorafenib")))
cat("SMD before / after:\n")
for (v in names(smd_after)) cat(sprintf("  %-24s %8.4f %8.4f\n", v, smd_before[[v]], smd_after[[v]]))
for (name in names(results)) {
  r <- results[[name]]
  cat(sprintf("%s:\n", name))
  for (i in seq_len(nrow(r$tab))) {
    cat(sprintf("  %-16s n=%d events=%d median %.2f (%.2f-%.2f)\n", rownames(r$tab)[i],
                as.integer(r$tab[i, "records"]), as.integer(r$tab[i, "events"]),
                r$tab[i, "median"], r$tab[i, "0.95LCL"], r$tab[i, "0.95UCL"]))
  }
  cat(sprintf("  HR lenvatinib vs sorafenib %.4f (%.4f-%.4f), log-rank p %.3g\n",
              r$hr, r$ci[1], r$ci[2], r$lr_p))
}
for (a in names(dcr)) {
  d <- dcr[[a]]
  cat(sprintf("DCR %-10s %d/%d = %.4f (%.4f-%.4f)\n", a, as.integer(d["x"]), as.integer(d["n"]),
              d["dcr"], d["lower"], d["upper"]))
}
cat(sprintf("Fisher p %.3g\n", fisher_p))
cat(sprintf("time: load %.3f s, match+balance %.3f s, survival+response %.3f s\n",
            secs(t0, t_load), secs(t_load, t_match), secs(t_match, t_end)))
cat(sprintf("in_process_s=%.4f\n", secs(t0, t_end)))
