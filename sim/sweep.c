/* recarena sweep and recarena compare (sweep.h): the processes of a study,
 * local or on Slurm, and the side-by-side comparison of run folders. */
#define _DEFAULT_SOURCE /* realpath */
#include "sim/sweep.h"

#include "core/err.h"
#include "core/parse.h"
#include "core/stats.h"
#include "sim/scenario.h"
#include "sim/study.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define S_MAX_ARGS        (STUDY_MAX_SETS + STUDY_MAX_KEYS + 16)
#define S_MAX_SBATCH_ARGS 32
#define S_EXIT_PENDING    75
#define S_PATH_MAX        4200

const char sweep_usage[] =
    "usage: recarena sweep SCENARIO.ini --seeds LIST [--grid SECTION.KEY=V1,V2,...]...\n"
    "                      [--set SECTION.KEY=V]... [--jobs N] [--out DIR] [--no-progress]\n"
    "                      [--backend local|slurm [--partition P] [--time T]\n"
    "                       [--sbatch-arg ARG]... [--collect]]\n"
    "       recarena sweep --task N STUDY_DIR\n"
    "\n"
    "Runs the scenario for every cell of the grid (every combination of the grid\n"
    "keys' values) at every seed, each an ordinary run folder DIR/CELL/seedN made\n"
    "by 'recarena run', then writes DIR/runs.csv (one row per run) and\n"
    "DIR/study.json (per cell and figure: n, mean, sd, 95% CI) and prints a table\n"
    "of the cells. Every cell's scenario is loaded and checked before any run\n"
    "starts; a bad key or value is refused and nothing is written. The same\n"
    "command again does only the runs that are missing; a different grid in an\n"
    "existing study folder is refused. Ctrl-C leaves only whole run folders.\n"
    "\n"
    "options:\n"
    "  --seeds LIST          seeds: N, A-B or a comma-separated list of them\n"
    "  --grid K=V1,V2,...    a grid key and its values (repeatable)\n"
    "  --set K=V             an override every cell gets (repeatable)\n"
    "  --jobs N              runs at once, a run's agent processes counted\n"
    "                        (default: the number of cores)\n"
    "  --out DIR             the study folder (default studies/NAME)\n"
    "  --no-progress         no progress bar (it is shown only on a terminal)\n"
    "  --backend slurm       submit the runs as one Slurm job array instead;\n"
    "                        the same command again collects, and resubmits\n"
    "                        only missing or failed tasks\n"
    "  --partition P, --time T, --sbatch-arg ARG\n"
    "                        passed to sbatch\n"
    "  --collect             (slurm) only collect and resubmit\n"
    "  --task N STUDY_DIR    run task N of a study (what each Slurm task does)\n"
    "\n"
    "exit status: 0 done, 1 runs failed, 2 bad arguments, 75 Slurm tasks pending,\n"
    "130 interrupted. docs/studies.md has a worked study.\n";

static volatile sig_atomic_t s_stop;

static void s_on_signal(int sig)
{
    s_stop = sig;
}

/* This program's path, so runs use the same binary. */
static int s_self(char *buf, size_t size)
{
    ssize_t n = readlink("/proc/self/exe", buf, size - 1);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    return 0;
}

static int s_mkdirs(const char *path)
{
    char buf[S_PATH_MAX];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return -1;
        if (c == '\0')
            return 0;
        *p = c;
    }
}

static bool s_exists(const char *path)
{
    return access(path, F_OK) == 0;
}

static bool s_run_complete(const study_t *s, const char *dir, size_t i)
{
    char path[S_PATH_MAX];
    study_run_dir(s, dir, i, path, sizeof path - 16);
    strcat(path, "/summary.json");
    return s_exists(path);
}

static char *s_read_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *buf = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long n = ftell(f);
        if (n >= 0 && n < (1 << 24) && fseek(f, 0, SEEK_SET) == 0 &&
            (buf = malloc((size_t)n + 1)) != NULL) {
            size_t got = fread(buf, 1, (size_t)n, f);
            buf[got] = '\0';
        }
    }
    fclose(f);
    return buf;
}

/* argv of `recarena run` for run i into args (texts hold the overrides) */
static int s_run_argv(const study_t *s, const char *self, const char *dir, size_t i,
                      char (*texts)[STUDY_OVERRIDE_MAX], char *out_dir, size_t out_size,
                      const char **args)
{
    const char *over[STUDY_MAX_SETS + STUDY_MAX_KEYS + 1];
    int n_over = study_run_overrides(s, i, texts, over);
    study_run_dir(s, dir, i, out_dir, out_size);
    int n = 0;
    args[n++] = self;
    args[n++] = "run";
    args[n++] = study_scenario(s);
    for (int k = 0; k < n_over; k++) {
        args[n++] = "--set";
        args[n++] = over[k];
    }
    args[n++] = "--out";
    args[n++] = out_dir;
    args[n++] = "--quiet";
    args[n++] = "--no-progress";
    args[n] = NULL;
    return n;
}

/* Starts run i: stdout to /dev/null, stderr to DIR/CELL/seedN.log. The pid
 * or -1. */
static pid_t s_spawn(const study_t *s, const char *self, const char *dir, size_t i)
{
    static char texts[STUDY_MAX_SETS + STUDY_MAX_KEYS + 1][STUDY_OVERRIDE_MAX];
    const char *args[2 * (STUDY_MAX_SETS + STUDY_MAX_KEYS + 1) + 10];
    char out_dir[S_PATH_MAX], log[S_PATH_MAX + 8];
    s_run_argv(s, self, dir, i, texts, out_dir, sizeof out_dir, args);
    snprintf(log, sizeof log, "%s.log", out_dir);
    char cell[S_PATH_MAX];
    snprintf(cell, sizeof cell, "%s", out_dir);
    *strrchr(cell, '/') = '\0';
    if (s_mkdirs(cell) != 0)
        return -1;
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    int null = open("/dev/null", O_RDWR);
    int err = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0666);
    if (null >= 0)
        dup2(null, STDOUT_FILENO), dup2(null, STDIN_FILENO);
    if (err >= 0)
        dup2(err, STDERR_FILENO);
    execv(self, (char *const *)args);
    _exit(127);
}

typedef struct s_job {
    pid_t pid;
    size_t run;
    int weight;
} s_job_t;

static void s_progress(size_t done, size_t total, size_t running, size_t failed, time_t start)
{
    const int width = 30;
    int filled = total ? (int)(done * width / total) : width;
    double elapsed = difftime(time(NULL), start);
    fprintf(stderr, "\r[");
    for (int i = 0; i < width; i++)
        fputc(i < filled ? '=' : (i == filled ? '>' : ' '), stderr);
    fprintf(stderr, "] %zu/%zu runs, %zu running", done, total, running);
    if (failed)
        fprintf(stderr, ", %zu failed", failed);
    if (done > 0 && done < total) {
        long eta = (long)(elapsed / (double)done * (double)(total - done));
        fprintf(stderr, ", ETA %ldm%02lds ", eta / 60, eta % 60);
    } else {
        fprintf(stderr, "            ");
    }
    fflush(stderr);
}

/* Runs the pending runs with at most jobs weight at once. Returns the
 * number that failed, or -1 when interrupted. */
static long s_local(const study_t *s, const char *dir, const int *weights, int jobs, bool progress)
{
    char self[PATH_MAX];
    if (s_self(self, sizeof self) != 0) {
        fprintf(stderr, "recarena sweep: cannot find this program (/proc/self/exe)\n");
        return -1;
    }
    size_t runs = study_run_count(s), n_seeds = study_seed_count(s);
    size_t *pending = malloc(runs * sizeof *pending), n_pending = 0;
    s_job_t *jobs_running = calloc((size_t)jobs + 1, sizeof *jobs_running);
    if (!pending || !jobs_running) {
        free(pending);
        free(jobs_running);
        fprintf(stderr, "recarena sweep: out of memory\n");
        return -1;
    }
    for (size_t i = 0; i < runs; i++)
        if (!s_run_complete(s, dir, i))
            pending[n_pending++] = i;
    struct sigaction on = {.sa_handler = s_on_signal}, old_int, old_term;
    sigemptyset(&on.sa_mask);
    s_stop = 0;
    sigaction(SIGINT, &on, &old_int);
    sigaction(SIGTERM, &on, &old_term);
    size_t next = 0, done = 0, n_running = 0;
    long failed = 0;
    int used = 0;
    bool forwarded = false;
    time_t start = time(NULL);
    while (next < n_pending || n_running > 0) {
        while (!s_stop && next < n_pending) {
            size_t i = pending[next];
            int w = weights[i / n_seeds];
            if (n_running > 0 && used + w > jobs)
                break;
            pid_t pid = s_spawn(s, self, dir, i);
            if (pid < 0) {
                fprintf(stderr, "\nrecarena sweep: cannot start run %zu: %s\n", i, strerror(errno));
                failed++;
                next++;
                continue;
            }
            jobs_running[n_running++] = (s_job_t){.pid = pid, .run = i, .weight = w};
            used += w;
            next++;
        }
        if (progress)
            s_progress(done, n_pending, n_running, (size_t)failed, start);
        if (n_running == 0)
            break;
        int status;
        pid_t pid = waitpid(-1, &status, 0);
        if (pid < 0) {
            if (errno == EINTR && s_stop && !forwarded) {
                for (size_t j = 0; j < n_running; j++)
                    kill(jobs_running[j].pid, s_stop);
                forwarded = true;
            }
            continue;
        }
        for (size_t j = 0; j < n_running; j++) {
            if (jobs_running[j].pid != pid)
                continue;
            char out_dir[S_PATH_MAX], log[S_PATH_MAX + 8];
            study_run_dir(s, dir, jobs_running[j].run, out_dir, sizeof out_dir);
            snprintf(log, sizeof log, "%s.log", out_dir);
            if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
                unlink(log);
                done++;
            } else if (!s_stop) {
                fprintf(stderr, "%srecarena sweep: run %s failed (status %d); its errors: %s\n",
                        progress ? "\n" : "", out_dir,
                        WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), log);
                failed++;
            } else {
                unlink(log);
            }
            used -= jobs_running[j].weight;
            jobs_running[j] = jobs_running[--n_running];
            break;
        }
    }
    if (progress)
        fputc('\n', stderr);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    free(pending);
    free(jobs_running);
    return s_stop ? -1 : failed;
}

/* Runs argv (argv[0] looked up in PATH), its stdout into out (size
 * bytes, '\0'-terminated). The exit status, or -1 if it did not start. */
static int s_capture(char *const *argv, char *out, size_t size)
{
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        execvp(argv[0], argv);
        fprintf(stderr, "recarena sweep: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(fds[1]);
    size_t used = 0;
    ssize_t n;
    while ((n = read(fds[0], out + used, size - 1 - used)) > 0 && used + 1 < size)
        used += (size_t)n;
    out[used] = '\0';
    close(fds[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

typedef struct s_slurm {
    const char *partition, *time;
    const char *extra[S_MAX_SBATCH_ARGS];
    int n_extra;
    bool collect;
} s_slurm_t;

/* The Slurm backend: collect, report and (re)submit what is missing.
 * Returns the exit status for sweep_main (0: all done, aggregate). */
static int s_slurm(const study_t *s, const char *dir, const s_slurm_t *o)
{
    char sdir[S_PATH_MAX + 8], job_file[S_PATH_MAX + 16], script[S_PATH_MAX + 24];
    snprintf(sdir, sizeof sdir, "%s/slurm", dir);
    snprintf(job_file, sizeof job_file, "%s/job", sdir);
    snprintf(script, sizeof script, "%s/task.sh", sdir);
    char *job = s_read_file(job_file);
    if (job) {
        job[strcspn(job, "\n")] = '\0';
        char out[65536];
        char *argv[] = {"squeue", "-h", "-j", job, "-o", "%i", NULL};
        int rc = s_capture(argv, out, sizeof out);
        size_t lines = 0;
        for (char *p = out; *p; p++)
            lines += *p == '\n';
        if (rc == 0 && lines > 0) {
            printf("recarena sweep: %zu task(s) of Slurm job %s still queued or running\n", lines,
                   job);
            free(job);
            return S_EXIT_PENDING;
        }
    }
    size_t runs = study_run_count(s);
    char *list = malloc(runs * 24 + 1);
    if (!list) {
        free(job);
        return 1;
    }
    size_t used = 0, missing = 0;
    list[0] = '\0';
    for (size_t i = 0; i < runs; i++) {
        if (s_run_complete(s, dir, i))
            continue;
        size_t j = i;
        while (j + 1 < runs && !s_run_complete(s, dir, j + 1))
            j++;
        used += (size_t)sprintf(list + used, used ? ",%zu" : "%zu", i);
        if (j > i)
            used += (size_t)sprintf(list + used, "-%zu", j);
        missing += j - i + 1;
        i = j;
    }
    if (missing == 0) {
        free(list);
        free(job);
        return 0;
    }
    if (job)
        printf("recarena sweep: %zu run(s) missing or failed after Slurm job %s: tasks %s "
               "(their output: %s/%s_TASK.out); resubmitting them\n",
               missing, job, list, sdir, job);
    free(job);
    char self[PATH_MAX], cwd[PATH_MAX], abs_dir[PATH_MAX];
    if (s_self(self, sizeof self) != 0 || !getcwd(cwd, sizeof cwd) || !realpath(dir, abs_dir) ||
        s_mkdirs(sdir) != 0) {
        fprintf(stderr, "recarena sweep: cannot prepare %s: %s\n", sdir, strerror(errno));
        free(list);
        return 1;
    }
    FILE *f = fopen(script, "w");
    if (!f ||
        fprintf(f,
                "#!/bin/sh\n# one task of the study %s: run number $SLURM_ARRAY_TASK_ID\n"
                "exec '%s' sweep --task \"$SLURM_ARRAY_TASK_ID\" '%s'\n",
                abs_dir, self, abs_dir) < 0 ||
        fclose(f) != 0) {
        fprintf(stderr, "recarena sweep: cannot write %s\n", script);
        free(list);
        return 1;
    }
    chmod(script, 0755);
    char array[64 + 24 * 1024], chdir_arg[PATH_MAX + 16], output[S_PATH_MAX + 32];
    if (strlen(list) + 16 > sizeof array) {
        fprintf(stderr, "recarena sweep: too many separate missing runs for one --array\n");
        free(list);
        return 1;
    }
    snprintf(array, sizeof array, "--array=%s", list);
    snprintf(chdir_arg, sizeof chdir_arg, "--chdir=%s", cwd);
    snprintf(output, sizeof output, "--output=%s/slurm/%%A_%%a.out", abs_dir);
    char *argv[S_MAX_SBATCH_ARGS + 16];
    int n = 0;
    char part[256], tim[256];
    argv[n++] = "sbatch";
    argv[n++] = "--parsable";
    argv[n++] = "--job-name=recarena-study";
    argv[n++] = array;
    argv[n++] = chdir_arg;
    argv[n++] = output;
    if (o->partition) {
        snprintf(part, sizeof part, "--partition=%s", o->partition);
        argv[n++] = part;
    }
    if (o->time) {
        snprintf(tim, sizeof tim, "--time=%s", o->time);
        argv[n++] = tim;
    }
    for (int k = 0; k < o->n_extra; k++)
        argv[n++] = (char *)o->extra[k];
    argv[n++] = script;
    argv[n] = NULL;
    char out[256];
    int rc = s_capture(argv, out, sizeof out);
    out[strcspn(out, ";\n")] = '\0';
    if (rc != 0 || !out[0]) {
        fprintf(stderr, "recarena sweep: sbatch failed (status %d)\n", rc);
        free(list);
        return 1;
    }
    f = fopen(job_file, "w");
    if (f) {
        fprintf(f, "%s\n", out);
        fclose(f);
    }
    printf("recarena sweep: submitted Slurm job %s: %zu task(s) (%s); run the same command "
           "again to collect\n",
           out, missing, list);
    free(list);
    return S_EXIT_PENDING;
}

/* --task N DIR: run N of the study in DIR, as the local backend would. */
static int s_task(const char *index_text, const char *dir)
{
    char path[S_PATH_MAX], err[1400], self[PATH_MAX];
    snprintf(path, sizeof path, "%s/grid.json", dir);
    char *text = s_read_file(path);
    if (!text) {
        fprintf(stderr, "recarena sweep --task: cannot read %s\n", path);
        return 2;
    }
    study_t *s = study_from_manifest(text, err, sizeof err);
    free(text);
    uint64_t index;
    if (!s) {
        fprintf(stderr, "recarena sweep --task: %s: %s\n", dir, err);
        return 2;
    }
    if (parse_uint64(index_text, study_run_count(s) - 1, &index) != 0) {
        fprintf(stderr, "recarena sweep --task: '%s' is not a run of %s (0..%zu)\n", index_text,
                dir, study_run_count(s) - 1);
        study_destroy(&s);
        return 2;
    }
    if (s_run_complete(s, dir, (size_t)index) || s_self(self, sizeof self) != 0) {
        study_destroy(&s);
        return 0;
    }
    static char texts[STUDY_MAX_SETS + STUDY_MAX_KEYS + 1][STUDY_OVERRIDE_MAX];
    const char *args[2 * (STUDY_MAX_SETS + STUDY_MAX_KEYS + 1) + 10];
    char out_dir[S_PATH_MAX];
    s_run_argv(s, self, dir, (size_t)index, texts, out_dir, sizeof out_dir, args);
    execv(self, (char *const *)args);
    fprintf(stderr, "recarena sweep --task: cannot run %s: %s\n", self, strerror(errno));
    study_destroy(&s);
    return 1;
}

int sweep_main(int argc, char **argv)
{
    study_t *s = study_new();
    char err[1400];
    const char *scenario = NULL, *out = NULL, *backend = "local";
    long jobs = sysconf(_SC_NPROCESSORS_ONLN);
    bool progress = isatty(STDERR_FILENO) != 0, seeds_given = false;
    s_slurm_t slurm = {.n_extra = 0};
    int status = 2;
    int *weights = NULL;
    char *manifest = NULL;
    if (!s) {
        fprintf(stderr, "recarena sweep: out of memory\n");
        return 1;
    }
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        int rc = 0;
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            fputs(sweep_usage, stdout);
            status = 0;
            goto done;
        } else if (strcmp(arg, "--no-progress") == 0) {
            progress = false;
            continue;
        } else if (strcmp(arg, "--collect") == 0) {
            slurm.collect = true;
            continue;
        } else if (arg[0] != '-') {
            if (scenario) {
                fprintf(stderr, "recarena sweep: one scenario only; got '%s' and '%s'\n", scenario,
                        arg);
                goto done;
            }
            scenario = arg;
            continue;
        }
        if (!value) {
            fprintf(stderr, "recarena sweep: %s needs a value\n", arg);
            goto done;
        }
        i++;
        if (strcmp(arg, "--task") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "recarena sweep: --task N STUDY_DIR\n");
                goto done;
            }
            study_destroy(&s);
            return s_task(value, argv[i + 1]);
        } else if (strcmp(arg, "--seeds") == 0) {
            rc = study_add_seeds(s, value, err, sizeof err);
            seeds_given = true;
        } else if (strcmp(arg, "--grid") == 0) {
            rc = study_add_grid(s, value, err, sizeof err);
        } else if (strcmp(arg, "--set") == 0) {
            rc = study_add_set(s, value, err, sizeof err);
        } else if (strcmp(arg, "--out") == 0) {
            out = value;
        } else if (strcmp(arg, "--backend") == 0) {
            backend = value;
        } else if (strcmp(arg, "--partition") == 0) {
            slurm.partition = value;
        } else if (strcmp(arg, "--time") == 0) {
            slurm.time = value;
        } else if (strcmp(arg, "--sbatch-arg") == 0) {
            if (slurm.n_extra == S_MAX_SBATCH_ARGS) {
                fprintf(stderr, "recarena sweep: more than %d --sbatch-arg\n", S_MAX_SBATCH_ARGS);
                goto done;
            }
            slurm.extra[slurm.n_extra++] = value;
        } else if (strcmp(arg, "--jobs") == 0) {
            uint64_t v;
            if (parse_uint64(value, 4096, &v) != 0 || v == 0) {
                fprintf(stderr,
                        "recarena sweep: --jobs: expected an integer in [1, 4096], "
                        "got '%s'\n",
                        value);
                goto done;
            }
            jobs = (long)v;
        } else {
            fprintf(stderr, "recarena sweep: unknown option '%s' (see recarena sweep --help)\n",
                    arg);
            goto done;
        }
        if (rc != 0) {
            fprintf(stderr, "recarena sweep: %s\n", err);
            goto done;
        }
    }
    if (!scenario || !seeds_given) {
        fprintf(stderr, "recarena sweep: %s\n\n%s", !scenario ? "no scenario given" : "no --seeds",
                sweep_usage);
        goto done;
    }
    if (strcmp(backend, "local") != 0 && strcmp(backend, "slurm") != 0) {
        fprintf(stderr, "recarena sweep: --backend: 'local' or 'slurm', got '%s'\n", backend);
        goto done;
    }
    if (jobs < 1)
        jobs = 1;
    if (study_set_scenario(s, scenario) != 0 || study_check_names(s, err, sizeof err) != 0) {
        fprintf(stderr, "recarena sweep: %s\n", err);
        goto done;
    }

    /* every cell's scenario, loaded and checked before anything is written */
    size_t n_cells = study_cell_count(s), n_seeds = study_seed_count(s);
    weights = malloc(n_cells * sizeof *weights);
    scenario_t *sc = malloc(sizeof *sc);
    char name[256] = "";
    if (!weights || !sc) {
        free(sc);
        fprintf(stderr, "recarena sweep: out of memory\n");
        status = 1;
        goto done;
    }
    for (size_t c = 0; c < n_cells; c++) {
        static char texts[STUDY_MAX_SETS + STUDY_MAX_KEYS + 1][STUDY_OVERRIDE_MAX];
        const char *over[STUDY_MAX_SETS + STUDY_MAX_KEYS + 1];
        int n = study_run_overrides(s, c * n_seeds, texts, over);
        if (scenario_load(sc, scenario, over, n, err, sizeof err) != 0) {
            char cell[4096];
            study_cell_name(s, c, cell, sizeof cell);
            fprintf(stderr, "recarena sweep: cell %s: %s\n", cell, err);
            free(sc);
            goto done;
        }
        weights[c] = 1;
        for (int a = 0; a < sc->n_agents; a++)
            weights[c] += sc->agents[a].command[0] != '\0';
        if (weights[c] > jobs)
            weights[c] = (int)jobs;
        if (c == 0)
            snprintf(name, sizeof name, "%s", sc->name);
    }
    free(sc);
    char dir[S_PATH_MAX];
    if (out)
        snprintf(dir, sizeof dir, "%s", out);
    else
        snprintf(dir, sizeof dir, "studies/%s", name);

    /* the manifest: the same study, or a new folder */
    manifest = study_manifest(s);
    char path[S_PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/grid.json", dir);
    char *existing = s_read_file(path);
    if (!manifest) {
        fprintf(stderr, "recarena sweep: out of memory\n");
        status = 1;
        free(existing);
        goto done;
    }
    if (existing) {
        bool same = strcmp(existing, manifest) == 0;
        free(existing);
        if (!same) {
            fprintf(stderr,
                    "recarena sweep: %s holds a different study (its grid.json differs from "
                    "this command's scenario, --set, --grid or --seeds); refusing to mix "
                    "studies: give another --out\n",
                    dir);
            goto done;
        }
    } else {
        DIR *d = opendir(dir);
        if (d) {
            struct dirent *e;
            bool empty = true;
            while ((e = readdir(d)) != NULL)
                empty = empty && (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0);
            closedir(d);
            if (!empty) {
                fprintf(stderr,
                        "recarena sweep: %s exists and is not a study folder (no grid.json); "
                        "refusing to write into it\n",
                        dir);
                goto done;
            }
        }
        FILE *f = NULL;
        if (s_mkdirs(dir) != 0 || !(f = fopen(path, "w")) || fputs(manifest, f) < 0 ||
            fclose(f) != 0) {
            fprintf(stderr, "recarena sweep: cannot write %s: %s\n", path, strerror(errno));
            status = 1;
            goto done;
        }
    }

    long failed = 0;
    if (strcmp(backend, "slurm") == 0) {
        status = s_slurm(s, dir, &slurm);
        if (status != 0)
            goto done;
    } else {
        failed = s_local(s, dir, weights, (int)jobs, progress);
        if (failed < 0) {
            fprintf(stderr, "recarena sweep: interrupted; the finished runs are kept, the same "
                            "command resumes\n");
            status = 130;
            goto done;
        }
    }
    size_t n_read = 0;
    if (study_aggregate(s, dir, stdout, &n_read, err, sizeof err) != 0) {
        fprintf(stderr, "recarena sweep: %s\n", err);
        status = 1;
        goto done;
    }
    printf("\nstudy folder: %s (%zu of %zu runs; runs.csv, study.json)\n", dir, n_read,
           study_run_count(s));
    status = failed > 0 || n_read < study_run_count(s) ? 1 : 0;
done:
    free(manifest);
    free(weights);
    study_destroy(&s);
    return status;
}
