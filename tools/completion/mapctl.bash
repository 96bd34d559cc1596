# bash completion for mapctl(1)                         -*- shell-script -*-
#
# Installed into bash-completion's completionsdir, which loads it on the
# first `mapctl <TAB>`. Needs bash-completion's helpers (_init_completion,
# __ltrim_colon_completions). The option lists mirror `mapctl COMMAND
# --help`; tests/cli/completion_test.sh fails when they drift.

# Table types for a TYPE: prefix. Built tables first, then what table
# lists (main.cf, --relay-maps, --password-maps) may also name.
_mapctl_types_built="lmdb cdb hash btree"
_mapctl_types_read="lmdb cdb hash btree texthash proxy"
_mapctl_types_list="lmdb cdb hash btree texthash proxy inline static regexp
pcre cidr sqlite pgsql mysql ldap memcache socketmap tcp unix"

# The names --disable and --ignore take (docs/checks.md, CheckNames()).
_mapctl_checks="relay-credentials default-relay-credentials null-sender
bad-value stale missing-table not-checked world-readable domain-fallthrough
key-format syntax auth-disabled plaintext-auth group-readable berkeley-db
scope not-exercised proxy-read-maps"

_mapctl_options() {
    local table="-h --help -c -f -N -n -u -U -v"
    local sender="--resolve --recipient-delimiter --myhostname --myorigin
        --set --relayhost --relay-maps --password-maps -j --json --sql-timeout"
    case $1 in
        build) echo "$table -r -w -o -p --strict --force -j --json -i -d" ;;
        query) echo "$table -j --json --sql-timeout" ;;
        query-sender)
            echo "-h --help -c $sender --explain --show-secrets --recipient" \
                "--senders" ;;
        dump) echo "$table -j --json" ;;
        diff) echo "$table -r -w -j --json --secrets --show-secrets" ;;
        check)
            echo "-h --help -c $sender --sources-only --auth-required" \
                "--disable --ignore --ignore-file --strict --senders" ;;
        convert) echo "$table -o -p" ;;
        verify) echo "-h --help -c" ;;
        whatif)
            echo "-h --help -c --senders --sources-only --auth-required" \
                "--recipient --resolve --sql-timeout -j --json" ;;
        *) echo "-h --help --version" ;;
    esac
}

# Options that take the next word as their value.
_mapctl_takes_value() {
    case $1 in
        -c | -d | --recipient | --relayhost | --relay-maps | --password-maps | \
            --recipient-delimiter | --myhostname | --myorigin | --set | \
            --auth-required | --disable | --ignore | --ignore-file | --senders | \
            --sql-timeout)
            return 0 ;;
    esac
    return 1
}

# COMPREPLY for a [TYPE:]PATH word: the types as "TYPE:", and files, after
# a TYPE: prefix too. With `strip`, NAME.lmdb/.cdb/.db are offered as NAME,
# the form a table argument takes.
_mapctl_table() {
    local types=$1 strip=$2 prefix="" path=$cur
    if [[ $cur == *:* ]]; then
        prefix=${cur%:*}:
        path=${cur##*:}
    fi
    local -a files=()
    local f
    while IFS= read -r f; do
        [[ -n $f ]] || continue
        if [[ -n $strip && ! -d $f ]]; then
            f=${f%.lmdb}
            f=${f%.cdb}
            f=${f%.db}
        fi
        files+=("$prefix$f")
    done < <(compgen -f -- "$path" | sort -u)
    COMPREPLY=("${files[@]}")
    if [[ -z $prefix ]]; then
        local t
        for t in $types; do
            [[ $t: == "$cur"* ]] && COMPREPLY+=("$t:")
        done
    fi
    # A TYPE: choice goes on with its path: no space after it.
    [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == *: ]] && compopt -o nospace
    # A directory goes on too.
    [[ ${#COMPREPLY[@]} -eq 1 && -d ${COMPREPLY[0]#"$prefix"} ]] && compopt -o nospace
    for f in "${!COMPREPLY[@]}"; do
        [[ -d ${COMPREPLY[f]#"$prefix"} ]] && COMPREPLY[f]+=/
    done
    __ltrim_colon_completions "$cur"
}

_mapctl() {
    local cur prev words cword
    _init_completion -n : || return

    # The subcommand: the first word that is not an option or an option's
    # value; "query sender" is one subcommand.
    local i command="" first=0
    for ((i = 1; i < cword; i++)); do
        if [[ -z $command ]]; then
            case ${words[i]} in
                -*) continue ;;
                *) command=${words[i]} first=$((i + 1)) ;;
            esac
            if [[ $command == query && $((i + 1)) -lt $cword &&
                ${words[i + 1]} == sender ]]; then
                command=query-sender first=$((i + 2))
                ((i++))
            fi
        fi
    done

    if [[ -z $command ]]; then
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W "$(_mapctl_options "")" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "build query dump diff check convert
                verify whatif" -- "$cur"))
        fi
        return
    fi

    case $prev in
        -c)
            _filedir -d
            return ;;
        --ignore-file | --senders)
            _filedir
            return ;;
        --relay-maps | --password-maps)
            _mapctl_table "$_mapctl_types_list" ""
            return ;;
        --disable)
            COMPREPLY=($(compgen -W "$_mapctl_checks" -- "$cur"))
            return ;;
        --ignore)
            [[ $cur != *:* ]] && compopt -o nospace
            COMPREPLY=($(compgen -W "$(printf '%s: ' $_mapctl_checks)" -- "$cur"))
            __ltrim_colon_completions "$cur"
            return ;;
        -d)
            [[ $command == build ]] && COMPREPLY=($(compgen -W "-" -- "$cur"))
            return ;;
    esac
    if _mapctl_takes_value "$prev"; then
        return  # a free value: an address, a host, NAME=VALUE
    fi

    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$(_mapctl_options "$command")" -- "$cur"))
        return
    fi

    # Which positional argument this is (0 = the first after the command).
    local n=0
    for ((i = first; i < cword; i++)); do
        if [[ ${words[i]} == -* ]]; then
            _mapctl_takes_value "${words[i]}" && ((i++))
        else
            ((n++))
        fi
    done

    case $command in
        build) _mapctl_table "$_mapctl_types_built" "" ;;
        query)
            if ((n == 0)); then
                _mapctl_table "$_mapctl_types_read" strip
                [[ sender == "$cur"* ]] && COMPREPLY+=(sender)
            fi ;;
        dump | verify) _mapctl_table "$_mapctl_types_read" strip ;;
        diff) ((n < 2)) && _mapctl_table "$_mapctl_types_read" strip ;;
        convert)
            if ((n == 0)); then
                _mapctl_table "$_mapctl_types_read" strip
            elif ((n == 1)); then
                _mapctl_table "$_mapctl_types_built" strip
            fi ;;
    esac
} &&
    complete -F _mapctl mapctl

# ex: filetype=sh
