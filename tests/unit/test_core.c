/* The core's error table and number parser (core/err.h, core/parse.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <string.h>

#include <cmocka.h>

#include "core/err.h"
#include "core/parse.h"
#include "core/stats.h"
#include "core/text.h"
#include "proto/protocol.h"

static void test_err_table(void **state)
{
    (void)state;
    assert_string_equal(err_str(0), "success");
    assert_string_equal(err_str(ERR_ENOMEM), "out of memory");
    assert_string_equal(err_str(ERR_EIO), "input/output error");
    assert_string_equal(err_str(-99999), "unknown error");
    assert_string_equal(err_name(ERR_ERANGE), "ERR_ERANGE");
    assert_null(err_name(-99999));
    /* the wire's codes keep the numbers protocol.h gives them */
    assert_int_equal(ERR_ENOMEM, PROTO_ENOMEM);
    assert_int_equal(ERR_EMALFORMED, PROTO_EMALFORMED);
    assert_int_equal(ERR_EFIELD, PROTO_EFIELD);
    assert_int_equal(ERR_EACTION, PROTO_EACTION);
    assert_int_equal(ERR_EFULL, PROTO_EFULL);
}

static void test_parse_int(void **state)
{
    (void)state;
    int64_t v = 7;
    assert_int_equal(parse_int64("-42", -100, 100, &v), 0);
    assert_int_equal(v, -42);
    assert_int_equal(parse_int64("101", -100, 100, &v), ERR_ERANGE);
    assert_int_equal(v, -42); /* unchanged on error */
    assert_int_equal(parse_int64("12x", 0, 100, &v), ERR_ESYNTAX);
    assert_int_equal(parse_int64("", 0, 100, &v), ERR_ESYNTAX);
    assert_int_equal(parse_int64(" 1", 0, 100, &v), ERR_ESYNTAX);
    assert_int_equal(parse_int64("99999999999999999999", INT64_MIN, INT64_MAX, &v), ERR_ERANGE);
    int i = 0;
    assert_int_equal(parse_int("2147483647", 0, 2147483647, &i), 0);
    assert_int_equal(i, 2147483647);
    uint64_t u = 0;
    assert_int_equal(parse_uint64("18446744073709551615", UINT64_MAX, &u), 0);
    assert_true(u == UINT64_MAX);
    assert_int_equal(parse_uint64("-1", UINT64_MAX, &u), ERR_ESYNTAX);
    assert_int_equal(parse_uint64("18446744073709551616", UINT64_MAX, &u), ERR_ERANGE);
    assert_int_equal(parse_uint64("11", 10, &u), ERR_ERANGE);
}

static void test_parse_double(void **state)
{
    (void)state;
    double d = 0;
    assert_int_equal(parse_double("0.25", 0, 1, &d), 0);
    assert_true(d == 0.25);
    assert_int_equal(parse_double("1e-400", -1, 1, &d), 0); /* underflow is accepted */
    assert_true(d == 0.0);
    assert_int_equal(parse_double("1.5", 0, 1, &d), ERR_ERANGE);
    assert_int_equal(parse_double("nan", -1e300, 1e300, &d), ERR_ERANGE);
    assert_int_equal(parse_double("inf", -1e300, 1e300, &d), ERR_ERANGE);
    assert_int_equal(parse_double("1e999", -1e300, 1e300, &d), ERR_ERANGE);
    assert_int_equal(parse_double("0.5x", 0, 1, &d), ERR_ESYNTAX);
}

static void test_parse_bool(void **state)
{
    (void)state;
    const char *yes[] = {"true", "YES", "On", "1"}, *no[] = {"false", "No", "OFF", "0"};
    for (int i = 0; i < 4; i++) {
        bool b = false;
        assert_int_equal(parse_bool(yes[i], &b), 0);
        assert_true(b);
        assert_int_equal(parse_bool(no[i], &b), 0);
        assert_false(b);
    }
    bool b = true;
    assert_int_equal(parse_bool("2", &b), ERR_ESYNTAX);
    assert_int_equal(parse_bool("", &b), ERR_ESYNTAX);
    assert_true(b);
}

static void test_text_escape(void **state)
{
    (void)state;
    char out[64];
    /* ESC, CR, newline, DEL: escaped; printable ASCII and UTF-8 kept */
    assert_string_equal(text_escape(out, sizeof out, "a\x1b[2Jb\r\nrun complete\x7f"),
                        "a\\x1b[2Jb\\x0d\\x0arun complete\\x7f");
    assert_string_equal(text_escape(out, sizeof out, "caf\xc3\xa9 \\"), "caf\xc3\xa9 \\\\");
    /* invalid UTF-8: a lone continuation byte, a truncated sequence, an
     * overlong slash, a surrogate; C1 CSI (U+009B) encoded in UTF-8 */
    assert_string_equal(text_escape(out, sizeof out, "\x80x\xc3"), "\\x80x\\xc3");
    assert_string_equal(text_escape(out, sizeof out, "\xc0\xaf"), "\\xc0\\xaf");
    assert_string_equal(text_escape(out, sizeof out, "\xed\xa0\x80"), "\\xed\\xa0\\x80");
    assert_string_equal(text_escape(out, sizeof out, "\xc2\x9b"), "\\xc2\\x9b");
    /* cut at a whole piece: "ab" fits in 4 bytes, "\x1b" does not */
    assert_string_equal(text_escape(out, 4, "ab\x1b"), "ab");
    assert_string_equal(text_escape(out, 3, "a\xc3\xa9"), "a");
    assert_string_equal(text_escape(out, sizeof out, NULL), "");
}

static void test_text_utf8_prefix(void **state)
{
    (void)state;
    bool valid = false;
    /* "caf" + e-acute (2 bytes) + "s": cuts never split the 2-byte character */
    const char *cafes = "caf\xc3\xa9s";
    assert_int_equal(text_utf8_prefix(cafes, 100, &valid), 6);
    assert_true(valid);
    assert_int_equal(text_utf8_prefix(cafes, 5, &valid), 5);
    assert_int_equal(text_utf8_prefix(cafes, 4, &valid), 3);
    assert_true(valid);
    assert_int_equal(text_utf8_prefix(cafes, 0, NULL), 0);
    /* a 4-byte character (U+1F600) cut at 1..3 bytes keeps none of it */
    assert_int_equal(text_utf8_prefix("a\xf0\x9f\x98\x80", 4, &valid), 1);
    assert_int_equal(text_utf8_prefix("a\xf0\x9f\x98\x80", 5, &valid), 5);
    /* invalid: a lone continuation byte, an overlong form; also after the cut */
    assert_int_equal(text_utf8_prefix("ab\x80"
                                      "cd",
                                      100, &valid),
                     2);
    assert_false(valid);
    assert_int_equal(text_utf8_prefix("\xc0\xaf", 100, &valid), 0);
    assert_false(valid);
    assert_int_equal(text_utf8_prefix("abc\xff", 2, &valid), 2);
    assert_false(valid);
    assert_int_equal(text_utf8_prefix("", 10, &valid), 0);
    assert_true(valid);
}

static void test_stats(void **state)
{
    (void)state;
    assert_true(stats_t975(1) == 12.706);
    assert_true(stats_t975(30) == 2.042);
    assert_true(fabs(stats_t975(60) - 2.000) < 1e-12);
    assert_true(stats_t975(50) < 2.021 && stats_t975(50) > 2.000);
    assert_true(fabs(stats_t975(1000000) - 1.960) < 1e-4);
    assert_true(isnan(stats_t975(0)));

    const double v[] = {1, 2, 3, 4, 5};
    stats_t s;
    stats_summary(v, 5, &s);
    assert_int_equal(s.n, 5);
    assert_true(s.mean == 3.0);
    assert_true(fabs(s.sd - sqrt(2.5)) < 1e-12);
    /* 2.776 * sqrt(2.5) / sqrt(5) = 2.776 * 0.70710678 = 1.9629284 */
    assert_true(fabs(s.half_width - 2.776 * sqrt(0.5)) < 1e-12);
    assert_true(fabs(s.low - (3.0 - 1.9629284)) < 1e-6);

    stats_summary(v, 1, &s);
    assert_true(s.mean == 1.0 && s.sd == 0.0 && isnan(s.half_width));
    stats_summary(v, 0, &s);
    assert_true(isnan(s.mean));

    const double a[] = {3, 5, 7}, b[] = {1, 2, 4}; /* differences 2, 3, 3 */
    assert_int_equal(stats_paired(a, b, 3, &s), 0);
    assert_true(fabs(s.mean - 8.0 / 3.0) < 1e-12);
    assert_true(fabs(s.sd - sqrt(1.0 / 3.0)) < 1e-12);
    assert_true(fabs(s.half_width - 4.303 * sqrt(1.0 / 3.0) / sqrt(3.0)) < 1e-12);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_err_table),
        cmocka_unit_test(test_parse_int),
        cmocka_unit_test(test_parse_double),
        cmocka_unit_test(test_parse_bool),
        cmocka_unit_test(test_stats),
        cmocka_unit_test(test_text_escape),
        cmocka_unit_test(test_text_utf8_prefix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
