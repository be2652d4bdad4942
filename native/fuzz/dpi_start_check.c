/* nDPI modules started on several threads at once, as lanes opened together start theirs
 * (openLanes): each thread waits at a barrier, then starts a module and frees it. nDPI's start
 * initialised libgcrypt, which is not safe on threads at once (it aborted about one process in
 * fifty to a hundred): every module start is checked (ndpi_init_detection_module is wrapped at
 * link time, -Wl,--wrap) to find libgcrypt initialised already and nDPI told to leave it, and
 * test/56 also runs this in many fresh processes.
 * Usage: dpi_start_check THREADS   (prints "started N", exit 0; 4: a module would initialise it) */
#include <gcrypt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <ndpi/ndpi_api.h>
#include "../dpi.h"

struct ndpi_detection_module_struct *__real_ndpi_init_detection_module(ndpi_init_prefs prefs);
struct ndpi_detection_module_struct *__wrap_ndpi_init_detection_module(ndpi_init_prefs prefs) {
  if (!(prefs & ndpi_dont_init_libgcrypt) || !gcry_control(GCRYCTL_INITIALIZATION_FINISHED_P)) {
    fprintf(stderr, "an nDPI module would initialise libgcrypt itself, on threads at once\n");
    exit(4);
  }
  return __real_ndpi_init_detection_module(prefs);
}

static pthread_barrier_t together;

static void *start(void *arg) {
  pthread_barrier_wait(&together);
  struct fs_dpi_module *m = fs_dpi_module_new(20);
  if (!m) { fprintf(stderr, "an nDPI module did not start\n"); exit(3); }
  fs_dpi_module_free(m);
  return arg;
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 4;
  if (n < 1 || n > 64) { fprintf(stderr, "usage: dpi_start_check THREADS (1 to 64)\n"); return 2; }
  pthread_t threads[64];
  pthread_barrier_init(&together, NULL, (unsigned)n);
  for (int i = 0; i < n; i++) {
    if (pthread_create(&threads[i], NULL, start, NULL) != 0) { perror("pthread_create"); return 1; }
  }
  for (int i = 0; i < n; i++) pthread_join(threads[i], NULL);
  printf("started %d\n", n);
  return 0;
}
