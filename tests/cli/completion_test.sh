#!/bin/bash
# completion_test.sh - sources bash-completion and mapctl's completion, then
# checks COMPREPLY for a few command lines, as readline would split them.
# Usage: completion_test.sh MAPCTL COMPLETION_FILE CHECKS_MD
# The option lists must equal `mapctl COMMAND --help`, and the check names
# the headings of docs/checks.md, so that neither can drift. Exit 77
# (skipped) without bash-completion.
set -u
# Absolute: the test runs in its own directory.
mapctl=$(realpath "$1")
completion=$(realpath "$2")
checks_md=$(realpath "$3")
"$mapctl" --help >/dev/null || { echo "cannot run $mapctl --help"; exit 1; }

bc=$(pkg-config --variable=completionsdir bash-completion 2>/dev/null)
bc=${bc%/completions}/bash_completion
[[ -r $bc ]] || bc=/usr/share/bash-completion/bash_completion
if [[ ! -r $bc ]]; then
    echo "bash-completion is not installed: skipped"
    exit 77
fi
# bash_completion returns early in a non-interactive shell unless this is set.
BASH_COMPLETION_VERSINFO=${BASH_COMPLETION_VERSINFO-}
# shellcheck disable=SC1090
source "$bc" || { echo "cannot source $bc"; exit 1; }
# shellcheck disable=SC1090
source "$completion" || { echo "cannot source $completion"; exit 1; }
# compopt only works inside a completion bash runs itself.
compopt() { :; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
mkdir conf subdir
touch sender_relay sender_relay.lmdb sasl_passwd sasl_passwd.cdb other.txt

passed=0
failed=0

# complete LINE: COMPREPLY for LINE with the cursor at its end. Words are
# split at blanks and around ':' (in COMP_WORDBREAKS), as readline does.
complete() {
    COMP_LINE=$1
    COMP_POINT=${#COMP_LINE}
    local spaced=${COMP_LINE//:/ : }
    read -r -a COMP_WORDS <<<"$spaced"
    [[ $COMP_LINE == *[\ :] ]] && COMP_WORDS+=("")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMPREPLY=()
    _mapctl mapctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
}

sorted() { printf '%s\n' "$@" | sort -u | tr '\n' ' ' | sed 's/ $//'; }

# expect NAME LINE WORD...: COMPREPLY holds exactly WORD... (as a set).
expect() {
    local name=$1 line=$2
    shift 2
    complete "$line"
    local got want
    got=$(sorted "${COMPREPLY[@]}")
    want=$(sorted "$@")
    if [[ $got == "$want" ]]; then
        echo "ok   $name"
        ((passed++))
    else
        echo "FAIL $name"
        echo "    line: '$line'"
        echo "    got:  $got"
        echo "    want: $want"
        ((failed++))
    fi
}

# The first column of the "Options:" list of `mapctl WORDS --help`.
help_options() {
    "$mapctl" "$@" --help | awk '
        /^[A-Za-z][A-Za-z ]*:$/ { in_options = ($0 == "Options:"); next }
        in_options && /^  -/ { n = split($1, names, ","); for (i = 1; i <= n; i++) print names[i] }'
}

subcommands=$("$mapctl" --help | awk '
    /^[A-Za-z][A-Za-z ]*:$/ { in_sub = ($0 == "Subcommands:"); next }
    in_sub && /^  [a-z]/ { print $1 }')

# shellcheck disable=SC2086
expect "the first word is a subcommand" "mapctl " $subcommands
expect "a prefix completes to its subcommand" "mapctl bu" build
expect "options before the subcommand are mapctl's own" "mapctl --v" --version

# shellcheck disable=SC2046
expect "mapctl - offers mapctl's own options" "mapctl -" $(help_options)
for c in $subcommands "query sender"; do
    # shellcheck disable=SC2046,SC2086
    expect "mapctl $c - offers what mapctl $c --help lists" "mapctl $c -" \
        $(help_options $c)
done

expect "query's first word may be sender or a table, named without .lmdb" \
    "mapctl query se" sender sender_relay
expect "a TYPE: prefix completes files after it" \
    "mapctl query lmdb:sa" sasl_passwd
expect "build offers the writable types" "mapctl build b" btree:
expect "build offers sources as they are" "mapctl build sender_" \
    sender_relay sender_relay.lmdb
expect "a directory ends in a slash" "mapctl dump sub" subdir/
expect "query's keys get no completion" "mapctl query lmdb:sender_relay a"
expect "query sender's addresses get no completion" \
    "mapctl query sender -c conf ali"
expect "query sender options complete after query sender" \
    "mapctl query sender --ex" --explain
expect "-c completes directories only" "mapctl build -c co" conf
expect "diff takes two maps, no third" "mapctl diff sasl_passwd sender_relay s"
expect "convert's target offers the writable types" \
    "mapctl convert hash:sasl_passwd c" cdb: conf/
expect "--relay-maps offers table list types" "mapctl check --relay-maps in" \
    inline:
expect "--relay-maps completes files after a type" \
    "mapctl check --relay-maps texthash:sender" sender_relay sender_relay.lmdb
expect "--senders completes files (a maillog)" \
    "mapctl query sender --senders oth" other.txt
expect "whatif takes -c again after one" "mapctl whatif -c conf -c co" conf
expect "--ignore offers CHECK: prefixes" "mapctl check --ignore sta" stale:

# shellcheck disable=SC2046
expect "--disable offers exactly the checks of docs/checks.md" \
    "mapctl check --disable " \
    $(sed -n 's/^### \([a-z-]*\).*/\1/p' "$checks_md")

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
