/* The live viewer's state, shared by its two front ends (a window,
 * window.h; and headless, offscreen frames ending in a PNG): the model
 * fed from the telemetry subscriber, the frozen copy shown while the
 * display is paused, and the view (episode or all, status line).
 *
 * Each front end's loop keeps three steps apart: handle input, update
 * (viz_live_update: telemetry into the model), draw (draw.h, from
 * viz_live_shown). Pausing freezes only the picture: telemetry keeps
 * flowing into the model, so resuming shows the run as it is now. */
#ifndef RECARENA_VIZ_LIVE_H
#define RECARENA_VIZ_LIVE_H

#include "viz/draw.h"
#include "viz/model.h"
#include "viz/subscriber.h"

#include <stdbool.h>
#include <stddef.h>

#define VIZ_FRAME_MS 33 /* a frame every 33 ms at most (30 per second) */

typedef struct viz_live {
    viz_model_t model;  /* everything received */
    viz_model_t frozen; /* the picture while paused */
    viz_subscriber_t *subscriber;
    char endpoint[512];
    viz_view_t view; /* view.status points at status */
    char status[1024];
    char notice[256]; /* appended to the status, e.g. "saved FILE" */
} viz_live_t;

/* Subscribes to endpoint; scenario (may be NULL) is the run's scenario
 * file, for its name, mode and the agents' algorithms. 0, or an ERR_ code of core/err.h
 * with a message in err (then fini is still safe). */
int viz_live_init(viz_live_t *l, const char *endpoint, const char *scenario, char *err,
                  size_t err_len);
void viz_live_fini(viz_live_t *l);

/* Waits up to timeout_ms for telemetry and applies what came; refreshes
 * the status line. Returns how many messages were applied, or
 * ERR_ENOMEM. */
int viz_live_update(viz_live_t *l, int timeout_ms);

/* Freezes (a copy of the model now) or resumes the picture. ERR_ENOMEM
 * if the copy fails (the display then stays live). */
int viz_live_pause(viz_live_t *l, bool paused);

/* What to draw: the frozen copy while paused, the model otherwise. */
const viz_model_t *viz_live_shown(const viz_live_t *l);

/* Writes the picture as it is shown, width x height, to a new PNG in the
 * current folder (recarena-SCENARIO-N.png, the first N not taken) and
 * says so in the status line. 0 or an ERR_ code of core/err.h with a message in err. */
int viz_live_screenshot(viz_live_t *l, viz_draw_t *d, int width, int height, char *err,
                        size_t err_len);

#endif
