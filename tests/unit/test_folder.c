/* Recursive folder removal (sim/folder.h): a tree of folders and files
 * goes; links inside it are removed, never followed, so what they point
 * at outside survives. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/err.h"
#include "sim/folder.h"

static void s_write(const char *path)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("x\n", f);
    assert_int_equal(fclose(f), 0);
}

static bool s_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

static void test_removes_a_tree_and_never_follows_links(void **state)
{
    (void)state;
    char root[] = "/tmp/recarena-test-folder-XXXXXX";
    assert_non_null(mkdtemp(root));
    char tree[256], outside[256], path[320];
    snprintf(tree, sizeof tree, "%s/tree", root);
    snprintf(outside, sizeof outside, "%s/outside", root);
    assert_int_equal(mkdir(tree, 0700), 0);
    assert_int_equal(mkdir(outside, 0700), 0);
    snprintf(path, sizeof path, "%s/keep.txt", outside);
    s_write(path);
    /* tree/a.txt, tree/sub/b.txt, tree/sub/deeper/c.txt, an empty folder,
     * a link to the outside folder and one to the outside file */
    snprintf(path, sizeof path, "%s/a.txt", tree);
    s_write(path);
    snprintf(path, sizeof path, "%s/sub", tree);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(path, sizeof path, "%s/sub/b.txt", tree);
    s_write(path);
    snprintf(path, sizeof path, "%s/sub/deeper", tree);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(path, sizeof path, "%s/sub/deeper/c.txt", tree);
    s_write(path);
    snprintf(path, sizeof path, "%s/empty", tree);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(path, sizeof path, "%s/sub/to-outside", tree);
    assert_int_equal(symlink(outside, path), 0);
    snprintf(path, sizeof path, "%s/to-keep", tree);
    char target[320];
    snprintf(target, sizeof target, "%s/keep.txt", outside);
    assert_int_equal(symlink(target, path), 0);

    assert_int_equal(folder_remove(tree), 0);
    assert_false(s_exists(tree));
    assert_true(s_exists(target)); /* what the links pointed at is still there */
    assert_true(s_exists(outside));

    /* a link given as the path itself: the link goes, its folder stays */
    char link[320];
    snprintf(link, sizeof link, "%s/link", root);
    assert_int_equal(symlink(outside, link), 0);
    assert_int_equal(folder_remove(link), 0);
    assert_false(s_exists(link));
    assert_true(s_exists(target));

    /* nothing there is not an error */
    assert_int_equal(folder_remove(link), 0);

    assert_int_equal(folder_remove(root), 0);
    assert_false(s_exists(root));
}

static void test_a_tree_too_deep_is_an_error_and_left_in_place(void **state)
{
    (void)state;
    char root[] = "/tmp/recarena-test-folder-XXXXXX";
    assert_non_null(mkdtemp(root));
    /* root/d/d/.../d with FOLDER_MAX_DEPTH folders below root: the deepest
     * is one level too deep to enter */
    char path[512];
    snprintf(path, sizeof path, "%s", root);
    for (int i = 0; i < FOLDER_MAX_DEPTH; i++) {
        strcat(path, "/d");
        assert_int_equal(mkdir(path, 0700), 0);
    }
    assert_int_equal(folder_remove(root), ERR_EIO);
    assert_true(s_exists(path));
    /* removing from below the limit works */
    char half[512];
    snprintf(half, sizeof half, "%s/d/d", root);
    assert_int_equal(folder_remove(half), 0);
    assert_int_equal(folder_remove(root), 0);
    assert_false(s_exists(root));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_removes_a_tree_and_never_follows_links),
        cmocka_unit_test(test_a_tree_too_deep_is_an_error_and_left_in_place),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
