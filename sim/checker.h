/* The conformance checker: `recarena check-agent -- COMMAND ...` starts an
 * agent command against a scripted server and runs a battery of cases
 * (handshake, version refusal, empty batch, catalog changes, episode
 * reset, deadline pressure, ERRORs and unknown messages it must survive,
 * PING, JOINT, clean BYE). Each case starts the agent afresh, prints one
 * PASS/FAIL line with the reason, and the exit status says whether all
 * passed. docs/agents.md, "Checking an agent", lists the cases. */
#ifndef RECARENA_CHECKER_H
#define RECARENA_CHECKER_H

#include <stdbool.h>

typedef struct checker_options {
    const char *command;  /* run through /bin/sh -c, RECARENA_ENDPOINT/_AGENT_NAME set */
    const char *name;     /* the agent name the checker expects in HELLO */
    int hello_timeout_ms; /* time to say HELLO after starting */
    int step_timeout_ms;  /* deadline_ms of the STEPs (deadline case: its own) */
    const char *only;     /* run only the case with this name; NULL: all */
    bool verbose;         /* show the agent's output of failed cases */
} checker_options_t;

/* Runs the cases; prints a line per case and a summary on stdout.
 * Returns the number of failed cases, or -1 when the checker itself
 * could not start (a message on stderr). */
int checker_run(const checker_options_t *opt);

/* Names of the cases, NULL-terminated (for --help and --case). */
const char *const *checker_case_names(void);

#endif
