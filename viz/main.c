/* recarena-view: the SDL2 viewer, a process of its own so that SDL stays
 * out of the recarena binary (which starts it for `recarena view`,
 * `recarena plot` and `recarena run --view`). Three ways to run:
 *
 *   --connect ENDPOINT               a window on a run's live telemetry
 *   --connect ENDPOINT --headless    the same offscreen, ending in a PNG
 *   --plot RUN_DIR --out FILE.png    a finished run folder into a PNG
 *   --series FILE.csv --out FILE.png a study plot (studyplot.h) into a PNG
 *
 * Keys and panels: docs/viewer.md. */
#include "core/parse.h"
#include "viz/draw.h"
#include "viz/live.h"
#include "viz/rundir.h"
#include "viz/studyplot.h"
#include "proto/transport.h"
#include "viz/window.h"

#include <SDL_image.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char s_usage[] =
    "usage: recarena-view --connect ENDPOINT [OPTIONS]\n"
    "       recarena-view --plot RUN_DIR --out FILE.png [OPTIONS]\n"
    "       recarena-view --series FILE.csv --out FILE.png [--title T] [--x-label L]\n"
    "                     [--y-label L] [--categorical]\n"
    "\n"
    "The recarena viewer: per-agent reward curves, market or click share,\n"
    "exposure diversity (Gini, coverage), the Lorenz curve of item exposure and\n"
    "exposure per topic. Live, from a run's telemetry, in a window; or from a\n"
    "finished run folder, into a PNG. Also reached as 'recarena view ...',\n"
    "'recarena plot RUN_DIR --out FILE.png' and 'recarena run SCENARIO --view'.\n"
    "\n"
    "options:\n"
    "  --connect ENDPOINT  subscribe to the telemetry PUB at ENDPOINT, e.g.\n"
    "                      tcp://127.0.0.1:5556 (recarena serve --telemetry)\n"
    "  --scenario FILE     the run's scenario: its name, mode and the agents'\n"
    "                      algorithms for the legend (a run folder's scenario.ini)\n"
    "  --plot RUN_DIR      draw a finished run folder instead\n"
    "  --series FILE.csv   draw a study plot: means with 95% confidence intervals\n"
    "                      (series,x,label,mean,low,high rows; recarena plot STUDY\n"
    "                      and recarena compare --plot write them), with --title,\n"
    "                      --x-label, --y-label, and --categorical (x positions\n"
    "                      name runs: the labels under them)\n"
    "  --out FILE.png      (--plot, --headless) the picture to write: PNG, or JPEG\n"
    "                      for a name ending in .jpg or .jpeg\n"
    "  --episode N         (--plot) only episode N; default: all, back to back\n"
    "  --size WxH          window or picture size in pixels (default 1280x800)\n"
    "  --font FILE         a TrueType font (default " VIZ_DEFAULT_FONT ")\n"
    "  --panels SET        the panels: overview (default), learning (click rate,\n"
    "                      regret, share, reward, active users, welfare) or\n"
    "                      episodes (learning curves, one point per episode)\n"
    "  --scale F           text and lines F times their size, F in [0.5, 4]\n"
    "  --theme NAME        light (default) or contrast (white on black)\n"
    "  --projector         for a projector: --theme contrast --scale 1.5\n"
    "  --headless          (--connect) no window: draw frames offscreen and write\n"
    "                      --out after --frames N frames or --episodes N episodes\n"
    "  --frames N          (--headless) stop after N frames (about 30 a second)\n"
    "  --episodes N        (--headless) stop once N episode summaries arrived\n"
    "  --ready-fd FD       write one byte to FD once subscribed (recarena run --view)\n"
    "  -h, --help          this text\n"
    "\n"
    "Options are also read from the environment variable RECARENA_VIEW, before\n"
    "the command line's (e.g. RECARENA_VIEW='--projector' recarena run ... --view).\n"
    "\n"
    "Keys in the window: 1 2 3 or tab the panel set, t theme, + - text size,\n"
    "space pause, e this episode / all, s screenshot, q quit.\n";

typedef struct s_options {
    const char *endpoint, *scenario, *plot, *out, *font, *series, *title, *x_label, *y_label;
    bool categorical;
    long episode; /* VIZ_ALL_EPISODES */
    int width, height;
    bool headless;
    viz_panel_set_t panels;
    double scale;
    viz_theme_t theme;
    long frames, episodes;
    int ready_fd; /* -1: none */
} s_options_t;

static int s_parse_long(const char *flag, const char *text, long min, long max, long *out)
{
    int64_t v;
    if (parse_int64(text, min, max, &v) != 0) {
        fprintf(stderr, "recarena-view: %s: expected an integer in [%ld, %ld], got '%s'\n", flag,
                min, max, text);
        return -1;
    }
    *out = (long)v;
    return 0;
}

static int s_parse_size(const char *text, int *width, int *height)
{
    char w_text[16];
    const char *x = strchr(text, 'x');
    size_t w_len = x ? (size_t)(x - text) : 0;
    int w = 0, h = 0;
    if (w_len > 0 && w_len < sizeof w_text) {
        memcpy(w_text, text, w_len);
        w_text[w_len] = '\0';
    }
    if (w_len == 0 || w_len >= sizeof w_text ||
        parse_int(w_text, VIZ_MIN_SIZE, VIZ_MAX_SIZE, &w) != 0 ||
        parse_int(x + 1, VIZ_MIN_SIZE, VIZ_MAX_SIZE, &h) != 0) {
        fprintf(stderr, "recarena-view: --size: expected WxH, each in [%d, %d], got '%s'\n",
                VIZ_MIN_SIZE, VIZ_MAX_SIZE, text);
        return -1;
    }
    *width = w;
    *height = h;
    return 0;
}

/* 0, 1 after --help, or -1 on a usage error (told on stderr). */
static int s_parse(int argc, char **argv, s_options_t *o)
{
    *o = (s_options_t){.episode = VIZ_ALL_EPISODES,
                       .width = VIZ_DEFAULT_WIDTH,
                       .height = VIZ_DEFAULT_HEIGHT,
                       .scale = 1.0,
                       .ready_fd = -1};
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
        long v;
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            fputs(s_usage, stdout);
            return 1;
        } else if (strcmp(arg, "--headless") == 0) {
            o->headless = true;
            continue;
        } else if (strcmp(arg, "--categorical") == 0) {
            o->categorical = true;
            continue;
        } else if (strcmp(arg, "--projector") == 0) {
            o->theme = VIZ_THEME_CONTRAST;
            o->scale = VIZ_PROJECTOR_SCALE;
            continue;
        }
        if (!value) {
            fprintf(stderr, "recarena-view: %s: %s\n", arg,
                    arg[0] == '-' ? "needs a value (see --help)" : "unexpected argument");
            return -1;
        }
        i++;
        if (strcmp(arg, "--connect") == 0) {
            o->endpoint = value;
        } else if (strcmp(arg, "--scenario") == 0) {
            o->scenario = value;
        } else if (strcmp(arg, "--plot") == 0) {
            o->plot = value;
        } else if (strcmp(arg, "--series") == 0) {
            o->series = value;
        } else if (strcmp(arg, "--title") == 0) {
            o->title = value;
        } else if (strcmp(arg, "--x-label") == 0) {
            o->x_label = value;
        } else if (strcmp(arg, "--y-label") == 0) {
            o->y_label = value;
        } else if (strcmp(arg, "--out") == 0) {
            o->out = value;
        } else if (strcmp(arg, "--font") == 0) {
            o->font = value;
        } else if (strcmp(arg, "--panels") == 0) {
            if (!viz_panel_set_parse(value, &o->panels)) {
                fprintf(stderr,
                        "recarena-view: --panels: expected overview, learning or episodes, "
                        "got '%s'\n",
                        value);
                return -1;
            }
        } else if (strcmp(arg, "--scale") == 0) {
            if (parse_double(value, VIZ_MIN_SCALE, VIZ_MAX_SCALE, &o->scale) != 0) {
                fprintf(stderr, "recarena-view: --scale: expected a number in [%g, %g], got '%s'\n",
                        VIZ_MIN_SCALE, VIZ_MAX_SCALE, value);
                return -1;
            }
        } else if (strcmp(arg, "--theme") == 0) {
            if (strcmp(value, "light") == 0 || strcmp(value, "contrast") == 0) {
                o->theme = strcmp(value, "light") == 0 ? VIZ_THEME_LIGHT : VIZ_THEME_CONTRAST;
            } else {
                fprintf(stderr, "recarena-view: --theme: expected light or contrast, got '%s'\n",
                        value);
                return -1;
            }
        } else if (strcmp(arg, "--size") == 0) {
            if (s_parse_size(value, &o->width, &o->height) != 0)
                return -1;
        } else if (strcmp(arg, "--episode") == 0) {
            if (s_parse_long(arg, value, 0, UINT32_MAX, &o->episode) != 0)
                return -1;
        } else if (strcmp(arg, "--frames") == 0) {
            if (s_parse_long(arg, value, 1, LONG_MAX, &o->frames) != 0)
                return -1;
        } else if (strcmp(arg, "--episodes") == 0) {
            if (s_parse_long(arg, value, 1, LONG_MAX, &o->episodes) != 0)
                return -1;
        } else if (strcmp(arg, "--ready-fd") == 0) {
            if (s_parse_long(arg, value, 0, INT_MAX, &v) != 0)
                return -1;
            o->ready_fd = (int)v;
        } else {
            fprintf(stderr, "recarena-view: unknown option '%s' (see --help)\n", arg);
            return -1;
        }
    }
    const char *problem = NULL;
    if ((o->endpoint != NULL) + (o->plot != NULL) + (o->series != NULL) != 1)
        problem = "give one of --connect ENDPOINT, --plot RUN_DIR or --series FILE.csv";
    else if ((o->plot || o->series || o->headless) && !o->out)
        problem = "--out FILE.png is required with --plot, --series and --headless";
    else if (o->headless && !o->frames && !o->episodes)
        problem = "--headless needs --frames N or --episodes N to know when to stop";
    else if (o->plot && o->headless)
        problem = "--headless is for --connect";
    else if (o->out && viz_image_type(o->out) == VIZ_IMAGE_UNKNOWN)
        problem = "--out: unknown picture type (the name must end in " VIZ_IMAGE_ENDINGS ")";
    if (problem) {
        fprintf(stderr, "recarena-view: %s\n\n%s", problem, s_usage);
        return -1;
    }
    return 0;
}

/* A run folder into a PNG. */
static int s_plot(const s_options_t *o, viz_draw_t *d)
{
    char err[1024];
    viz_model_t m;
    viz_model_init(&m);
    int rc = viz_rundir_load(&m, o->plot, o->episode, err, sizeof err);
    if (rc == 0) {
        char status[1200];
        snprintf(status, sizeof status, "run folder %s", o->plot);
        viz_view_t view = {
            .all_episodes = o->episode == VIZ_ALL_EPISODES, .panels = o->panels, .status = status};
        rc = viz_draw_png(d, o->width, o->height, &m, &view, o->out, err, sizeof err);
    }
    viz_model_fini(&m);
    if (rc != 0) {
        fprintf(stderr, "recarena-view: %s\n", err);
        return 1;
    }
    printf("wrote %s (%dx%d)\n", o->out, o->width, o->height);
    return 0;
}

/* A study plot's CSV into a PNG. */
static int s_series(const s_options_t *o, viz_draw_t *d)
{
    char err[1024];
    viz_studyplot_t *p = malloc(sizeof *p);
    if (!p) {
        fprintf(stderr, "recarena-view: out of memory\n");
        return 1;
    }
    int rc = viz_studyplot_read(p, o->series, err, sizeof err);
    if (rc == 0) {
        snprintf(p->title, sizeof p->title, "%s", o->title ? o->title : "");
        snprintf(p->x_label, sizeof p->x_label, "%s", o->x_label ? o->x_label : "");
        snprintf(p->y_label, sizeof p->y_label, "%s", o->y_label ? o->y_label : "");
        p->categorical = o->categorical;
        SDL_Surface *s = viz_studyplot_surface(d, p, o->width, o->height, err, sizeof err);
        rc = s ? viz_image_save(s, o->out, err, sizeof err) : ERR_EDISPLAY;
        SDL_FreeSurface(s);
    }
    free(p);
    if (rc != 0) {
        fprintf(stderr, "recarena-view: %s\n", err);
        return 1;
    }
    printf("wrote %s (%dx%d)\n", o->out, o->width, o->height);
    return 0;
}

/* Live telemetry drawn offscreen, frame by frame, the last frame into a
 * PNG: the window's loop without input. */
static int s_headless(const s_options_t *o, viz_live_t *l, viz_draw_t *d, char *err, size_t err_len)
{
    SDL_Surface *surface =
        SDL_CreateRGBSurfaceWithFormat(0, o->width, o->height, 32, SDL_PIXELFORMAT_RGB888);
    SDL_Renderer *r = surface ? SDL_CreateSoftwareRenderer(surface) : NULL;
    if (!r) {
        snprintf(err, err_len, "cannot draw offscreen: %s", SDL_GetError());
        SDL_FreeSurface(surface);
        return ERR_EDISPLAY;
    }
    SDL_Delay(VIZ_SUBSCRIBE_SETTLE_MS);
    fprintf(stderr, "recarena-view: subscribed to %s\n", l->endpoint);
    if (o->ready_fd >= 0) {
        if (write(o->ready_fd, "r", 1) != 1)
            fprintf(stderr, "recarena-view: nobody waits on --ready-fd\n");
        close(o->ready_fd);
    }
    int rc = 0;
    long frames = 0;
    while (rc == 0) {
        /* update: what comes during a frame's time */
        int64_t now = transport_now_ms(), frame_end = now + VIZ_FRAME_MS;
        for (; rc >= 0 && now < frame_end; now = transport_now_ms())
            rc = viz_live_update(l, (int)(frame_end - now));
        if (rc < 0)
            break;
        rc = viz_draw_render(d, r, viz_live_shown(l), &l->view); /* draw */
        frames++;
        if ((o->frames && frames >= o->frames) ||
            (o->episodes && l->model.episodes_received >= (uint64_t)o->episodes))
            break;
    }
    if (rc == 0)
        rc = viz_image_save(surface, o->out, err, err_len);
    else
        snprintf(err, err_len, "%s", err_str(rc));
    SDL_DestroyRenderer(r);
    SDL_FreeSurface(surface);
    if (rc == 0) {
        const viz_subscriber_stats_t *s = viz_subscriber_stats(l->subscriber);
        fprintf(stderr,
                "recarena-view: %ld frames; %llu ticks, %llu exposure snapshots, %llu episodes "
                "received, %llu messages lost; wrote %s\n",
                frames, (unsigned long long)l->model.ticks_received,
                (unsigned long long)l->model.exposures_received,
                (unsigned long long)l->model.episodes_received, (unsigned long long)s->lost,
                o->out);
    }
    return rc;
}

/* The command line after the options in RECARENA_VIEW (split at blanks):
 * a new argv of *argc strings, pointing into *env_copy; NULL if out of
 * memory. The caller frees both. */
static char **s_arguments(int *argc, char **argv, char **env_copy)
{
    const char *env = getenv("RECARENA_VIEW");
    *env_copy = strdup(env ? env : "");
    size_t room = (size_t)*argc + (*env_copy ? strlen(*env_copy) / 2 + 2 : 0);
    char **args = *env_copy ? calloc(room + 1, sizeof *args) : NULL;
    if (!args)
        return NULL;
    int n = 0;
    args[n++] = argv[0];
    for (char *save = NULL, *word = strtok_r(*env_copy, " \t\n", &save); word;
         word = strtok_r(NULL, " \t\n", &save))
        args[n++] = word;
    for (int i = 1; i < *argc; i++)
        args[n++] = argv[i];
    *argc = n;
    return args;
}

int main(int argc, char **argv)
{
    s_options_t o;
    char *env_copy = NULL;
    char **args = s_arguments(&argc, argv, &env_copy);
    if (!args) {
        fprintf(stderr, "recarena-view: out of memory\n");
        return 1;
    }
    int parsed = s_parse(argc, args, &o);
    if (parsed != 0) {
        free(args);
        free(env_copy);
        return parsed > 0 ? 0 : 2;
    }
    signal(SIGPIPE, SIG_IGN); /* a run that stopped waiting on --ready-fd */
    char err[1024];
    viz_draw_t *d = viz_draw_new(o.font, err, sizeof err);
    if (d && viz_draw_set_style(d, o.scale, o.theme, err, sizeof err) != 0)
        viz_draw_destroy(&d);
    if (!d) {
        fprintf(stderr, "recarena-view: %s\n", err);
        free(args);
        free(env_copy);
        return 1;
    }
    int status = 0;
    if (o.series) {
        status = s_series(&o, d);
    } else if (o.plot) {
        status = s_plot(&o, d);
    } else {
        viz_live_t live;
        int rc = viz_live_init(&live, o.endpoint, o.scenario, err, sizeof err);
        live.view.panels = o.panels;
        if (rc == 0 && o.headless)
            rc = s_headless(&o, &live, d, err, sizeof err);
        else if (rc == 0)
            rc = viz_window_run(&live, d, o.width, o.height, o.ready_fd, err, sizeof err);
        viz_live_fini(&live);
        if (rc != 0) {
            fprintf(stderr, "recarena-view: %s\n", err);
            status = 1;
        }
    }
    viz_draw_destroy(&d);
    free(args);
    free(env_copy);
    return status;
}
