# bash completion for gctk(1)                              -*- shell-script -*-
# Installed as completions/gctk: bash-completion loads it on the first Tab
# after `gctk`. tests/e2e/test-docs.sh checks that it offers every verb of
# the command table (cmd/gctk/main.c) and every flag of every `--help`.

_gctk_verbs='info list configure sim runtime compose compat cdi doctor ps hook config dev-char-links'
_gctk_caps='utility compute video graphics display ngx compat32 all'

# _gctk_subverbs VERB: the words that may follow VERB (none: VERB takes flags)
_gctk_subverbs()
{
    case $1 in
        sim) echo create ;;
        runtime) echo configure unset ;;
        compose) echo check ;;
        cdi) echo generate list validate ;;
        hook) echo create-container update-ldcache create-symlinks mask-proc ;;
        config) echo default ;;
    esac
}

# _gctk_flags VERB [SUBVERB]: the long options of a command
_gctk_flags()
{
    case $1${2:+ $2} in
        info) echo --root --json --no-nvml --help ;;
        list) echo --root --capabilities --device --json --mig-config --mig-monitor \
            --imex-channels --help ;;
        configure) echo --pid --device --capabilities --require --no-cgroups --ldconfig --root --help ;;
        'sim create') echo --gpus --driver --cuda --model --mig --driver-dir --arch --force \
            --lib-version --no-libs --uncached-lib-dir --cold-init-ms --help ;;
        'runtime configure') echo --runtime= --config --runtime-name --runtime-path \
            --set-as-default --swarm-resources --swarm-resource-name --root \
            --cdi --cdi.enabled --dry-run --remove --drop-in-config --config-source \
            --executable-path --help ;;
        'runtime unset') echo --runtime= --config --runtime-name --drop-in-config --dry-run --help ;;
        'compose check') echo --root --json --compose-version --docker-host --daemon-json --help ;;
        compat) echo --root --cuda --require --image-env --json --help ;;
        'cdi generate') echo --output --format --vendor --class --device-name-strategy \
            --root --capabilities --gctk-path --imex-channels --runtime-mounts --help ;;
        'cdi list') echo --spec-dir --help ;;
        'cdi validate') echo --no-host --spec-dir --root --help ;;
        'hook create-container') echo --mount --link --node-link --folder --host-driver-version --driver-root --rootfs --help ;;
        'hook update-ldcache') echo --folder --host-driver-version --rootfs --help ;;
        'hook create-symlinks') echo --link --rootfs --help ;;
        'hook mask-proc') echo --driver-root --rootfs --help ;;
        doctor) echo --root --json --docker-host --daemon-json --cdi-dir --config --cuda \
            --image-env --dockerd-pid --slow-nvml-ms --image --container --runc-root --help ;;
        ps) echo --root --json --no-trunc --watch --container --docker-host --podman-host \
            --help ;;
        config) echo --json --config --help ;;
        'config default') echo --help ;;
        dev-char-links) echo --create-all --dev-root --dev-char-path --dry-run --root --help ;;
        *) echo --help ;;
    esac
}

_gctk()
{
    local cur prev words cword split
    _init_completion -s || return

    # the verb is the first word that is neither an option nor --root's value
    local i verb='' sub='' verb_at=0
    for ((i = 1; i < cword; i++)); do
        case ${words[i]} in
            --root) ((i++)) ;;
            -*) ;;
            *)
                verb=${words[i]} verb_at=$i
                break
                ;;
        esac
    done

    # values of options
    case $prev in
        --root | --spec-dir | --cdi-dir | --folder | --rootfs | --driver-root | --dev-root | \
            --dev-char-path | --uncached-lib-dir | --runc-root)
            _filedir -d
            return
            ;;
        --capabilities)
            # a comma-separated list: complete the part after the last comma
            local done_part=${cur%"${cur##*,}"}
            COMPREPLY=($(compgen -P "$done_part" -W "$_gctk_caps" -- "${cur##*,}"))
            compopt -o nospace 2>/dev/null
            return
            ;;
        --ldconfig)
            COMPREPLY=($(compgen -W 'internal none' -- "$cur"))
            return
            ;;
        --pid | --dockerd-pid)
            _pids
            return
            ;;
        --runtime)
            [[ $verb == runtime ]] &&
                COMPREPLY=($(compgen -W 'docker containerd crio podman' -- "$cur"))
            return
            ;;
        --device-name-strategy)
            COMPREPLY=($(compgen -W 'index uuid both' -- "$cur"))
            return
            ;;
        --mig-config | --mig-monitor)
            COMPREPLY=($(compgen -W 'all' -- "$cur"))
            return
            ;;
        --docker-host)
            COMPREPLY=($(compgen -W 'unix:///var/run/docker.sock' -- "$cur"))
            return
            ;;
        --podman-host)
            COMPREPLY=($(compgen -W 'unix:///run/podman/podman.sock' -- "$cur"))
            return
            ;;
        --container)
            # the names of the containers that hold a GPU now (NAME column)
            COMPREPLY=($(compgen -W "$("${words[0]}" ps 2>/dev/null |
                awk 'NR > 1 && NF == 11 && $10 != "-" { print $10 }')" -- "$cur"))
            return
            ;;
        --format)
            COMPREPLY=($(compgen -W 'json yaml' -- "$cur"))
            return
            ;;
        --config)
            # gctk's own config for doctor and config; the engine's (json, toml) for runtime
            if [[ $verb == doctor || $verb == config ]]; then _filedir json; else _filedir; fi
            return
            ;;
        --daemon-json)
            _filedir json
            return
            ;;
        --config-source)
            COMPREPLY=($(compgen -W 'command file' -- "$cur"))
            return
            ;;
        --output | --image-env | --runtime-path | --gctk-path | --drop-in-config | --executable-path)
            _filedir
            return
            ;;
        --device)
            COMPREPLY=($(compgen -W 'all none' -- "$cur"))
            return
            ;;
        --arch)
            COMPREPLY=($(compgen -W 'x86_64 aarch64' -- "$cur"))
            return
            ;;
        --gpus | --driver | --cuda | --model | --require | --runtime-name | --mig | --driver-dir | \
            --swarm-resource-name | --vendor | --class | --link | --slow-nvml-ms | --compose-version | --watch | \
            --lib-version | --cold-init-ms | --image | --container)
            return
            ;;
    esac
    $split && return

    if [[ -z $verb ]]; then
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W '--root --help --version' -- "$cur"))
        else
            COMPREPLY=($(compgen -W "$_gctk_verbs" -- "$cur"))
        fi
        return
    fi

    local subverbs
    subverbs=$(_gctk_subverbs "$verb")
    if [[ -n $subverbs ]]; then
        # the subverb is the first plain word after the verb
        for ((i = verb_at + 1; i < cword; i++)); do
            if [[ ${words[i]} != -* ]]; then
                sub=${words[i]}
                break
            fi
        done
        if [[ -z $sub ]]; then
            # a verb may take flags of its own before a subverb (gctk config --json)
            if [[ $cur == -* ]]; then
                COMPREPLY=($(compgen -W "$(_gctk_flags "$verb")" -- "$cur"))
            else
                COMPREPLY=($(compgen -W "$subverbs --help" -- "$cur"))
            fi
            return
        fi
    fi

    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$(_gctk_flags "$verb" "$sub")" -- "$cur"))
        [[ ${COMPREPLY-} == *= ]] && compopt -o nospace 2>/dev/null 2>/dev/null
        return
    fi

    # the positional arguments
    case $verb${sub:+ $sub} in
        configure | 'sim create') _filedir -d ;;
        'compose check') _filedir '@(yaml|yml)' ;;
        'cdi validate') _filedir '@(yaml|yml|json)' ;;
    esac
} &&
    complete -F _gctk gctk

# ex: filetype=sh
