{
  "targets": [
    {
      "target_name": "flowseek",
      "sources": [
        "native/addon.c", "native/addon_options.c", "native/addon_system.c", "native/run.c", "native/batch.c", "native/batch_columns.c", "native/source.c", "native/source_live.c", "native/source_mmap.c", "native/meter.c", "native/flow_expire.c",
        "native/flow_table.c", "native/flow_key.c", "native/flow_features.c", "native/flow_extra.c", "native/community_id.c", "native/crypto.c", "native/events.c",
        "native/decode.c", "native/decode_ethernet.c", "native/decode_vlan.c", "native/decode_mpls.c",
        "native/decode_pppoe.c", "native/decode_sll.c", "native/decode_null.c", "native/decode_ppp.c",
        "native/decode_radiotap.c", "native/decode_ipv4.c", "native/decode_ipv6.c",
        "native/decode_transport.c", "native/decode_tunnel.c", "native/dpi.c", "native/ja4.c", "native/quic_initial.c",
        "native/compress.c", "native/privileges.c", "native/sockdiag.c", "native/spread.c"
      ],
      "cflags_c": ["-std=c11", "-D_GNU_SOURCE", "-O2", "-Wall", "-Wextra", "-Wshadow", "-Wno-unused-parameter"],
      "libraries": ["-lpcap", "-lndpi", "-lcrypto", "-lzstd", "-lsnappy", "-lm"],
      "conditions": [
        ["'<!(echo $FLOWSEEK_SANITIZE)'=='1'", {
          "cflags_c": ["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-O1", "-g"],
          "ldflags": ["-fsanitize=address,undefined"]
        }]
      ]
    }
  ]
}
