/* A catalog from files (world.catalog, world.item_embeddings): a CSV of
 * items (id, title or text, topic, provider, quality) and their
 * embeddings (.npy float32, memory-mapped, or CSV), checked whole and
 * turned into a world_catalog_t for world_new_catalog. Embeddings wider
 * than world.dim are reduced by PCA; items without topics get them from
 * k-means (sim/pca.h). Loading happens before a run writes anything, so
 * a bad file stops the run with one message naming the file and row. */
#ifndef RECARENA_CATALOG_FILE_H
#define RECARENA_CATALOG_FILE_H

#include "sim/world.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct catalog_file catalog_file_t;

/* True when cfg names a catalog or embeddings file. */
bool catalog_file_wanted(const world_config_t *cfg);

/* Loads cfg->catalog and/or cfg->item_embeddings (at least one set) for
 * the first cfg->n_items rows; seed seeds k-means. Returns 0 and *out
 * (caller owns it), or a negative ERR_* code with one message in err:
 * "world.catalog: FILE:LINE: ..." (CSV) or "world.item_embeddings: FILE:
 * row R: ..." (.npy, rows from 0). Errors: ERR_EIO (cannot read),
 * ERR_EFORMAT (malformed file, NaN or inf, duplicate or mismatched ids),
 * ERR_ESHAPE (rows or dimension do not fit the world), ERR_ENOMEM. */
int catalog_file_load(catalog_file_t **out, const world_config_t *cfg, uint64_t seed, char *err,
                      size_t err_len);
void catalog_file_destroy(catalog_file_t **self_p);

/* The loaded items as world_new_catalog takes them (borrowed; valid
 * while c lives). */
const world_catalog_t *catalog_file_world(const catalog_file_t *c);

/* Item id's title or text, or NULL when the catalog has none (borrowed). */
const char *catalog_file_title(const catalog_file_t *c, int32_t id);
bool catalog_file_has_titles(const catalog_file_t *c);

/* Item id's id as the file writes it (borrowed), or NULL without a CSV. */
const char *catalog_file_id(const catalog_file_t *c, int32_t id);

/* Topic t's name from the file, or NULL when topics came from k-means. */
const char *catalog_file_topic_name(const catalog_file_t *c, int32_t t);

/* Columns of the embeddings file before PCA. */
int catalog_file_input_dim(const catalog_file_t *c);

#endif
