#!/usr/bin/env bash
# What ships beside the binaries stays true to them: every verb of the command
# table (cmd/gctk/main.c) and every flag of its `--help` usage has a section in
# gctk(1) and a bash completion; every setting lib/util/config.c reads is in
# gctk.conf(5); the default config file loads; the man pages render without
# warnings; the systemd units pass systemd-analyze verify; README's command
# table has every verb. The same for NVIDIA's names: every command of
# `nvidia-ctk --help` has a section in nvidia-ctk(1) that names each of its
# flags (those it takes and those it refuses) and a completion of the flags
# it takes. A new verb or flag without documentation or completion fails
# here.
. "$(dirname "$0")/lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
MAN_SRC=$top/docs/man
COMPLETION=$top/completion/gctk.bash

mapfile -t VERBS < <(sed -n 's/^ *{"\([a-z-]*\)", cmd_[a-z_]*,.*/\1/p' "$top/cmd/gctk/main.c")
check "the command table has verbs" test "${#VERBS[@]}" -gt 0

# usage_flags TEXT: the long options in the usage lines of a --help text (up
# to the first empty line: the prose after it may quote other programs' flags)
usage_flags() {
    printf '%s\n' "$1" | sed -n '/^usage:/,/^$/p' | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u
}

# man_section VERB: the text of "## gctk VERB ..." in gctk.1.scd
man_section() {
    awk -v h="## gctk $1" 'index($0, h) == 1 && (length($0) == length(h) || substr($0, length(h) + 1, 1) == " ") { on = 1; print; next }
        /^#/ { on = 0 } on' "$MAN_SRC/gctk.1.scd"
}

# ---- completion
BASH_COMPLETION=/usr/share/bash-completion/bash_completion
if [ ! -f "$BASH_COMPLETION" ]; then
    skip "bash completion" "bash-completion is not installed"
else
    # complete WORDS...: the candidates bash offers for the last word of the
    # command line WORDS (as typed before Tab), one a line
    complete_words() {
        bash -c '
            . "$1"; . "$2"; shift 2
            COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
            COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
            _gctk gctk "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
            printf "%s\n" "${COMPREPLY[@]}"' \
            complete "$BASH_COMPLETION" "$COMPLETION" "$@" 2>&1
    }
    TOP=$(complete_words gctk '')
    missing=()
    for v in "${VERBS[@]}"; do grep -qx -- "$v" <<<"$TOP" || missing+=("$v"); done
    expect_eq "gctk <Tab> offers every verb of the command table" "" "${missing[*]}"
    expect_eq "gctk i<Tab> completes to info" "info" "$(complete_words gctk i)"
    missing=()
    for f in $(usage_flags "$("$GCTK" --help)"); do
        grep -qx -- "$f" <<<"$(complete_words gctk --)" || missing+=("$f")
    done
    expect_eq "gctk --<Tab> offers the global flags of gctk --help" "" "${missing[*]}"
    expect_eq "--capabilities completes after a comma" "utility,compute" \
        "$(complete_words gctk list --capabilities utility,compu)"
    expect_eq "--root completes directories" "$top/docs/" \
        "$(cd / && complete_words gctk --root "$top/doc")/"

    for v in "${VERBS[@]}"; do
        help=$("$GCTK" "$v" --help 2>&1)
        # the verb's flags and those of each of its subverbs
        offered=$(complete_words gctk "$v" --)
        subs=$(complete_words gctk "$v" '' | grep -v -- '^-')
        for s in $subs; do offered+=$'\n'$(complete_words gctk "$v" "$s" --); done
        offered=$(sed 's/=$//' <<<"$offered")
        missing=()
        for f in $(usage_flags "$help"); do
            grep -qx -- "$f" <<<"$offered" || missing+=("$f")
        done
        expect_eq "completion offers every flag of gctk $v --help" "" "${missing[*]}"
    done
fi

# ---- man pages
for v in "${VERBS[@]}"; do
    section=$(man_section "$v")
    if [ -z "$section" ]; then
        not_ok "gctk(1) has a section for gctk $v"
        continue
    fi
    missing=()
    for f in $(usage_flags "$("$GCTK" "$v" --help 2>&1)"); do
        grep -qE -- "(^|[^a-z-])$f([^a-z-]|\$)" <<<"$section" || missing+=("$f")
    done
    expect_eq "gctk(1) documents every flag of gctk $v --help" "" "${missing[*]}"
done
missing=()
for f in $(usage_flags "$("$GCTK" --help)"); do
    grep -qF -- "*$f" "$MAN_SRC/gctk.1.scd" || missing+=("$f")
done
expect_eq "gctk(1) documents the global flags of gctk --help" "" "${missing[*]}"

# ---- README: its command table names every verb
missing=()
for v in "${VERBS[@]}"; do
    grep -qE -- "^\| \`gctk $v( |\`)" "$top/README.md" || missing+=("$v")
done
expect_eq "README's command table has a row for every verb" "" "${missing[*]}"

mapfile -t KEYS < <(grep -oE 'strcmp\(key, "[a-z-]+"\)' "$top/lib/util/config.c" | sed 's/.*"\(.*\)".*/\1/')
missing=()
for k in "${KEYS[@]}"; do grep -qF -- "*$k* (" "$MAN_SRC/gctk.conf.5.scd" || missing+=("$k"); done
expect_eq "gctk.conf(5) documents every setting lib/util/config.c reads" "" "${missing[*]}"

HOST=$SCRATCH/host
"$GCTK" sim create "$HOST" --gpus 1 >/dev/null 2>&1
loads() { GCTK_CONFIG="$top/config/config.json" "$GCTK" info --no-nvml --root "$HOST" >/dev/null; }
check "the default config file (config/config.json) loads" loads
# gctk's own file wins key by key: a setting the installed file spelled out
# would hide NVIDIA's config.toml
expect_eq "the installed config file sets nothing (NVIDIA's config.toml fills it)" "{}" \
    "$(jq -c . "$top/config/config.json")"
missing=()
for k in "${KEYS[@]}"; do
    [ "$k" = allow-unprivileged-env ] && continue # the older name
    "$GCTK" config default | jq -e --arg k "$k" 'has($k)' >/dev/null || missing+=("$k")
done
expect_eq "gctk config default prints every setting" "" "${missing[*]}"

# ---- NVIDIA's names: nvidia-ctk (gctk run under that name)
NVCTK=$SCRATCH/nvbin/nvidia-ctk
mkdir -p "$SCRATCH/nvbin"
ln -s "$(cd "$GCTK_BUILD" && pwd)/cmd/gctk" "$NVCTK"
mapfile -t NVCMDS < <("$NVCTK" --help | sed -n '/^commands:/,/^$/p' |
    sed -n 's/^  \([a-z][a-z -]*[a-z]\)  .*/\1/p' | sed 's/ *$//' |
    grep -v '|' | grep -vx 'config default')
check "nvidia-ctk --help lists commands" test "${#NVCMDS[@]}" -ge 6
NVMAN=$MAN_SRC/nvidia-ctk.1.scd
# nv_section CMD: the text of "## nvidia-ctk CMD ..." in nvidia-ctk.1.scd
nv_section() {
    awk -v h="## nvidia-ctk $1" 'index($0, h) == 1 && (length($0) == length(h) || substr($0, length(h) + 1, 1) == " ") { on = 1; print; next }
        /^#/ { on = 0 } on' "$NVMAN"
}
# nv_flags CMD taken|refused: the flags `nvidia-ctk CMD --help` takes or refuses
nv_flags() {
    local help
    help=$("$NVCTK" $1 --help)
    if [ "$2" = taken ]; then
        printf '%s\n' "$help" | sed -n '/^flags:/,/^refused:/p' | grep -oE -- '^  --[a-z][a-z0-9.-]*(, --[a-z][a-z0-9.-]*)*' |
            grep -oE -- '--[a-z][a-z0-9.-]*' | sort -u
    else
        printf '%s\n' "$help" | sed -n '/^refused:/,$p' | grep -oE -- '--[a-z][a-z0-9.-]*' | sort -u
    fi
}
for cmd in "${NVCMDS[@]}"; do
    section=$(nv_section "$cmd")
    if [ -z "$section" ]; then
        not_ok "nvidia-ctk(1) has a section for nvidia-ctk $cmd"
        continue
    fi
    missing=()
    for f in $(nv_flags "$cmd" taken) $(nv_flags "$cmd" refused); do
        grep -qE -- "\*$f\*" <<<"$section" || missing+=("$f")
    done
    expect_eq "nvidia-ctk(1) documents every flag nvidia-ctk $cmd --help names" "" "${missing[*]}"
done
if [ -f "$BASH_COMPLETION" ]; then
    nv_complete() {
        bash -c '
            . "$1"; . "$2"; shift 2
            COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
            COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
            _nvidia_ctk nvidia-ctk "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
            printf "%s\n" "${COMPREPLY[@]}"' \
            complete "$BASH_COMPLETION" "$top/completion/nvidia-ctk.bash" "$@" 2>&1
    }
    missing=()
    for cmd in "${NVCMDS[@]}"; do
        read -r -a words <<<"$cmd"
        offered=$(nv_complete nvidia-ctk "${words[@]}" -- | sed 's/=$//')
        for f in $(nv_flags "$cmd" taken); do
            grep -qx -- "$f" <<<"$offered" || missing+=("$cmd:$f")
        done
        # the command's words complete
        expect_match "nvidia-ctk completes \`$cmd\`" "^${words[0]}\$" \
            "$(nv_complete nvidia-ctk "${words[0]:0:3}" | grep -x "${words[0]}")"
    done
    expect_eq "nvidia-ctk's completion offers every flag each command takes" "" "${missing[*]}"
fi

if [ ! -f "$GCTK_BUILD/docs/man/gctk.1" ]; then
    skip "man pages render" "built without scdoc (-Dman=disabled)"
elif ! command -v man >/dev/null; then
    skip "man pages render" "man-db is not installed"
else
    for page in gctk.1 gctk-hook.8 gctk-runtime.8 gctk.conf.5 nvidia-ctk.1; do
        out=$(MANWIDTH=80 LC_ALL=C.UTF-8 man --warnings -l "$GCTK_BUILD/docs/man/$page" 2>&1 >/dev/null)
        expect_eq "man renders $page without warnings" "" "$out"
    done
fi

# ---- systemd units (the installed ones are verified by test-deb.sh)
if ! command -v systemd-analyze >/dev/null; then
    skip "systemd-analyze verify" "systemd is not installed"
else
    U=$SCRATCH/units
    mkdir -p "$U"
    # systemd-analyze verify records its run there
    remove_at_exit_if_new /run/systemd/systemd-units-load
    sed "s|@bindir@|$GCTK_BUILD/cmd|" "$top/systemd/gctk-cdi-refresh.service.in" >"$U/gctk-cdi-refresh.service"
    cp "$top/systemd/gctk-cdi-refresh.path" "$U/"
    # --man=no: the man page of Documentation= is not installed here
    out=$(systemd-analyze verify --man=no "$U/gctk-cdi-refresh.service" "$U/gctk-cdi-refresh.path" 2>&1)
    expect_eq "systemd-analyze verify: gctk-cdi-refresh.{service,path}" "" "$out"
    unit=$(sed -n 's/^Unit=//p' "$U/gctk-cdi-refresh.path")
    check "the path unit starts the service" test -f "$U/$unit"
    expect_match "the service writes the spec with gctk cdi generate" \
        "^ExecStart=$GCTK_BUILD/cmd/gctk cdi generate --output /run/cdi/nvidia.yaml\$" \
        "$(grep '^ExecStart=' "$U/gctk-cdi-refresh.service")"
fi

# ---- every verb reads its command line the same way (cmd/gctk/args.c)
# the words that reach a verb's options: its sub-command where it has them
verb_words() {
    case $1 in
        sim) echo "sim create" ;;
        runtime) echo "runtime configure" ;;
        compose) echo "compose check" ;;
        cdi) echo "cdi generate" ;;
        hook) echo "hook mask-proc" ;;
        *) echo "$1" ;;
    esac
}
for v in "${VERBS[@]}"; do
    read -ra w <<<"$(verb_words "$v")"
    out=$("$GCTK" "${w[@]}" --no-such-option 2>&1 >/dev/null)
    rc=$?
    expect_eq "gctk ${w[*]} --no-such-option: exit 2" 2 "$rc"
    expect_eq "gctk ${w[*]} --no-such-option: one line naming it and --help" \
        "gctk: ${w[*]}: unknown option \`--no-such-option\`: \`gctk ${w[*]} --help\` lists the options" "$out"
    out=$("$GCTK" "${w[@]}" --help 2>/dev/null)
    rc=$?
    expect_eq "gctk ${w[*]} --help: exit 0" 0 "$rc"
    expect_match "gctk ${w[*]} --help: the usage on stdout" "^usage: gctk $v" "$out"
done
# an operand too many: the verbs that take none, and those that take one
for words in "info" "list" "doctor" "ps" "compat --cuda 12.0" "dev-char-links" "cdi list" \
    "cdi generate" "runtime configure" "runtime unset" "hook mask-proc"; do
    read -ra w <<<"$words"
    out=$("$GCTK" "${w[@]}" extra 2>&1 >/dev/null)
    rc=$?
    name=${words%% --*}
    expect_eq "gctk $words extra: exit 2, \`unexpected argument\`" \
        "2 gctk: $name: unexpected argument \`extra\`" "$rc $out"
done
for words in "compose check a.yaml" "sim create DIR" "configure --pid 1 ROOTFS"; do
    read -ra w <<<"$words"
    out=$("$GCTK" "${w[@]}" extra 2>&1 >/dev/null)
    rc=$?
    name=$(awk '{ print $1, $2 }' <<<"$words" | sed 's/ --.*//')
    expect_eq "gctk $words extra: exit 2, \`unexpected argument\`" \
        "2 gctk: $name: unexpected argument \`extra\`" "$rc $out"
done
out=$("$GCTK" info --root 2>&1 >/dev/null)
expect_eq "an option without its value: exit 2, named" \
    "2 gctk: info: option \`--root\` needs a value: \`gctk info --help\` says which" "$? $out"
out=$("$GCTK" info --json=yes 2>&1 >/dev/null)
expect_eq "a value an option does not take: exit 2, named" \
    "2 gctk: info: option \`--json\` takes no value: \`gctk info --help\` lists the options" "$? $out"
out=$("$GCTK" sim create 2>&1 >/dev/null)
expect_eq "a missing operand: exit 2, named" \
    "2 gctk: sim create: missing DIR: \`gctk sim create --help\` shows the usage" "$? $out"
for v in sim runtime compose cdi hook; do
    out=$("$GCTK" "$v" no-such-command 2>&1 >/dev/null)
    expect_match "gctk $v no-such-command: exit 2, the sub-commands named" \
        "^2 gctk: unknown \`$v\` command \`no-such-command\`: use \`" "$? $out"
done
