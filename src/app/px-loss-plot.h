// SPDX-License-Identifier: GPL-3.0-or-later
//
// PxLossPlot: the loss curves of a training run (total and each PEAC term) against the
// step, drawn with Cairo, on a linear or logarithmic axis, with exponential smoothing.
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define PX_TYPE_LOSS_PLOT (px_loss_plot_get_type ())

G_DECLARE_FINAL_TYPE (PxLossPlot, px_loss_plot, PX, LOSS_PLOT, GtkWidget)

GtkWidget *px_loss_plot_new           (void);
void       px_loss_plot_set_points    (PxLossPlot *self,
                                       GArray     *points);
void       px_loss_plot_points_changed (PxLossPlot *self);
gboolean   px_loss_plot_get_log_scale (PxLossPlot *self);
void       px_loss_plot_set_log_scale (PxLossPlot *self,
                                       gboolean    log_scale);
double     px_loss_plot_get_smoothing (PxLossPlot *self);
void       px_loss_plot_set_smoothing (PxLossPlot *self,
                                       double      smoothing);
guint      px_loss_plot_get_n_drawn   (PxLossPlot *self);

G_END_DECLS
