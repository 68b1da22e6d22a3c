# Helpers of the rblsmtpd tests (tests/rbl_*.t), on top of Ucspi:
#
#   start_dnsd(ZONE[, ADDR])   start the test DNS responder
#       (tests/rbl_dnsd.pl) with ZONE (its zone file text) on ADDR
#       (default 127.0.0.1) port 53: meant for a private network
#       namespace (Ucspi's need_private_net).  Returns the name of the
#       file where it logs each query as "name TYPE" lines; dies when it
#       does not start within 10 s.  It is stopped at the end of the test.
#   stop_dnsd()                stop every responder started
#   queries(LOG)               the queries logged so far, a list of lines
#   clear_queries(LOG)         empty the log
#   run_rbl(PROGRAM, [ARGS], {ENV}, INPUT[, TIMEOUT])   Ucspi's run_cmd
#       with exactly the environment ENV (plus PATH) and INPUT on stdin,
#       TIMEOUT (default 20) s at most; returns { out, err, status,
#       seconds } with "pid N:" in err made "pid PID:".
package Ucspi::Rbl;
use strict;
use warnings;
use Exporter 'import';
use Cwd 'abs_path';
use File::Basename 'dirname';
use Ucspi;
our @EXPORT = qw(start_dnsd stop_dnsd queries clear_queries run_rbl);

my $dnsd = dirname(dirname(dirname(abs_path(__FILE__)))) . '/rbl_dnsd.pl';
my @daemons;

sub start_dnsd {
  my ($zone, $addr) = @_;
  $addr //= '127.0.0.1';
  my $n = scalar @daemons;
  my $zf = tmpdir() . "/zone$n";
  my $log = tmpdir() . "/queries$n";
  spew($zf, $zone);
  spew($log, '');
  my ($pid, $line) = start_process([$^X, $dnsd, $zf, $log, $addr, 53]);
  push @daemons, $pid;
  die "rbl_dnsd.pl did not start\n" unless defined $line && $line =~ /^port 53/;
  return $log;
}

sub stop_dnsd { stop_pid($_) for @daemons; @daemons = () }

sub queries {
  my ($log) = @_;
  open my $fh, '<', $log or return ();
  chomp(my @q = <$fh>);
  return @q;
}

sub clear_queries { spew($_[0], '') }

sub run_rbl {
  my ($prog, $args, $env, $input, $limit) = @_;
  my $r = run_cmd([$prog, @$args], env => $env, in => $input // '', timeout => $limit // 20);
  $r->{err} =~ s/ pid \d+:/ pid PID:/g unless $r->{status} == -1;
  return $r;
}

1;
