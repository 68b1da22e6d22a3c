#!/usr/bin/perl
# How tcpserver reaps (src/tcpserver/kids.c): while few children live,
# by SIGCHLD and waitpid(-1), as 0.88, with no reaper thread at all when
# -c is below the reaper's threshold (256) and no pidfd per child; from
# 256 live children on, by the reaper thread, the children kept from it
# until then handed over.  Either way every child is reaped once, with
# its end line, and the counts come back to 0.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use Test::More;
use IO::Socket::INET;

need_ours('tcpserver');
my $hold = ours('bench/holdchild');
skip_all('bench/holdchild not built (make units)') unless -x $hold;
my $from = 256;

sub threads_of {
  open my $fh, '<', "/proc/$_[0]/status" or return -1;
  my ($n) = join('', <$fh>) =~ /^Threads:\s+(\d+)/m;
  return $n // -1;
}

sub connect_n {
  my ($port, $n) = @_;
  my @c;
  for (1 .. $n) {
    my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Timeout => 5) or last;
    push @c, $c;
  }
  return @c;
}

sub live { scalar grep { $_->[1] ne 'Z' } children($_[0]) }

# -c 40 (the default): no thread.
my $s = start_server(ours('tcpserver'), [qw(-v -H -R -l x 127.0.0.1 0), $hold]);
is(threads_of($s->{pid}), 1, '-c 40: one thread, no reaper');
my @c = connect_n($s->{port}, 5);
ok(wait_until(5, sub { live($s->{pid}) == 5 }), 'five children');
close $_ for @c;
ok(wait_until(5, sub { (() = slurp($s->{log}) =~ /^tcpserver: end \d+ status 0$/mg) == 5 }),
   'five end lines, reaped by SIGCHLD');
like(slurp($s->{log}), qr{status: 0/40\n\z}, '... the count back to 0');
stop_server($s);

# -c 400: a reaper thread, used from 256 live children on.
$s = start_server(ours('tcpserver'), [qw(-v -H -R -l x -c 400 127.0.0.1 0), $hold]);
is(threads_of($s->{pid}), 2, '-c 400: the reaper thread');
@c = connect_n($s->{port}, $from - 6);
ok(wait_until(10, sub { live($s->{pid}) == $from - 6 }), ($from - 6) . ' children');
close $_ for splice @c, 0, 10;
ok(wait_until(10, sub { (() = slurp($s->{log}) =~ /^tcpserver: end /mg) == 10 }), 'ten of them end: reaped by SIGCHLD');
push @c, connect_n($s->{port}, 20);
my $n = @c;
ok(wait_until(10, sub { live($s->{pid}) == $n }), "$n children: over 256, the reaper takes them all");
close $_ for @c;
ok(wait_until(20, sub { (() = slurp($s->{log}) =~ /^tcpserver: end /mg) == $n + 10 }),
   'every child reaped once, those kept from the reaper and those it watched');
ok(wait_until(5, sub { slurp($s->{log}) =~ m{status: 0/400\n\z} }), '... the count back to 0');
my $log = slurp($s->{log});
my %ends;
$ends{$1}++ while $log =~ /^tcpserver: end (\d+) /mg;
ok(!grep({ $_ != 1 } values %ends), 'no end line twice');
is(live($s->{pid}), 0, 'no child left, no zombie');
stop_server($s);

# The same server without a reaper's pidfd per child while few live: no
# pidfd_open at all for 50 short connections.
SKIP: {
  skip 'no strace', 2 unless have_tool('strace');
  skip 'sanitizer build', 2 if $ENV{UCSPI_SANITIZED};
  my $trace = tmpdir() . '/strace';
  my ($tracer, $port) = start_process(['strace', '-f', '-qq', '-e', 'trace=pidfd_open', '-o', $trace,
                                       ours('tcpserver'), qw(-1 -H -R -l x -c 400 127.0.0.1 0), ours('bench/okchild')]);
  chomp $port;
  my $ok = 0;
  for (1 .. 50) { $ok++ if fetch($port) eq "ok\n" }
  # The server is strace's child, not ours: signalled by its pid, then
  # strace ends with it.
  my ($server) = map { $_->[0] } children($tracer);
  kill 'TERM', $server if $server;
  stop_pid($tracer);
  is($ok, 50, '50 connections served under strace');
  is(scalar(grep { /pidfd_open/ } split /\n/, slurp($trace)), 0, 'few children: no pidfd_open');
}

done_testing();
