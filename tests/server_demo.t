#!/usr/bin/perl
# make demo's script: a running tcpserver on 127.0.0.1:$PORT that greets
# with the TCP environment and the rule's variables, logging with -v.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use IO::Socket::IP;
use POSIX qw(WNOHANG);
use Test::More;

need_ours('tcpserver', 'tcprules', 'tcprulescheck');
# A free port: bound here, released just before the demo takes it.
my $probe = IO::Socket::IP->new(Listen => 1, LocalHost => '127.0.0.1', LocalPort => 0) or die;
my $port = $probe->sockport;
close $probe;
my $out = tmpdir() . '/demo.out';
my $pid = background(sub {
  open STDIN, '<', '/dev/null';
  open STDOUT, '>', $out;
  open STDERR, '>&', \*STDOUT;
  $ENV{PORT} = $port;
  exec 'timeout', '30', 'sh', 'src/demo.sh';
});
ok(wait_until(10, sub { slurp($out) =~ m{status: 0/40} }), 'the demo server runs') or diag(slurp($out));
my $got = fetch($port);
like($got, qr/^hello from the ucspi-tcp demo/, 'greeting');
like($got, qr/^TCPREMOTEIP=127\.0\.0\.1$/m, 'shows the TCP environment');
like($got, qr/^RELAYCLIENT=$/m, 'shows the variable its rule sets');
ok(wait_until(5, sub { slurp($out) =~ /^tcpserver: ok \d+ /m }), 'logs with -v');
like(slurp($out), qr/^rule 127\.0\.0\.1:$/m, 'shows tcprulescheck output first');
kill 'INT', $pid;
ok(wait_until(5, sub { waitpid($pid, WNOHANG) == $pid }), 'SIGINT (Ctrl-C) stops it');
done_testing();
