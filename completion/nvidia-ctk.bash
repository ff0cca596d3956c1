# bash completion for nvidia-ctk(1), gctk under NVIDIA's CLI name  -*- shell-script -*-
# Installed as completions/nvidia-ctk. tests/e2e/test-docs.sh checks that it
# offers every command and every flag of `nvidia-ctk ... --help`.

# _nvidia_ctk_flags COMMAND: the flags gctk takes for it
_nvidia_ctk_flags()
{
    case $1 in
        'runtime configure') echo --runtime= --config= --drop-in-config= \
            --nvidia-runtime-name= --nvidia-runtime-path= --runtime-path= \
            --nvidia-set-as-default --set-as-default --cdi.enabled --cdi.enable --enable-cdi \
            --dry-run --config-mode= --oci-hook-path= --nvidia-runtime-hook-path= \
            --config-source= --executable-path= --help ;;
        'cdi generate') echo --output= --format= --device-name-strategy= --driver-root= \
            --dev-root= --mode= --discovery-mode= --vendor= --cdi-vendor= --class= \
            --cdi-class= --nvidia-cdi-hook-path= --nvidia-ctk-path= --help ;;
        'cdi list') echo --spec-dir= --help ;;
        'system create-dev-char-symlinks') echo --dev-char-path= --driver-root= --dev-root= \
            --create-all --dry-run --help ;;
        config) echo --config-file= --config= --set= --set-list-separator= --in-place \
            --output= --help ;;
        'config default') echo --output= --help ;;
        *) echo --help ;;
    esac
}

_nvidia_ctk()
{
    local cur prev words cword split
    _init_completion -s || return

    # the command: the plain words that are not flags or the flags' values
    local i cmd=()
    for ((i = 1; i < cword; i++)); do
        case ${words[i]} in
            --config | --config-file | -c | --runtime | --drop-in-config | --nvidia-runtime-name | \
                --nvidia-runtime-path | --runtime-path | --config-mode | --oci-hook-path | \
                --nvidia-runtime-hook-path | --config-source | --output | -o | --format | \
                --device-name-strategy | --driver-root | --dev-root | --mode | --discovery-mode | \
                --vendor | --cdi-vendor | --class | --cdi-class | --nvidia-cdi-hook-path | \
                --nvidia-ctk-path | --spec-dir | --dev-char-path | --set | --set-list-separator)
                ((i++))
                ;;
            -*) ;;
            *) cmd+=("${words[i]}") ;;
        esac
    done
    local c="${cmd[*]}"

    case $prev in
        --runtime)
            COMPREPLY=($(compgen -W 'docker containerd crio' -- "$cur"))
            return
            ;;
        --format)
            COMPREPLY=($(compgen -W 'json yaml' -- "$cur"))
            return
            ;;
        --mode | --discovery-mode)
            COMPREPLY=($(compgen -W 'auto nvml' -- "$cur"))
            return
            ;;
        --device-name-strategy)
            COMPREPLY=($(compgen -W 'index uuid' -- "$cur"))
            return
            ;;
        --config-mode)
            COMPREPLY=($(compgen -W 'config-file oci-hook' -- "$cur"))
            return
            ;;
        --config-source)
            COMPREPLY=($(compgen -W 'command file' -- "$cur"))
            return
            ;;
        --driver-root | --dev-root | --dev-char-path | --spec-dir)
            _filedir -d
            return
            ;;
        --config | --config-file | --drop-in-config | --output | --oci-hook-path | \
            --nvidia-runtime-path | --runtime-path | --nvidia-runtime-hook-path | \
            --nvidia-cdi-hook-path | --nvidia-ctk-path)
            _filedir
            return
            ;;
        --nvidia-runtime-name | --vendor | --cdi-vendor | --class | --cdi-class | --set | \
            --set-list-separator)
            return
            ;;
    esac
    $split && return

    case ${#cmd[@]}:$c in
        0:)
            if [[ $cur == -* ]]; then
                COMPREPLY=($(compgen -W '--config= --quiet --debug --help --version' -- "$cur"))
                [[ ${COMPREPLY-} == *= ]] && compopt -o nospace 2>/dev/null
            else
                COMPREPLY=($(compgen -W 'runtime cdi system config hook info' -- "$cur"))
            fi
            return
            ;;
        1:runtime) COMPREPLY=($(compgen -W 'configure' -- "$cur")) && return ;;
        1:cdi) COMPREPLY=($(compgen -W 'generate list' -- "$cur")) && return ;;
        1:system) COMPREPLY=($(compgen -W 'create-dev-char-symlinks' -- "$cur")) && return ;;
        1:hook) COMPREPLY=($(compgen -W 'update-ldcache create-symlinks' -- "$cur")) && return ;;
        1:config)
            if [[ $cur != -* ]]; then
                COMPREPLY=($(compgen -W 'default' -- "$cur"))
                return
            fi
            ;;
    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$(_nvidia_ctk_flags "$c")" -- "$cur"))
        [[ ${COMPREPLY-} == *= ]] && compopt -o nospace 2>/dev/null
    fi
} &&
    complete -F _nvidia_ctk nvidia-ctk

# ex: filetype=sh
