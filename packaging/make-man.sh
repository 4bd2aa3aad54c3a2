#!/usr/bin/env bash
# Writes preflab(1), gzipped, from the command line's own help: `preflab help`
# and each command's --help, so the man page never drifts from the program.
# Usage: packaging/make-man.sh PREFLAB VERSION OUT.1.gz
set -euo pipefail
preflab=$1 version=$2 out=$3
# Help text as literal troff: backslashes escaped, lines starting with . or ' guarded.
literal() { sed -e 's/\\/\\e/g' -e 's/^\./\\\&./' -e "s/^'/\\\\\&'/"; }
help_of() { QT_QPA_PLATFORM=offscreen "$preflab" "$@" 2>&1 | literal; }
date=$(date -u -d "@${SOURCE_DATE_EPOCH:-$(date +%s)}" +%Y-%m-%d)
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
{
  echo ".TH PREFLAB 1 \"$date\" \"PrefLab $version\" \"User Commands\""
  echo ".SH NAME"
  echo "preflab \\- align language models with preferences while you watch"
  echo ".SH SYNOPSIS"
  echo ".B preflab"
  echo "[\\fICOMMAND\\fR] [\\fIOPTIONS\\fR]"
  echo ".SH DESCRIPTION"
  echo "Without a command, \\fBpreflab\\fR opens the workbench window (with \\fB\\-\\-headless\\fR, or without a"
  echo "display, it runs the built-in demonstration on the command line)."
  echo ".PP"
  echo ".nf"
  help_of help
  echo ".fi"
  echo ".SH COMMANDS"
  for command in run pretrain import export runs train-rm tokenize export-model; do
    echo ".SS preflab $command"
    echo ".nf"
    help_of "$command" --help
    echo ".fi"
  done
  echo ".SH FILES"
  echo "The database, the starter model and checkpoints live in the user's data directory"
  echo '(\fI$XDG_DATA_HOME/preflab\fR, by default \fI~/.local/share/preflab\fR), never under /usr.'
  echo ".SH ENVIRONMENT"
  echo ".TP"
  echo ".B PREFLAB_DATA_DIR"
  echo "Use this data directory instead."
} > "$tmp"
gzip -9n -c "$tmp" > "$out"
