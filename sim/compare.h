/* Comparing runs and drawing studies (docs/studies.md):
 *
 *   recarena compare A B ... [--csv] [--plot OUT.png [--figure F]]
 *       A, B: run folders (summary.json) or cells of a study (folders of
 *       seedN/ run folders). A side-by-side table of every per-episode
 *       figure, system and per agent: each item's mean over its runs with
 *       the 95% confidence interval's half width, and for each item after
 *       the first the difference from A, paired by seed over the seeds
 *       both have (core/stats.h stats_paired), with its 95% CI.
 *   recarena plot STUDY --x KEY --y FIGURE [--out OUT.png] [--size WxH]
 *       FIGURE (per agent, or system) against grid key KEY from
 *       STUDY/study.json: one line per agent, error bars the 95% CI.
 *
 * Both pictures are drawn by recarena-view --series (viz/studyplot.h). */
#ifndef RECARENA_COMPARE_H
#define RECARENA_COMPARE_H

#include <stdbool.h>

int compare_main(int argc, char **argv);

/* True if dir holds a study.json (recarena plot's study form). */
bool compare_is_study(const char *dir);
int compare_plot_main(int argc, char **argv);

#endif
