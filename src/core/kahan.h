/*
 * kahan.h — compensated summation as Prometheus does it (its kahanSumInc,
 * the Neumaier variant), shared by the PromQL engine and the store's
 * downsampled tiers so a tier's sum equals sum_over_time of its bucket.
 */
#ifndef VIGIL_KAHAN_H
#define VIGIL_KAHAN_H

#include <math.h>

/* Add inc to sum, carrying the lost low-order bits in *c; the new sum. The
 * total is the returned sum + *c. An infinite sum drops the compensation. */
static inline double kahan_inc(double inc, double sum, double *c)
{
	double t = sum + inc;
	if (isinf(t))
		*c = 0;
	else if (fabs(sum) >= fabs(inc))
		*c += (sum - t) + inc;
	else
		*c += (inc - t) + sum;
	return t;
}

#endif
