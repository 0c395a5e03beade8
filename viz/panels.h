/* The viewer's panels (draw.h lists them): each one's title, the label
 * of its y axis with the unit, and its drawing inside the frame the
 * layout gives it. Internal to viz/; draw.c frames them and calls these. */
#ifndef RECARENA_VIZ_PANELS_H
#define RECARENA_VIZ_PANELS_H

#include "viz/chart.h"
#include "viz/draw.h"
#include "viz/model.h"

#include <stdbool.h>

/* Panel p's title ("Click rate per agent"). */
const char *viz_panel_title(const viz_model_t *m, viz_panel_t p);

/* Panel p's y axis and unit ("clicks per request"); "" for the legend. */
const char *viz_panel_y_label(const viz_model_t *m, viz_panel_t p);

/* True if panel p labels its curves at their ends (the layout keeps room
 * right of the plot for the labels). */
bool viz_panel_has_end_labels(viz_panel_t p);

/* Draws panel p's contents (axes, curves, labels, notes) in its frame of
 * layout, which draw.c has already filled and titled. */
void viz_panel_draw(const viz_canvas_t *c, viz_panel_t p, const viz_layout_t *layout,
                    const viz_model_t *m, const viz_view_t *v);

#endif
