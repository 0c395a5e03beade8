/* What a JOINT message (docs/protocol.md) tells a learning agent about
 * its own requests of the tick: each request's share of the team reward,
 * and what every other agent did for the same user. docs/agents.md
 * ("The team reward of a request") has the derivation.
 *
 * Team reward. With N agents, C pages clicked this tick (over all
 * agents' requests), R the mean of the agents' tick rewards and
 * B = max(R - C / N, 0) the part of R not explained by clicks (the
 * diversity bonus: the world pays every agent (1 - a) own + a mean(own)
 * + b topics / n_topics, whose mean over agents is C / N + b topics /
 * n_topics whatever the sharing a), a request whose page was clicked,
 * on an item of topic t, gets
 *
 *     r = 1 / N + B / (T c_t)
 *
 * where T is the number of distinct topics clicked this tick and c_t the
 * clicks on topic t; a page without a click gets 0. In feed mode (every
 * agent serves every request) the r of the tick's requests sum exactly to
 * R: clicks are worth 1 / N each and the bonus is split among the topics
 * clicked, then among the clicks on each topic, so a click on a topic
 * nobody else reached earns the most.
 *
 * Other agents' actions. For each other agent (in agent_index order,
 * skipping this one), the mean embedding of the slate it applied to the
 * same user (slate_mean_embedding), or zeros when it did not serve that
 * user (market mode). */
#ifndef RECARENA_JOINT_H
#define RECARENA_JOINT_H

#include <stdint.h>

#include "proto/codec.h"

/* rewards (n of joint->agents[me]): each of agent me's requests' team
 * reward. items: the catalog view (the clicked items' topics); a clicked
 * item that is not in it counts as a topic of its own. Returns 0, or ERR_EINVAL (core/err.h)
 * when me is not an agent of the message. */
int joint_team_rewards(const proto_joint_t *joint, uint32_t me, const proto_items_t *items,
                       float *rewards);

/* others (n of joint->agents[me], (n_agents - 1) * dim): for each of agent
 * me's requests, every other agent's slate for that user as its mean
 * embedding. Users are matched by id (the same row in feed mode, found
 * by a scan otherwise). Returns 0, or ERR_EINVAL (core/err.h) when me is not an agent of the
 * message. */
int joint_other_actions(const proto_joint_t *joint, uint32_t me, const proto_items_t *items,
                        float *others);

#endif
