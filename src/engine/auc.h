// SPDX-License-Identifier: GPL-3.0-or-later
//
// auc: the ranking metrics of downstream evaluation. ROC AUC by the Mann–Whitney
// statistic with mid-ranks, so tied scores count one half, exactly as scikit-learn's
// roc_auc_score; the ROC curve itself (one point per distinct threshold, from (0, 0) to
// (1, 1)); the mean AUC over the classes of a multi-label problem that have both
// outcomes; and a percentile bootstrap confidence interval of that mean, resampling
// images (rows) with a seeded generator. Labels are floats 0 or 1 so that they can be
// read straight out of a label matrix; any value ≥ 0.5 counts as positive.
#pragma once

#include <stdint.h>

// AUC of n scores against n labels, read with strides (elements) so that a column of a
// row-major [n, k] matrix can be passed directly. NaN when one of the outcomes is absent.
double peac_auc (const float *score, int score_stride, const float *label, int label_stride,
                 int n);

// ROC curve: writes up to n + 1 points (fpr[i], tpr[i]) in order of decreasing threshold,
// starting at (0, 0) and ending at (1, 1); thr[i] (may be NULL) is the score at and above
// which point i calls positive (thr[0] = +inf). Returns the number of points, or 0 when one
// of the outcomes is absent. Buffers hold n + 1 entries.
int    peac_roc_curve (const float *score, int score_stride, const float *label,
                       int label_stride, int n, float *fpr, float *tpr, float *thr);

// Per-class AUC of scores [n, k] against labels [n, k] into auc[k] (NaN for a class
// without both outcomes); returns the mean over the defined classes (NaN if none).
double peac_auc_multi (const float *score, const float *label, int n, int k, double *auc);

// Percentile bootstrap of the mean AUC: `reps` resamples of the n rows with replacement
// (generator seeded with `seed`), the mean over the classes defined in each resample;
// *lo and *hi get the (1 − level)/2 and (1 + level)/2 quantiles (e.g. level 0.95).
// Returns the number of resamples that had at least one defined class (NaN bounds if 0).
int    peac_auc_bootstrap (const float *score, const float *label, int n, int k, int reps,
                           double level, uint64_t seed, double *lo, double *hi);
