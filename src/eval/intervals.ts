/**
 * Approximate 95% confidence intervals of accuracy and UAR for the sampling of the test recordings: how far the
 * number could move on another test set of the same size drawn the same way. They do not cover the variation
 * between training runs (seeds, epochs chosen), which on small corpora is as large or larger.
 *
 *   z = 1.959963984540054 (the standard normal's 97.5% quantile)
 *
 *   accuracy, c of n right: the Wilson score interval (Wilson 1927; scipy.stats.binomtest(c, n)
 *   .proportion_ci(method='wilson')), with p = c / n:
 *     centre = (p + z²/(2n)) / (1 + z²/n)
 *     half   = z / (1 + z²/n) · sqrt(p(1 - p)/n + z²/(4n²))
 *   It stays inside [0, 1] and keeps a width when p is 0 or 1.
 *
 *   UAR = (1/K) Σ_i c_i / n_i over the K classes with n_i > 0. Each class's recall is a proportion of its own
 *   n_i recordings (the class sizes are fixed by the test set), so the recalls are independent and
 *   Var(UAR) = (1/K²) Σ_i Var(recall_i). Each recall's variance is taken at the Agresti-Coull adjusted
 *   proportion (Agresti & Coull 1998: add z²/2 successes and z²/2 failures), which keeps a width when a class
 *   is all right or all wrong:
 *     r̃_i = (c_i + z²/2) / (n_i + z²),   ṽ_i = r̃_i (1 - r̃_i) / (n_i + z²)
 *     UAR ± z · sqrt(Σ_i ṽ_i) / K, clipped to [0, 1]
 *   centred on the UAR itself, so the interval always holds the number it qualifies (Agresti-Coull's own
 *   centre, the mean of the r̃_i, can leave it outside when classes are small and all right).
 */

/** z of a two-sided 95% interval: the standard normal's 0.975 quantile (scipy.stats.norm.ppf(0.975)). */
export const Z_95 = 1.959963984540054;

/** A confidence interval [low, high]. */
export type Interval = [low: number, high: number];

/** Wilson score 95% interval of a proportion of `successes` in `trials` (trials > 0). */
export function wilsonInterval(successes: number, trials: number): Interval {
  const z2 = Z_95 * Z_95;
  const p = successes / trials;
  const scale = 1 + z2 / trials;
  const centre = (p + z2 / (2 * trials)) / scale;
  const half = (Z_95 / scale) * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials));
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/**
 * 95% interval of the unweighted average recall from each class's right count and support (classes with support
 * 0 are skipped, as in the UAR itself); null when no class has support. It always contains the UAR.
 */
export function uarInterval(correct: readonly number[], support: readonly number[]): Interval | null {
  const z2 = Z_95 * Z_95;
  let recallSum = 0;
  let variance = 0;
  let classes = 0;
  support.forEach((n, i) => {
    if (n <= 0) return;
    const adjusted = (correct[i]! + z2 / 2) / (n + z2);
    recallSum += correct[i]! / n;
    variance += (adjusted * (1 - adjusted)) / (n + z2);
    classes++;
  });
  if (classes === 0) return null;
  const uar = recallSum / classes;
  const half = (Z_95 * Math.sqrt(variance)) / classes;
  return [Math.max(0, uar - half), Math.min(1, uar + half)];
}

/** An interval as percentages with one decimal, e.g. '55.0-66.7%' (reports print it after '95% CI'). */
export function intervalText([low, high]: Interval): string {
  return `${(100 * low).toFixed(1)}-${(100 * high).toFixed(1)}%`;
}
