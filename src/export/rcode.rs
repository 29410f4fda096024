//! "Show as R code": an R script (survival, MatchIt) that reproduces an analysis — the same
//! file, subgroup, matching and estimators — and prints the same medians, hazard ratios and
//! disease control rates, so a statistician can check any number on screen.

use std::fmt::Write;
use std::path::Path;

use crate::analysis::{CaliperScale, EventCoding, MatchOrder, Spec, Subgroup};
use crate::cohort::{DateFormat, FileKind, ReadInfo, MISSING_CODES};
use crate::stats::km::ConfType;

fn r_str(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A number as R reads it back to the same double.
fn r_num(x: f64) -> String {
    format!("{x:?}")
}

fn r_vec(v: &[String]) -> String {
    format!(
        "c({})",
        v.iter().map(|s| r_str(s)).collect::<Vec<_>>().join(", ")
    )
}

/// R code that reads the file as `read` says it was read: format, header position, column
/// renames, times derived from dates.
fn read_code(read: &ReadInfo) -> String {
    let na = r_vec(&MISSING_CODES.map(String::from));
    let mut r = String::new();
    match read.kind {
        FileKind::Csv => {
            let sep = match read.separator {
                b';' => "\";\"",
                b'\t' => "\"\\t\"",
                _ => "\",\"",
            };
            let _ = writeln!(
                r,
                "d <- read.table(file, header = TRUE, sep = {sep}, dec = {dec}, skip = {skip}, quote = \"\\\"\",\n\
                 \x20               check.names = FALSE, stringsAsFactors = FALSE, comment.char = \"\",\n\
                 \x20               fileEncoding = {enc}, na.strings = {na}, strip.white = TRUE)",
                dec = if read.decimal_comma { "\",\"" } else { "\".\"" },
                skip = read.skip,
                enc = if read.latin1 { "\"CP1252\"" } else { "\"UTF-8-BOM\"" },
            );
        }
        FileKind::Spreadsheet => {
            let sheet = r_str(read.sheet.as_deref().unwrap_or("1"));
            let _ = if read.ods {
                writeln!(
                    r,
                    "# Needs the readODS package.\n\
                     d <- as.data.frame(readODS::read_ods(file, sheet = {sheet}, skip = {}, na = {na}))",
                    read.skip
                )
            } else {
                writeln!(
                    r,
                    "# Needs the readxl package (Debian: r-cran-readxl).\n\
                     d <- as.data.frame(readxl::read_excel(file, sheet = {sheet}, skip = {}, na = {na},\n\
                     \x20                                      guess_max = 1048576, .name_repair = \"minimal\"))",
                    read.skip
                )
            };
        }
        FileKind::Parquet => {
            r.push_str(
                "# Needs the arrow package.\nd <- as.data.frame(arrow::read_parquet(file))\n",
            );
        }
    }
    if !read.renamed.is_empty() {
        // All at once, against the names as read (the column map may swap two names).
        r.push_str("read_names <- names(d)\n");
        for (from, to) in &read.renamed {
            let _ = writeln!(
                r,
                "names(d)[read_names == {}] <- {}",
                r_str(from),
                r_str(to)
            );
        }
    }
    if !read.derived.is_empty() {
        let year_last = match read.date_format {
            DateFormat::Mdy => "%m/%d/%Y",
            _ => "%d/%m/%Y",
        };
        let _ = writeln!(
            r,
            "# Times from dates, as Survival Explorer derives them: months = days / 30.4375.\n\
             day <- function(x) {{\n\
             \x20 if (inherits(x, \"Date\") || inherits(x, \"POSIXt\")) return(as.numeric(as.Date(x)))\n\
             \x20 x <- sub(\"[T ].*$\", \"\", trimws(as.character(x)))\n\
             \x20 iso <- grepl(\"^[0-9]{{4}}[-/.]\", x)\n\
             \x20 out <- rep(NA_real_, length(x))\n\
             \x20 out[iso] <- as.numeric(as.Date(gsub(\"[/.]\", \"-\", x[iso]), \"%Y-%m-%d\"))\n\
             \x20 other <- !iso & !is.na(x) & x != \"\"\n\
             \x20 out[other] <- as.numeric(as.Date(gsub(\"[-.]\", \"/\", x[other]), {fmt}))\n\
             \x20 out\n\
             }}\n\
             col_day <- function(name) if (name %in% names(d)) day(d[[name]]) else rep(NA_real_, nrow(d))\n\
             start <- col_day(\"start_date\"); prog <- col_day(\"progression_date\")\n\
             death <- col_day(\"death_date\"); last <- col_day(\"last_followup_date\")\n\
             ab <- col_day(\"first_line_start_date\")",
            fmt = r_str(year_last)
        );
        for col in &read.derived {
            let line = match col.as_str() {
                "os_months" => "d$os_months <- (ifelse(!is.na(death), death, last) - start) / 30.4375",
                "os_event" => "d$os_event <- ifelse(is.na(start), NA, ifelse(!is.na(death), 1, ifelse(!is.na(last), 0, NA)))",
                "pfs_months" => "pe <- suppressWarnings(pmin(prog, death, na.rm = TRUE))\nd$pfs_months <- (ifelse(!is.na(pe), pe, last) - start) / 30.4375",
                "pfs_event" => "d$pfs_event <- ifelse(is.na(start), NA, ifelse(!is.na(pe), 1, ifelse(!is.na(last), 0, NA)))",
                "first_line_months" => "d$first_line_months <- (start - ab) / 30.4375",
                _ => continue,
            };
            r.push_str(line);
            r.push('\n');
        }
    }
    r
}

/// The R script for `spec` on `file`, read as `read` says. `endpoints` are (name, time
/// columns, event column).
pub fn r_script(
    spec: &Spec,
    file: &Path,
    endpoints: &[(String, Vec<String>, String)],
    read: &ReadInfo,
) -> String {
    let mut r = String::new();
    let _ = writeln!(
        r,
        "# Survival Explorer {}: reproduces the analysis in R with survival and MatchIt.\n# Run: Rscript this_file.R",
        env!("CARGO_PKG_VERSION")
    );
    r.push_str("suppressPackageStartupMessages(library(survival))\n");
    let _ = writeln!(r, "file <- {}", r_str(&file.display().to_string()));
    r.push_str(&read_code(read));
    // Arm levels compared as the core compares them: spaces trimmed, case ignored.
    let _ = writeln!(
        r,
        "arm <- tolower(trimws(as.character(d[[{col}]])))\n\
         keep <- !is.na(arm) & arm %in% tolower(c({t}, {c}))\n\
         d <- d[keep, , drop = FALSE]\nd$treated <- as.integer(arm[keep] == tolower({t}))",
        col = r_str(&spec.arm_column),
        t = r_str(&spec.treated),
        c = r_str(&spec.control),
    );
    // Event codes as the core reads them.
    let (event_value, censor_value) = match spec.event_coding {
        EventCoding::Standard => (1, 0),
        EventCoding::OneTwo => (2, 1),
    };
    let _ = writeln!(
        r,
        "# Events: the values declared for the column are events, every other value censored;\n\
         # else 1/0 (or 2/1) and the usual words.\n\
         event01 <- function(x, declared = NULL) {{\n\
         \x20 if (!is.null(declared)) {{\n\
         \x20   y <- tolower(trimws(as.character(x)))\n\
         \x20   hit <- if (is.numeric(x)) x %in% suppressWarnings(as.numeric(declared)) else y %in% tolower(trimws(declared))\n\
         \x20   return(ifelse(is.na(x), NA, as.integer(hit)))\n\
         \x20 }}\n\
         \x20 if (is.logical(x)) return(as.integer(x))\n\
         \x20 if (is.numeric(x)) return(ifelse(x == {event_value}, 1L, ifelse(x == {censor_value}, 0L, NA)))\n\
         \x20 y <- tolower(trimws(x))\n\
         \x20 ifelse(y %in% {ev}, 1L, ifelse(y %in% {ce}, 0L, NA))\n\
         }}",
        ev = r_vec(&crate::analysis::EVENT_WORDS.map(String::from)),
        ce = r_vec(&crate::analysis::CENSOR_WORDS.map(String::from)),
    );
    subgroup_code(&mut r, spec);
    r.push_str("d$w <- 1; wtd <- FALSE\n");
    if let Some(m) = &spec.matching {
        matching_code(&mut r, m);
    }
    if let Some(w) = &spec.weighting {
        weighting_code(&mut r, w);
    }
    endpoint_code(&mut r, spec, endpoints);
    response_code(&mut r, spec);
    r
}

/// The subgroup filter, as the core applies it.
fn subgroup_code(r: &mut String, spec: &Spec) {
    for sg in &spec.subgroups {
        match sg {
            Subgroup::Levels { column, values } => {
                // Numbers compare numerically, texts ignoring case and spaces (as the app).
                let _ = writeln!(
                    r,
                    "sg <- d[[{c}]]\n\
                     d <- d[!is.na(sg) & (if (is.numeric(sg)) sg %in% suppressWarnings(as.numeric({v}))\n\
                     \x20                    else tolower(trimws(sg)) %in% tolower(trimws({v}))), , drop = FALSE]",
                    c = r_str(column),
                    v = r_vec(values)
                );
            }
            Subgroup::Range { column, min, max } => {
                let lo = min.map_or("-Inf".to_string(), |v| format!("{v}"));
                let hi = max.map_or("Inf".to_string(), |v| format!("{v}"));
                let _ = writeln!(
                    r,
                    "d <- d[!is.na(d[[{c}]]) & d[[{c}]] >= {lo} & d[[{c}]] <= {hi}, , drop = FALSE]",
                    c = r_str(column)
                );
            }
        }
    }
}

/// Covariates as `--match`/`--iptw`/`--adjust` take them (`NAME:factor`): the column names,
/// and the R terms (`` `age` ``, `` factor(`differ`) ``).
fn covariate_terms(covariates: &[String]) -> (Vec<String>, Vec<String>) {
    covariates
        .iter()
        .map(|c| match c.strip_suffix(":factor") {
            Some(n) => (n.to_string(), format!("factor(`{n}`)")),
            None => (c.clone(), format!("`{c}`")),
        })
        .unzip()
}

/// The propensity model and greedy matching (ties decided as the core decides them), the
/// matching weights and sets; MatchIt as a cross-check where it honours the caliper.
fn matching_code(r: &mut String, m: &crate::matching::MatchSpec) {
    let (plain, covs) = covariate_terms(&m.covariates);
    let _ = writeln!(
        r,
        "covs <- {}\nd <- d[complete.cases(d[, covs, drop = FALSE]), , drop = FALSE]\n\
         # A covariate constant in the sample is left out, as Survival Explorer does.\n\
         varies <- sapply(covs, function(v) length(unique(d[[v]])) > 1)\n\
         if (!any(varies)) stop(\"no matching covariate varies inside the sample\")\n\
         terms <- {}\n\
         ps_fit <- glm(as.formula(paste(\"treated ~\", paste(terms[varies], collapse = \" + \"))),\n\
         \x20             family = binomial, data = d)\n\
         d$distance <- {}\n\
         width <- {} * sd(d$distance)",
        r_vec(&plain),
        r_vec(&covs),
        match m.scale {
            CaliperScale::Logit => "predict(ps_fit)",
            CaliperScale::Ps => "fitted(ps_fit)",
        },
        m.caliper
    );
    greedy_code(r, m);
}

/// Greedy nearest-neighbour matching in plain R (ties decided as the core decides them), the
/// matching weights and sets, and the MatchIt cross-check.
fn greedy_code(r: &mut String, m: &crate::matching::MatchSpec) {
    let order = match m.order {
        MatchOrder::Largest => "largest",
        MatchOrder::Smallest => "smallest",
        MatchOrder::Data => "data",
        MatchOrder::Random => "random",
    };
    let _ = writeln!(
        r,
        "# Greedy nearest-neighbour matching, as MatchIt's method = \"nearest\", written in plain R so\n\
         # that ties are decided as Survival Explorer decides them: stable sort by distance; the\n\
         # nearer of the nearest free controls left and right, the left one when the two gaps are\n\
         # equal within 1e-9 SD of the distance (a tie in exact arithmetic, which rounding would\n\
         # otherwise decide); kept when within the caliper. MatchIt, when installed, cross-checks.\n\
         greedy <- function(dist, tr, width, order, ratio, replace, seed) {{\n\
         \x20 o <- order(dist)\n\
         \x20 ctrl <- o[tr[o] == 0]\n\
         \x20 rank <- integer(length(dist)); rank[o] <- seq_along(o)\n\
         \x20 tol <- {tie} * sd(dist); ties <- 0L\n\
         \x20 t_idx <- which(tr == 1)\n\
         \x20 visit <- switch(order, largest = t_idx[order(-dist[t_idx])], smallest = t_idx[order(dist[t_idx])],\n\
         \x20                 data = t_idx, random = {{ set.seed(seed); t_idx[sample.int(length(t_idx))] }})\n\
         \x20 free <- rep(TRUE, length(ctrl)); links <- NULL; active <- visit\n\
         \x20 for (round in seq_len(ratio)) {{\n\
         \x20   still <- integer(0)\n\
         \x20   for (t in active) {{\n\
         \x20     k <- sum(rank[ctrl] < rank[t])\n\
         \x20     cand <- if (replace) seq_along(ctrl) else which(free)\n\
         \x20     if (replace && !is.null(links)) cand <- setdiff(cand, match(links[links[, 1] == t, 2], ctrl))\n\
         \x20     l <- cand[cand <= k]; rgt <- cand[cand > k]\n\
         \x20     l <- if (length(l)) max(l) else NA; rgt <- if (length(rgt)) min(rgt) else NA\n\
         \x20     dl <- if (is.na(l)) Inf else abs(dist[t] - dist[ctrl[l]])\n\
         \x20     dr <- if (is.na(rgt)) Inf else abs(dist[ctrl[rgt]] - dist[t])\n\
         \x20     tied <- is.finite(dl) && is.finite(dr) && abs(dl - dr) <= tol\n\
         \x20     # Controls at the same distance are not told apart by arithmetic: not counted.\n\
         \x20     counted <- tied && dist[ctrl[l]] != dist[ctrl[rgt]]\n\
         \x20     left <- dl <= dr || tied\n\
         \x20     pick <- if (left) l else rgt; gap <- if (left) dl else dr\n\
         \x20     if (!is.na(pick) && gap <= width) {{\n\
         \x20       links <- rbind(links, c(t, ctrl[pick])); if (!replace) free[pick] <- FALSE\n\
         \x20       still <- c(still, t); ties <- ties + counted\n\
         \x20     }}\n\
         \x20   }}\n\
         \x20   active <- still\n\
         \x20 }}\n\
         \x20 if (is.null(links)) links <- matrix(integer(0), ncol = 2)\n\
         \x20 attr(links, \"ties\") <- ties\n\
         \x20 links\n\
         }}\n\
         links <- greedy(d$distance, d$treated, width, {o}, {ratio}, {replace}, {seed})\n\
         cat(sprintf(\"RESULT tie_decisions %d\\n\", attr(links, \"ties\")))\n\
         # The pairs as data rows of the file (treated, control, ...), for comparison.\n\
         rn <- as.integer(rownames(d))\n\
         cat(\"RESULT pairs\", rbind(rn[links[, 1]], rn[links[, 2]]), \"\\n\")\n\
         d$w <- 0; d$set <- NA\n\
         for (t in unique(links[, 1])) {{\n\
         \x20 cs <- links[links[, 1] == t, 2]\n\
         \x20 d$w[t] <- 1; d$w[cs] <- d$w[cs] + 1 / length(cs)\n\
         \x20 d$set[t] <- t; d$set[cs] <- t\n\
         }}\n\
         used <- unique(links[, 2])\n\
         if (length(used)) d$w[used] <- d$w[used] * length(used) / sum(d$w[used])\n\
         # Cross-check with MatchIt (4.5.1-4.5.3 ignore the caliper on this path: MatchIt #163).\n\
         if (requireNamespace(\"MatchIt\", quietly = TRUE) &&\n\
         \x20   !(packageVersion(\"MatchIt\") >= \"4.5.1\" && packageVersion(\"MatchIt\") <= \"4.5.3\")) {{\n\
         \x20 # m.order = \"random\" draws sample.int(n_treated) from here, as the order above.\n\
         \x20 set.seed({seed})\n\
         \x20 mm <- MatchIt::matchit(treated ~ 1, data = d, method = \"nearest\", distance = d$distance,\n\
         \x20        caliper = {cal}, std.caliper = TRUE, m.order = {o}, ratio = {ratio}, replace = {replace})\n\
         \x20 mx <- mm$match.matrix; ok <- !is.na(mx)\n\
         \x20 theirs <- paste(rownames(mx)[row(mx)[ok]], mx[ok])\n\
         \x20 ours <- paste(rownames(d)[links[, 1]], rownames(d)[links[, 2]])\n\
         \x20 message(sprintf(\"MatchIt cross-check: %d of %d pairs differ (decided by ties here: %d)\",\n\
         \x20                 length(setdiff(ours, theirs)), length(ours), attr(links, \"ties\")))\n\
         }} else {{\n\
         \x20 message(\"MatchIt cross-check skipped: MatchIt is not installed, or is 4.5.1-4.5.3, which ignore the caliper\")\n\
         }}\n\
         # With replacement a control may be in several sets: each patient its own cluster.\n\
         if ({replace}) d$set <- seq_len(nrow(d))\n\
         d <- d[d$w > 0, , drop = FALSE]\n\
         # Weights within 1e-12 of 1 (every treated patient got all its controls, each used\n\
         # once) are 1: the sample is unweighted, as Survival Explorer takes it.\n\
         if (all(abs(d$w - 1) <= 1e-12)) d$w[] <- 1\n\
         wtd <- any(d$w != 1)\n\
         cat(sprintf(\"RESULT matched_treated %d\\n\", sum(d$treated == 1)))",
        o = r_str(order),
        ratio = m.ratio,
        replace = if m.replace { "TRUE" } else { "FALSE" },
        seed = m.seed,
        cal = m.caliper,
        tie = crate::matching::greedy::TIE_TOLERANCE_SD,
    );
}

/// Each endpoint: Kaplan–Meier medians with their CIs and the Cox HR.
fn endpoint_code(r: &mut String, spec: &Spec, endpoints: &[(String, Vec<String>, String)]) {
    let matched = spec.matching.is_some() || spec.weighting.is_some();
    let conf = match spec.conf_type {
        ConfType::LogLog => "log-log",
        ConfType::Log => "log",
        ConfType::Plain => "plain",
    };
    let (per_file, per_shown) = (spec.time_unit.days(), spec.shown_unit().days());
    for (name, time, event) in endpoints {
        let mut time_expr = time
            .iter()
            .map(|c| format!("d[[{}]]", r_str(c)))
            .collect::<Vec<_>>()
            .join(" + ");
        if per_file != per_shown {
            // In the unit shown: (t × days per file unit) / days per shown unit, as the app.
            time_expr = format!("({time_expr}) * {} / {}", r_num(per_file), r_num(per_shown));
        }
        let declared = match spec.declared_event_values(event) {
            Some(words) => format!(", {}", r_vec(words)),
            None => String::new(),
        };
        let _ = writeln!(
            r,
            "\n# Endpoint {name}\n\
             e <- d; e$time <- {time_expr}; e$status <- event01(e[[{ev}]]{declared})\n\
             e <- e[!is.na(e$time) & is.finite(e$time) & e$time >= 0 & !is.na(e$status), , drop = FALSE]\n\
             e$arm <- factor(ifelse(e$treated == 1, {t}, {c}), levels = c({t}, {c}))\n\
             fit <- survfit(Surv(time, status) ~ arm, data = e, conf.type = {conf}, conf.int = {lvl}{wts})\n\
             q <- quantile(fit, 0.5)\n\
             for (a in levels(e$arm)) {{\n\
             \x20 k <- paste0(\"arm=\", a)\n\
             \x20 # One arm without usable rows: one curve, its quantiles a vector; the other NA.\n\
             \x20 at <- function(m) if (is.null(dim(m))) {{ if (a %in% as.character(e$arm)) m[1] else NA }} else if (k %in% rownames(m)) m[k, 1] else NA\n\
             \x20 cat(sprintf(\"RESULT {name}_median_%s %.10g %.10g %.10g\\n\", a, at(q$quantile), at(q$lower), at(q$upper)))\n\
             }}\n\
             cx <- coxph(Surv(time, status) ~ treated, data = e, ties = {ties}{cox_w})\n\
             ci <- exp(confint(cx, level = {lvl}))\n\
             cat(sprintf(\"RESULT {name}_hr %.10g %.10g %.10g\\n\", exp(coef(cx)), ci[1], ci[2]))",
            ev = r_str(event),
            t = r_str(&spec.treated_label()),
            c = r_str(&spec.control_label()),
            conf = r_str(conf),
            lvl = spec.conf_level,
            // Weights of 1 leave survfit and coxph as without weights.
            wts = if matched { ", weights = w" } else { "" },
            ties = r_str(spec.ties.name()),
            cox_w = cox_weights(spec),
        );
        let _ = writeln!(
            r,
            "# Proportional hazards (Grambsch & Therneau): cox.zph, transform \"km\"\n\
             if (!anyNA(coef(cx))) {{\n\
             \x20 print(cox.zph(cx))\n\
             \x20 cat(\"RESULT {name}_zph\", sprintf(\"%.10g\", cox.zph(cx)$table[, \"chisq\"]), \"\\n\")\n\
             }}"
        );
        if !spec.adjust.is_empty() {
            adjusted_code(r, spec, name);
        }
    }
}

/// coxph's weights and robust variance, as the core's.
fn cox_weights(spec: &Spec) -> &'static str {
    match &spec.matching {
        Some(m) if m.robust => ", weights = w, cluster = set",
        Some(_) => ", weights = w, robust = wtd",
        None if spec.weighting.is_some() => ", weights = w, robust = TRUE",
        None => "",
    }
}

/// Inverse probability of treatment weights in plain R: the propensity glm on the complete
/// cases, trimming, the weights of the estimand, and their summaries.
fn weighting_code(r: &mut String, w: &crate::weighting::WeightSpec) {
    let (plain, terms) = covariate_terms(&w.covariates);
    let trim = match w.trim {
        Some(q) => format!("d <- d[d$ps >= {q} & d$ps <= 1 - {q}, , drop = FALSE]\n"),
        None => String::new(),
    };
    let weights = match (w.estimand, w.stabilized) {
        (crate::weighting::Estimand::Att, _) => "ifelse(d$treated == 1, 1, d$ps / (1 - d$ps))",
        (_, true) => "ifelse(d$treated == 1, p1 / d$ps, (1 - p1) / (1 - d$ps))",
        (_, false) => "ifelse(d$treated == 1, 1 / d$ps, 1 / (1 - d$ps))",
    };
    let _ = writeln!(
        r,
        "# Inverse probability of treatment weighting ({desc})\n\
         covs <- {covs}\n\
         d <- d[complete.cases(d[, covs, drop = FALSE]), , drop = FALSE]\n\
         ps_fit <- glm(as.formula(paste(\"treated ~\", paste({terms}, collapse = \" + \"))),\n\
         \x20             family = binomial, data = d)\n\
         d$ps <- fitted(ps_fit)\n\
         {trim}p1 <- mean(d$treated)\n\
         d$w <- {weights}; wtd <- TRUE\n\
         ess <- function(v) sum(v)^2 / sum(v^2)\n\
         cat(sprintf(\"RESULT weights %d %.10g %.10g %.10g %.10g %.10g %.10g\\n\", nrow(d), min(d$w), max(d$w),\n\
         \x20           sum(d$w[d$treated == 1]), sum(d$w[d$treated == 0]),\n\
         \x20           ess(d$w[d$treated == 1]), ess(d$w[d$treated == 0])))",
        desc = w.describe(),
        covs = r_vec(&plain),
        terms = r_vec(&terms),
    );
}

/// The multivariable Cox model (`--adjust`) on the endpoint's rows with every covariate,
/// its tests, concordance and cox.zph; with `--univariable`, one model per covariate.
fn adjusted_code(r: &mut String, spec: &Spec, name: &str) {
    let (plain, terms) = covariate_terms(&spec.adjust);
    let _ = writeln!(
        r,
        "# Multivariable Cox model: the arm (treated, its term first) + covariates, on the rows\n\
         # with every covariate present; a covariate constant there is left out.\n\
         acovs <- {covs}; aterms <- {terms}\n\
         ea <- e[complete.cases(e[, acovs, drop = FALSE]), , drop = FALSE]\n\
         avaries <- sapply(acovs, function(v) length(unique(ea[[v]])) > 1)\n\
         ax <- coxph(as.formula(paste(c(\"Surv(time, status) ~ treated\", aterms[avaries]), collapse = \" + \")),\n\
         \x20           data = ea, ties = {ties}{cox_w})\n\
         print(summary(ax))\n\
         cat(sprintf(\"RESULT {name}_adj_n %d %d\\n\", ax$n, ax$nevent))\n\
         cat(\"RESULT {name}_adj_coef\", sprintf(\"%.10g\", coef(ax)), \"\\n\")\n\
         cat(\"RESULT {name}_adj_se\", sprintf(\"%.10g\", sqrt(diag(ax$var))), \"\\n\")\n\
         cat(sprintf(\"RESULT {name}_adj_lr %.10g\\n\", 2 * diff(ax$loglik)))\n\
         cat(sprintf(\"RESULT {name}_adj_concordance %.10g %.10g\\n\", ax$concordance[\"concordance\"], ax$concordance[\"std\"]))\n\
         # A coefficient running away (monotone likelihood) leaves cox.zph singular.\n\
         zx <- tryCatch(cox.zph(ax), error = function(e) NULL)\n\
         if (!is.null(zx)) {{\n\
         \x20 print(zx)\n\
         \x20 cat(\"RESULT {name}_adj_zph\", sprintf(\"%.10g\", zx$table[, \"chisq\"]), \"\\n\")\n\
         }}",
        covs = r_vec(&plain),
        terms = r_vec(&terms),
        ties = r_str(spec.ties.name()),
        cox_w = cox_weights(spec),
    );
    if spec.univariable {
        let _ = writeln!(
            r,
            "# Univariable models: each covariate alone, on the rows where it is present.\n\
             for (k in seq_along(acovs)) {{\n\
             \x20 eu <- e[!is.na(e[[acovs[k]]]), , drop = FALSE]\n\
             \x20 if (length(unique(eu[[acovs[k]]])) < 2) next\n\
             \x20 ux <- tryCatch(coxph(as.formula(paste(\"Surv(time, status) ~\", aterms[k])), data = eu, ties = {ties}{cox_w}), error = function(e) NULL)\n\
             \x20 if (is.null(ux)) next\n\
             \x20 cat(sprintf(\"RESULT {name}_uni_%d\", k), sprintf(\"%.10g\", c(coef(ux), summary(ux)$logtest[\"pvalue\"])), \"\\n\")\n\
             }}",
            ties = r_str(spec.ties.name()),
            cox_w = cox_weights(spec),
        );
    }
}

/// The response: disease control with exact CIs and Fisher's test, or weighted.
fn response_code(r: &mut String, spec: &Spec) {
    r.push_str(
        &"\n# Best response: disease control (CR+PR+SD) among evaluable patients (NE left out)\n\
         if (\"best_response\" %in% names(d)) {\n\
         \x20 norm <- gsub(\"[^a-z0-9]\", \"\", tolower(as.character(d$best_response)))\n\
         \x20 resp <- ifelse(norm %in% c(\"cr\", \"completeresponse\"), \"CR\",\n\
         \x20         ifelse(norm %in% c(\"pr\", \"partialresponse\"), \"PR\",\n\
         \x20         ifelse(norm %in% c(\"sd\", \"stabledisease\", \"stable\"), \"SD\",\n\
         \x20         ifelse(norm %in% c(\"pd\", \"progressivedisease\", \"progression\"), \"PD\", NA))))\n\
         \x20 ok <- resp %in% c(\"CR\", \"PR\", \"SD\", \"PD\")\n\
         \x20 for (a in c(1, 0)) {\n\
         \x20   sel <- ok & d$treated == a\n\
         \x20   dc <- resp[sel] %in% c(\"CR\", \"PR\", \"SD\")\n\
         \x20   if (wtd) {\n\
         \x20     # Matching weights: the weighted proportion; exact CIs are not defined.\n\
         \x20     x <- sum(d$w[sel] * dc); n <- sum(d$w[sel])\n\
         \x20     cat(sprintf(\"RESULT dcr_%s %.10g NA NA\\n\", if (a == 1) \"treated\" else \"control\", x / n))\n\
         \x20   } else if (sum(sel) == 0) {\n\
         \x20     cat(sprintf(\"RESULT dcr_%s NA NA NA\\n\", if (a == 1) \"treated\" else \"control\"))\n\
         \x20   } else {\n\
         \x20     x <- sum(dc); n <- sum(sel)\n\
         \x20     bt <- binom.test(x, n, conf.level = LEVEL)\n\
         \x20     cat(sprintf(\"RESULT dcr_%s %.10g %.10g %.10g\\n\", if (a == 1) \"treated\" else \"control\", x / n, bt$conf.int[1], bt$conf.int[2]))\n\
         \x20   }\n\
         \x20 }\n\
         \x20 if (wtd) {\n\
         \x20   cat(\"RESULT dcr_fisher_p NA\\n\")  # Fisher's test is not defined for weights\n\
         \x20 } else {\n\
         \x20   tab <- table(factor(d$treated[ok], levels = c(1, 0)), factor(resp[ok] %in% c(\"CR\", \"PR\", \"SD\"), levels = c(TRUE, FALSE)))\n\
         \x20   cat(sprintf(\"RESULT dcr_fisher_p %.10g\\n\", fisher.test(tab)$p.value))\n\
         \x20 }\n\
         }\n"
            .replace("LEVEL", &spec.conf_level.to_string()),
    );
}
