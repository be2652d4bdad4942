#include <stdlib.h>
#include <string.h>
#include "flow_table.h"

#define INITIAL_SLOTS 4096u

int fs_table_init(struct fs_flow_table *t, size_t record_bytes) {
  memset(t, 0, sizeof(*t));
  t->stride = record_bytes;
  t->slots = malloc(sizeof(*t->slots) * INITIAL_SLOTS);
  if (!t->slots) return -1;
  for (uint32_t i = 0; i < INITIAL_SLOTS; i++) t->slots[i].idx = FS_NIL;
  t->mask = INITIAL_SLOTS - 1;
  t->free_head = t->head = t->tail = FS_NIL;
  t->seed = fs_flow_hash_secret();
  return 0;
}

void fs_table_free(struct fs_flow_table *t) {
  for (uint32_t i = 0; i < t->n_chunks; i++) free(t->chunks[i]);
  free(t->chunks);
  free(t->slots);
  memset(t, 0, sizeof(*t));
}

uint32_t fs_table_find(const struct fs_flow_table *t, const struct fs_flow_key *k, uint64_t hash) {
  uint32_t tag = (uint32_t)(hash >> 32);
  for (uint32_t i = (uint32_t)hash & t->mask;; i = (i + 1) & t->mask) {
    const struct fs_slot *s = &t->slots[i];
    if (s->idx == FS_NIL) return FS_NIL;
    if (s->tag == tag) {
      const struct fs_flow *f = fs_table_flow(t, s->idx);
      if (f->hash == hash && fs_flow_key_equal(&f->key, k)) return s->idx;
    }
  }
}

static void slot_put(struct fs_slot *slots, uint32_t mask, uint32_t idx, uint64_t hash) {
  uint32_t i = (uint32_t)hash & mask;
  /* grow_slots set all n slots; the analyzer takes its loop to end after one, which an even n
   * never does. NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult) */
  while (slots[i].idx != FS_NIL) i = (i + 1) & mask;
  slots[i].idx = idx;
  slots[i].tag = (uint32_t)(hash >> 32);
}

static int grow_slots(struct fs_flow_table *t) {
  uint32_t n = (t->mask + 1) * 2;
  struct fs_slot *s = malloc(sizeof(*s) * n);
  if (!s) return -1;
  for (uint32_t i = 0; i < n; i++) s[i].idx = FS_NIL;
  for (uint32_t i = 0; i <= t->mask; i++)
    if (t->slots[i].idx != FS_NIL) slot_put(s, n - 1, t->slots[i].idx, fs_table_flow(t, t->slots[i].idx)->hash);
  free(t->slots);
  t->slots = s;
  t->mask = n - 1;
  return 0;
}

static uint32_t pool_take(struct fs_flow_table *t) {
  if (t->free_head != FS_NIL) {
    uint32_t idx = t->free_head;
    t->free_head = fs_table_flow(t, idx)->next;
    return idx;
  }
  if (t->pool_used == t->n_chunks * FS_CHUNK) {
    if (t->n_chunks >= (FS_NIL >> FS_CHUNK_BITS) - 1) return FS_NIL;
    uint8_t **c = realloc(t->chunks, sizeof(*c) * (t->n_chunks + 1));
    if (!c) return FS_NIL;
    t->chunks = c;
    c[t->n_chunks] = malloc(t->stride * FS_CHUNK);
    if (!c[t->n_chunks]) return FS_NIL;
    t->n_chunks++;
  }
  return t->pool_used++;
}

uint32_t fs_table_insert(struct fs_flow_table *t, const struct fs_flow_key *k, uint64_t hash) {
  if ((t->count + 1) * 2 > t->mask + 1 && grow_slots(t) != 0) return FS_NIL; /* load <= 1/2 */
  uint32_t idx = pool_take(t);
  if (idx == FS_NIL) return FS_NIL;
  struct fs_flow *f = fs_table_flow(t, idx);
  memset(f, 0, t->stride);
  f->key = *k;
  f->hash = hash;
  f->prev = t->tail;
  f->next = FS_NIL;
  if (t->tail != FS_NIL) fs_table_flow(t, t->tail)->next = idx; else t->head = idx;
  t->tail = idx;
  slot_put(t->slots, t->mask, idx, hash);
  t->count++;
  return idx;
}

void fs_table_remove(struct fs_flow_table *t, uint32_t idx) {
  struct fs_flow *f = fs_table_flow(t, idx);
  uint32_t mask = t->mask, i = (uint32_t)f->hash & mask;
  while (t->slots[i].idx != idx) i = (i + 1) & mask;
  /* backward-shift deletion keeps every probe chain unbroken without tombstones */
  for (uint32_t j = i;;) {
    j = (j + 1) & mask;
    if (t->slots[j].idx == FS_NIL) break;
    uint32_t home = (uint32_t)fs_table_flow(t, t->slots[j].idx)->hash & mask;
    int stays = (i <= j) ? (i < home && home <= j) : (i < home || home <= j);
    if (stays) continue;
    t->slots[i] = t->slots[j];
    i = j;
  }
  t->slots[i].idx = FS_NIL;
  if (f->prev != FS_NIL) fs_table_flow(t, f->prev)->next = f->next; else t->head = f->next;
  if (f->next != FS_NIL) fs_table_flow(t, f->next)->prev = f->prev; else t->tail = f->prev;
  f->next = t->free_head;
  f->uid = 0;
  t->free_head = idx;
  t->count--;
}

size_t fs_table_memory(const struct fs_flow_table *t) {
  return (size_t)t->n_chunks * FS_CHUNK * t->stride + (size_t)(t->mask + 1) * sizeof(struct fs_slot);
}
