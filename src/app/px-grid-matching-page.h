// SPDX-License-Identifier: GPL-3.0-or-later
//
// PxGridMatchingPage: one radiograph with the two training crops PEAC cuts on a shared grid
// (engine views), their overlap, every matched cell pair joined and coloured by the model's
// cosine similarity between the two crops' tokens, the mean against unmatched pairs, and
// the student's input: clean, with its cells shuffled, or distorted.
#pragma once

#include <gtk/gtk.h>

#include "px-embedder.h"

G_BEGIN_DECLS

#define PX_TYPE_GRID_MATCHING_PAGE (px_grid_matching_page_get_type ())

G_DECLARE_FINAL_TYPE (PxGridMatchingPage, px_grid_matching_page, PX, GRID_MATCHING_PAGE, GtkWidget)

void     px_grid_matching_page_set_studies  (PxGridMatchingPage *self,
                                             GListModel         *studies);
void     px_grid_matching_page_set_embedder (PxGridMatchingPage *self,
                                             PxEmbedder         *embedder);
gboolean px_grid_matching_page_get_ready    (PxGridMatchingPage *self);
int      px_grid_matching_page_get_grid     (PxGridMatchingPage *self);
void     px_grid_matching_page_get_offsets  (PxGridMatchingPage *self,
                                             int                *dr1,
                                             int                *dc1,
                                             int                *dr2,
                                             int                *dc2);
int      px_grid_matching_page_get_pairs    (PxGridMatchingPage *self,
                                             int                *pair);
gboolean px_grid_matching_page_get_similarity (PxGridMatchingPage *self,
                                               double             *matched,
                                               double             *unmatched);
gboolean px_grid_matching_page_export       (PxGridMatchingPage *self,
                                             const char         *path,
                                             const char         *format,
                                             double              width,
                                             double              height,
                                             GError            **error);

G_END_DECLS
