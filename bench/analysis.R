# The R baseline of `npm run bench -- analysis`: the same export read with data.table::fread and
# the same estimands computed the way an analyst in R would (prop.test, glm, mcnemar.test,
# cor.test, t.test, ordinal::clm, a DeLong AUC, and Freedman's PTE with the same number of bootstrap resamples,
# drawn as multinomial re-counts of the (T, Z, Y) patterns with weighted glm fits, which is also
# how Bedside does it). Prints one JSON line with the timings.
# Usage: Rscript bench/analysis.R EXPORT_DIR BOOTSTRAP
suppressPackageStartupMessages({
  library(data.table)
  library(jsonlite)
  library(ordinal)
})
args <- commandArgs(trailingOnly = TRUE)
dir <- args[[1]]
B <- as.integer(args[[2]])
set.seed(20261122)
started <- Sys.time()

study <- fromJSON(file.path(dir, "study.json"))
participants <- fread(file.path(dir, "participants.csv"), colClasses = "character")
episodes <- fread(file.path(dir, "episodes.csv"), na.strings = "")
measures <- fread(file.path(dir, "measures.csv"), na.strings = "")
recommendations <- fread(file.path(dir, "recommendations.csv"), na.strings = "")
read_done <- Sys.time()

# Analysed episodes: submitted, of randomized participants; the arm joined on.
ep <- merge(episodes[!is.na(submitted_at)], participants[arm_id != "", .(participant_id, arm_id)],
  by = "participant_id")
control <- study$arms$id[study$arms$kind == "control"]
llm <- study$arms$id[study$arms$kind == "llm_assisted"]

wilson <- function(x, n) prop.test(x, n, correct = FALSE)$conf.int[1:2]
newcombe <- function(x1, n1, x2, n2) {
  p1 <- x1 / n1; p2 <- x2 / n2; a <- wilson(x1, n1); b <- wilson(x2, n2); d <- p1 - p2
  c(d - sqrt((p1 - a[1])^2 + (b[2] - p2)^2), d + sqrt((a[2] - p1)^2 + (p2 - b[1])^2))
}

# 1. Arms and effects.
arms <- ep[, .(x = sum(disposition_correct), n = .N), by = arm_id]
arms[, c("lo", "hi") := as.list(wilson(x, n)), by = arm_id]
t1 <- arms[arm_id == llm]; t0 <- arms[arm_id == control]
effect <- list(ci = newcombe(t1$x, t1$n, t0$x, t0$n),
  p = prop.test(c(t1$x, t0$x), c(t1$n, t0$n), correct = FALSE)$p.value)
grouped <- ep[, .(y = sum(disposition_correct), n = .N), by = .(arm_id, scenario_id)]
grouped[, arm := factor(arm_id, levels = c(control, llm))]
adjusted <- glm(cbind(y, n - y) ~ arm + scenario_id, family = binomial, data = grouped)
adjusted_ci <- confint.default(adjusted)[2, ]

# Triage on the ordered scale.
level <- setNames(seq_along(study$disposition_scale), study$disposition_scale)
correct_level <- setNames(level[study$scenarios$correct_disposition], study$scenarios$id)
ep[, rel := sign(level[disposition] - correct_level[scenario_id])]
triage <- ep[, .(under = mean(rel < 0), over = mean(rel > 0)), by = arm_id]
# The ordered decision: proportional odds on arm + scenario (ordinal::clm).
ordered_fit <- clm(factor(disposition, levels = study$disposition_scale[study$disposition_scale %in% disposition]) ~ factor(arm_id, levels = c(control, llm)) + scenario_id, data = ep)

# 2. Decision mediation: the paired gap, McNemar, the model alone standardized.
conv <- recommendations[source == "conversation", .(participant_id, episode, L = disposition_correct,
  rec = disposition)]
pairs <- merge(ep[arm_id == llm], conv, by = c("participant_id", "episode"))
tab <- table(factor(pairs$L, 0:1), factor(pairs$disposition_correct, 0:1))
mcnemar <- mcnemar.test(tab, correct = FALSE)$p.value
uptake <- mean(pairs$rec == pairs$disposition)
bench_runs <- recommendations[source == "benchmark", .(p = mean(disposition_correct)), by = scenario_id]
mix <- ep[arm_id == llm, .N, by = scenario_id]
standardized <- merge(mix, bench_runs, by = "scenario_id")[, sum(N * p) / sum(N)]

# 3. Proxies against the outcome, and PTE with B bootstrap resamples.
for (proxy in unique(measures[kind == "proxy", measure])) {
  z <- measures[measure == proxy, .(participant_id, episode, z = as.numeric(value))]
  d <- merge(ep, z, by = c("participant_id", "episode"))
  rho <- suppressWarnings(cor.test(d$z, d$disposition_correct, method = "spearman", exact = FALSE))
  r <- rank(d$z); n1 <- as.numeric(sum(d$disposition_correct)); n0 <- nrow(d) - n1
  auc <- (sum(r[d$disposition_correct == 1]) - n1 * (n1 + 1) / 2) / (n1 * n0)
  welch <- t.test(d[arm_id == llm, z], d[arm_id == control, z])
  d[, t := as.integer(arm_id == llm)]
  cells <- d[, .N, by = .(t, z, y = disposition_correct)]
  fit_slope <- function(w, with_z) {
    X <- if (with_z) cbind(1, cells$t, cells$z) else cbind(1, cells$t)
    keep <- w > 0
    f <- suppressWarnings(glm.fit(X[keep, , drop = FALSE], cells$y[keep], weights = w[keep],
      family = binomial()))
    f$coefficients[2]
  }
  pte_of <- function(w) 1 - fit_slope(w, TRUE) / fit_slope(w, FALSE)
  estimate <- pte_of(cells$N)
  draws <- apply(rmultinom(B, sum(cells$N), cells$N), 2, pte_of)
  pte_ci <- quantile(draws, c(0.025, 0.975), type = 1, na.rm = TRUE)
  prentice <- glm(disposition_correct ~ z, family = binomial, data = d)
}
done <- Sys.time()
cat(toJSON(list(
  read_seconds = as.numeric(difftime(read_done, started, units = "secs")),
  analyze_seconds = as.numeric(difftime(done, read_done, units = "secs")),
  total_seconds = as.numeric(difftime(done, started, units = "secs"))
), auto_unbox = TRUE), "\n")
