#!/usr/bin/perl
# The version is written once, in VERSION; debian/changelog, NEWS and the
# man pages as built show the same.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use Test::More;
use Cwd qw(abs_path);

my $version = slurp('VERSION');
chomp $version;
like($version, qr/^\d+\.\d+\.\d+$/, "VERSION holds one version ($version)");
my ($deb) = slurp('debian/changelog') =~ /^\S+ \(([^)]+)\)/;
ok(defined $deb, 'debian/changelog has a version');
$deb = '' unless defined $deb;
(my $upstream = $deb) =~ s/^\d+://;
is($upstream, $version, 'debian/changelog\'s newest version is VERSION (native, no revision)');
like(slurp('NEWS'), qr/^\Q$version\E\b/m, 'NEWS has a section for it');
my $bin = abs_path($ENV{UCSPI_BIN} || 'build');
SKIP: {
  skip "no man pages built in $bin", 2 unless -d "$bin/man";
  my @pages = glob("$bin/man/*.[15]");
  ok(@pages >= 18, 'every man page built') or diag(scalar @pages);
  my @wrong = grep { slurp($_) !~ /^\.TH \S+ [15] "[^"]*" "ucspi-tcp \Q$version\E"/m } @pages;
  is("@wrong", '', "each page's .TH line shows ucspi-tcp $version");
}
done_testing();
