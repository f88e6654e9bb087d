// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <gtk/gtk.h>

#include "px-trainer.h"

G_BEGIN_DECLS

const char *px_train_sample_input_title (const PxTrainSample *sample);

void px_train_sample_draw (GtkWidget           *widget,
                           cairo_t             *cr,
                           int                  width,
                           int                  height,
                           const PxTrainSample *sample);

G_END_DECLS
