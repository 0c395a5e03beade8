/* Studies: a scenario run over a grid of settings times a list of seeds,
 * and what the runs add up to. This module is the part without processes:
 * parsing --seeds and --grid, naming the cells and their run folders, the
 * manifest that fixes a study (grid.json), and the aggregation of the run
 * folders' summary.json files into runs.csv and study.json with means,
 * standard deviations and 95% confidence intervals (core/stats.h).
 * sim/sweep.h runs the runs.
 *
 *     study_t *s = study_new(err, sizeof err);
 *     study_add_seeds(s, "1-20", ...);
 *     study_add_grid(s, "world.reward_sharing=0,0.5,1", ...);
 *     study_run_dir(s, i, dir, sizeof dir);   // i < study_run_count(s)
 *
 * Run i is cell i / n_seeds at seed i % n_seeds; cell c takes value
 * (c / stride_k) % n_values_k of grid key k, the first key varying
 * slowest. A cell's folder is named by its settings ("base" with no grid),
 * a run folder is CELL/seedN. */
#ifndef RECARENA_STUDY_H
#define RECARENA_STUDY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define STUDY_MAX_KEYS     16  /* grid keys */
#define STUDY_MAX_VALUES   256 /* values of one key */
#define STUDY_MAX_SEEDS    100000
#define STUDY_MAX_CELLS    100000
#define STUDY_MAX_SETS     128 /* --set overrides common to every cell */
#define STUDY_TEXT_MAX     256 /* a key, a value or an override, bytes with the '\0' */
#define STUDY_OVERRIDE_MAX (2 * STUDY_TEXT_MAX) /* "key=value" of a grid key and value */

typedef struct study study_t;

study_t *study_new(void); /* NULL on no memory; caller owns */
void study_destroy(study_t **self_p);

/* Adds seeds: "N", "A-B" (inclusive) or a comma-separated list of those,
 * each in [0, 2^64-1]; a seed given twice, or an empty item, is refused. 0, or ERR_EINVAL /
 * ERR_ERANGE with a message naming the text in err. */
int study_add_seeds(study_t *s, const char *text, char *err, size_t err_len);

/* Adds a grid key: "section.key=v1,v2,..." (values as --set takes them,
 * no value empty or given twice; the key not in the grid already and not
 * run.seed). Only the form is checked here; the scenario module checks
 * keys and values (sweep loads every cell). 0 or ERR_EINVAL / ERR_ERANGE
 * with a message. */
int study_add_grid(study_t *s, const char *text, char *err, size_t err_len);

/* Adds an override every cell gets before its grid settings ("k=v", as
 * --set). 0 or ERR_EINVAL with a message. */
int study_add_set(study_t *s, const char *text, char *err, size_t err_len);

/* The scenario file the study runs (borrowed text is copied); 0 or
 * ERR_EINVAL if it does not fit. */
int study_set_scenario(study_t *s, const char *path);
const char *study_scenario(const study_t *s);

size_t study_seed_count(const study_t *s);
uint64_t study_seed(const study_t *s, size_t i);
size_t study_key_count(const study_t *s);
const char *study_key(const study_t *s, size_t k);
size_t study_cell_count(const study_t *s); /* product of the value counts; 1 with no grid */
size_t study_run_count(const study_t *s);  /* cells x seeds */

/* The value of grid key k in cell c (borrowed). */
const char *study_cell_value(const study_t *s, size_t c, size_t k);

/* Cell c's folder name: "KEY=VALUE,KEY=VALUE" with '/' and characters
 * other than [A-Za-z0-9._=,+-] as '_', or "base" with no grid. Returns
 * the length, as snprintf. */
int study_cell_name(const study_t *s, size_t c, char *buf, size_t size);

/* The overrides of run i, in order: the common --set ones, then the cell's
 * grid settings, then run.seed=SEED; n at most STUDY_MAX_SETS +
 * STUDY_MAX_KEYS + 1 strings into texts (each STUDY_OVERRIDE_MAX bytes)
 * and pointers into args. Returns n. */
int study_run_overrides(const study_t *s, size_t i, char (*texts)[STUDY_OVERRIDE_MAX],
                        const char **args);

/* Run i's folder, "DIR/CELL/seedSEED"; returns the length as snprintf. */
int study_run_dir(const study_t *s, const char *dir, size_t i, char *buf, size_t size);

/* Checks the cells' folder names are distinct (two values that differ only
 * in replaced characters would collide). 0, or ERR_EINVAL with the names. */
int study_check_names(const study_t *s, char *err, size_t err_len);

/* The manifest: the scenario, the common overrides, the grid and the
 * seeds as JSON text (one form for one study, so two commands describe
 * the same study exactly when their manifests are equal). Caller frees;
 * NULL on no memory. */
char *study_manifest(const study_t *s);

/* Reads a manifest written by study_manifest back into a new study (the
 * scenario, sets, grid and seeds). NULL with a message in err if the text
 * is not one. */
study_t *study_from_manifest(const char *text, char *err, size_t err_len);

/* Aggregation: reads every run folder of the study under dir that is
 * complete (summary.json), and writes dir/runs.csv (one row per run: the
 * grid keys, seed, each system figure, then AGENT.FIGURE for each agent)
 * and dir/study.json (per cell: its settings, and per figure, system and
 * per agent, n, mean, sd, the 95% CI's half width, low and high), and, if
 * table is not NULL, a table of the cells to it. The figures are those of
 * summary.json's "per_episode" object (means over a run's episodes);
 * a null figure (regret without the oracle) is left out. *n_runs gets the
 * number of runs read. 0, or ERR_EIO with a message in err (a summary.json
 * that does not parse is one). */
int study_aggregate(const study_t *s, const char *dir, FILE *table, size_t *n_runs, char *err,
                    size_t err_len);

/* The figures of one run folder's summary.json "per_episode" object, as
 * (agent or "", figure, value) triples in file order, system first; for
 * compare and the tests. Calls fn for each; 0, or ERR_EIO with a message. */
typedef void (*study_figure_fn)(void *ctx, const char *agent, const char *figure, double value);
int study_read_summary(const char *run_dir, study_figure_fn fn, void *ctx, char *err,
                       size_t err_len);

#endif
