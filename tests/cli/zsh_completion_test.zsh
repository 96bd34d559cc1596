#!/bin/zsh -f
# zsh_completion_test.zsh - types command lines and TAB into an interactive
# zsh (zpty) that has tools/completion/_mapctl on its fpath, and compares
# the matches offered with the expected ones.
# Usage: zsh_completion_test.zsh MAPCTL COMPLETION_DIR
# compadd is wrapped to record what each completion adds. A line is done
# when a command typed after it has printed its marker, so nothing waits a
# fixed time.
zmodload zsh/zpty || { print "no zsh/zpty: skipped"; exit 77 }
mapctl=${1:A}
completion_dir=${2:A}

tmp=$(mktemp -d) || exit 1
trap 'zpty -d z 2>/dev/null; rm -rf $tmp' EXIT
cd $tmp
touch sender_relay sender_relay.lmdb sasl_passwd
mkdir conf
cap=$tmp/capture

zpty z zsh -f -i
zpty -w z "PS1='> '; PATH=${mapctl:h}:\$PATH; fpath=($completion_dir \$fpath)"
zpty -w z "autoload -U compinit; compinit -u -D"
# -O/-A/-D calls only sort or filter candidates; record real additions.
zpty -w z "compadd() { local -a m; if [[ \${argv[(I)-[OAD]]} -eq 0 ]]; then builtin compadd -O m \"\$@\"; print -rl -- \$m >>$cap; fi; builtin compadd \"\$@\"; }"

integer n=0
# complete LINE: prints the sorted matches TAB offers after LINE.
complete() {
  : >$cap
  (( n++ ))
  # TAB, then ^U (kill the line), then a command that prints a marker.
  zpty -n -w z "$1"$'\t'$'\x15'"print -r -- __DO''NE$n"$'\n'
  local out="" chunk
  integer tries=0
  while [[ $out != *__DONE$n* ]] && (( tries++ < 400 )); do
    if zpty -r -t z chunk; then out+=$chunk; else sleep 0.05; fi
  done
  [[ $out == *__DONE$n* ]] || print -r -- "(timed out)"
  sed '/^$/d' $cap | sort -u | tr '\n' ' ' | sed 's/ $//'
}

integer passed=0 failed=0
# expect NAME LINE MATCH...
expect() {
  local name=$1 line=$2
  shift 2
  local got=$(complete $line) want=${(j: :)${(ou)@}}
  if [[ $got == $want ]]; then
    print -r -- "ok   $name"
    (( passed++ ))
  else
    print -r -- "FAIL $name"
    print -r -- "    line: '$line'"
    print -r -- "    got:  $got"
    print -r -- "    want: $want"
    (( failed++ ))
  fi
}

complete "mapctl " >/dev/null  # the first TAB can arrive before zle runs

expect "the first word is a subcommand" "mapctl " \
  build check convert diff dump query verify whatif
expect "a prefix completes to its subcommand" "mapctl bu" build
expect "query's first word may be sender, a type or a file" "mapctl query se" \
  sender sender_relay sender_relay.lmdb
expect "build offers the writable types" "mapctl build l" lmdb
expect "a TYPE: prefix completes files after it" "mapctl dump lmdb:sen" \
  sender_relay sender_relay.lmdb
expect "query sender has its own options" "mapctl query sender --ex" --explain
expect "whatif has its own options" "mapctl whatif --so" --sources-only
expect "--disable offers check names" "mapctl check --disable re" \
  relay-credentials
expect "--relay-maps offers table list types" "mapctl check --relay-maps in" \
  inline
expect "-c completes directories" "mapctl build -c c" conf

print "$passed passed, $failed failed"
(( failed == 0 ))
