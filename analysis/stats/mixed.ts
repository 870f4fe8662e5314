import { invert, logisticRegression } from './logistic.ts';
import { nelderMead } from './nelder-mead.ts';

// The mixed-effects logistic model Y ~ X + (1 | participant) + (1 | scenario), fitted as
// `lme4::glmer(family = binomial, nAGQ = 1)` fits it: the Laplace approximation to the marginal
// deviance, minimized over the random-effect standard deviations θ and the fixed effects β
// together, with the random effects u at their conditional modes (penalized IRLS) for each
// (θ, β). As in lme4 the random effects are spherical, b = Λu with Λ = diag(θ), and
//   deviance(θ, β) = Σ −2 log p(y_i | η_i) + ‖u‖² + log det(ΛZ'WZΛ + I).
// Participants are many and scenarios few: each row has one participant and one scenario, so the
// participant block of ΛZ'WZΛ + I is diagonal and the scenario block is small; the system is
// solved by eliminating the participants (a Schur complement of the scenarios' size), which keeps
// each step linear in the rows. The covariance of β is the β block of 2·H⁻¹, H the finite-
// difference Hessian of the deviance in (θ, β), as lme4's vcov does (use.hessian = TRUE).

export interface MixedData {
	X: readonly (readonly number[])[];
	y: readonly (0 | 1)[];
	/** Group index of each row, 0-based: participants and scenarios. */
	participant: Int32Array;
	scenario: Int32Array;
	participants: number;
	scenarios: number;
}

export interface MixedFit {
	coefficients: number[];
	standardErrors: number[];
	/** Standard deviations of the participant and scenario random intercepts. */
	sdParticipant: number;
	sdScenario: number;
	deviance: number;
	logLik: number;
	converged: boolean;
	evaluations: number;
}

/**
 * Each participant's distinct scenarios, as pairs in compressed rows: the non-zero entries of the
 * cross block, and for each row the pair it adds to. Computed once per fit.
 */
interface Pairs {
	start: Int32Array; // participant g's pairs are start[g] .. start[g + 1] − 1
	scenario: Int32Array;
	ofRow: Int32Array;
}

function pairsOf(d: MixedData): Pairs {
	const byParticipant: Map<number, number>[] = Array.from(
		{ length: d.participants },
		() => new Map()
	);
	const ofRowLocal = new Int32Array(d.y.length);
	for (let i = 0; i < d.y.length; i++) {
		const m = byParticipant[d.participant[i]!]!;
		const s = d.scenario[i]!;
		if (!m.has(s)) m.set(s, m.size);
		ofRowLocal[i] = m.get(s)!;
	}
	const start = new Int32Array(d.participants + 1);
	for (let g = 0; g < d.participants; g++) start[g + 1] = start[g]! + byParticipant[g]!.size;
	const scenario = new Int32Array(start[d.participants]!);
	byParticipant.forEach((m, g) => m.forEach((k, s) => (scenario[start[g]! + k] = s)));
	const ofRow = new Int32Array(d.y.length);
	for (let i = 0; i < d.y.length; i++) ofRow[i] = start[d.participant[i]!]! + ofRowLocal[i]!;
	return { start, scenario, ofRow };
}

/** The Schur complement Ds − C' Dp⁻¹ C of the scenarios, from the cross block's pairs. */
function schur(pairs: Pairs, C: Float64Array, Dp: Float64Array, Ds: Float64Array, S: number) {
	const out = new Float64Array(S * S);
	for (let k = 0; k < S; k++) out[k * S + k] = Ds[k]!;
	for (let g = 0; g + 1 < pairs.start.length; g++) {
		for (let a = pairs.start[g]!; a < pairs.start[g + 1]!; a++)
			for (let b = pairs.start[g]!; b < pairs.start[g + 1]!; b++)
				out[pairs.scenario[a]! * S + pairs.scenario[b]!]! -= (C[a]! * C[b]!) / Dp[g]!;
	}
	return out;
}

/** The Laplace deviance at (θ, β), with u at its conditional mode (warm-started from `u`). */
function laplace(
	d: MixedData,
	pairs: Pairs,
	theta: [number, number],
	beta: readonly number[],
	u: Float64Array
) {
	const n = d.y.length;
	const P = d.participants;
	const S = d.scenarios;
	const [tp, ts] = [Math.abs(theta[0]), Math.abs(theta[1])];
	const offset = new Float64Array(n);
	for (let i = 0; i < n; i++) {
		const x = d.X[i]!;
		let e = 0;
		for (let j = 0; j < beta.length; j++) e += x[j]! * beta[j]!;
		offset[i] = e;
	}
	const w = new Float64Array(n);
	const Dp = new Float64Array(P);
	const Ds = new Float64Array(S);
	const rp = new Float64Array(P);
	const rs = new Float64Array(S);
	// Cross block C[g][s] = θp θs Σ w over rows of participant g on scenario s, one entry per pair.
	const C = new Float64Array(pairs.scenario.length);
	const penalizedDeviance = (uu: Float64Array) => {
		let dev = 0;
		for (let i = 0; i < n; i++) {
			const eta = offset[i]! + tp * uu[d.participant[i]!]! + ts * uu[P + d.scenario[i]!]!;
			// −2 log p(y | η) for a Bernoulli, computed stably.
			dev +=
				2 * (Math.max(eta, 0) + Math.log1p(Math.exp(-Math.abs(eta))) - (d.y[i] === 1 ? eta : 0));
		}
		let norm = 0;
		for (let k = 0; k < uu.length; k++) norm += uu[k]! * uu[k]!;
		return dev + norm;
	};
	let current = penalizedDeviance(u);
	let logDet = 0;
	for (let iteration = 0; iteration < 50; iteration++) {
		Dp.fill(1);
		Ds.fill(1);
		rp.fill(0);
		rs.fill(0);
		C.fill(0);
		for (let k = 0; k < P; k++) rp[k] = -u[k]!;
		for (let k = 0; k < S; k++) rs[k] = -u[P + k]!;
		for (let i = 0; i < n; i++) {
			const g = d.participant[i]!;
			const s = d.scenario[i]!;
			const eta = offset[i]! + tp * u[g]! + ts * u[P + s]!;
			const m = 1 / (1 + Math.exp(-eta));
			w[i] = m * (1 - m);
			const resid = d.y[i]! - m;
			Dp[g]! += tp * tp * w[i]!;
			Ds[s]! += ts * ts * w[i]!;
			rp[g]! += tp * resid;
			rs[s]! += ts * resid;
			C[pairs.ofRow[i]!]! += tp * ts * w[i]!;
		}
		// Newton step for u: solve (ΛZ'WZΛ + I) δ = ΛZ'(y − μ) − u, eliminating the participants.
		const Sch = schur(pairs, C, Dp, Ds, S);
		const rhsS = new Float64Array(rs);
		for (let g = 0; g < P; g++)
			for (let a = pairs.start[g]!; a < pairs.start[g + 1]!; a++)
				rhsS[pairs.scenario[a]!]! -= (C[a]! * rp[g]!) / Dp[g]!;
		const { solution: deltaS, logDet: logDetS } = solveDense(Sch, S, rhsS);
		const delta = new Float64Array(P + S);
		for (let k = 0; k < P; k++) delta[k] = rp[k]!;
		for (let g = 0; g < P; g++)
			for (let a = pairs.start[g]!; a < pairs.start[g + 1]!; a++)
				delta[g]! -= C[a]! * deltaS[pairs.scenario[a]!]!;
		let logDetP = 0;
		for (let k = 0; k < P; k++) {
			delta[k] = delta[k]! / Dp[k]!;
			logDetP += Math.log(Dp[k]!);
		}
		for (let k = 0; k < S; k++) delta[P + k] = deltaS[k]!;
		logDet = logDetP + logDetS;
		// Step halving on the penalized deviance.
		let step = 1;
		let next = current;
		const trial = new Float64Array(P + S);
		for (; step > 1e-8; step /= 2) {
			for (let k = 0; k < P + S; k++) trial[k] = u[k]! + step * delta[k]!;
			next = penalizedDeviance(trial);
			if (next <= current + 1e-12) break;
		}
		if (step <= 1e-8) break;
		u.set(trial);
		const change = current - next;
		current = next;
		if (Math.abs(change) < 1e-10 * (Math.abs(current) + 1)) break;
	}
	// log det at the mode (W evaluated at the final u).
	logDet = logDetAt(d, pairs, offset, u, tp, ts);
	return current + logDet;
}

function logDetAt(
	d: MixedData,
	pairs: Pairs,
	offset: Float64Array,
	u: Float64Array,
	tp: number,
	ts: number
) {
	const P = d.participants;
	const S = d.scenarios;
	const Dp = new Float64Array(P).fill(1);
	const Ds = new Float64Array(S).fill(1);
	const C = new Float64Array(pairs.scenario.length);
	for (let i = 0; i < d.y.length; i++) {
		const eta = offset[i]! + tp * u[d.participant[i]!]! + ts * u[P + d.scenario[i]!]!;
		const m = 1 / (1 + Math.exp(-eta));
		const w = m * (1 - m);
		Dp[d.participant[i]!]! += tp * tp * w;
		Ds[d.scenario[i]!]! += ts * ts * w;
		C[pairs.ofRow[i]!]! += tp * ts * w;
	}
	let logDet = solveDense(schur(pairs, C, Dp, Ds, S), S, new Float64Array(S)).logDet;
	for (let k = 0; k < P; k++) logDet += Math.log(Dp[k]!);
	return logDet;
}

/** Cholesky solve of a small symmetric positive-definite system, with its log determinant. */
function solveDense(A: Float64Array, n: number, b: Float64Array) {
	const L = new Float64Array(n * n);
	let logDet = 0;
	for (let i = 0; i < n; i++) {
		for (let j = 0; j <= i; j++) {
			let sum = A[i * n + j]!;
			for (let k = 0; k < j; k++) sum -= L[i * n + k]! * L[j * n + k]!;
			if (i === j) {
				const diag = Math.sqrt(Math.max(sum, 1e-300));
				L[i * n + i] = diag;
				logDet += 2 * Math.log(diag);
			} else L[i * n + j] = sum / L[j * n + j]!;
		}
	}
	const z = new Float64Array(n);
	for (let i = 0; i < n; i++) {
		let sum = b[i]!;
		for (let k = 0; k < i; k++) sum -= L[i * n + k]! * z[k]!;
		z[i] = sum / L[i * n + i]!;
	}
	const solution = new Float64Array(n);
	for (let i = n - 1; i >= 0; i--) {
		let sum = z[i]!;
		for (let k = i + 1; k < n; k++) sum -= L[k * n + i]! * solution[k]!;
		solution[i] = sum / L[i * n + i]!;
	}
	return { solution, logDet };
}

/** Fits the model; β starts at the plain logistic fit, θ at (1, 1) as lme4 starts. */
export function mixedLogistic(d: MixedData): MixedFit {
	const p = d.X[0]!.length;
	const start = logisticRegression(
		d.X.map((x) => [...x]),
		d.y.map((v) => v)
	).coefficients;
	const u = new Float64Array(d.participants + d.scenarios);
	const pairs = pairsOf(d);
	let evaluations = 0;
	const objective = (v: readonly number[]) => {
		evaluations++;
		return laplace(d, pairs, [v[0]!, v[1]!], v.slice(2), u);
	};
	const best = nelderMead(objective, [1, 1, ...start], {
		step: 0.2,
		tolerance: 1e-10,
		maxEvaluations: 4000
	});
	const at = best.point.map((v, i) => (i < 2 ? Math.abs(v) : v));
	const deviance = objective(at);
	// Covariance of β: the β block of 2·H⁻¹, H the central-difference Hessian of the deviance.
	const H = hessian(objective, at);
	let standardErrors: number[];
	try {
		const cov = invert(H);
		standardErrors = Array.from({ length: p }, (_, j) => Math.sqrt(2 * cov[2 + j]![2 + j]!));
	} catch {
		standardErrors = new Array<number>(p).fill(NaN);
	}
	return {
		coefficients: at.slice(2),
		standardErrors,
		sdParticipant: at[0]!,
		sdScenario: at[1]!,
		deviance,
		logLik: -deviance / 2,
		converged: best.converged,
		evaluations
	};
}

function hessian(f: (v: readonly number[]) => number, x: readonly number[]): number[][] {
	const k = x.length;
	const h = x.map((v) => 1e-4 * Math.max(1, Math.abs(v)));
	const at = (changes: [number, number][]) => {
		const v = [...x];
		for (const [i, s] of changes) v[i]! += s * h[i]!;
		return f(v);
	};
	const f0 = f(x);
	const H = Array.from({ length: k }, () => new Array<number>(k).fill(0));
	for (let i = 0; i < k; i++) {
		H[i]![i] = (at([[i, 1]]) - 2 * f0 + at([[i, -1]])) / (h[i]! * h[i]!);
		for (let j = 0; j < i; j++) {
			const v =
				(at([
					[i, 1],
					[j, 1]
				]) -
					at([
						[i, 1],
						[j, -1]
					]) -
					at([
						[i, -1],
						[j, 1]
					]) +
					at([
						[i, -1],
						[j, -1]
					])) /
				(4 * h[i]! * h[j]!);
			H[i]![j] = H[j]![i] = v;
		}
	}
	return H;
}
