#!/usr/bin/perl
# make install DESTDIR=... then make uninstall DESTDIR=... leaves an empty
# tree, for the default prefix and for PREFIX=/usr; install puts the
# programs, the man pages, the documentation and the examples in place.
# Built in a scratch build directory, with the calling make's variables
# (MAKEFLAGS) dropped, so that the build under test is left alone.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use File::Find;

# A make that runs this test exports its command-line variables (B,
# EXTRA_CFLAGS of make asan, ...): none may reach the make run here.
delete @ENV{qw(MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES B EXTRA_CFLAGS EXTRA_LDFLAGS
  NOSTRIP STATIC WERROR CHECK_ASAN DESTDIR PREFIX DOCDIR DEPS)};
my $tmp = tempdir(CLEANUP => 1);
my $b = "$tmp/build";
is(system("make -s -j2 B=$b all >$tmp/build.log 2>&1"), 0, 'scratch build') or diag(`cat $tmp/build.log`);

sub tree {
  my ($root) = @_;
  my @all;
  find({ wanted => sub { push @all, substr($File::Find::name, length $root) if $_ ne '.' }, no_chdir => 1 }, $root);
  return sort grep { $_ ne '' } @all;
}

for my $prefix ('', '/usr') {
  my $root = "$tmp/root" . ($prefix eq '' ? 'default' : 'usr');
  mkdir $root;
  my $p = $prefix eq '' ? '' : "PREFIX=$prefix";
  my $home = $prefix eq '' ? do { open my $h, '<', 'conf-home' or die; my $l = <$h>; chomp $l; $l } : $prefix;
  is(system("make -s B=$b DESTDIR=$root $p install >$tmp/install.log 2>&1"), 0, "make install $p")
    or diag(`cat $tmp/install.log`);
  my %have = map { $_ => 1 } tree($root);
  for my $f ("$home/bin/tcpserver", "$home/bin/tcprules", "$home/bin/who\@",
             "$home/share/man/man1/tcpserver.1", "$home/share/man/man5/tcp-environ.5",
             map({ "$home/share/doc/ucspi-tcp/$_" } qw(README NEWS LICENSE rules.example
               examples/daemontools/echo/run examples/qmail-smtpd/tcp.smtp
               examples/systemd/ucspi-echo.socket))) {
    ok($have{$f}, "installs $f");
  }
  ok(-x "$root$home/share/doc/ucspi-tcp/examples/runit/echo/run", 'run scripts stay executable');
  like(`cat '$root$home/bin/date\@'`, qr{\Q$home\E/bin/tcpclient}, 'scripts call programs under the prefix');
  is(system("make -s B=$b DESTDIR=$root $p uninstall >$tmp/uninstall.log 2>&1"), 0, "make uninstall $p")
    or diag(`cat $tmp/uninstall.log`);
  my @left = tree($root);
  is("@left", '', 'uninstall leaves an empty tree');
}

# A directory that was there before install stays, and so do files that
# are not install's.
my $root = "$tmp/rootshared";
system('mkdir', '-p', "$root/usr/local/bin");
open my $h, '>', "$root/usr/local/bin/other" or die;
close $h;
system("make -s B=$b DESTDIR=$root install >/dev/null 2>&1");
system("make -s B=$b DESTDIR=$root uninstall >/dev/null 2>&1");
my @left = tree($root);
is("@left", '/usr /usr/local /usr/local/bin /usr/local/bin/other', 'uninstall keeps what it did not create');
done_testing();
