#!/usr/bin/perl
# A child killed by a signal is logged with its raw wait status, as 0.88
# does (`end PID status 9` for SIGKILL), and the server carries on.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use Test::More;
use IO::Socket::INET;

need_ours('tcpserver');
my $dir = tmpdir();
my $log = "$dir/log";
# The child kills itself with the signal whose number the client sends
# (0: it answers instead).
my $script = 'read n; n=$(echo "$n" | tr -dc 0-9); [ "$n" = 0 ] && exec echo alive; kill -"$n" $$; sleep 5';
my $srv = start_server(ours('tcpserver'), ['-v', '-H', '-R', '-l', 'x', '127.0.0.1', '0', '/bin/sh', '-c', $script], log => $log);
my ($pid, $port) = @$srv{qw(pid port)};

sub talk {
  my ($line) = @_;
  my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Timeout => 5) or return undef;
  print $s "$line\n";
  return read_to_eof($s, 10);
}

for my $case ([9, 'SIGKILL'], [15, 'SIGTERM'], [1, 'SIGHUP']) {
  my ($sig, $name) = @$case;
  is(talk($sig), '', "child killed by $name: the client sees EOF");
  my $text;
  ok(wait_until(10, sub { ($text = slurp($log)) =~ /^tcpserver: end (\d+) status $sig$/m }),
    "logged as end PID status $sig") or diag($text);
  my ($child) = $text =~ /^tcpserver: end (\d+) status $sig$/m;
  like($text, qr/^tcpserver: pid $child from 127\.0\.0\.1$/m, 'the same pid was logged at the start');
}
is(talk(0), "alive\n", 'the server still serves');
ok(wait_until(10, sub { slurp($log) =~ m{status: 0/40\n\z} }), 'no child left running');
is(stop_server($pid), 0, 'server ends on SIGTERM, exit 0');
done_testing();
