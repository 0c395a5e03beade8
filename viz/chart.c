/* The viewer's chart toolkit (chart.h). */
#include "viz/chart.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_MAX_TICKS 200 /* axis ticks drawn at most, whatever the range */

SDL_Color viz_chart_role(const viz_canvas_t *c, viz_colour_role_t role)
{
    return viz_colour(c->theme, role);
}

int viz_chart_text_width(TTF_Font *font, const char *text)
{
    int w = 0, h = 0;
    if (text && text[0])
        TTF_SizeUTF8(font, text, &w, &h);
    return w;
}

int viz_chart_line_height(TTF_Font *font)
{
    return TTF_FontLineSkip(font);
}

static void s_colour(const viz_canvas_t *c, SDL_Color colour)
{
    SDL_SetRenderDrawColor(c->r, colour.r, colour.g, colour.b, colour.a);
}

int viz_chart_text(const viz_canvas_t *c, TTF_Font *font, int x, int y, viz_align_t align,
                   SDL_Color colour, const char *text)
{
    if (!text || !text[0])
        return 0;
    SDL_Surface *s = TTF_RenderUTF8_Blended(font, text, colour);
    if (!s)
        return 0;
    SDL_Rect dst = {x, y, s->w, s->h};
    dst.x -= align == VIZ_ALIGN_CENTRE ? s->w / 2 : (align == VIZ_ALIGN_RIGHT ? s->w : 0);
    SDL_Texture *t = SDL_CreateTextureFromSurface(c->r, s);
    if (t) {
        SDL_RenderCopy(c->r, t, NULL, &dst);
        SDL_DestroyTexture(t);
    }
    int w = s->w;
    SDL_FreeSurface(s);
    return w;
}

void viz_chart_fill(const viz_canvas_t *c, SDL_Rect rect, SDL_Color colour)
{
    s_colour(c, colour);
    SDL_RenderFillRect(c->r, &rect);
}

void viz_chart_line(const viz_canvas_t *c, int x0, int y0, int x1, int y1, int width)
{
    SDL_RenderDrawLine(c->r, x0, y0, x1, y1);
    for (int k = 1; k < width; k++) {
        SDL_RenderDrawLine(c->r, x0 + k, y0, x1 + k, y1);
        SDL_RenderDrawLine(c->r, x0, y0 + k, x1, y1 + k);
    }
}

void viz_chart_note(const viz_canvas_t *c, const SDL_Rect *area, const char *text)
{
    viz_chart_text(c, c->normal, area->x + area->w / 2,
                   area->y + area->h / 2 - viz_chart_line_height(c->normal) / 2, VIZ_ALIGN_CENTRE,
                   viz_chart_role(c, VIZ_COLOUR_SEPARATOR), text);
}

/* ---- axes ----------------------------------------------------------- */

static int s_pixel(double v)
{
    return (int)lround(fmin(fmax(v, -30000.0), 30000.0));
}

int viz_axes_px(const viz_axes_t *a, double x)
{
    return s_pixel(a->area.x + (x - a->x0) / (a->x1 - a->x0) * (a->area.w - 1));
}

int viz_axes_py(const viz_axes_t *a, double y)
{
    return s_pixel(a->area.y + a->area.h - 1 - (y - a->y0) / (a->y1 - a->y0) * (a->area.h - 1));
}

/* 1, 2 or 5 times a power of ten near x (round) or at least x. */
static double s_nice(double x, bool round)
{
    if (!(x > 0) || !isfinite(x))
        return 1;
    double exponent = floor(log10(x)), f = x / pow(10, exponent), n;
    if (round)
        n = f < 1.5 ? 1 : (f < 3 ? 2 : (f < 7 ? 5 : 10));
    else
        n = f <= 1 ? 1 : (f <= 2 ? 2 : (f <= 5 ? 5 : 10));
    return n * pow(10, exponent);
}

double viz_chart_tick_step(double lo, double hi, int max_ticks)
{
    int intervals = max_ticks - 1 > 1 ? max_ticks - 1 : 1;
    return s_nice(s_nice(hi - lo, false) / intervals, true);
}

double viz_chart_top(double hi, int area_h)
{
    if (!(hi > 1e-12) || !isfinite(hi))
        hi = 1;
    double step = viz_chart_tick_step(0, hi, area_h / 40 + 1);
    return ceil(hi / step - 1e-9) * step + step / 2;
}

static void s_format(double v, double step, char *buf, size_t size)
{
    if (fabs(v) < step * 1e-6)
        v = 0;
    if (fabs(v) >= 1e6 && step >= 1e5) {
        snprintf(buf, size, "%gM", v / 1e6);
    } else if (fabs(v) >= 1e4 && step >= 1e3) {
        snprintf(buf, size, "%gk", v / 1e3);
    } else {
        int decimals = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
        snprintf(buf, size, "%.*f", decimals < 6 ? decimals : 6, v);
    }
}

void viz_chart_axes(const viz_canvas_t *c, const viz_axes_t *a, const char *x_label, bool x_integer)
{
    const SDL_Rect *area = &a->area;
    SDL_Color text = viz_chart_role(c, VIZ_COLOUR_TEXT);
    int small = viz_chart_line_height(c->small), tick = small / 3 + 1;
    char label[32];
    double step = viz_chart_tick_step(a->y0, a->y1, area->h / (small * 3) + 1);
    double k0 = ceil(a->y0 / step - 1e-9), k1 = floor(a->y1 / step + 1e-9);
    for (double k = k0; k <= k1 && k - k0 < S_MAX_TICKS; k++) {
        int y = viz_axes_py(a, k * step);
        s_colour(c, viz_chart_role(c, VIZ_COLOUR_GRID));
        SDL_RenderDrawLine(c->r, area->x, y, area->x + area->w - 1, y);
        s_colour(c, viz_chart_role(c, VIZ_COLOUR_AXIS));
        SDL_RenderDrawLine(c->r, area->x - tick, y, area->x - 1, y);
        s_format(k * step, step, label, sizeof label);
        viz_chart_text(c, c->small, area->x - tick - 2, y - small / 2, VIZ_ALIGN_RIGHT, text,
                       label);
    }
    step = viz_chart_tick_step(a->x0, a->x1, area->w / (small * 6) + 1);
    if (x_integer && step < 1)
        step = 1;
    k0 = ceil(a->x0 / step - 1e-9);
    k1 = floor(a->x1 / step + 1e-9);
    int bottom = area->y + area->h;
    for (double k = k0; k <= k1 && k - k0 < S_MAX_TICKS; k++) {
        int x = viz_axes_px(a, k * step);
        s_colour(c, viz_chart_role(c, VIZ_COLOUR_GRID));
        SDL_RenderDrawLine(c->r, x, area->y, x, bottom - 1);
        s_colour(c, viz_chart_role(c, VIZ_COLOUR_AXIS));
        SDL_RenderDrawLine(c->r, x, bottom, x, bottom + tick);
        s_format(k * step, step, label, sizeof label);
        viz_chart_text(c, c->small, x, bottom + tick + 1, VIZ_ALIGN_CENTRE, text, label);
    }
    s_colour(c, viz_chart_role(c, VIZ_COLOUR_AXIS));
    SDL_RenderDrawLine(c->r, area->x - 1, area->y, area->x - 1, bottom);
    SDL_RenderDrawLine(c->r, area->x - 1, bottom, area->x + area->w - 1, bottom);
    viz_chart_text(c, c->small, area->x + area->w / 2, bottom + tick + 1 + small, VIZ_ALIGN_CENTRE,
                   text, x_label);
}

/* ---- series --------------------------------------------------------- */

static bool s_series_at(const viz_series_t *s, size_t i, double *x, double *y)
{
    if (!s->x) {
        *x = (double)i * s->x_step;
    } else if (s->x_u32) {
        uint32_t v;
        memcpy(&v, s->x + i * s->x_stride, sizeof v);
        *x = v;
    } else {
        memcpy(x, s->x + i * s->x_stride, sizeof *x);
    }
    const char *p = s->y + i * s->y_stride;
    if (s->y_double) {
        memcpy(y, p, sizeof *y);
    } else {
        float v;
        memcpy(&v, p, sizeof v);
        *y = v;
    }
    return isfinite(*x) && isfinite(*y);
}

static bool s_new_group(const viz_series_t *s, size_t i)
{
    if (!s->group || i == 0)
        return false;
    uint32_t a, b;
    memcpy(&a, s->group + (i - 1) * s->group_stride, sizeof a);
    memcpy(&b, s->group + i * s->group_stride, sizeof b);
    return a != b;
}

/* Is pixel column x in one of the stroke's dashes? */
static bool s_dash_on(const viz_canvas_t *c, const viz_stroke_t *k, int x)
{
    if (k->dash_count < 2 || c->dash < 1)
        return true;
    int slot = (x + 30000) / c->dash; /* columns may be left of 0 */
    return slot % k->dash_count == k->dash_index;
}

/* A segment of the curve, in dashes if the stroke has them: the pieces
 * over the columns that are on. */
static void s_segment(const viz_canvas_t *c, const viz_stroke_t *k, int x0, int y0, int x1, int y1)
{
    if (k->dash_count < 2 || x0 == x1) {
        if (s_dash_on(c, k, x0))
            viz_chart_line(c, x0, y0, x1, y1, k->width);
        return;
    }
    if (x1 < x0) {
        int t = x0;
        x0 = x1;
        x1 = t;
        t = y0;
        y0 = y1;
        y1 = t;
    }
    for (int x = x0; x <= x1;) {
        int end = ((x + 30000) / c->dash + 1) * c->dash - 30000 - 1; /* this slot's last column */
        if (end > x1)
            end = x1;
        if (s_dash_on(c, k, x)) {
            int ya = (int)lround(y0 + (double)(y1 - y0) * (x - x0) / (x1 - x0));
            int yb = (int)lround(y0 + (double)(y1 - y0) * (end - x0) / (x1 - x0));
            viz_chart_line(c, x, ya, end, yb, k->width);
        }
        x = end + 1;
    }
}

/* Points that fall on one pixel column are drawn as one vertical line
 * from their least to their greatest value, so the cost follows the
 * width, not the number of points; a lone point is a dot. */
void viz_chart_series(const viz_canvas_t *c, const viz_axes_t *a, const viz_series_t *s,
                      const viz_stroke_t *k)
{
    s_colour(c, k->colour);
    SDL_RenderSetClipRect(c->r, &a->area);
    bool open = false;
    int col_x = 0, col_lo = 0, col_hi = 0, col_last = 0;
    for (size_t i = 0; i < s->n; i++) {
        double x, y;
        bool new_group = s_new_group(s, i);
        if (new_group && open)
            s_segment(c, k, col_x, col_lo, col_x, col_hi);
        open = open && !new_group;
        if (!s_series_at(s, i, &x, &y)) {
            if (open)
                s_segment(c, k, col_x, col_lo, col_x, col_hi);
            open = false;
            continue;
        }
        int px = viz_axes_px(a, x), py = viz_axes_py(a, y);
        if (k->markers) {
            int side = c->marker, half = side / 2;
            SDL_Rect dot = {px - half, py - half, side, side};
            SDL_RenderFillRect(c->r, &dot);
        }
        if (open && px == col_x) {
            col_lo = py < col_lo ? py : col_lo;
            col_hi = py > col_hi ? py : col_hi;
            col_last = py;
            continue;
        }
        if (open) {
            s_segment(c, k, col_x, col_lo, col_x, col_hi);
            s_segment(c, k, col_x, col_last, px, py);
        }
        open = true;
        col_x = px;
        col_lo = col_hi = col_last = py;
    }
    if (open)
        s_segment(c, k, col_x, col_lo, col_x, col_hi);
    SDL_RenderSetClipRect(c->r, NULL);
}

bool viz_chart_series_end(const viz_axes_t *a, const viz_series_t *s, int *px, int *py)
{
    for (size_t i = s->n; i-- > 0;) {
        double x, y;
        if (s_series_at(s, i, &x, &y)) {
            *px = viz_axes_px(a, x);
            *py = viz_axes_py(a, y);
            return true;
        }
    }
    return false;
}

/* Do series i and j coincide on screen? */
static bool s_coincide(const viz_axes_t *a, const viz_series_t *si, const viz_series_t *sj,
                       int tolerance)
{
    size_t n = si->n < sj->n ? si->n : sj->n, shared = 0;
    for (size_t p = 0; p < n; p++) {
        double xi, yi, xj, yj;
        if (!s_series_at(si, p, &xi, &yi) || !s_series_at(sj, p, &xj, &yj))
            continue;
        if (abs(viz_axes_py(a, yi) - viz_axes_py(a, yj)) > tolerance)
            return false;
        shared++;
    }
    return shared > 0;
}

void viz_chart_coincide(const viz_axes_t *a, const viz_series_t *s, int n, int tolerance,
                        int *count, int *index)
{
    int leader[PROTO_MAX_AGENTS + 2];
    for (int i = 0; i < n; i++) {
        leader[i] = i;
        for (int j = 0; j < i && leader[i] == i; j++)
            if (leader[j] == j && s_coincide(a, &s[i], &s[j], tolerance))
                leader[i] = j;
    }
    for (int i = 0; i < n; i++) {
        count[i] = index[i] = 0;
        for (int j = 0; j < n; j++) {
            count[i] += leader[j] == leader[i];
            index[i] += leader[j] == leader[i] && j < i;
        }
    }
}

static int s_label_compare(const void *pa, const void *pb)
{
    const viz_label_t *a = pa, *b = pb;
    return (a->y > b->y) - (a->y < b->y);
}

void viz_chart_end_labels(const viz_canvas_t *c, viz_label_t *labels, int n, int top, int bottom,
                          int right)
{
    if (n <= 0)
        return;
    int h = viz_chart_line_height(c->small), y[PROTO_MAX_AGENTS + 2];
    qsort(labels, (size_t)n, sizeof *labels, s_label_compare);
    /* each label centred on its line's end, then pushed down past the one
     * above, then the stack pushed up from the bottom */
    for (int i = 0; i < n; i++) {
        y[i] = labels[i].y - h / 2;
        if (i > 0 && y[i] < y[i - 1] + h)
            y[i] = y[i - 1] + h;
    }
    for (int i = n - 1; i >= 0; i--) {
        int limit = i == n - 1 ? bottom - h : y[i + 1] - h;
        if (y[i] > limit)
            y[i] = limit;
        if (y[i] < top)
            y[i] = top;
    }
    SDL_Rect clip = {0, top, right, bottom - top};
    SDL_RenderSetClipRect(c->r, &clip);
    for (int i = 0; i < n; i++) {
        int x = labels[i].x + c->thick + 3;
        viz_chart_text(c, c->small, x, y[i], VIZ_ALIGN_LEFT, labels[i].colour, labels[i].text);
    }
    SDL_RenderSetClipRect(c->r, NULL);
}
