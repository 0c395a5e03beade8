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
#include <sys/wait.h>
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

/* The marker line of a private directory for pid. */
static void s_mark(const char *dir, long pid)
{
    char path[256];
    snprintf(path, sizeof path, "%s/" FOLDER_PRIVATE_MARKER, dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "recarena private directory, pid %ld\n", pid);
    fclose(f);
}

static bool s_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void test_private_directories_and_the_stale_sweep(void **state)
{
    (void)state;
    char prefix[64], mine[96], dead[96], live[96], bare[96], other[96];
    snprintf(prefix, sizeof prefix, "recarena-unit%ld", (long)getpid());
    /* a new one: mode 0700 and our pid in its marker */
    assert_int_equal(folder_private_new(prefix, mine, sizeof mine), 0);
    struct stat st;
    assert_int_equal(stat(mine, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    char path[160], line[96] = "";
    snprintf(path, sizeof path, "%s/" FOLDER_PRIVATE_MARKER, mine);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(line, sizeof line, f));
    fclose(f);
    char want[96];
    snprintf(want, sizeof want, "recarena private directory, pid %ld\n", (long)getpid());
    assert_string_equal(line, want);
    /* a dead pid's (a child that has exited and been reaped), a live
     * pid's (ours), an unmarked one, and another prefix's */
    pid_t child = fork();
    if (child == 0)
        _exit(0);
    assert_true(child > 0);
    waitpid(child, NULL, 0);
    snprintf(dead, sizeof dead, "/tmp/%s-dead", prefix);
    snprintf(live, sizeof live, "/tmp/%s-live", prefix);
    snprintf(bare, sizeof bare, "/tmp/%s-bare", prefix);
    snprintf(other, sizeof other, "/tmp/%sx-dead", prefix);
    assert_int_equal(mkdir(dead, 0700), 0);
    assert_int_equal(mkdir(live, 0700), 0);
    assert_int_equal(mkdir(bare, 0700), 0);
    assert_int_equal(mkdir(other, 0700), 0);
    s_mark(dead, child);
    s_mark(live, 1); /* init: alive */
    s_mark(other, child);
    assert_int_equal(folder_private_sweep(prefix), 1);
    assert_false(s_is_dir(dead));
    assert_true(s_is_dir(live));
    assert_true(s_is_dir(bare));
    assert_true(s_is_dir(other));
    assert_true(s_is_dir(mine)); /* our own pid: in use */
    const char *all[] = {mine, live, bare, other};
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(folder_remove(all[i]), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_removes_a_tree_and_never_follows_links),
        cmocka_unit_test(test_a_tree_too_deep_is_an_error_and_left_in_place),
        cmocka_unit_test(test_private_directories_and_the_stale_sweep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
