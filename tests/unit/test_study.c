/* sim/study.h without processes: --seeds and --grid parsing (ranges,
 * lists, duplicates and bad text refused), the cells' order, names and
 * overrides, and the aggregation of hand-made summary.json files into
 * runs.csv and study.json with hand-computed means, standard deviations
 * and 95% confidence intervals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "core/err.h"
#include "sim/study.h"

static void test_seeds(void **state)
{
    (void)state;
    char err[256];
    study_t *s = study_new();
    assert_non_null(s);
    assert_int_equal(study_add_seeds(s, "1-3,7", err, sizeof err), 0);
    assert_int_equal(study_seed_count(s), 4);
    assert_int_equal(study_seed(s, 0), 1);
    assert_int_equal(study_seed(s, 2), 3);
    assert_int_equal(study_seed(s, 3), 7);
    assert_int_not_equal(study_add_seeds(s, "2", err, sizeof err), 0); /* given twice */
    assert_non_null(strstr(err, "2"));
    assert_int_not_equal(study_add_seeds(s, "5-4", err, sizeof err), 0);
    assert_int_not_equal(study_add_seeds(s, "x", err, sizeof err), 0);
    assert_non_null(strstr(err, "x"));
    assert_int_not_equal(study_add_seeds(s, "", err, sizeof err), 0);
    assert_int_not_equal(study_add_seeds(s, "9,", err, sizeof err), 0);
    assert_int_equal(study_add_seeds(s, "18446744073709551615", err, sizeof err), 0);
    assert_int_not_equal(study_add_seeds(s, "18446744073709551616", err, sizeof err), 0);
    study_destroy(&s);
    assert_null(s);
}

static void test_grid(void **state)
{
    (void)state;
    char err[256], name[256];
    study_t *s = study_new();
    assert_int_equal(study_cell_count(s), 1);
    assert_true(study_cell_name(s, 0, name, sizeof name) > 0);
    assert_string_equal(name, "base");
    assert_int_equal(study_add_grid(s, "world.reward_sharing=0,0.5,1", err, sizeof err), 0);
    assert_int_equal(study_add_grid(s, "world.market_temperature=0,0.1", err, sizeof err), 0);
    assert_int_not_equal(study_add_grid(s, "world.reward_sharing=2", err, sizeof err), 0);
    assert_int_not_equal(study_add_grid(s, "world.slate_size=1,1", err, sizeof err), 0);
    assert_int_not_equal(study_add_grid(s, "world.slate_size=", err, sizeof err), 0);
    assert_int_not_equal(study_add_grid(s, "world.slate_size=1,,2", err, sizeof err), 0);
    assert_int_not_equal(study_add_grid(s, "run.seed=1,2", err, sizeof err), 0);
    assert_int_not_equal(study_add_grid(s, "noequals", err, sizeof err), 0);
    assert_int_equal(study_add_seeds(s, "1-2", err, sizeof err), 0);
    assert_int_equal(study_key_count(s), 2);
    assert_int_equal(study_cell_count(s), 6);
    assert_int_equal(study_run_count(s), 12);
    /* the first key varies slowest */
    assert_string_equal(study_cell_value(s, 0, 0), "0");
    assert_string_equal(study_cell_value(s, 1, 1), "0.1");
    assert_string_equal(study_cell_value(s, 2, 0), "0.5");
    assert_string_equal(study_cell_value(s, 5, 0), "1");
    assert_string_equal(study_cell_value(s, 5, 1), "0.1");
    study_cell_name(s, 3, name, sizeof name);
    assert_string_equal(name, "world.reward_sharing=0.5,world.market_temperature=0.1");
    /* run 7: cell 3, seed 2 */
    char dir[512];
    study_run_dir(s, "out", 7, dir, sizeof dir);
    assert_string_equal(dir, "out/world.reward_sharing=0.5,world.market_temperature=0.1/seed2");
    char texts[STUDY_MAX_SETS + STUDY_MAX_KEYS + 1][STUDY_OVERRIDE_MAX];
    const char *args[STUDY_MAX_SETS + STUDY_MAX_KEYS + 1];
    assert_int_equal(study_add_set(s, "run.ticks=5", err, sizeof err), 0);
    int n = study_run_overrides(s, 7, texts, args);
    assert_int_equal(n, 4);
    assert_string_equal(args[0], "run.ticks=5");
    assert_string_equal(args[1], "world.reward_sharing=0.5");
    assert_string_equal(args[2], "world.market_temperature=0.1");
    assert_string_equal(args[3], "run.seed=2");
    /* the manifest reads back into the same study */
    char *m = study_manifest(s);
    assert_non_null(m);
    study_t *back = study_from_manifest(m, err, sizeof err);
    assert_non_null(back);
    char *m2 = study_manifest(back);
    assert_string_equal(m, m2);
    free(m);
    free(m2);
    study_destroy(&back);
    assert_null(study_from_manifest("{\"scenario\": 1}", err, sizeof err));
    study_destroy(&s);
}

static void s_write(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* One cell per sharing value, three seeds; a.reward 1, 2, 6 in cell 0:
 * mean 3, sd sqrt((4 + 1 + 9) / 2) = sqrt(7), half width
 * t(0.975, 2) sqrt(7) / sqrt(3) = 4.303 * 1.527525 = 6.573. */
static void test_aggregate(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_study_XXXXXX", err[512], path[512];
    assert_non_null(mkdtemp(dir));
    study_t *s = study_new();
    assert_int_equal(study_add_grid(s, "world.reward_sharing=0,1", err, sizeof err), 0);
    assert_int_equal(study_add_seeds(s, "1-3", err, sizeof err), 0);
    assert_int_equal(study_set_scenario(s, "x.ini"), 0);
    const double reward[2][3] = {{1, 2, 6}, {4, 4, 4}};
    for (size_t i = 0; i < study_run_count(s); i++) {
        study_run_dir(s, dir, i, path, sizeof path);
        char cell[600];
        snprintf(cell, sizeof cell, "%.*s", (int)(strrchr(path, '/') - path), path);
        mkdir(cell, 0700);
        mkdir(path, 0700);
        if (i == 5)
            continue; /* cell 1, seed 3 not finished: left out */
        char text[512], file[600];
        snprintf(text, sizeof text,
                 "{\"seed\": %zu, \"per_episode\": {\"ctr\": %g, \"regret\": null, \"agents\": "
                 "[{\"name\": \"a\", \"reward\": %g}]}}",
                 i % 3 + 1, 0.5, reward[i / 3][i % 3]);
        snprintf(file, sizeof file, "%s/summary.json", path);
        s_write(file, text);
    }
    size_t n_runs = 0;
    assert_int_equal(study_aggregate(s, dir, NULL, &n_runs, err, sizeof err), 0);
    assert_int_equal(n_runs, 5);
    snprintf(path, sizeof path, "%s/study.json", dir);
    json_t *root = json_load_file(path, 0, NULL);
    assert_non_null(root);
    json_t *cells = json_object_get(root, "cells");
    assert_int_equal(json_array_size(cells), 2);
    json_t *r0 = json_object_get(
        json_object_get(json_object_get(json_array_get(cells, 0), "agents"), "a"), "reward");
    assert_int_equal(json_integer_value(json_object_get(r0, "n")), 3);
    assert_float_equal(json_real_value(json_object_get(r0, "mean")), 3.0, 1e-9);
    assert_float_equal(json_real_value(json_object_get(r0, "sd")), sqrt(7.0), 1e-7);
    assert_float_equal(json_real_value(json_object_get(r0, "ci95_half_width")),
                       4.303 * sqrt(7.0) / sqrt(3.0), 1e-6);
    assert_float_equal(json_real_value(json_object_get(r0, "ci95_low")),
                       3.0 - 4.303 * sqrt(7.0) / sqrt(3.0), 1e-6);
    json_t *r1 = json_object_get(
        json_object_get(json_object_get(json_array_get(cells, 1), "agents"), "a"), "reward");
    assert_int_equal(json_integer_value(json_object_get(r1, "n")), 2);
    assert_float_equal(json_real_value(json_object_get(r1, "mean")), 4.0, 1e-9);
    assert_float_equal(json_real_value(json_object_get(r1, "sd")), 0.0, 1e-12);
    assert_float_equal(json_real_value(json_object_get(r1, "ci95_half_width")), 0.0, 1e-12);
    /* regret is null: left out */
    assert_null(json_object_get(json_object_get(json_array_get(cells, 0), "system"), "regret"));
    json_decref(root);
    /* runs.csv: header and 5 rows */
    snprintf(path, sizeof path, "%s/runs.csv", dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[512];
    assert_non_null(fgets(line, sizeof line, f));
    assert_string_equal(line, "world.reward_sharing,seed,ctr,a.reward\n");
    int rows = 0;
    while (fgets(line, sizeof line, f))
        rows++;
    fclose(f);
    assert_int_equal(rows, 5);
    /* a summary that does not parse is an error naming it */
    study_run_dir(s, dir, 0, path, sizeof path);
    strcat(path, "/summary.json");
    s_write(path, "{not json");
    assert_int_equal(study_aggregate(s, dir, NULL, &n_runs, err, sizeof err), ERR_EIO);
    assert_non_null(strstr(err, "summary.json"));
    study_destroy(&s);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seeds),
        cmocka_unit_test(test_grid),
        cmocka_unit_test(test_aggregate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
