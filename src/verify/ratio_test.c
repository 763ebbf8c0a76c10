/*-------------------------------------------------------------------------
 *
 * ratio_test.c
 *	  The statistical test behind the effectiveness monitor's verdicts.
 *
 * A capture interval is one observation. Its mean time per call is a
 * ratio, numerator (time) over denominator (calls, or the time the same
 * calls took at the baseline's mean per call), and intervals differ in how
 * many calls they hold. So each side (before, after) is summarised by the
 * ratio of its sums, R = sum(y) / sum(x), which weights every interval by
 * its calls, and the variance of R comes from how far the intervals
 * scatter around it (the linearised variance of a ratio estimator, each
 * interval a cluster):
 *
 *	  Var(R) = n / (n - 1) * sum((y_i - R x_i)^2) / sum(x_i)^2
 *
 * This counts the variation between intervals (load, caching, plans that
 * change with parameters) as well as between calls, which a test on
 * single calls would not: per-call times are not independent, and with
 * thousands of calls a test on them calls any drift significant.
 *
 * The two sides are compared with Welch's t-test (unequal variances), with
 * Welch-Satterthwaite degrees of freedom, each side contributing Kish's
 * effective number of intervals, (sum x_i)^2 / sum x_i^2, minus one: fewer
 * when a few intervals hold most of the calls (without it the test finds
 * 6-7% of no-effect changes significant at 0.05; with it, 5-6%):
 *
 *	  two-sided   H0: R_after = R_before                        p_value
 *	  one-sided   H0: R_after <= (1 + threshold) R_before       p_regression
 *
 * The second is what a revert needs: evidence that the change made things
 * slower by more than the threshold, not merely slower.
 *
 * Student's t distribution function is computed from the regularised
 * incomplete beta function (continued fraction, modified Lentz's method).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "verify/verify.h"

#define BETA_MAX_ITERATIONS	300
#define BETA_EPSILON		1e-15
#define BETA_TINY			1e-300

/* The continued fraction of the incomplete beta function. */
static double
beta_fraction(double a, double b, double x)
{
	double		qab = a + b;
	double		qap = a + 1.0;
	double		qam = a - 1.0;
	double		c = 1.0;
	double		d = 1.0 - qab * x / qap;
	double		h;

	if (fabs(d) < BETA_TINY)
		d = BETA_TINY;
	d = 1.0 / d;
	h = d;
	for (int m = 1; m <= BETA_MAX_ITERATIONS; m++)
	{
		int			m2 = 2 * m;
		double		aa = m * (b - m) * x / ((qam + m2) * (a + m2));
		double		delta;

		d = 1.0 + aa * d;
		if (fabs(d) < BETA_TINY)
			d = BETA_TINY;
		c = 1.0 + aa / c;
		if (fabs(c) < BETA_TINY)
			c = BETA_TINY;
		d = 1.0 / d;
		h *= d * c;
		aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
		d = 1.0 + aa * d;
		if (fabs(d) < BETA_TINY)
			d = BETA_TINY;
		c = 1.0 + aa / c;
		if (fabs(c) < BETA_TINY)
			c = BETA_TINY;
		d = 1.0 / d;
		delta = d * c;
		h *= delta;
		if (fabs(delta - 1.0) < BETA_EPSILON)
			break;
	}
	return h;
}

/* The regularised incomplete beta function I_x(a, b). */
static double
incomplete_beta(double a, double b, double x)
{
	double		front;

	if (x <= 0.0)
		return 0.0;
	if (x >= 1.0)
		return 1.0;
	front = exp(lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x));
	/* the fraction converges fast on this side of the mean; else by symmetry */
	if (x < (a + 1.0) / (a + b + 2.0))
		return front * beta_fraction(a, b, x) / a;
	return 1.0 - front * beta_fraction(b, a, 1.0 - x) / b;
}

/* P(T <= t) for Student's t with df degrees of freedom (df > 0). */
double
pipeopt_student_t_cdf(double t, double df)
{
	double		tail;

	if (isnan(t) || isnan(df) || df <= 0)
		return NAN;
	if (isinf(t))
		return t > 0 ? 1.0 : 0.0;
	/* P(T > |t|) = I_{df / (df + t^2)}(df / 2, 1 / 2) / 2 */
	tail = 0.5 * incomplete_beta(df / 2.0, 0.5, df / (df + t * t));
	return t > 0 ? 1.0 - tail : tail;
}

/* One side: R, the variance of R, and the intervals counted. */
static void
ratio_side(const double *num, const double *den, int n, double *ratio, double *variance, int *k,
		   double *df)
{
	double		sy = 0,
				sx = 0,
				sxx = 0,
				ss = 0;

	*k = 0;
	for (int i = 0; i < n; i++)
	{
		if (den[i] <= 0)
			continue;			/* no calls in that interval: no observation */
		sy += num[i];
		sx += den[i];
		sxx += den[i] * den[i];
		(*k)++;
	}
	*ratio = sx > 0 ? sy / sx : NAN;
	*variance = NAN;
	*df = NAN;
	if (*k < 2)
		return;
	/* Kish's effective number of intervals: fewer when weights are unequal */
	*df = Max(sx * sx / sxx - 1.0, 1.0);
	for (int i = 0; i < n; i++)
	{
		double		e;

		if (den[i] <= 0)
			continue;
		e = num[i] - *ratio * den[i];
		ss += e * e;
	}
	*variance = (double) *k / (*k - 1) * ss / (sx * sx);
}

/*
 * Welch's test of a - c * b, where a and b are independent estimates with
 * variances va, vb and degrees of freedom dfa, dfb: the t statistic and its
 * degrees of freedom. A zero standard error (every interval exactly on its
 * ratio) makes t infinite unless the difference is zero too.
 */
static void
welch(double a, double va, double dfa, double b, double vb, double dfb, double c,
	  double *t, double *df)
{
	double		diff = a - c * b;
	double		vcb = c * c * vb;
	double		se2 = va + vcb;

	if (se2 <= 0)
	{
		*t = diff == 0 ? 0 : (diff > 0 ? INFINITY : -INFINITY);
		*df = dfa + dfb;
		return;
	}
	*t = diff / sqrt(se2);
	*df = se2 * se2 / (va * va / dfa + vcb * vcb / dfb);
}

/*
 * Compare the intervals before with the intervals after. threshold is a
 * fraction (0.1: ten percent slower). Intervals whose denominator is not
 * positive are left out; with fewer than 2 on a side nothing is tested.
 */
void
pipeopt_ratio_test(const double *num_before, const double *den_before, int n_before,
				   const double *num_after, const double *den_after, int n_after,
				   double threshold, RatioTest *out)
{
	double		vb,
				va,
				dfb,
				dfa,
				t,
				df;

	memset(out, 0, sizeof(*out));
	ratio_side(num_before, den_before, n_before, &out->ratio_before, &vb, &out->n_before, &dfb);
	ratio_side(num_after, den_after, n_after, &out->ratio_after, &va, &out->n_after, &dfa);
	out->change_pct = out->ratio_before > 0
		? (out->ratio_after / out->ratio_before - 1.0) * 100.0 : NAN;
	out->p_value = out->p_regression = out->df = NAN;
	out->tested = out->n_before >= 2 && out->n_after >= 2 && out->ratio_before > 0;
	if (!out->tested)
		return;

	welch(out->ratio_after, va, dfa, out->ratio_before, vb, dfb,
		  1.0, &t, &df);
	out->df = df;
	out->p_value = 2.0 * pipeopt_student_t_cdf(-fabs(t), df);
	if (out->p_value > 1.0)
		out->p_value = 1.0;

	welch(out->ratio_after, va, dfa, out->ratio_before, vb, dfb,
		  1.0 + threshold, &t, &df);
	out->p_regression = pipeopt_student_t_cdf(-t, df);
}
