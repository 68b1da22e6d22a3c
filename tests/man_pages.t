#!/usr/bin/perl
# Every program and script of the suite has its manual page, and every
# page renders without groff warnings (when groff is installed).
use strict;
use warnings;
use Test::More;

my @progs = map { m{^src/(.*)\.c$} } glob('src/*.c');
my @scripts = map { m{^src/scripts/(.*)$} } glob('src/scripts/*');
ok(scalar(@progs) >= 10, 'programs found in src/') or diag("@progs");
for my $p (@progs, @scripts) {
  ok(-f "man/$p.1", "man/$p.1 exists");
}
ok(-f 'man/tcp-environ.5', 'man/tcp-environ.5 exists');

SKIP: {
  skip 'no groff', 1 unless system('command -v groff >/dev/null 2>&1') == 0;
  for my $m (glob('man/*.[15]')) {
    my $warn = `groff -ww -man -Tutf8 -z $m 2>&1`;
    is($warn, '', "$m renders without warnings");
  }
}
done_testing();
