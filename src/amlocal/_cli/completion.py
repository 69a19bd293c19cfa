"""``amlocal completion bash|zsh``: a completion script made from the command's own parser, so
it never goes out of date. Install: ``eval "$(amlocal completion bash)"`` in ~/.bashrc, or
``eval "$(amlocal completion zsh)"`` in ~/.zshrc."""

import argparse
import sys

from . import EXIT_OK

HEADER = """# amlocal shell completion ({shell}), made by `amlocal completion {shell}`.
# Load it from your shell's startup file:  eval "$(amlocal completion {shell})"
"""
ZSH_PRELUDE = "autoload -U +X bashcompinit && bashcompinit\n"


def completion(args):
    from amlocal.cli import build_parser

    sys.stdout.write(script(build_parser(), args.shell))
    return EXIT_OK


def _subcommands(parser):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices
    return {}


def _options(parser):
    """(every option string, the options that take a value)."""
    names, valued = [], []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) or not action.option_strings:
            continue
        names.extend(action.option_strings)
        if action.nargs != 0:
            valued.extend(action.option_strings)
    return names, valued


def script(parser, shell):
    """The bash function (zsh loads it through bashcompinit)."""
    top_names, valued = _options(parser)
    groups = _subcommands(parser)
    cases = []
    for group, group_parser in sorted(groups.items()):
        commands = _subcommands(group_parser)
        if commands:
            cases.append(f'        "{group} ") words_="{" ".join(sorted(commands))}" ;;')
            for command, leaf in sorted(commands.items()):
                names, leaf_valued = _options(leaf)
                valued.extend(leaf_valued)
                cases.append(f'        "{group} {command}") words_="{" ".join(sorted(set(names)))}" ;;')
        else:
            names, leaf_valued = _options(group_parser)
            valued.extend(leaf_valued)
            cases.append(f'        "{group} "*) words_="{" ".join(sorted(set(names)))}" ;;')
    from amlocal._plugins import known_backends

    body = f'''_amlocal() {{
    local cur prev group="" command="" i w words_
    cur="${{COMP_WORDS[COMP_CWORD]}}"
    prev="${{COMP_WORDS[COMP_CWORD-1]}}"
    case "$prev" in
        --config|--target-dir|--source-dir|--src-path|--path|--pip-requirements)
            COMPREPLY=( $(compgen -f -- "$cur") ); return ;;
        --backend)
            COMPREPLY=( $(compgen -W "{" ".join(sorted(known_backends()))}" -- "$cur") ); return ;;
        -o|--output)
            COMPREPLY=( $(compgen -W "table json tsv" -- "$cur") ); return ;;
    esac
    for ((i = 1; i < COMP_CWORD; i++)); do
        w="${{COMP_WORDS[i]}}"
        case " {" ".join(sorted(set(valued)))} " in *" ${{COMP_WORDS[i-1]}} "*) continue ;; esac
        case "$w" in
            -*) ;;
            *) if [[ -z $group ]]; then group=$w; elif [[ -z $command ]]; then command=$w; fi ;;
        esac
    done
    case "$group $command" in
        " ") words_="{" ".join(sorted(groups))} {" ".join(top_names)}" ;;
{chr(10).join(cases)}
        *) words_="" ;;
    esac
    COMPREPLY=( $(compgen -W "$words_" -- "$cur") )
}}
complete -o default -F _amlocal amlocal
'''
    return HEADER.format(shell=shell) + (ZSH_PRELUDE if shell == "zsh" else "") + body
