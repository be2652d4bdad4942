{
  "targets": [
    {
      "target_name": "flowseek",
      "sources": ["<!@(ls native/*.c native/*.cc)"],
      "cflags_c": ["-std=c11", "-D_GNU_SOURCE", "-O2", "-Wall", "-Wextra", "-Wshadow", "-Wno-unused-parameter"],
      "cflags_cc": ["-O2", "-Wall", "-Wextra"],
      # double-conversion from its static archive by name (-l:), no library more to install where the addon runs; not
      # -Bstatic: gyp drops a repeated flag, which would undo the static nDPI below
      "libraries": ["-lpcap", "-lcrypto", "-lzstd", "-lsnappy", "-l:libdouble-conversion.a"],
      "conditions": [
        # FLOWSEEK_STATIC_NDPI=1 (the prebuilt addon): nDPI from its static archive, so the addon
        # runs where no libndpi is installed; libgcrypt is what nDPI itself needs (and native/dpi.c
        # initialises, once, for every nDPI module)
        ["'<!(echo ${FLOWSEEK_STATIC_NDPI:-0})'=='1'", {
          "libraries": ["-Wl,-Bstatic", "-lndpi", "-Wl,-Bdynamic", "-lgcrypt", "-lm"]
        }, {
          "libraries": ["-lndpi", "-lgcrypt", "-lm"]
        }],
        ["'<!(test -f build-bpf/sockevents.bpf.inc && echo 1 || echo 0)'=='1'", {
          "defines": ["FS_HAVE_BPF"], "include_dirs": ["build-bpf"], "libraries": ["-lbpf"]
        }],
        ["'<!(echo $FLOWSEEK_SANITIZE)'=='1'", {
          "cflags_c": ["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-O1", "-g"],
          "ldflags": ["-fsanitize=address,undefined"]
        }]
      ]
    }
  ]
}
