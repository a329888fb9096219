#!/bin/sh
# Manual pages from the --help texts: OUTDIR/neurodyn.1 (the command list) and OUTDIR/neurodyn-<command>.1 for
# every command that `neurodyn --help` lists. Usage: scripts/man.sh BIN VERSION OUTDIR
set -e
bin=$1; version=$2; out=$3
[ -x "$bin" ] && [ -n "$version" ] && [ -n "$out" ] || { echo "usage: scripts/man.sh BIN VERSION OUTDIR" >&2; exit 2; }
mkdir -p "$out"
# roff-safe preformatted text: backslashes doubled, lines starting with . or ' protected
esc() { sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"; }
cmds=$("$bin" --help | sed -n '/^commands:/,/^$/s/^  \([a-z][a-z-]*\)  .*/\1/p')
[ -n "$cmds" ] || { echo "man.sh: no commands in '$bin --help'" >&2; exit 1; }
page() { # NAME SUMMARY HELP-COMMAND...
    name=$1; summary=$2; shift 2
    upper=$(echo "$name" | tr a-z A-Z)
    {
        echo ".TH $upper 1 \"\" \"neurodyn $version\" \"User Commands\""
        echo ".SH NAME"
        echo "$name \\- $summary"
        echo ".SH DESCRIPTION"
        echo ".nf"
        "$@" | esc
        echo ".fi"
        echo ".SH SEE ALSO"
        if [ "$name" = neurodyn ]; then
            echo "$cmds" | sed 's/^\(.*\)$/.BR neurodyn-\1 (1)/'
        else
            echo ".BR neurodyn (1)"
        fi
    } >"$out/$name.1"
}
page neurodyn "latent dynamics of neural populations (LFADS) in C" "$bin" --help
for c in $cmds; do
    summary=$("$bin" --help | sed -n "s/^  $c  *//p" | sed 's/\\/\\e/g')
    page "neurodyn-$c" "$summary" "$bin" "$c" --help
done
