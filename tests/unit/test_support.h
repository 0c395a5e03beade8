/* What the cmocka unit tests share: a double comparison with a tolerance
 * (cmocka 1.1.5 has none) that reports the caller's file and line.
 * Include after <cmocka.h>. */
#ifndef RECARENA_TEST_SUPPORT_H
#define RECARENA_TEST_SUPPORT_H

#include <math.h>

#define ASSERT_NEAR(actual, expected, tolerance)                                                   \
    test_assert_near((actual), (expected), (tolerance), __FILE__, __LINE__)

static inline void test_assert_near(double actual, double expected, double tolerance,
                                    const char *file, int line)
{
    if (fabs(actual - expected) <= tolerance)
        return;
    print_error("got %.15g, expected %.15g (tolerance %g)\n", actual, expected, tolerance);
    _fail(file, line);
}

#endif
