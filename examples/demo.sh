#!/bin/sh
# examples/demo.sh - the README's tour: build the founding scenario's two
# maps with mapctl and read them back. Usage: examples/demo.sh [MAPCTL]
set -eu
mapctl=${1:-mapctl}
here=$(cd "$(dirname "$0")" && pwd)
cfg=$here/postfix
chmod 600 "$cfg/sasl_passwd"   # git does not keep modes; a secret stays 0600
set -x
"$mapctl" build -c "$cfg" "$cfg/sender_relay" "$cfg/sasl_passwd"
"$mapctl" query -c "$cfg" "$cfg/sender_relay" patch-alert@ses-test.example.com
"$mapctl" query -c "$cfg" "$cfg/sasl_passwd" '[smtp.example.net]:587' >/dev/null
"$mapctl" dump -c "$cfg" "$cfg/sender_relay"
"$mapctl" query sender -c "$cfg" patch-alert@ses-test.example.com someone-else@example.com
ls -l "$cfg/sender_relay.lmdb" "$cfg/sasl_passwd.lmdb"
