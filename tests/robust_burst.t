#!/usr/bin/perl
# A burst of 5,000 connections at concurrency 200 against tcpserver -c 40:
# never more than 40 children, every connection served, no zombies left,
# the server's descriptor count unchanged.
use strict;
use warnings;
use lib 'tests';
use robust_lib;
use Test::More;
use File::Temp qw(tempdir);
use Time::HiRes qw(sleep);

need_bins('tcpserver', 'bench/loadgen', 'bench/okchild');
my $dir = tempdir(CLEANUP => 1);
my $log = "$dir/log";
my ($pid, $port) = start_server($log,
  ['-v', '-c', '40', '-b', '1024', '-H', '-R', '-l', 'x', '127.0.0.1', '0', bin('bench/okchild'), '100']);
ok(wait_until(5, sub { slurp($log) =~ m{status: 0/40} }), 'server started');
my $fds = fd_count($pid);

# The client runs in the background while this process samples children.
my $out = "$dir/loadgen";
my $lg = fork;
if (!$lg) {
  open STDOUT, '>', $out;
  exec 'timeout', '150', bin('bench/loadgen'), '-c', '200', '-n', '5000', '-t', '120', '-e', '3', '127.0.0.1', $port;
  exit 127;
}
my $max_kids = 0;
while (waitpid($lg, POSIX::WNOHANG()) == 0) {
  my $n = () = children($pid);
  $max_kids = $n if $n > $max_kids;
  sleep 0.02;
}
my $result = slurp($out);
like($result, qr/^completed=5000 failed=0 unfinished=0 /, 'every connection served') or diag($result);
ok(wait_until(20, sub { slurp($log) =~ m{end \d+ status \d+\ntcpserver: status: 0/40\n\z} }), 'all children ended');

my $text = slurp($log);
my @status = $text =~ m{^tcpserver: status: (\d+)/40$}mg;
my $max_status = 0;
$_ > $max_status and $max_status = $_ for @status;
cmp_ok($max_status, '<=', 40, 'the log never shows more than 40 children');
is($max_status, 40, 'the limit of 40 was reached (the test exercised it)');
cmp_ok($max_kids, '<=', 40, "never more than 40 children seen in /proc (max $max_kids)");
is(scalar(() = $text =~ /^tcpserver: end \d+ status 0$/mg), 5000, '5000 children ended with status 0');
is(scalar(children($pid)), 0, 'no children left, no zombies');
is(fd_count($pid), $fds, "descriptor count unchanged ($fds)");
ok(stop_server($pid), 'server ends on SIGTERM');
done_testing();
