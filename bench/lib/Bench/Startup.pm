package Bench::Startup;
# The start-up of the programs that run once per connection, ours against
# the reference's: rblsmtpd with RBLSMTPD set empty (the exempt path of a
# qmail-smtpd chain) and argv0, each in front of bench/noop, and
# tcprulescheck answering one lookup.  Each chain is started COUNT times
# in a row by bench/spawnloop (posix_spawn, wait), whose median is one
# round's figure; rounds interleave ours and the reference's.
use strict;
use warnings;
use Bench;
use Exporter 'import';

our @EXPORT = qw(bench_startup);

my $target = 0.5;

sub rules_cdb {
  my $txt = "$work/startup-rules.txt";
  open my $fh, '>', $txt or die "bench: $txt: $!\n";
  print $fh "127.:allow,RBLSMTPD=\"\"\n192.0.2.:allow,RELAYCLIENT=\"\"\n10.:deny\n:allow\n";
  close $fh or die "bench: $txt: $!\n";
  my $tcprules = have("$ours/tcprules") ? "$ours/tcprules" : "$ref/tcprules";
  my $cdb = "$work/startup-rules.cdb";
  system("$tcprules $cdb $cdb.tmp < $txt") == 0 or die "bench: tcprules failed on $txt\n";
  return $cdb;
}

# [name, program, arguments after it, environment] of each chain.
sub chains {
  my ($noop, $cdb) = @_;
  return (
    ['rblsmtpd', 'rblsmtpd', ['-r', 'zen.example.org', $noop], { RBLSMTPD => '', TCPREMOTEIP => '192.0.2.7' }],
    ['argv0', 'argv0', [$noop, 'smtpd']],
    ['tcprulescheck', 'tcprulescheck', [$cdb], { TCPREMOTEIP => '192.0.2.7' }],
  );
}

sub spawn_p50 {
  my ($count, $env, @cmd) = @_;
  local %ENV = (%ENV, %{ $env || {} });
  my $line = `$tools/spawnloop $count @cmd 2>/dev/null`;
  return $line =~ /p50_us=([\d.]+)/ ? $1 : undef;
}

sub bench_startup {
  my $count = $ENV{BENCH_STARTUP_RUNS} || 1000;
  my $noop = "$tools/noop";
  return say_('', 'Start-up part: bench/noop is missing (make bench builds it).') unless have($noop) && have("$tools/spawnloop");
  my $cdb = rules_cdb();
  my %res;
  for my $round (1 .. $rounds) {
    push @{ $res{noop} }, spawn_p50($count, {}, $noop);
    for my $c (chains($noop, $cdb)) {
      my ($name, $prog, $args, $env) = @$c;
      for my $who (['ours', $ours], ['reference', $ref]) {
        next unless have("$who->[1]/$prog");
        my $us = spawn_p50($count, $env, "$who->[1]/$prog", @$args);
        printf "# startup round %d %-13s %-9s p50_us=%s\n", $round, $name, $who->[0], $us // '?';
        push @{ $res{"$name $who->[0]"} }, $us;
      }
    }
  }
  my $floor = median(@{ $res{noop} });
  say_('');
  say_("### Start-up of the per-connection programs (p50 of $count runs a round, median of $rounds rounds)");
  say_('');
  say_('Chains: `RBLSMTPD= rblsmtpd -r zen.example.org noop`, `argv0 noop smtpd`, `tcprulescheck rules.cdb` (4 rules, one lookup); `noop` is `bench/noop`, static.');
  say_(sprintf 'bench/noop alone: %s us.', fmt($floor, '%.0f'));
  say_('');
  say_("| program | ours us | reference us | ours / reference (target <= $target) | met | ours minus noop | reference minus noop |");
  say_('| --- | ---: | ---: | ---: | --- | ---: | ---: |');
  for my $c (chains($noop, $cdb)) {
    my $name = $c->[0];
    my ($o, $r) = map { median(@{ $res{"$name $_"} || [] }) } 'ours', 'reference';
    my $q = ratio($o, $r);
    my $floor_here = $name eq 'tcprulescheck' ? 0 : $floor;
    say_(sprintf '| %s | %s | %s | %s | %s | %s | %s |', $name, fmt($o), fmt($r), $q,
      $q eq '-' ? '-' : $q <= $target ? 'yes' : 'NO',
      fmt(defined $o ? $o - $floor_here : undef), fmt(defined $r ? $r - $floor_here : undef));
  }
}

1;
