/* The server's message builders (sim/server_msg.h): a frame encoded once
 * and given another seq is byte for byte what proto_encode gives with
 * that seq, across every size class of a MessagePack uint. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sim/server_msg.h"

static void test_with_seq_matches_a_fresh_encoding(void **state)
{
    (void)state;
    const int32_t ids[2] = {4, 9}, slates[4] = {1, 2, 3, 4}, clicked[2] = {-1, 1};
    const float features[2] = {0.5f, -0.25f};
    proto_joint_agent_t part = {.agent_index = 0,
                                .n = 2,
                                .dim = 1,
                                .slate_size = 2,
                                .user_ids = ids,
                                .features = features,
                                .slates = slates,
                                .clicked = clicked,
                                .reward = 1.5};
    proto_msg_t msg = {.type = PROTO_MSG_JOINT};
    msg.joint = (proto_joint_t){.episode = 1, .tick = 7, .n_agents = 1, .agents = &part};
    proto_buffer_t once, fresh, copy;
    proto_buffer_init(&once);
    proto_buffer_init(&fresh);
    proto_buffer_init(&copy);
    msg.seq = 0;
    assert_int_equal(proto_encode(&msg, &once, NULL, 0), 0);
    /* each boundary of fixint, uint8, uint16, uint32 and uint64 */
    const uint64_t seqs[] = {0,     1,          127,      128,          255,
                             256,   65535,      65536,    4294967295u,  4294967296u,
                             12345, UINT64_MAX, 1u << 20, (1ull << 40), 200};
    for (size_t i = 0; i < sizeof seqs / sizeof seqs[0]; i++) {
        msg.seq = seqs[i];
        assert_int_equal(proto_encode(&msg, &fresh, NULL, 0), 0);
        assert_int_equal(server_msg_with_seq(&once, seqs[i], &copy), 0);
        assert_int_equal(copy.size, fresh.size);
        assert_memory_equal(copy.data, fresh.data, fresh.size);
    }
    /* from a frame that already has a long seq, back to a short one */
    msg.seq = 5;
    assert_int_equal(proto_encode(&msg, &fresh, NULL, 0), 0);
    assert_int_equal(server_msg_with_seq(&copy, 5, &once), 0);
    assert_int_equal(once.size, fresh.size);
    assert_memory_equal(once.data, fresh.data, fresh.size);
    /* not an envelope */
    const uint8_t junk[4] = {0x93, 1, 6, 0};
    proto_buffer_t bad = {.data = (uint8_t *)junk, .size = sizeof junk};
    assert_int_equal(server_msg_with_seq(&bad, 1, &copy), ERR_EENVELOPE);
    proto_buffer_fini(&once);
    proto_buffer_fini(&fresh);
    proto_buffer_fini(&copy);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_with_seq_matches_a_fresh_encoding),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
