/* The live viewer's window loop (window.h): input, update, draw. */
#include "viz/window.h"

#include "proto/transport.h"

#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>

/* What the loop keeps between frames. */
typedef struct s_loop {
    viz_live_t *live;
    viz_draw_t *draw;
    SDL_Window *window;
    SDL_Renderer *renderer;
    bool quit;
    bool dirty;         /* the picture must be drawn again */
    int64_t next_frame; /* drawing again before this (transport_now_ms) waits */
} s_loop_t;

/* Text and lines by step larger (or smaller), within the bounds. */
static void s_rescale(s_loop_t *loop, double step)
{
    double scale = viz_draw_scale(loop->draw) + step;
    scale = scale < VIZ_MIN_SCALE ? VIZ_MIN_SCALE : (scale > VIZ_MAX_SCALE ? VIZ_MAX_SCALE : scale);
    if (viz_draw_set_style(loop->draw, scale, viz_draw_theme(loop->draw), loop->live->notice,
                           sizeof loop->live->notice) == 0)
        loop->live->notice[0] = '\0';
}

static void s_on_key(s_loop_t *loop, SDL_Keycode key)
{
    viz_live_t *l = loop->live;
    char err[512];
    switch (key) {
    case SDLK_1:
    case SDLK_2:
    case SDLK_3:
        l->view.panels = (viz_panel_set_t)(key - SDLK_1);
        break;
    case SDLK_TAB:
        l->view.panels = (viz_panel_set_t)((l->view.panels + 1) % VIZ_SET_COUNT);
        break;
    case SDLK_t:
        viz_draw_set_style(loop->draw, viz_draw_scale(loop->draw),
                           viz_draw_theme(loop->draw) == VIZ_THEME_LIGHT ? VIZ_THEME_CONTRAST
                                                                         : VIZ_THEME_LIGHT,
                           err, sizeof err);
        break;
    case SDLK_PLUS:
    case SDLK_EQUALS:
    case SDLK_KP_PLUS:
        s_rescale(loop, 0.25);
        break;
    case SDLK_MINUS:
    case SDLK_KP_MINUS:
        s_rescale(loop, -0.25);
        break;
    case SDLK_SPACE:
    case SDLK_p:
        if (viz_live_pause(l, !l->view.paused) != 0)
            snprintf(l->notice, sizeof l->notice, "cannot pause: out of memory");
        break;
    case SDLK_e:
        l->view.all_episodes = !l->view.all_episodes;
        break;
    case SDLK_s: {
        int w, h;
        SDL_GetRendererOutputSize(loop->renderer, &w, &h);
        if (viz_live_screenshot(l, loop->draw, w, h, err, sizeof err) == 0)
            fprintf(stderr, "recarena-view: %s\n", l->notice);
        else
            fprintf(stderr, "recarena-view: %s\n", err);
        break;
    }
    case SDLK_q:
    case SDLK_ESCAPE:
        loop->quit = true;
        break;
    default:
        return;
    }
    loop->dirty = true;
}

/* Input: keys, window events, quit. */
static void s_handle_input(s_loop_t *loop)
{
    SDL_Event e;
    while (SDL_PollEvent(&e)) {
        if (e.type == SDL_QUIT)
            loop->quit = true;
        else if (e.type == SDL_KEYDOWN && !e.key.repeat)
            s_on_key(loop, e.key.keysym.sym);
        else if (e.type == SDL_WINDOWEVENT)
            loop->dirty = true; /* resized, exposed, restored, ... */
    }
}

/* Update: telemetry into the model, waiting for it until the next frame
 * is due, or a frame's time when there is nothing to draw. */
static int s_update(s_loop_t *loop)
{
    int64_t left = loop->next_frame - transport_now_ms();
    int timeout = !loop->dirty ? VIZ_FRAME_MS : (left > 0 ? (int)left : 0);
    int applied = viz_live_update(loop->live, timeout);
    if (applied < 0)
        return applied;
    if (applied > 0 && !loop->live->view.paused)
        loop->dirty = true;
    return 0;
}

/* Draw: the picture, when something changed, at most once a frame (a
 * flood of telemetry never makes the viewer take the run's CPU). */
static void s_draw(s_loop_t *loop)
{
    int64_t now = transport_now_ms();
    if (!loop->dirty || now < loop->next_frame)
        return;
    loop->next_frame = now + VIZ_FRAME_MS;
    viz_draw_render(loop->draw, loop->renderer, viz_live_shown(loop->live), &loop->live->view);
    SDL_RenderPresent(loop->renderer);
    loop->dirty = false;
}

int viz_window_run(viz_live_t *l, viz_draw_t *d, int width, int height, int ready_fd, char *err,
                   size_t err_len)
{
    int rc = 0;
    s_loop_t loop = {.live = l, .draw = d, .dirty = true};
    if (SDL_Init(SDL_INIT_VIDEO) != 0) {
        snprintf(err, err_len,
                 "cannot open a window: %s (without a display, use recarena plot or --headless)",
                 SDL_GetError());
        return ERR_EDISPLAY;
    }
    loop.window =
        SDL_CreateWindow("recarena view", SDL_WINDOWPOS_UNDEFINED, SDL_WINDOWPOS_UNDEFINED, width,
                         height, SDL_WINDOW_RESIZABLE | SDL_WINDOW_ALLOW_HIGHDPI);
    loop.renderer = loop.window ? SDL_CreateRenderer(loop.window, -1, 0) : NULL;
    if (!loop.renderer) {
        snprintf(err, err_len, "cannot open a window: %s", SDL_GetError());
        rc = ERR_EDISPLAY;
        goto done;
    }
    SDL_SetWindowMinimumSize(loop.window, VIZ_MIN_SIZE, VIZ_MIN_SIZE);
    l->view.keys = VIZ_WINDOW_KEYS;
    if (ready_fd >= 0) {
        SDL_Delay(VIZ_SUBSCRIBE_SETTLE_MS);
        if (write(ready_fd, "r", 1) != 1)
            fprintf(stderr, "recarena-view: the run did not wait for the viewer\n");
        close(ready_fd);
    }
    while (!loop.quit && rc == 0) {
        s_handle_input(&loop);
        rc = s_update(&loop);
        s_draw(&loop);
    }
    if (rc != 0)
        snprintf(err, err_len, "%s", err_str(rc));
done:
    if (loop.renderer)
        SDL_DestroyRenderer(loop.renderer);
    if (loop.window)
        SDL_DestroyWindow(loop.window);
    SDL_Quit();
    return rc;
}
