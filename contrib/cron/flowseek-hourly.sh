#!/bin/sh
# Reads the hourly captures a rotating capturer leaves (tcpdump -G 3600 -w 'DIR/IFACE-%Y%m%d-%H.pcap')
# into one Parquet dataset, an hour at a time, once each. Run from cron under flock (flowseek-hourly.cron):
# a run still going makes the next one skip; a skipped or failed hour is taken by a later run, up to
# LOOKBACK hours back. The current hour is never read: its file is still being written.
#
# The dataset only ever gains whole hours: each hour is read into a staging folder and its parts
# moved in when flowseek exits 0 or 1. Exit codes of flowseek read:
#   0    every flow written                      -> parts moved in, hour marked done
#   1    a capture cut short or damaged (warnings only): the flows before the cut are written
#                                                -> parts moved in, hour marked done, the message
#                                                   stays on stderr (cron mails it); with no part
#                                                   at all (an unwritable folder?) read again later
#   1    with a "flowseek: error:" line: the run itself failed (a worker killed, a plugin failing):
#        flows are missing                       -> nothing moved in; a later run reads the hour again
#   2    a usage error (a bad option here)       -> nothing moved in; this script exits 2
#   130  interrupted (shutdown)                  -> nothing moved in; a later run reads the hour again
set -u
PCAP_DIR=${PCAP_DIR:-/var/spool/flowseek/pcap}
PCAP_PREFIX=${PCAP_PREFIX:-eth0-}
DATASET=${DATASET:-/var/lib/flowseek/dataset}
STATE=${STATE:-/var/lib/flowseek/hourly-state}
LOOKBACK=${LOOKBACK:-6}
FLOWSEEK=${FLOWSEEK:-flowseek}
FLOWSEEK_OPTIONS=${FLOWSEEK_OPTIONS:---stats}

mkdir -p "$DATASET" "$STATE" || exit 1
run=$(date -u +%Y%m%dT%H%M%S)-$$ # with the pid: an hour read again in the same second gets new names
status=0
h=$LOOKBACK
while [ "$h" -ge 1 ]; do
  hour=$(date -d "$h hours ago" +%Y%m%d-%H) # local time, as tcpdump -G names its files
  h=$((h - 1))
  pcap="$PCAP_DIR/$PCAP_PREFIX$hour.pcap"
  [ -f "$pcap" ] && [ ! -e "$STATE/$hour.done" ] || continue
  staging="$STATE/staging-$hour"
  rm -rf "$staging"
  # shellcheck disable=SC2086 # FLOWSEEK_OPTIONS is a list of options
  "$FLOWSEEK" read "$pcap" -o "$staging" --partition hour -q $FLOWSEEK_OPTIONS 2> "$STATE/stderr-$hour"
  rc=$?
  cat "$STATE/stderr-$hour" >&2
  # an error line (not the warnings of a damaged capture) is a run that failed: its flows are incomplete
  failed=$(grep -c '^flowseek: error:' "$STATE/stderr-$hour")
  rm -f "$STATE/stderr-$hour"
  if [ "$rc" = 1 ] && [ "$failed" -gt 0 ]; then
    rm -rf "$staging"; echo "flowseek-hourly: $pcap: the read failed (above); the hour will be read again" >&2; status=1; continue
  fi
  case $rc in
    0|1)
      # exit 1 with no part at all may be an output that could not be written: tried again later
      if [ "$rc" = 1 ] && [ -z "$(find "$staging" -name '*.parquet' 2>/dev/null)" ]; then
        rm -rf "$staging"; echo "flowseek-hourly: $pcap: nothing written (above); the hour will be read again" >&2; status=1; continue
      fi
      # an hour without a flow leaves no part and no schema: nothing to add (its missing schema read as
      # other columns, kept the hour out, and stopped every later hour behind it)
      if [ -z "$(find "$staging" -name '*.parquet' 2>/dev/null)" ]; then
        rm -rf "$staging"; touch "$STATE/$hour.done"; continue
      fi
      # the dataset keeps one schema (flowseek records it beside the parts): the first hour brings
      # it, a later hour with other columns (FLOWSEEK_OPTIONS changed) is kept out, in staging
      record=_flowseek_schema.json
      if [ -e "$DATASET/$record" ]; then
        cmp -s "$staging/$record" "$DATASET/$record" ||
          { echo "flowseek-hourly: $staging kept: its columns differ from those of $DATASET ($record)" >&2; exit 1; }
        rm -f "$staging/$record"
      else
        mkdir -p "$DATASET" && mv "$staging/$record" "$DATASET/$record"
      fi
      # part names carry the capture's hour and this run's time: never the name of a part already there
      (cd "$staging" && find . -name '*.parquet') | while read -r part; do
        dest="$DATASET/$(dirname "$part")/$hour-$run-$(basename "$part")"
        mkdir -p "$(dirname "$dest")" && [ ! -e "$dest" ] && mv "$staging/$part" "$dest" ||
          echo "flowseek-hourly: could not move $part into $DATASET (kept in $staging)" >&2
      done
      [ -z "$(find "$staging" -type f)" ] || { echo "flowseek-hourly: $staging kept: parts not moved" >&2; exit 1; }
      rm -rf "$staging"
      touch "$STATE/$hour.done"
      [ "$rc" = 1 ] && echo "flowseek-hourly: $pcap read with errors (above); its flows up to the error are in $DATASET" >&2 && status=1 ;;
    2) rm -rf "$staging"; echo "flowseek-hourly: usage error (FLOWSEEK_OPTIONS?); nothing written" >&2; exit 2 ;;
    *) rm -rf "$staging"; echo "flowseek-hourly: $pcap: flowseek exited $rc; the hour will be read again" >&2; exit "$rc" ;;
  esac
done
exit "$status"
