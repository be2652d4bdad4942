/* Flows live in a chunked pool (stable addresses); an open-addressing table (linear probing,
 * backward-shift deletion) maps keys to pool indices; a doubly linked list keeps creation order,
 * which NFStream's expiry walks. */
#ifndef FS_FLOW_TABLE_H
#define FS_FLOW_TABLE_H

#include <stddef.h>
#include "flow.h"

#define FS_CHUNK_BITS 12
#define FS_CHUNK (1u << FS_CHUNK_BITS)

struct fs_slot { uint32_t idx; uint32_t tag; };

struct fs_flow_table {
  uint8_t **chunks;         /* FS_CHUNK records each, stride bytes apart */
  size_t stride;            /* bytes of one record (fs_flow_bytes) */
  uint32_t n_chunks;
  uint32_t free_head;       /* free pool entries, linked through .next */
  uint32_t pool_used;       /* entries ever handed out */
  struct fs_slot *slots;
  uint32_t mask;            /* slot count - 1 (a power of two) */
  uint32_t count;           /* live flows */
  uint32_t head, tail;      /* creation order */
  const struct fs_hash_secret *seed;  /* the process's: keys are hashed with it */
};

/* record_bytes: fs_flow_bytes() of the options in use */
int fs_table_init(struct fs_flow_table *t, size_t record_bytes);
void fs_table_free(struct fs_flow_table *t);
static inline struct fs_flow *fs_table_flow(const struct fs_flow_table *t, uint32_t idx) {
  return (struct fs_flow *)(t->chunks[idx >> FS_CHUNK_BITS] + (size_t)(idx & (FS_CHUNK - 1)) * t->stride);
}
uint32_t fs_table_find(const struct fs_flow_table *t, const struct fs_flow_key *k, uint64_t hash);
/* A zeroed flow with key and hash set, appended to the creation order; FS_NIL when out of memory. */
uint32_t fs_table_insert(struct fs_flow_table *t, const struct fs_flow_key *k, uint64_t hash);
/* Unlinks and frees the pool entry (the caller has copied out what it needs). */
void fs_table_remove(struct fs_flow_table *t, uint32_t idx);
size_t fs_table_memory(const struct fs_flow_table *t);

#endif
