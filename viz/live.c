/* The live viewer's state (live.h). */
#include "viz/live.h"

#include "viz/rundir.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

int viz_live_init(viz_live_t *l, const char *endpoint, const char *scenario, char *err,
                  size_t err_len)
{
    memset(l, 0, sizeof *l);
    viz_model_init(&l->model);
    viz_model_init(&l->frozen);
    snprintf(l->endpoint, sizeof l->endpoint, "%s", endpoint);
    l->view = (viz_view_t){.all_episodes = true, .status = l->status};
    if (scenario) {
        int rc = viz_rundir_read_scenario(&l->model, scenario, err, err_len);
        if (rc != 0)
            return rc;
    }
    l->subscriber = viz_subscriber_new(endpoint, err, err_len);
    if (!l->subscriber)
        return ERR_EIO;
    viz_live_update(l, 0);
    return 0;
}

void viz_live_fini(viz_live_t *l)
{
    viz_subscriber_destroy(&l->subscriber);
    viz_model_fini(&l->model);
    viz_model_fini(&l->frozen);
}

int viz_live_update(viz_live_t *l, int timeout_ms)
{
    int applied = viz_subscriber_poll(l->subscriber, &l->model, timeout_ms, VIZ_FRAME_MS);
    const viz_subscriber_stats_t *s = viz_subscriber_stats(l->subscriber);
    const char *sep = l->notice[0] ? " \xc2\xb7 " : "";
    if (s->received == 0)
        snprintf(l->status, sizeof l->status, "waiting for telemetry on %s%s%s", l->endpoint, sep,
                 l->notice);
    else
        snprintf(l->status, sizeof l->status,
                 "telemetry %s \xc2\xb7 %llu messages \xc2\xb7 %llu lost%s%s", l->endpoint,
                 (unsigned long long)s->received, (unsigned long long)s->lost, sep, l->notice);
    return applied;
}

int viz_live_pause(viz_live_t *l, bool paused)
{
    if (paused && viz_model_copy(&l->frozen, &l->model) != 0)
        return ERR_ENOMEM;
    if (!paused)
        viz_model_fini(&l->frozen);
    l->view.paused = paused;
    return 0;
}

const viz_model_t *viz_live_shown(const viz_live_t *l)
{
    return l->view.paused ? &l->frozen : &l->model;
}

int viz_live_screenshot(viz_live_t *l, viz_draw_t *d, int width, int height, char *err,
                        size_t err_len)
{
    const viz_model_t *m = viz_live_shown(l);
    char path[256];
    for (int n = 1; n < 100000; n++) {
        snprintf(path, sizeof path, "recarena-%s-%d.png", m->scenario[0] ? m->scenario : "view", n);
        if (access(path, F_OK) != 0)
            break;
    }
    int rc = viz_draw_png(d, width, height, m, &l->view, path, err, err_len);
    snprintf(l->notice, sizeof l->notice, rc == 0 ? "saved %s" : "screenshot failed: %s",
             rc == 0 ? path : err);
    return rc;
}
