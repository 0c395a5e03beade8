/* The live viewer's side of telemetry: a ZeroMQ SUB socket on the
 * server's PUB (docs/protocol.md, "Telemetry"), each message decoded and
 * applied to a model. The subscriber only reads: it never slows the run.
 * What it misses (it joined late, or fell 1,000 messages behind and the
 * PUB dropped some) shows as a gap in seq, counted in lost. */
#ifndef RECARENA_VIZ_SUBSCRIBER_H
#define RECARENA_VIZ_SUBSCRIBER_H

#include "viz/model.h"

#include <stddef.h>
#include <stdint.h>

/* Time a new subscription takes to reach the server's PUB, milliseconds:
 * a PUB drops what it sends before then. The viewer waits this long after
 * connecting before it tells `recarena run --view` that it is ready. */
#define VIZ_SUBSCRIBE_SETTLE_MS 200

typedef struct viz_subscriber viz_subscriber_t;

typedef struct viz_subscriber_stats {
    uint64_t received; /* telemetry messages applied */
    uint64_t lost;     /* gaps in seq */
    uint64_t bad;      /* frames that did not decode, or did not fit the model */
    uint64_t ignored;  /* other message types */
} viz_subscriber_stats_t;

/* Connects a SUB socket (its own ZeroMQ context) to endpoint, e.g.
 * ipc:///tmp/recarena-XXXXXX/telemetry or tcp://host:5556. ZeroMQ
 * connects in the background and retries until the server is there.
 * NULL on failure with a message in err. Caller owns the result. */
viz_subscriber_t *viz_subscriber_new(const char *endpoint, char *err, size_t err_len);

/* Closes the socket and the context; accepts NULL and nulls *self_p. */
void viz_subscriber_destroy(viz_subscriber_t **self_p);

/* Waits up to timeout_ms for a message, then applies to m every message
 * already queued, for at most budget_ms (so that a flood never freezes
 * the window). Returns how many were applied (0: none came), or
 * ERR_ENOMEM. */
int viz_subscriber_poll(viz_subscriber_t *s, viz_model_t *m, int timeout_ms, int budget_ms);

const viz_subscriber_stats_t *viz_subscriber_stats(const viz_subscriber_t *s);

#endif
