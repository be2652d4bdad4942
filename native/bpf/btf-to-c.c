/* Writes the kernel's types (its BTF, /sys/kernel/btf/vmlinux) as a C header, vmlinux.h, for
 * CO-RE programs: what `bpftool btf dump file /sys/kernel/btf/vmlinux format c` does, for a build
 * machine without bpftool. Run by scripts/build-bpf.sh; not part of the addon. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <bpf/btf.h>

static void print(void *ctx, const char *fmt, va_list args) {
  vfprintf((FILE *)ctx, fmt, args);
}

int main(int argc, char **argv) {
  const char *path = argc > 1 ? argv[1] : "/sys/kernel/btf/vmlinux";
  struct btf *btf = btf__parse(path, NULL);
  if (!btf) {
    fprintf(stderr, "btf-to-c: cannot read %s: %s\n", path, strerror(errno));
    return 1;
  }
  struct btf_dump *d = btf_dump__new(btf, print, stdout, NULL);
  if (!d) {
    fprintf(stderr, "btf-to-c: %s\n", strerror(errno));
    return 1;
  }
  printf("#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\n\n");
  printf("#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n#endif\n\n");
  for (__u32 id = 1, n = btf__type_cnt(btf); id < n; id++) {
    int err = btf_dump__dump_type(d, id);
    if (err) {
      fprintf(stderr, "btf-to-c: type %u: %s\n", id, strerror(-err));
      return 1;
    }
  }
  printf("\n#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute pop\n#endif\n\n#endif /* __VMLINUX_H__ */\n");
  btf_dump__free(d);
  btf__free(btf);
  return 0;
}
