#!/bin/sh
# As in the official node images: a command that is an option (`-e ...`), or that is not a
# program on PATH (a script file), is run with node; anything else is executed as given.
set -e
if [ "${1#-}" != "$1" ] || [ -z "$(command -v "$1")" ] || { [ -f "$1" ] && ! [ -x "$1" ]; }; then
  set -- node "$@"
fi
exec "$@"
