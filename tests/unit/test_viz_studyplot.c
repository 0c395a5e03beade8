/* Study plots (viz/studyplot.h): the CSV read back (series in order,
 * points, labels; a bad header or a mean outside its interval refused
 * naming the line), and the picture checked pixel by pixel: each series'
 * error bars in its colour exactly from the low to the high value's row at
 * the point's column, no bar where low = high, and the means' markers at
 * their rows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "viz/chart.h"
#include "viz/model.h"
#include "viz/studyplot.h"

static SDL_Color s_at(const SDL_Surface *s, int x, int y)
{
    uint32_t p = ((const uint32_t *)((const uint8_t *)s->pixels + y * s->pitch))[x];
    SDL_Color c;
    SDL_GetRGB(p, s->format, &c.r, &c.g, &c.b);
    return c;
}

static bool s_same(SDL_Color a, SDL_Color b)
{
    return a.r == b.r && a.g == b.g && a.b == b.b;
}

/* Pixels of colour c in column x, rows [y0, y1]. */
static int s_column(const SDL_Surface *s, int x, int y0, int y1, SDL_Color c)
{
    int n = 0;
    for (int y = y0; y <= y1; y++)
        n += s_same(s_at(s, x, y), c);
    return n;
}

static void s_write(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_read(void **state)
{
    (void)state;
    char path[] = "/tmp/test_studyplot_XXXXXX", err[512];
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    viz_studyplot_t *p = malloc(sizeof *p);
    s_write(path, "series,x,label,mean,low,high\na,0,zero,10,8,12\nb,0,zero,5,5,5\na,1,one,20,"
                  "15,25\n");
    assert_int_equal(viz_studyplot_read(p, path, err, sizeof err), 0);
    assert_int_equal(p->n_series, 2);
    assert_string_equal(p->series[0].name, "a");
    assert_int_equal(p->series[0].n, 2);
    assert_float_equal(p->series[0].high[1], 25, 0);
    assert_int_equal(p->n_labels, 2);
    assert_string_equal(p->label[1], "one");
    s_write(path, "x,y\n");
    assert_int_equal(viz_studyplot_read(p, path, err, sizeof err), ERR_EFORMAT);
    assert_non_null(strstr(err, ":1:"));
    s_write(path, "series,x,label,mean,low,high\na,0,0,10,8,12\na,1,1,30,8,12\n");
    assert_int_equal(viz_studyplot_read(p, path, err, sizeof err), ERR_EFORMAT);
    assert_non_null(strstr(err, ":3:"));
    s_write(path, "series,x,label,mean,low,high\na,0,0,ten,8,12\n");
    assert_int_equal(viz_studyplot_read(p, path, err, sizeof err), ERR_EFORMAT);
    s_write(path, "series,x,label,mean,low,high\n");
    assert_int_equal(viz_studyplot_read(p, path, err, sizeof err), ERR_EFORMAT);
    assert_non_null(strstr(err, "no points"));
    unlink(path);
    assert_int_equal(viz_studyplot_read(p, path, err, sizeof err), ERR_EIO);
    free(p);
}

static void test_draw(void **state)
{
    (void)state;
    char err[512];
    viz_draw_t *d = viz_draw_new(NULL, err, sizeof err);
    if (!d) {
        fprintf(stderr, "viz_draw_new: %s\n", err);
        fail();
    }
    viz_studyplot_t *p = calloc(1, sizeof *p);
    p->n_series = 2;
    const double x[3] = {0, 0.5, 1};
    const double mean[2][3] = {{100, 120, 130}, {50, 60, 70}};
    const double half[2][3] = {{10, 8, 5}, {6, 0, 4}};
    for (int s = 0; s < 2; s++) {
        snprintf(p->series[s].name, sizeof p->series[s].name, "agent%d", s);
        p->series[s].n = 3;
        for (int i = 0; i < 3; i++) {
            p->series[s].x[i] = x[i];
            p->series[s].mean[i] = mean[s][i];
            p->series[s].low[i] = mean[s][i] - half[s][i];
            p->series[s].high[i] = mean[s][i] + half[s][i];
        }
    }
    snprintf(p->title, sizeof p->title, "test");
    SDL_Surface *surface = viz_studyplot_surface(d, p, 640, 400, err, sizeof err);
    assert_non_null(surface);
    assert_int_equal(surface->w, 640);
    viz_axes_t a;
    viz_studyplot_axes(d, p, 640, 400, &a);
    assert_true(a.y0 <= 44 && a.y1 >= 140); /* every bar inside */
    for (int s = 0; s < 2; s++) {
        SDL_Color colour = viz_agent_colour(VIZ_THEME_LIGHT, (uint32_t)s);
        for (int i = 0; i < 3; i++) {
            int px = viz_axes_px(&a, x[i]), top = viz_axes_py(&a, mean[s][i] + half[s][i]),
                bottom = viz_axes_py(&a, mean[s][i] - half[s][i]);
            if (half[s][i] > 0) {
                /* the bar: every row from high to low in the colour */
                assert_int_equal(s_column(surface, px, top, bottom, colour), bottom - top + 1);
                /* and not beyond its caps */
                assert_int_equal(s_column(surface, px, top - 6, top - 2, colour), 0);
                assert_int_equal(s_column(surface, px, bottom + 2, bottom + 6, colour), 0);
            } else {
                /* no bar: only the marker (a few pixels) around the mean */
                int y = viz_axes_py(&a, mean[s][i]);
                assert_true(s_column(surface, px, y - 3, y + 3, colour) > 0);
                assert_int_equal(s_column(surface, px, y - 30, y - 12, colour), 0);
            }
        }
    }
    SDL_FreeSurface(surface);
    free(p);
    viz_draw_destroy(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read),
        cmocka_unit_test(test_draw),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
