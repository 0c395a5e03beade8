/* Writes the decoder's seed corpus: one frame of each message type, made
 * by the project's own encoder, each prefixed with the byte fuzz_decode.c
 * reads as its choice of dims; with ACT_DIR, also fuzz_act.c's: ACTs for
 * its small world, each prefixed with the byte it reads as the ticks to
 * play first (decoded mode). Usage: make_corpus DIR [ACT_DIR] (committed
 * under tests/fuzz/corpus/decode and tests/fuzz/corpus/act; rerun when
 * the protocol changes). */
#include "proto/codec.h"

#include <stdio.h>
#include <string.h>

static int s_write(const char *dir, const char *name, unsigned dims, const proto_msg_t *msg)
{
    proto_buffer_t buf;
    proto_buffer_init(&buf);
    char err[PROTO_ERR_LEN];
    int rc = proto_encode(msg, &buf, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "make_corpus: %s: %s\n", name, err);
        proto_buffer_fini(&buf);
        return 1;
    }
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.bin", dir, name);
    FILE *f = fopen(path, "wb");
    unsigned char prefix = (unsigned char)dims;
    int bad = !f || fwrite(&prefix, 1, 1, f) != 1 || fwrite(buf.data, 1, buf.size, f) != buf.size;
    if (f && fclose(f) != 0)
        bad = 1;
    if (bad)
        perror(path);
    proto_buffer_fini(&buf);
    return bad;
}

/* fuzz_act's world: users 0, 1, 2 ask at tick 0, slates of 2 out of ids
 * 0..5, two ids born per tick. */
static int s_act_corpus(const char *dir)
{
    static const int32_t users[3] = {0, 1, 2}, good[6] = {0, 1, 2, 3, 5, 4};
    static const int32_t dup[6] = {0, 1, 2, 2, 5, 4}, unborn[6] = {0, 1, 7, 3, 5, 4};
    static const int32_t swapped[3] = {0, 2, 1};
    const struct {
        const char *name;
        unsigned ticks;
        uint32_t tick;
        const int32_t *users, *slates;
    } acts[] = {
        {"act_valid", 0, 0, users, good},        {"act_dup", 0, 0, users, dup},
        {"act_unborn", 0, 0, users, unborn},     {"act_echo", 0, 0, swapped, good},
        {"act_late", 1, 0, users, good},         {"act_tick1", 1, 1, users, good},
        {"act_tick2_born", 2, 2, users, unborn},
    };
    int bad = 0;
    for (size_t i = 0; i < sizeof acts / sizeof acts[0]; i++) {
        proto_msg_t m = {.type = PROTO_MSG_ACT,
                         .seq = i,
                         .act = {.episode = 0,
                                 .tick = acts[i].tick,
                                 .n = 3,
                                 .slate_size = 2,
                                 .user_ids = acts[i].users,
                                 .slates = acts[i].slates}};
        bad |= s_write(dir, acts[i].name, acts[i].ticks, &m);
    }
    /* with ACT.propensity (1.2) */
    static const double propensity[3] = {1.0, 0.5, 1.0 / 30};
    proto_msg_t m = {
        .type = PROTO_MSG_ACT,
        .seq = 7,
        .act = {
            .n = 3, .slate_size = 2, .user_ids = users, .slates = good, .propensity = propensity}};
    bad |= s_write(dir, "act_propensity", 0, &m);
    return bad;
}

int main(int argc, char **argv)
{
    if (argc != 2 && argc != 3) {
        fprintf(stderr, "usage: make_corpus DIR [ACT_DIR]\n");
        return 2;
    }
    const char *dir = argv[1];
    int bad = 0;

    const char *caps[] = {"joint"};
    proto_msg_t hello = {.type = PROTO_MSG_HELLO,
                         .seq = 1,
                         .hello = {.minor = PROTO_VERSION_MINOR,
                                   .name = "linucb",
                                   .role = "agent",
                                   .n_caps = 1,
                                   .caps = caps,
                                   .token = "secret"}};
    bad |= s_write(dir, "hello", 0, &hello);

    const char *agents[] = {"random", "linucb"};
    static const uint64_t nvec[] = {3, 4};
    static const proto_space_t children[] = {
        {.kind = PROTO_SPACE_BOX,
         .dtype = PROTO_DTYPE_FLOAT32,
         .low = -1,
         .high = 1,
         .ndim = 2,
         .shape = {-1, 4}},
        {.kind = PROTO_SPACE_DISCRETE, .n = 4},
        {.kind = PROTO_SPACE_MULTI_DISCRETE, .n_nvec = 2, .nvec = nvec},
    };
    static const char *const names[] = {"features", "segment", "topics"};
    static const proto_space_t obs = {
        .kind = PROTO_SPACE_DICT, .n_spaces = 3, .names = names, .spaces = children};
    static const proto_space_t act = {.kind = PROTO_SPACE_SLATE, .n = 100, .k = 5};
    proto_msg_t welcome = {
        .type = PROTO_MSG_WELCOME,
        .welcome = {.agent_index = 1,
                    .n_agents = 2,
                    .agents = agents,
                    .seed = 42,
                    .mode = PROTO_MODE_FEED,
                    .slate_size = 5,
                    .dim = 4,
                    .n_topics = 3,
                    .history_len = 2,
                    .ticks = 10,
                    .episodes = 2,
                    .observation_space = &obs,
                    .action_space = &act,
                    .limits = {.deadline_ms = 50, .max_batch = 8, .max_message_bytes = 1 << 20}}};
    bad |= s_write(dir, "welcome", 0, &welcome);

    static const int32_t ids[] = {0, 5, 17}, topics[] = {2, 0, 1}, providers[] = {1, 1, 4};
    static const float emb[3 * 4] = {0.5f, -0.25f, 0, 3, 0, 1, 2, 3, -1, 7.5f, 0.125f, -0.0f};
    proto_items_t items = {
        .n = 3, .dim = 4, .ids = ids, .topics = topics, .providers = providers, .embeddings = emb};
    proto_msg_t catalog = {.type = PROTO_MSG_CATALOG, .seq = 2, .catalog = {.items = items}};
    bad |= s_write(dir, "catalog", 1, &catalog);
    static const char *const titles[] = {"Item zero", "", "caf\xc3\xa9, \"five\""};
    catalog.catalog.items.titles = titles; /* 1.2 */
    bad |= s_write(dir, "catalog_titles", 1, &catalog);

    static const int32_t fb_users[] = {11, 12}, clicked[] = {-1, 3}, users[] = {12, 40};
    static const float reward[] = {0, 1}, features[2 * 4] = {0.1f, 0.2f, 0.3f, 0.4f, -1, 0, 1, 2};
    static const uint8_t ended[] = {1, 0};
    static const int32_t history[2 * 2] = {5, -1, -1, -1}, retired[] = {3};
    proto_msg_t step = {.type = PROTO_MSG_STEP,
                        .seq = 3,
                        .step = {.episode = 1,
                                 .tick = 4,
                                 .deadline_ms = 50,
                                 .feedback = {.n = 2,
                                              .user_ids = fb_users,
                                              .clicked = clicked,
                                              .reward = reward,
                                              .session_end = ended},
                                 .tick_reward = 1.5,
                                 .requests = {.n = 2,
                                              .dim = 4,
                                              .history_len = 2,
                                              .user_ids = users,
                                              .features = features,
                                              .history = history},
                                 .born = items,
                                 .n_retired = 1,
                                 .retired = retired}};
    bad |= s_write(dir, "step", 1, &step);

    static const int32_t slates[2 * 5] = {0, 5, 17, 1, 2, 17, 5, 0, 3, 4};
    proto_msg_t act_msg = {
        .type = PROTO_MSG_ACT,
        .seq = 4,
        .act = {
            .episode = 1, .tick = 4, .n = 2, .slate_size = 5, .user_ids = users, .slates = slates}};
    bad |= s_write(dir, "act", 2, &act_msg);
    static const double act_propensity[2] = {0.25, 1e-9};
    act_msg.act.propensity = act_propensity; /* 1.2 */
    bad |= s_write(dir, "act_propensity", 2, &act_msg);

    proto_joint_agent_t joint_agents[] = {{.agent_index = 0,
                                           .n = 2,
                                           .dim = 4,
                                           .slate_size = 5,
                                           .user_ids = users,
                                           .features = features,
                                           .slates = slates,
                                           .clicked = clicked,
                                           .reward = 2.5}};
    proto_msg_t joint = {.type = PROTO_MSG_JOINT,
                         .seq = 5,
                         .joint = {.episode = 1, .tick = 4, .n_agents = 1, .agents = joint_agents}};
    bad |= s_write(dir, "joint", 1, &joint);

    proto_msg_t end = {.type = PROTO_MSG_EPISODE_END,
                       .seq = 6,
                       .episode_end = {.episode = 1,
                                       .ticks = 10,
                                       .reward = 12.5,
                                       .requests = 100,
                                       .clicks = 40,
                                       .feedback = {.n = 2,
                                                    .user_ids = fb_users,
                                                    .clicked = clicked,
                                                    .reward = reward,
                                                    .session_end = ended},
                                       .tick_reward = 0.5}};
    bad |= s_write(dir, "episode_end", 1, &end);

    proto_msg_t bye = {.type = PROTO_MSG_BYE, .seq = 7, .bye = {.reason = "run complete"}};
    bad |= s_write(dir, "bye", 0, &bye);
    proto_msg_t ping = {.type = PROTO_MSG_PING, .seq = 8, .ping = {.nonce = 99}};
    bad |= s_write(dir, "ping", 0, &ping);
    proto_msg_t error = {.type = PROTO_MSG_ERROR,
                         .seq = 9,
                         .error = {.code = PROTO_EACTION,
                                   .message = "ACT.slates: item 9 is retired",
                                   .fatal = false,
                                   .has_ref_seq = true,
                                   .ref_seq = 4}};
    bad |= s_write(dir, "error", 0, &error);

    static const int32_t a_req[] = {10, 20}, a_clk[] = {3, 9};
    static const double a_rew[] = {3, 9}, a_reg[] = {1.5, 0.25};
    proto_msg_t tick = {.type = PROTO_MSG_TELEMETRY_TICK,
                        .seq = 10,
                        .telemetry_tick = {.episode = 0,
                                           .tick = 3,
                                           .active_users = 30,
                                           .requests = 30,
                                           .clicks = 12,
                                           .welfare = 10.5,
                                           .ild = 0.75,
                                           .gini = 0.5,
                                           .coverage = 0.25,
                                           .entropy = 1.5,
                                           .n_agents = 2,
                                           .agents = agents,
                                           .agent_requests = a_req,
                                           .agent_clicks = a_clk,
                                           .agent_reward = a_rew,
                                           .agent_regret = a_reg}};
    bad |= s_write(dir, "telemetry_tick", 0, &tick);
    static const int64_t e_req[] = {100, 200}, e_clk[] = {30, 90};
    static const double e_share[] = {0.25, 0.75};
    proto_msg_t episode = {.type = PROTO_MSG_TELEMETRY_EPISODE,
                           .seq = 11,
                           .telemetry_episode = {.episode = 0,
                                                 .ticks = 10,
                                                 .requests = 300,
                                                 .clicks = 120,
                                                 .ctr = 0.4,
                                                 .n_agents = 2,
                                                 .agents = agents,
                                                 .agent_requests = e_req,
                                                 .agent_clicks = e_clk,
                                                 .agent_reward = a_rew,
                                                 .agent_regret = a_reg,
                                                 .agent_share = e_share}};
    bad |= s_write(dir, "telemetry_episode", 0, &episode);
    static const int64_t exposure_items[] = {4, 0, 7}, exposure_topics[] = {7, 4};
    proto_msg_t exposure = {.type = PROTO_MSG_TELEMETRY_EXPOSURE,
                            .seq = 12,
                            .telemetry_exposure = {.episode = 0,
                                                   .tick = 3,
                                                   .n_items = 3,
                                                   .items = exposure_items,
                                                   .n_topics = 2,
                                                   .topics = exposure_topics}};
    bad |= s_write(dir, "telemetry_exposure", 0, &exposure);
    if (argc == 3)
        bad |= s_act_corpus(argv[2]);
    return bad;
}
