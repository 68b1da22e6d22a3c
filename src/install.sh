#!/bin/sh
# make install and make uninstall.  install copies each file to its
# place under DESTDIR and notes the directories it had to create, so that
# uninstall removes exactly the files it put there and, of the
# directories, only those it created and only when they are empty.
# Usage: src/install.sh install|uninstall
# From the Makefile, in the environment: DESTDIR PREFIX DOCDIR B
# BIN (programs in $B) MAN1 MAN5 (pages in $B/man) DOCS EXAMPLES
# (files of the tree, EXAMPLES under examples/).
set -e
bindir=$DESTDIR$PREFIX/bin
man1dir=$DESTDIR$PREFIX/share/man/man1
man5dir=$DESTDIR$PREFIX/share/man/man5
docdir=$DESTDIR$DOCDIR
# The directories install created, deepest last; removed in reverse.
manifest=$docdir/.installed-dirs

# mkdirs DIR: creates DIR and its missing parents, noting each one.
mkdirs() {
  [ -d "$1" ] && return 0
  mkdirs "$(dirname "$1")"
  mkdir "$1"
  created="$created$1
"
}

# put SRC DIR MODE: copies through a temporary name, so that a running
# program is replaced, not overwritten.
put() {
  name=$2/$(basename "$1")
  cp "$1" "$name.new"
  chmod "$3" "$name.new"
  mv -f "$name.new" "$name"
}

install_all() {
  created=""
  # The directories noted by an earlier install stay noted.
  [ -f "$manifest" ] && created=$(cat "$manifest")"
"
  for d in "$bindir" "$man1dir" "$man5dir" "$docdir"; do mkdirs "$d"; done
  for p in $BIN; do put "$B/$p" "$bindir" 755; done
  for m in $MAN1; do put "$B/man/$m" "$man1dir" 644; done
  for m in $MAN5; do put "$B/man/$m" "$man5dir" 644; done
  for f in $DOCS; do put "$f" "$docdir" 644; done
  for f in $EXAMPLES; do
    dir=$docdir/$(dirname "$f")
    mkdirs "$dir"
    if [ -x "$f" ]; then put "$f" "$dir" 755; else put "$f" "$dir" 644; fi
  done
  printf '%s' "$created" | grep -v '^$' > "$manifest" || true
}

uninstall_all() {
  created=""
  [ -f "$manifest" ] && created=$(cat "$manifest")
  for p in $BIN; do rm -f "$bindir/$p"; done
  for m in $MAN1; do rm -f "$man1dir/$m"; done
  for m in $MAN5; do rm -f "$man5dir/$m"; done
  for f in $DOCS $EXAMPLES; do rm -f "$docdir/$f"; done
  rm -f "$manifest"
  # Deepest first; a directory someone else put files in stays.
  printf '%s\n' "$created" | sed '/^$/d' | sort -r | while read -r d; do
    rmdir "$d" 2>/dev/null || true
  done
}

case $1 in
  install) install_all ;;
  uninstall) uninstall_all ;;
  *) echo "usage: src/install.sh install|uninstall" >&2; exit 100 ;;
esac
