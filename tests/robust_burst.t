#!/usr/bin/perl
# A burst of 5,000 connections at concurrency 200 against tcpserver -c 40:
# never more than 40 children, every connection served, no zombies left,
# the server's descriptor count unchanged.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use Test::More;
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep);

need_ours('tcpserver', 'bench/loadgen', 'bench/okchild');
my $dir = tmpdir();
my $log = "$dir/log";
my $srv = start_server(ours('tcpserver'), ['-v', '-c', '40', '-b', '1024', '-H', '-R', '-l', 'x', '127.0.0.1', '0', ours('bench/okchild'), '100'], log => $log);
my ($pid, $port) = @$srv{qw(pid port)};
ok(wait_until(5, sub { slurp($log) =~ m{status: 0/40} }), 'server started');
my $fds = fd_count($pid);

# The client runs in the background while this process samples children.
my $out = "$dir/loadgen";
my $lg = background(sub {
  open STDOUT, '>', $out;
  exec 'timeout', '150', ours('bench/loadgen'), '-c', '200', '-n', '5000', '-t', '120', '-e', '3', '127.0.0.1', $port;
});
my $max_kids = 0;
while (waitpid($lg, WNOHANG) == 0) {
  my $n = () = children($pid);
  $max_kids = $n if $n > $max_kids;
  sleep 0.02;   # the sampling period
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
is(stop_server($pid), 0, 'server ends on SIGTERM, exit 0');
done_testing();
