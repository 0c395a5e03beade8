/* A finished run folder, and scenario files, read into a viewer model:
 * `recarena plot` draws from a run folder, and the live viewer reads the
 * run's scenario for its title, mode and legend.
 *
 * From a run folder: scenario.ini (name, mode, episodes, ticks, agents and
 * their algorithms), ticks.csv (Gini and coverage per tick), agents.csv
 * (reward, requests and clicks per agent per tick) and, when present,
 * exposure.csv (exposure per item at each episode's end, for the Lorenz
 * curve and exposure per topic; older run folders have none) and
 * summary.json, when present, for each agent's exposure Gini per episode
 * (episodes[].agents[].gini; jansson). Columns are
 * found by their header names. Every line is checked: a file that does not
 * fit gets one error naming the file and line. */
#ifndef RECARENA_VIZ_RUNDIR_H
#define RECARENA_VIZ_RUNDIR_H

#include "viz/model.h"

#include <stddef.h>

#define VIZ_ALL_EPISODES (-1L)

/* Describes the run of the resolved scenario file at path (the
 * scenario.ini a run writes, every key present; viz_model_describe): its
 * name, mode, episodes, ticks and agents, with each agent's policy or
 * command as its algorithm label (the program's base name without
 * "recarena-", and its options without "--algo": "bandit ucb1"). 0, or ERR_EFORMAT (not a resolved
 * scenario) / ERR_EINVAL (its agents do not fit the model) / ERR_EIO
 * (cannot be read) / ERR_ENOMEM with a message in err; m is unchanged on
 * error. */
int viz_rundir_read_scenario(viz_model_t *m, const char *path, char *err, size_t err_len);

/* Loads the run folder dir into m (cleared first): every episode
 * (VIZ_ALL_EPISODES) or only the given one, and the exposure at the end
 * of the last episode loaded. 0, or ERR_EFORMAT (a malformed file),
 * ERR_EINVAL (no such episode), ERR_EIO (a file missing or unreadable) or
 * ERR_ENOMEM with a message in err. */
int viz_rundir_load(viz_model_t *m, const char *dir, long episode, char *err, size_t err_len);

#endif
