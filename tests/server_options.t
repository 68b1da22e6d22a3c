#!/usr/bin/perl
# tcpserver's options: a bad value for an option of the extensions names
# the option and why, exit 100, before anything is bound (-G abc, -G 5+x
# and -W abc were taken silently before); --help lists every option
# letter the server takes; a usage error still prints 0.88's line.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use Test::More;

need_ours('tcpserver');

my @bad = (
  ['-G', 'abc', 'not drain[+kill] in whole seconds'],
  ['-G', '5+x', 'not drain[+kill] in whole seconds'],
  ['-G', '5+1+2', 'not drain[+kill] in whole seconds'],
  ['-W', 'abc', 'not a whole number of seconds'],
  ['-W', '5s', 'not a whole number of seconds'],
  ['-C', '0', 'the limit must be at least 1'],
  ['-C', 'x', 'not n[:message] with a whole number n'],
  ['-F', '0', 'not rate[/burst][:message], rate from 0.001 to 1000000'],
  ['-L', '33', 'a prefix is longer than 32 (IPv4) or 128 (IPv6)'],
  ['-L', '24/x', 'not v4[/v6] prefix lengths'],
  ['-N', '2', 'not a descriptor number above 2'],
);
for my $b (@bad) {
  my ($opt, $value, $why) = @$b;
  my $r = run_cmd([ours('tcpserver'), $opt, $value, '127.0.0.1', '0', 'true'], timeout => 5);
  is($r->{status}, 100, "$opt $value: exit 100");
  is($r->{err}, "tcpserver: fatal: bad value for $opt: $value: $why\n", "$opt $value: the option and why");
}

# Good values still start a server (it is stopped after 2 s: -1).
for my $good (['-G', '5'], ['-G', '5+1'], ['-G', '0'], ['-W', '3'], ['-C', '2:busy'], ['-F', '0.5/3:slow'],
              ['-L', '24/48'], ['-L', '/56']) {
  my $r = run_cmd([ours('tcpserver'), @$good, '127.0.0.1', '0', 'true'], timeout => 1);
  is($r->{status}, -1, "@$good: accepted, the server runs");
}

# --help: every letter of the options.
my $r = run_cmd([ours('tcpserver'), '--help']);
my $help = $r->{out};
for my $l (split //, '1UXpPhHrRoOdDqQv46S0cxBgublt ICLFWGN') {
  next if $l eq ' ';
  like($help, qr/-[A-Za-z0-9]*\Q$l\E/, "--help names -$l");
}
# A usage error: 0.88's line, as the reference prints it.
$r = run_cmd([ours('tcpserver'), '127.0.0.1', '0']);
is($r->{err}, "tcpserver: usage: tcpserver [ -1UXpPhHrRoOdDqQv ] [ -c limit ] [ -x rules.cdb ] [ -B banner ] [ -g gid ] [ -u uid ] [ -b backlog ] [ -l localname ] [ -t timeout ] host port program\n",
   'a usage error prints 0.88\'s usage line');
done_testing();
