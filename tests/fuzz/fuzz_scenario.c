/* libFuzzer target: the scenario parser (sim/scenario.h) with --set
 * overrides, on any bytes.
 *
 * Input: INI text, then optionally a line "%%" followed by one override
 * ("section.key=value") per line, as `recarena run --set` would pass them.
 * Property: loading never crashes or leaks; a scenario that loads writes
 * out (the resolved scenario.ini of a run folder) as text that loads back
 * and writes out to the very same text. */
#define _GNU_SOURCE /* open_memstream */
#include "sim/scenario.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define S_MAX_OVERRIDES 16

/* The resolved text of sc, malloc'ed; NULL if it cannot be written. */
static char *s_write(const scenario_t *sc, size_t *len)
{
    char *text = NULL;
    FILE *f = open_memstream(&text, len);
    if (!f)
        return NULL;
    int rc = scenario_write(sc, f);
    fclose(f);
    if (rc != 0) {
        free(text);
        return NULL;
    }
    return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16)
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    if (strlen(text) != size) { /* an INI file holds no NUL */
        free(text);
        return 0;
    }
    const char *overrides[S_MAX_OVERRIDES];
    int n_overrides = 0;
    char *split = strstr(text, "\n%%\n");
    if (split) {
        *split = '\0';
        for (char *line = strtok(split + 4, "\n"); line && n_overrides < S_MAX_OVERRIDES;
             line = strtok(NULL, "\n"))
            overrides[n_overrides++] = line;
    }

    scenario_t *sc = calloc(2, sizeof *sc);
    char err[512];
    if (sc && scenario_load_string(&sc[0], text, "fuzz.ini", overrides, n_overrides, err,
                                   sizeof err) == 0) {
        size_t len1 = 0, len2 = 0;
        char *once = s_write(&sc[0], &len1);
        if (!once)
            abort();
        if (scenario_load_string(&sc[1], once, "fuzz.ini", NULL, 0, err, sizeof err) != 0)
            abort(); /* the resolved scenario must load back */
        char *twice = s_write(&sc[1], &len2);
        if (!twice || len1 != len2 || memcmp(once, twice, len1) != 0)
            abort();
        free(once);
        free(twice);
    }
    free(sc);
    free(text);
    return 0;
}
