/* The live viewer in a window: a resizable SDL window that shows the run
 * as telemetry arrives, with keys to switch the panel set, the theme and
 * the text size, pause the display, switch between this episode and all
 * episodes, save a screenshot and quit
 * (docs/viewer.md). The window stays open when the run ends, showing its
 * final state, until it is closed. */
#ifndef RECARENA_VIZ_WINDOW_H
#define RECARENA_VIZ_WINDOW_H

#include "viz/draw.h"
#include "viz/live.h"

#include <stddef.h>

/* Help for the footer. */
#define VIZ_WINDOW_KEYS                                                                            \
    "1 2 3: panels \xc2\xb7 t: theme \xc2\xb7 + -: size \xc2\xb7 space: pause \xc2\xb7 e: "        \
    "episode / all "                                                                               \
    "\xc2\xb7 s: screenshot \xc2\xb7 q: quit"

/* Opens a width x height window and runs the viewer loop until the window
 * is closed (or q, Escape, SIGINT, SIGTERM). ready_fd >= 0: once the
 * window is open and the subscription has had VIZ_SUBSCRIBE_SETTLE_MS to
 * reach the server, one byte is written to it and it is closed (how
 * `recarena run --view` knows it can start). Borrows l and d. 0, or
 * ERR_EDISPLAY (no display, ...) / ERR_ENOMEM with a message in err. */
int viz_window_run(viz_live_t *l, viz_draw_t *d, int width, int height, int ready_fd, char *err,
                   size_t err_len);

#endif
