/* Study plots (studyplot.h). */
#include "viz/studyplot.h"

#include "core/parse.h"
#include "viz/model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Splits line at commas into at most n fields (in place); returns how many. */
static int s_split(char *line, char **fields, int n)
{
    int k = 0;
    char *p = line;
    while (k < n) {
        fields[k++] = p;
        char *comma = strchr(p, ',');
        if (!comma)
            break;
        *comma = '\0';
        p = comma + 1;
    }
    return k;
}

int viz_studyplot_read(viz_studyplot_t *p, const char *path, char *err, size_t err_len)
{
    memset(p, 0, sizeof *p);
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, err_len, "cannot read %s", path);
        return ERR_EIO;
    }
    char line[1024];
    int number = 0, rc = 0;
    while (fgets(line, sizeof line, f)) {
        number++;
        line[strcspn(line, "\r\n")] = '\0';
        if (number == 1) {
            if (strcmp(line, "series,x,label,mean,low,high") != 0) {
                snprintf(err, err_len, "%s:1: expected the header series,x,label,mean,low,high",
                         path);
                rc = ERR_EFORMAT;
                break;
            }
            continue;
        }
        if (!line[0])
            continue;
        char *fields[7];
        double x, mean, low, high;
        if (s_split(line, fields, 7) != 6 || !fields[0][0] ||
            parse_double(fields[1], -1e300, 1e300, &x) != 0 ||
            parse_double(fields[3], -1e300, 1e300, &mean) != 0 ||
            parse_double(fields[4], -1e300, 1e300, &low) != 0 ||
            parse_double(fields[5], -1e300, 1e300, &high) != 0 || low > mean || high < mean) {
            snprintf(err, err_len,
                     "%s:%d: expected SERIES,X,LABEL,MEAN,LOW,HIGH with numbers and "
                     "LOW <= MEAN <= HIGH",
                     path, number);
            rc = ERR_EFORMAT;
            break;
        }
        size_t s = 0;
        while (s < p->n_series && strcmp(p->series[s].name, fields[0]) != 0)
            s++;
        if (s == p->n_series) {
            if (s == VIZ_SP_MAX_SERIES) {
                snprintf(err, err_len, "%s:%d: more than %d series", path, number,
                         VIZ_SP_MAX_SERIES);
                rc = ERR_EFORMAT;
                break;
            }
            snprintf(p->series[s].name, sizeof p->series[s].name, "%s", fields[0]);
            p->n_series++;
        }
        viz_sp_series_t *sr = &p->series[s];
        size_t l = 0;
        while (l < p->n_labels && p->label_x[l] != x)
            l++;
        if (sr->n == VIZ_SP_MAX_POINTS || (l == p->n_labels && l == VIZ_SP_MAX_POINTS)) {
            snprintf(err, err_len, "%s:%d: more than %d points", path, number, VIZ_SP_MAX_POINTS);
            rc = ERR_EFORMAT;
            break;
        }
        if (l == p->n_labels) {
            p->label_x[l] = x;
            snprintf(p->label[l], sizeof p->label[l], "%s", fields[2]);
            p->n_labels++;
        }
        sr->x[sr->n] = x;
        sr->mean[sr->n] = mean;
        sr->low[sr->n] = low;
        sr->high[sr->n] = high;
        sr->n++;
    }
    fclose(f);
    if (rc == 0 && p->n_series == 0) {
        snprintf(err, err_len, "%s: no points", path);
        rc = ERR_EFORMAT;
    }
    return rc;
}

void viz_studyplot_axes(const viz_draw_t *d, const viz_studyplot_t *p, int width, int height,
                        viz_axes_t *out)
{
    double scale = viz_draw_scale(d);
    int margin = (int)(90 * scale), top = (int)(70 * scale), bottom = (int)(80 * scale),
        right = (int)(160 * scale);
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    for (size_t s = 0; s < p->n_series; s++) {
        for (size_t i = 0; i < p->series[s].n; i++) {
            x0 = fmin(x0, p->series[s].x[i]);
            x1 = fmax(x1, p->series[s].x[i]);
            y0 = fmin(y0, p->series[s].low[i]);
            y1 = fmax(y1, p->series[s].high[i]);
        }
    }
    if (!(x1 > x0)) { /* one x position, or none */
        x0 = isfinite(x0) ? x0 - 1 : 0;
        x1 = x0 + 2;
    }
    double pad = (x1 - x0) * 0.08;
    if (!isfinite(y0)) {
        y0 = 0;
        y1 = 1;
    }
    double span = y1 - y0 > 0 ? y1 - y0 : fmax(fabs(y1), 1.0);
    /* from 0 when the values are all of one sign and not far from it */
    double lo = y0 >= 0 && y0 < span * 2 ? 0 : y0 - span * 0.1, hi = y1 + span * 0.1;
    *out = (viz_axes_t){.area = {margin, top, width - margin - right, height - top - bottom},
                        .x0 = x0 - pad,
                        .x1 = x1 + pad,
                        .y0 = lo,
                        .y1 = hi};
    if (out->area.w < 8)
        out->area.w = 8;
    if (out->area.h < 8)
        out->area.h = 8;
}

int viz_studyplot_render(viz_draw_t *d, SDL_Renderer *r, const viz_studyplot_t *p)
{
    int width, height;
    if (SDL_GetRendererOutputSize(r, &width, &height) != 0)
        return ERR_EDISPLAY;
    viz_canvas_t c = viz_draw_canvas(d, r);
    viz_chart_fill(&c, (SDL_Rect){0, 0, width, height}, viz_chart_role(&c, VIZ_COLOUR_PANEL));
    viz_axes_t a;
    viz_studyplot_axes(d, p, width, height, &a);
    SDL_Color text = viz_chart_role(&c, VIZ_COLOUR_TEXT);
    int small = viz_chart_line_height(c.small);
    viz_chart_text(&c, c.large, a.area.x, small / 2, VIZ_ALIGN_LEFT, text, p->title);
    viz_chart_text(&c, c.normal, a.area.x, a.area.y - viz_chart_line_height(c.normal) - small / 2,
                   VIZ_ALIGN_LEFT, text, p->y_label);
    if (p->categorical) {
        /* the run names under their positions, the axes' own x labels
         * (0, 1, ...) covered */
        viz_chart_axes(&c, &a, "", true);
        int bottom = a.area.y + a.area.h;
        viz_chart_fill(&c, (SDL_Rect){a.area.x - 40, bottom + 2, a.area.w + 80, small * 2},
                       viz_chart_role(&c, VIZ_COLOUR_PANEL));
        for (size_t l = 0; l < p->n_labels; l++)
            viz_chart_text(&c, c.small, viz_axes_px(&a, p->label_x[l]), bottom + small / 2,
                           VIZ_ALIGN_CENTRE, text, p->label[l]);
        viz_chart_text(&c, c.small, a.area.x + a.area.w / 2, bottom + small * 2, VIZ_ALIGN_CENTRE,
                       text, p->x_label);
    } else {
        viz_chart_axes(&c, &a, p->x_label, false);
    }
    viz_label_t labels[VIZ_SP_MAX_SERIES];
    int n_labels = 0;
    for (size_t s = 0; s < p->n_series; s++) {
        const viz_sp_series_t *sr = &p->series[s];
        SDL_Color colour = viz_agent_colour(c.theme, (uint32_t)s);
        viz_series_t series = {.n = sr->n,
                               .x = (const char *)sr->x,
                               .x_stride = sizeof(double),
                               .y = (const char *)sr->mean,
                               .y_stride = sizeof(double),
                               .y_double = true};
        viz_stroke_t stroke = {.colour = colour, .width = c.thick, .markers = true};
        viz_chart_series(&c, &a, &series, &stroke);
        SDL_SetRenderDrawColor(r, colour.r, colour.g, colour.b, 255);
        for (size_t i = 0; i < sr->n; i++) {
            if (!(sr->high[i] > sr->low[i]))
                continue;
            /* the bar: low to high, with caps */
            int x = viz_axes_px(&a, sr->x[i]), y0 = viz_axes_py(&a, sr->low[i]),
                y1 = viz_axes_py(&a, sr->high[i]), cap = c.marker;
            viz_chart_line(&c, x, y1, x, y0, c.thin);
            viz_chart_line(&c, x - cap, y0, x + cap, y0, c.thin);
            viz_chart_line(&c, x - cap, y1, x + cap, y1, c.thin);
        }
        int px, py;
        if (viz_chart_series_end(&a, &series, &px, &py))
            labels[n_labels++] =
                (viz_label_t){.x = px + c.marker, .y = py, .text = sr->name, .colour = colour};
    }
    viz_chart_end_labels(&c, labels, n_labels, a.area.y, a.area.y + a.area.h, width - 2);
    viz_chart_text(&c, c.small, width - 4, height - small - 2, VIZ_ALIGN_RIGHT, text,
                   "points: mean over runs; bars: 95% confidence interval");
    return 0;
}

SDL_Surface *viz_studyplot_surface(viz_draw_t *d, const viz_studyplot_t *p, int width, int height,
                                   char *err, size_t err_len)
{
    SDL_Surface *s = SDL_CreateRGBSurfaceWithFormat(0, width, height, 32, SDL_PIXELFORMAT_RGB888);
    SDL_Renderer *r = s ? SDL_CreateSoftwareRenderer(s) : NULL;
    if (!r || viz_studyplot_render(d, r, p) != 0) {
        snprintf(err, err_len, "cannot draw offscreen: %s", SDL_GetError());
        if (r)
            SDL_DestroyRenderer(r);
        SDL_FreeSurface(s);
        return NULL;
    }
    SDL_DestroyRenderer(r);
    return s;
}
