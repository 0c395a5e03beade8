/* Catalogs from files against hand-computed cases: .npy headers (good
 * and malformed), a 4x3 PCA, a 2-cluster k-means, the CSV item table
 * with its errors, and a world built from a file catalog. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/err.h"
#include "core/pcg32.h"
#include "sim/catalog_file.h"
#include "sim/npy.h"
#include "sim/pca.h"
#include "sim/world.h"
#include "test_support.h"

static char s_dir[] = "/tmp/recarena-test-catalog-XXXXXX";

static const char *s_path(const char *name)
{
    static char path[4][256];
    static int next;
    char *p = path[next++ % 4];
    snprintf(p, 256, "%s/%s", s_dir, name);
    return p;
}

static void s_write(const char *name, const void *bytes, size_t n)
{
    FILE *f = fopen(s_path(name), "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, n, f), n);
    fclose(f);
}

/* A float32 .npy of (rows, cols) values. */
static void s_write_npy(const char *name, const float *v, int rows, int cols)
{
    char buf[NPY_HEADER_SIZE + 4096];
    size_t h = npy_format_header(buf, "<f4", rows, cols);
    memcpy(buf + h, v, (size_t)rows * (size_t)cols * sizeof *v);
    s_write(name, buf, h + (size_t)rows * (size_t)cols * sizeof *v);
}

static void test_npy_header_round_trip(void **state)
{
    (void)state;
    uint8_t buf[NPY_HEADER_SIZE + 24];
    size_t h = npy_format_header((char *)buf, "<f4", 2, 3);
    assert_int_equal(h % 64, 0);
    assert_int_equal(buf[h - 1], '\n');
    memset(buf + h, 0, 24);
    npy_header_t hd;
    char err[256];
    assert_int_equal(npy_parse_header(buf, h + 24, &hd, err, sizeof err), 0);
    assert_string_equal(hd.descr, "<f4");
    assert_int_equal(hd.ndim, 2);
    assert_int_equal(hd.shape[0], 2);
    assert_int_equal(hd.shape[1], 3);
    assert_int_equal(hd.data_offset, h);
    /* one byte of data short: the shape does not fit */
    assert_int_equal(npy_parse_header(buf, h + 23, &hd, err, sizeof err), ERR_EFORMAT);
    assert_non_null(strstr(err, "needs 24 bytes"));
}

static int s_parse(const char *dict, char *err)
{
    uint8_t buf[256];
    size_t n = strlen(dict);
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    buf[8] = (uint8_t)n;
    buf[9] = 0;
    memcpy(buf + 10, dict, n);
    memset(buf + 10 + n, 0, 64);
    npy_header_t hd;
    return npy_parse_header(buf, 10 + n + 64, &hd, err, 256);
}

static void test_npy_malformed_headers(void **state)
{
    (void)state;
    char err[256];
    assert_int_equal(s_parse("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", err),
                     0);
    assert_int_equal(s_parse("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", err),
                     ERR_EFORMAT);
    assert_non_null(strstr(err, "Fortran"));
    assert_int_equal(s_parse("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 4), }", err),
                     ERR_EFORMAT);
    assert_non_null(strstr(err, "more than 2 dimensions"));
    assert_int_equal(s_parse("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", err),
                     ERR_EFORMAT);
    assert_non_null(strstr(err, "little-endian"));
    assert_int_equal(s_parse("{'fortran_order': False, 'shape': (2,), }", err), ERR_EFORMAT);
    assert_non_null(strstr(err, "no 'descr'"));
    assert_int_equal(s_parse("{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }", err),
                     ERR_EFORMAT);
    uint8_t bad[16] = "\x93NUMPX\x01\x00\x00\x00";
    npy_header_t hd;
    assert_int_equal(npy_parse_header(bad, sizeof bad, &hd, err, sizeof err), ERR_EFORMAT);
    assert_non_null(strstr(err, "magic"));
    uint8_t v9[16] = "\x93NUMPY\x09\x00\x00\x00";
    assert_int_equal(npy_parse_header(v9, sizeof v9, &hd, err, sizeof err), ERR_EFORMAT);
    assert_non_null(strstr(err, "version 9.0"));
    uint8_t long_header[16] = "\x93NUMPY\x01\x00\xff\x00";
    assert_int_equal(npy_parse_header(long_header, sizeof long_header, &hd, err, sizeof err),
                     ERR_EFORMAT);
    assert_non_null(strstr(err, "runs past the end"));
}

/* Points along u = (3, 4, 0)/5 at +-5 and along v = (4, -3, 0)/5 at
 * +-2.5: mean 0, variances 2*25/3 and 2*6.25/3 along u and v, none
 * along z. Components: u, then v with its larger entry (0.8) positive. */
static void test_pca_4x3(void **state)
{
    (void)state;
    const float x[4 * 3] = {3, 4, 0, -3, -4, 0, 2, -1.5f, 0, -2, 1.5f, 0};
    float out[4 * 2], comp[2 * 3], var[2];
    assert_int_equal(pca_project(x, 4, 3, 2, out, comp, var), 0);
    const float want_comp[6] = {0.6f, 0.8f, 0, 0.8f, -0.6f, 0};
    for (int i = 0; i < 6; i++)
        ASSERT_NEAR(comp[i], want_comp[i], 1e-5);
    ASSERT_NEAR(var[0], 50.0 / 3.0, 1e-4);
    ASSERT_NEAR(var[1], 12.5 / 3.0, 1e-4);
    const float want_out[8] = {5, 0, -5, 0, 0, 2.5f, 0, -2.5f};
    for (int i = 0; i < 8; i++)
        ASSERT_NEAR(out[i], want_out[i], 1e-4);
    /* the mean is removed first: shifting every point changes nothing */
    float shifted[12];
    for (int i = 0; i < 12; i++)
        shifted[i] = x[i] + (float)(i % 3 + 1);
    float out2[8];
    assert_int_equal(pca_project(shifted, 4, 3, 2, out2, NULL, NULL), 0);
    for (int i = 0; i < 8; i++)
        ASSERT_NEAR(out2[i], want_out[i], 1e-4);
    assert_int_equal(pca_project(x, 4, 3, 4, out, NULL, NULL), ERR_EINVAL);
    assert_int_equal(pca_project(x, 1, 3, 2, out, NULL, NULL), ERR_EINVAL);
}

/* Two clusters: {(0,0), (0,1), (1,0)} and {(10,10), (10,11), (11,10)};
 * centres (1/3, 1/3) and (31/3, 31/3), for every seed. */
static void test_kmeans_two_clusters(void **state)
{
    (void)state;
    const float x[12] = {0, 0, 10, 10, 0, 1, 10, 11, 1, 0, 11, 10};
    for (uint64_t seed = 1; seed <= 20; seed++) {
        pcg32_t rng;
        pcg32_stream(&rng, seed, 11, 0);
        int32_t assign[6];
        float c[4];
        int rounds = pca_kmeans(x, 6, 2, 2, &rng, 100, assign, c);
        assert_true(rounds >= 1);
        assert_int_equal(assign[0], assign[2]);
        assert_int_equal(assign[0], assign[4]);
        assert_int_equal(assign[1], assign[3]);
        assert_int_equal(assign[1], assign[5]);
        assert_int_not_equal(assign[0], assign[1]);
        int a = assign[0], b = assign[1];
        ASSERT_NEAR(c[2 * a], 1.0 / 3.0, 1e-6);
        ASSERT_NEAR(c[2 * a + 1], 1.0 / 3.0, 1e-6);
        ASSERT_NEAR(c[2 * b], 31.0 / 3.0, 1e-5);
        ASSERT_NEAR(c[2 * b + 1], 31.0 / 3.0, 1e-5);
    }
}

static void s_config(world_config_t *cfg, int n_items)
{
    world_config_default(cfg);
    cfg->n_agents = 1;
    cfg->ticks = 5;
    cfg->n_items = n_items;
    cfg->n_topics = 2;
    cfg->dim = 2;
    cfg->slate_size = 2;
    cfg->n_users = 50;
}

static const char s_csv[] = "id,title,topic,quality,extra\n"
                            "a,\"Apples, red\",fruit,0.5,x\n"
                            "b,\"Say \"\"hi\"\"\nand bye\",greeting,,y\n"
                            "c,Cherries,fruit,-1.25,z\n";

static void test_catalog_csv_and_npy(void **state)
{
    (void)state;
    s_write("items.csv", s_csv, strlen(s_csv));
    /* 3 items in 3 dimensions, reduced to 2 by PCA */
    const float emb[9] = {1, 0, 0, 0, 1, 0, 1, 0.1f, 0};
    s_write_npy("emb.npy", emb, 3, 3);
    world_config_t cfg;
    s_config(&cfg, 3);
    snprintf(cfg.catalog, sizeof cfg.catalog, "%s", s_path("items.csv"));
    snprintf(cfg.item_embeddings, sizeof cfg.item_embeddings, "%s", s_path("emb.npy"));
    catalog_file_t *c = NULL;
    char err[1024] = "";
    assert_int_equal(catalog_file_load(&c, &cfg, 1, err, sizeof err), 0);
    assert_true(catalog_file_has_titles(c));
    assert_string_equal(catalog_file_title(c, 0), "Apples, red");
    assert_string_equal(catalog_file_title(c, 1), "Say \"hi\"\nand bye");
    assert_string_equal(catalog_file_id(c, 2), "c");
    const world_catalog_t *w = catalog_file_world(c);
    assert_int_equal(w->n_items, 3);
    /* topics in alphabetical order: fruit 0, greeting 1 */
    assert_int_equal(w->topic[0], 0);
    assert_int_equal(w->topic[1], 1);
    assert_int_equal(w->topic[2], 0);
    assert_string_equal(catalog_file_topic_name(c, 1), "greeting");
    ASSERT_NEAR(w->quality[0], 0.5, 0);
    assert_true(isnan(w->quality[1]));
    ASSERT_NEAR(w->quality[2], -1.25, 0);
    assert_int_equal(catalog_file_input_dim(c), 3);
    for (int i = 0; i < 3; i++)
        ASSERT_NEAR(hypot(w->embedding[2 * i], w->embedding[2 * i + 1]), 1.0, 1e-6);

    world_t *world = world_new_catalog(&cfg, 1, w);
    assert_non_null(world);
    assert_int_equal(world_item(world, 1)->topic, 1);
    ASSERT_NEAR(world_item(world, 2)->quality, -1.25, 0);
    ASSERT_NEAR(world_item_embedding(world, 0)[0], w->embedding[0], 0);
    world_destroy(&world);
    catalog_file_destroy(&c);
    assert_null(c);
}

static void s_expect_error(world_config_t *cfg, int code, const char *needle)
{
    catalog_file_t *c = NULL;
    char err[1024] = "";
    assert_int_equal(catalog_file_load(&c, cfg, 1, err, sizeof err), code);
    assert_null(c);
    if (!strstr(err, needle))
        fail_msg("error '%s' lacks '%s'", err, needle);
}

static void test_catalog_errors(void **state)
{
    (void)state;
    world_config_t cfg;
    s_config(&cfg, 3);
    const char dup[] = "id,topic\na,x\nb,y\na,x\n";
    s_write("dup.csv", dup, strlen(dup));
    snprintf(cfg.catalog, sizeof cfg.catalog, "%s", s_path("dup.csv"));
    s_expect_error(&cfg, ERR_EFORMAT, "dup.csv:4: id 'a' appears twice");

    const char short_row[] = "id,topic\na,x\nb\n";
    s_write("short.csv", short_row, strlen(short_row));
    snprintf(cfg.catalog, sizeof cfg.catalog, "%s", s_path("short.csv"));
    s_expect_error(&cfg, ERR_EFORMAT, "short.csv:3: 1 fields, the header has 2");

    const char badq[] = "id,topic,quality\na,x,1\nb,y,nan\nc,x,0\n";
    s_write("badq.csv", badq, strlen(badq));
    snprintf(cfg.catalog, sizeof cfg.catalog, "%s", s_path("badq.csv"));
    s_expect_error(&cfg, ERR_EFORMAT, "badq.csv:3: quality 'nan'");

    const char quote[] = "id,title,topic\na,\"never closed,x\n";
    s_write("quote.csv", quote, strlen(quote));
    snprintf(cfg.catalog, sizeof cfg.catalog, "%s", s_path("quote.csv"));
    s_expect_error(&cfg, ERR_EFORMAT, "quote.csv:2: quoted field never closed");

    s_write("items.csv", s_csv, strlen(s_csv));
    snprintf(cfg.catalog, sizeof cfg.catalog, "%s", s_path("items.csv"));
    cfg.n_items = 4;
    s_expect_error(&cfg, ERR_ESHAPE, "3 items, fewer than world.n_items = 4");
    cfg.n_items = 3;
    cfg.n_topics = 1;
    s_expect_error(&cfg, ERR_ESHAPE, "2 distinct topics in its first 3 rows, world.n_topics is 1");
    cfg.n_topics = 2;

    const float nan_emb[6] = {1, 0, 0, 1, 1, NAN};
    s_write_npy("nan.npy", nan_emb, 3, 2);
    snprintf(cfg.item_embeddings, sizeof cfg.item_embeddings, "%s", s_path("nan.npy"));
    s_expect_error(&cfg, ERR_EFORMAT, "world.item_embeddings: ");
    s_expect_error(&cfg, ERR_EFORMAT, "nan.npy: row 2, column 1: NaN");

    const float two[4] = {1, 0, 0, 1};
    s_write_npy("two.npy", two, 2, 2);
    snprintf(cfg.item_embeddings, sizeof cfg.item_embeddings, "%s", s_path("two.npy"));
    s_expect_error(&cfg, ERR_ESHAPE, "two.npy: 2 rows, fewer than");

    const float one_col[3] = {1, 2, 3};
    s_write_npy("narrow.npy", one_col, 3, 1);
    snprintf(cfg.item_embeddings, sizeof cfg.item_embeddings, "%s", s_path("narrow.npy"));
    s_expect_error(&cfg, ERR_ESHAPE, "1 columns, fewer than world.dim = 2");

    const char ids[] = "id,x,y\na,1,0\nzz,0,1\nc,1,1\n";
    s_write("emb.csv", ids, strlen(ids));
    snprintf(cfg.item_embeddings, sizeof cfg.item_embeddings, "%s", s_path("emb.csv"));
    s_expect_error(&cfg, ERR_EFORMAT, "emb.csv:3: id 'zz' where the catalog's item 1 has id 'b'");

    const char zero[] = "a,1,0\nb,0,0\nc,1,1\n";
    s_write("zero.csv", zero, strlen(zero));
    snprintf(cfg.item_embeddings, sizeof cfg.item_embeddings, "%s", s_path("zero.csv"));
    s_expect_error(&cfg, ERR_EFORMAT, "zero.csv: row 1: the vector");

    char garbage[64] = "\x93NUMPY\x01\x00\x76\x00{'descr': '<f4'";
    s_write("garbage.npy", garbage, sizeof garbage);
    snprintf(cfg.item_embeddings, sizeof cfg.item_embeddings, "%s", s_path("garbage.npy"));
    s_expect_error(&cfg, ERR_EFORMAT, "garbage.npy: header of");

    snprintf(cfg.item_embeddings, sizeof cfg.item_embeddings, "%s", s_path("missing.npy"));
    s_expect_error(&cfg, ERR_EIO, "missing.npy: cannot open");

    const char no_topic[] = "id,title\na,A\nb,B\nc,C\n";
    s_write("notopic.csv", no_topic, strlen(no_topic));
    snprintf(cfg.catalog, sizeof cfg.catalog, "%s", s_path("notopic.csv"));
    cfg.item_embeddings[0] = '\0';
    s_expect_error(&cfg, ERR_EFORMAT, "no 'topic' column");
}

/* Embeddings alone: topics by k-means, the same for the same seed. */
static void test_catalog_kmeans_topics(void **state)
{
    (void)state;
    world_config_t cfg;
    s_config(&cfg, 6);
    const float emb[12] = {1, 0.1f, 0.1f, 1, 1, 0, 0, 1, 0.9f, 0.1f, 0.1f, 0.9f};
    s_write_npy("six.npy", emb, 6, 2);
    snprintf(cfg.item_embeddings, sizeof cfg.item_embeddings, "%s", s_path("six.npy"));
    catalog_file_t *c = NULL;
    char err[512];
    assert_int_equal(catalog_file_load(&c, &cfg, 3, err, sizeof err), 0);
    const int32_t *t = catalog_file_world(c)->topic;
    assert_int_equal(t[0], t[2]);
    assert_int_equal(t[0], t[4]);
    assert_int_equal(t[1], t[3]);
    assert_int_equal(t[1], t[5]);
    assert_int_not_equal(t[0], t[1]);
    assert_false(catalog_file_has_titles(c));
    assert_null(catalog_file_topic_name(c, 0));
    world_t *w = world_new_catalog(&cfg, 3, catalog_file_world(c));
    assert_non_null(w);
    /* topic centres are the items' mean directions: users' interests lie
     * near one of the two directions (1, 0.07) or (0.07, 1) normalised */
    for (int u = 0; u < cfg.n_users; u++) {
        const float *i = world_user_interest(w, u);
        ASSERT_NEAR(hypot(i[0], i[1]), 1.0, 1e-5);
    }
    world_destroy(&w);
    catalog_file_destroy(&c);
}

static int s_setup(void **state)
{
    (void)state;
    return mkdtemp(s_dir) ? 0 : -1;
}

static int s_teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s_dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_npy_header_round_trip),
        cmocka_unit_test(test_npy_malformed_headers),
        cmocka_unit_test(test_pca_4x3),
        cmocka_unit_test(test_kmeans_two_clusters),
        cmocka_unit_test(test_catalog_csv_and_npy),
        cmocka_unit_test(test_catalog_errors),
        cmocka_unit_test(test_catalog_kmeans_topics),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
