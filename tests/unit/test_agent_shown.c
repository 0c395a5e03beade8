/* agents/sdk/shown.h: a tick's record and the next STEP's feedback, by
 * hand: the rows match only when the feedback lists the recorded users in
 * the recorded order, a record is used once, the caller's bytes survive
 * growth and stay aligned, and an empty batch with NULL arrays is fine. */
#include <setjmp.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "agents/sdk/shown.h"

static proto_feedback_t s_feedback(uint32_t n, const int32_t *users)
{
    return (proto_feedback_t){.n = n, .user_ids = users};
}

static void test_match_same_users_in_order(void **state)
{
    (void)state;
    agent_shown_t s;
    agent_shown_init(&s, 2, 0);
    const int32_t users[3] = {4, 9, 11}, slates[6] = {1, 2, 3, 4, 5, 6};
    assert_int_equal(agent_shown_record(&s, 3, users, slates), 0);
    assert_null(agent_shown_extra(&s, 0));
    proto_feedback_t fb = s_feedback(3, users);
    assert_int_equal(agent_shown_match(&s, &fb), 3);
    assert_int_equal(agent_shown_slate(&s, 0)[0], 1);
    assert_int_equal(agent_shown_slate(&s, 2)[1], 6);
    /* used up: the same feedback again matches nothing */
    assert_int_equal(agent_shown_match(&s, &fb), 0);
    agent_shown_free(&s);
}

static void test_mismatch_matches_nothing(void **state)
{
    (void)state;
    agent_shown_t s;
    agent_shown_init(&s, 1, 0);
    const int32_t users[2] = {4, 9}, swapped[2] = {9, 4}, fewer[1] = {4}, slates[2] = {7, 8};
    proto_feedback_t fb = s_feedback(2, swapped);
    assert_int_equal(agent_shown_record(&s, 2, users, slates), 0);
    assert_int_equal(agent_shown_match(&s, &fb), 0); /* another order */
    fb = s_feedback(1, fewer);
    assert_int_equal(agent_shown_record(&s, 2, users, slates), 0);
    assert_int_equal(agent_shown_match(&s, &fb), 0); /* another count */
    fb = s_feedback(2, users);
    assert_int_equal(agent_shown_record(&s, 2, users, slates), 0);
    agent_shown_forget(&s);
    assert_int_equal(agent_shown_match(&s, &fb), 0); /* forgotten (a resync) */
    assert_int_equal(agent_shown_match(&s, &fb), 0);
    agent_shown_free(&s);
}

typedef struct row {
    double score;
    uint8_t strategy;
} row_t;

static void test_extra_bytes_survive_growth(void **state)
{
    (void)state;
    agent_shown_t s;
    agent_shown_init(&s, 3, 5); /* an odd size: rows are padded to keep alignment */
    assert_int_equal(s.stride % alignof(max_align_t), 0);
    assert_true(s.stride >= 5);
    int32_t users[40], slates[120];
    for (int i = 0; i < 40; i++)
        users[i] = 100 + i;
    for (int i = 0; i < 120; i++)
        slates[i] = i;
    assert_int_equal(agent_shown_record(&s, 2, users, slates), 0);
    assert_int_equal(s.cap, 2);
    assert_int_equal(agent_shown_record(&s, 40, users, slates), 0); /* grows */
    assert_true(s.cap >= 40);
    for (uint32_t i = 0; i < 40; i++) {
        unsigned char *x = agent_shown_extra(&s, i);
        assert_int_equal((uintptr_t)x % alignof(max_align_t), 0);
        memset(x, (int)i, 5);
    }
    proto_feedback_t fb = s_feedback(40, users);
    assert_int_equal(agent_shown_match(&s, &fb), 40);
    for (uint32_t i = 0; i < 40; i++) {
        const unsigned char *x = agent_shown_extra(&s, i);
        for (int b = 0; b < 5; b++)
            assert_int_equal(x[b], i);
        assert_int_equal(agent_shown_slate(&s, i)[2], 3 * (int)i + 2);
    }
    agent_shown_free(&s);

    agent_shown_init(&s, 2, sizeof(row_t)); /* a struct per row */
    assert_int_equal(agent_shown_reserve(&s, 8), 0);
    assert_int_equal(agent_shown_record(&s, 3, users, slates), 0);
    for (uint32_t i = 0; i < 3; i++)
        *(row_t *)agent_shown_extra(&s, i) = (row_t){.score = 0.5 * i, .strategy = (uint8_t)i};
    fb = s_feedback(3, users);
    assert_int_equal(agent_shown_match(&s, &fb), 3);
    assert_true(((row_t *)agent_shown_extra(&s, 2))->score == 1.0);
    assert_int_equal(((row_t *)agent_shown_extra(&s, 1))->strategy, 1);
    agent_shown_free(&s);
}

static void test_empty_batch(void **state)
{
    (void)state;
    agent_shown_t s;
    agent_shown_init(&s, 4, 8);
    assert_int_equal(agent_shown_record(&s, 0, NULL, NULL), 0); /* NULL arrays are fine */
    proto_feedback_t fb = s_feedback(0, NULL);
    assert_int_equal(agent_shown_match(&s, &fb), 0);
    assert_int_equal(s.cap, 0);
    agent_shown_free(&s);
    agent_shown_free(&s); /* twice is fine */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match_same_users_in_order),
        cmocka_unit_test(test_mismatch_matches_nothing),
        cmocka_unit_test(test_extra_bytes_survive_growth),
        cmocka_unit_test(test_empty_batch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
