/* Agent processes (launcher.h). */
#include "sim/launcher.h"

#include "core/err.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct s_child {
    char name[64];
    pid_t pid;
    bool running;
} s_child_t;

struct launcher {
    s_child_t children[LAUNCHER_MAX_CHILDREN];
    int n;
};

launcher_t *launcher_new(void)
{
    return calloc(1, sizeof(launcher_t));
}

static void s_sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void s_describe(const s_child_t *c, int status, char *note, size_t note_len)
{
    if (WIFEXITED(status))
        snprintf(note, note_len, "agent %s exited with status %d", c->name, WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(note, note_len, "agent %s was killed by signal %d", c->name, WTERMSIG(status));
    else
        snprintf(note, note_len, "agent %s ended", c->name);
}

int launcher_poll(launcher_t *l, char *note, size_t note_len)
{
    int ended = 0;
    for (int i = 0; i < l->n; i++) {
        s_child_t *c = &l->children[i];
        int status;
        if (!c->running || waitpid(c->pid, &status, WNOHANG) != c->pid)
            continue;
        c->running = false;
        if (ended++ == 0 && note)
            s_describe(c, status, note, note_len);
    }
    return ended;
}

bool launcher_running(const launcher_t *l, const char *name)
{
    for (int i = 0; i < l->n; i++)
        if (l->children[i].running && strcmp(l->children[i].name, name) == 0)
            return true;
    return false;
}

/* True if "exec COMMAND" means COMMAND: one command, no shell syntax
 * that needs the shell to stay (lists, pipes, subshells, braces, a
 * leading VAR=value assignment or a shell keyword). */
static bool s_simple_command(const char *command)
{
    if (strpbrk(command, ";&|`(){}\n") != NULL)
        return false;
    const char *first = command + strspn(command, " \t");
    size_t len = strcspn(first, " \t");
    if (len == 0 || memchr(first, '=', len) != NULL)
        return false;
    static const char *const keywords[] = {"if",   "for", "while", "until",  "case",
                                           "exec", "cd",  "!",     "export", "set"};
    for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++)
        if (strlen(keywords[i]) == len && strncmp(first, keywords[i], len) == 0)
            return false;
    return true;
}

/* OpenBLAS picks its kernels by CPU (Haswell's on this project's AVX2
 * machines, SkylakeX's on an AVX-512 Intel), and kernels differ in
 * summation order, so the same seed would train a BLAS-using agent
 * (MADDPG, DQN, MF) to other weights on another CPU. Agent processes get
 * the Haswell kernels wherever the CPU has them (AVX2 and FMA), unless
 * the user set OPENBLAS_CORETYPE: the same seed gives the same run on any
 * such x86-64 machine. */
static const char *s_blas_coretype(void)
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return "Haswell";
#endif
    return NULL;
}

int launcher_spawn(launcher_t *l, const char *name, const char *command, const char *endpoint,
                   const char *log_path, char *err, size_t err_len)
{
    if (l->n == LAUNCHER_MAX_CHILDREN) {
        snprintf(err, err_len, "agent %s: more than %d agent processes", name,
                 LAUNCHER_MAX_CHILDREN);
        return ERR_ELIMIT;
    }
    int log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
    if (log_fd < 0) {
        snprintf(err, err_len, "agent %s: cannot open %s: %s", name, log_path, strerror(errno));
        return ERR_EIO;
    }
    /* a simple command is run as "exec COMMAND": the shell becomes the
     * agent, so the agent itself holds PR_SET_PDEATHSIG (set below, kept
     * across exec) and dies with a killed server. A command the shell
     * must stay for (a list, a pipe, a subshell, leading assignments)
     * runs as given: then the agent's SDK gives up on a silent server. */
    char *exec_form = NULL;
    if (s_simple_command(command)) {
        size_t len = strlen(command) + sizeof "exec ";
        exec_form = malloc(len);
        if (exec_form)
            snprintf(exec_form, len, "exec %s", command);
    }
    const char *coretype = s_blas_coretype();
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, err_len, "agent %s: cannot fork: %s", name, strerror(errno));
        free(exec_form);
        close(log_fd);
        return ERR_EIO;
    }
    if (pid == 0) {
        /* child: own process group, so a terminal's Ctrl-C reaches the
         * server, which then ends its agents itself */
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGTERM); /* never outlive a killed server */
        dup2(log_fd, STDOUT_FILENO);
        dup2(log_fd, STDERR_FILENO);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0)
            dup2(devnull, STDIN_FILENO);
        setenv("RECARENA_ENDPOINT", endpoint, 1);
        setenv("RECARENA_AGENT_NAME", name, 1);
        if (coretype)
            setenv("OPENBLAS_CORETYPE", coretype, 0); /* the user's choice stands */
        execl("/bin/sh", "sh", "-c", exec_form ? exec_form : command, (char *)NULL);
        fprintf(stderr, "recarena: cannot run /bin/sh: %s\n", strerror(errno));
        _exit(127);
    }
    free(exec_form);
    close(log_fd);
    s_child_t *c = &l->children[l->n++];
    snprintf(c->name, sizeof c->name, "%s", name);
    c->pid = pid;
    c->running = true;
    return 0;
}

/* Waits up to ms for every child to end; true if none is left. */
static bool s_wait_all(launcher_t *l, int ms)
{
    for (int waited = 0;; waited += 10) {
        launcher_poll(l, NULL, 0);
        bool any = false;
        for (int i = 0; i < l->n; i++)
            any = any || l->children[i].running;
        if (!any)
            return true;
        if (waited >= ms)
            return false;
        s_sleep_ms(10);
    }
}

void launcher_destroy(launcher_t **self_p, int grace_ms)
{
    if (!self_p || !*self_p)
        return;
    launcher_t *l = *self_p;
    /* first let them end on their own (they were just told BYE), then ask
     * (SIGTERM, after SIGCONT: a stopped child cannot act on it), then
     * insist */
    if (!s_wait_all(l, grace_ms)) {
        for (int i = 0; i < l->n; i++) {
            if (!l->children[i].running)
                continue;
            kill(-l->children[i].pid, SIGCONT);
            kill(-l->children[i].pid, SIGTERM);
        }
        s_wait_all(l, 1000);
    }
    for (int i = 0; i < l->n; i++) {
        if (!l->children[i].running)
            continue;
        kill(-l->children[i].pid, SIGKILL);
        waitpid(l->children[i].pid, NULL, 0);
        l->children[i].running = false;
    }
    free(l);
    *self_p = NULL;
}
