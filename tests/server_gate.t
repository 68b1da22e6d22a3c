#!/usr/bin/perl
# The one admission gate of tcpserver's core, and the defects found in
# its seams (each of these failed before the core was split):
# - -c holds for connections whose PROXY header completes (fast and slow
#   path): never more programs than -c, no "status: 2/1", no zombie;
# - a connection held for a second look spends no rate budget: it gets
#   the rule's DIEMSG and "MAXCONNIP 1/1", not -F's message;
# - a client behind a trusted proxy, never above its limit, is never
#   refused; nor is one on the slow path with a MAXCONNIP rule;
# - a drain closes the connections still waiting for their PROXY
#   header, each with its line;
# - a vfork child whose warning meets a logger that reads nothing does
#   not keep the server from its SIGTERM.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use Ucspi::Limits;
use IO::Socket::IP;
use Fcntl qw(F_SETFL O_NONBLOCK);
use POSIX ();
use Time::HiRes qw(sleep time);
use Test::More;

need_ours('tcpserver', 'tcprules');
my $t = tmpdir();

sub rules_cdb {
  my ($name, $text) = @_;
  my $cdb = "$t/$name.cdb";
  my $r = run_cmd([ours('tcprules'), $cdb, "$cdb.tmp"], in => $text);
  die "tcprules: $r->{err}" if $r->{status};
  return $cdb;
}

sub zombies { my ($s) = @_; return scalar grep { $_->[1] eq 'Z' } children($s->{pid}) }
sub running { my ($s) = @_; return scalar grep { $_->[1] ne 'Z' } children($s->{pid}) }
sub max_status {
  my ($log) = @_;
  my $max = 0;
  while ($log =~ /^tcpserver: status: (\d+)\//mg) { $max = $1 if $1 > $max }
  return $max;
}

# -c with PROXY headers: three held clients through a trusted proxy.
my $proxy_rules = rules_cdb('proxy', "127.0.0.1:allow,PROXYPROTOCOL=\"v1\"\n");
for my $path (['fast', qw(-HRl x)], ['slow', qw(-R -l x)]) {
  my ($name, @mode) = @$path;
  my $runs = "$t/runs-c-$name";
  my $s = start_server(ours('tcpserver'), ['-v', @mode, '-c', '1', '-x', $proxy_rules,
                                           '127.0.0.1', '0', hold_program($runs)]);
  my @c;
  for my $n (1 .. 3) {
    my $c = connect_from('127.0.0.1', $s->{port});
    syswrite($c, "PROXY TCP4 10.0.0.$n 10.0.0.254 1000 80\r\n");
    push @c, $c;
    sleep 0.2;
  }
  sleep 0.5;
  is(runs($runs), 1, "-c 1, $name path, three proxied clients: one program runs");
  is(running($s), 1, "-c 1, $name path: one child");
  cmp_ok(max_status(slurp($s->{log})), '<=', 1, "-c 1, $name path: no status above 1/1");
  close shift @c;
  ok(wait_until(5, sub { runs($runs) == 2 }), "-c 1, $name path: the next one runs once the first ended");
  close $_ for @c;
  ok(wait_until(5, sub { runs($runs) == 3 }), "-c 1, $name path: then the third");
  ok(wait_until(5, sub { !children($s->{pid}) }), "-c 1, $name path: every child reaped, no zombie");
  cmp_ok(max_status(slurp($s->{log})), '<=', 1, "-c 1, $name path: the status never went above 1/1");
  stop_server($s);
}

# A second look spends no rate budget.
{
  my $rules = rules_cdb('ip1', "127.0.0.1:allow,MAXCONNIP=\"1\",DIEMSG=\"421 too many\"\n");
  my $s = start_server(ours('tcpserver'), ['-v', '-HRl', 'x', '-F', '1/2:RATE', '-x', $rules,
                                           '127.0.0.1', '0', hold_program(undef)]);
  my $c1 = connect_from('127.0.0.1', $s->{port});
  is(hello($c1), "hi 1\n", 'rate with a second look: the first connection is served');
  my ($got) = refusal('127.0.0.1', $s->{port});
  is(show($got), show("421 too many\r\n"), 'rate with a second look: the second is told DIEMSG, not -F\'s message');
  ok(wait_log($s, qr/ MAXCONNIP 1\/1$/m), 'rate with a second look: logged MAXCONNIP 1/1')
    or diag(slurp($s->{log}));
  unlike(slurp($s->{log}), qr/ rate /, 'rate with a second look: no rate line');
  close $c1;
  ok(wait_until(5, sub { slurp($s->{log}) =~ /status: 0\// }), 'rate with a second look: the first ended');
  my $c3 = connect_from('127.0.0.1', $s->{port});
  is(hello($c3), "hi 1\n", 'rate with a second look: its rate budget was untouched (burst 2: served)');
  close $c3;
  stop_server($s);
}

# One after another, never two at once: never refused (through a proxy,
# and on the slow path with a rule's MAXCONNIP).
sub sequential {
  my ($port, $n, $header) = @_;
  my $refused = 0;
  for my $i (1 .. $n) {
    my $c = connect_from('127.0.0.1', $port) or next;
    syswrite($c, $header) if defined $header;
    shutdown($c, 1);
    my $got = read_to_eof($c, 5);
    close $c;
    $refused++ unless $got =~ /^hi /;
  }
  return $refused;
}
{
  my $s = start_server(ours('tcpserver'), ['-HRl', 'x', '-C', '1:BUSY', '-x', $proxy_rules,
                                           '127.0.0.1', '0', hold_program(undef)]);
  is(sequential($s->{port}, 150, "PROXY TCP4 10.1.2.3 10.0.0.254 1000 80\r\n"), 0,
     '-C 1 behind a proxy: 150 connections one after another, none refused');
  stop_server($s);
  my $rules = rules_cdb('ip1slow', "127.0.0.1:allow,MAXCONNIP=\"1\"\n");
  $s = start_server(ours('tcpserver'), ['-R', '-l', 'x', '-x', $rules, '127.0.0.1', '0', hold_program(undef)]);
  is(sequential($s->{port}, 150), 0,
     'MAXCONNIP 1 on the slow path: 150 connections one after another, none refused');
  stop_server($s);
}

# A drain closes what waits for its PROXY header, each with its line.
{
  my $s = start_server(ours('tcpserver'), ['-v', '-HRl', 'x', '-G', '5', '-W', '20', '-x', $proxy_rules,
                                           '127.0.0.1', '0', hold_program(undef)]);
  my @silent = map { connect_from('127.0.0.1', $s->{port}) } 1 .. 3;
  sleep 0.3;
  kill 'TERM', $s->{pid};
  my $st = wait_pid($s->{pid}, 5);
  ok(defined $st, 'drain with three PROXY headers waiting: the server ends (no child)');
  my $log = slurp($s->{log});
  is(scalar(() = $log =~ /^tcpserver: warning: dropping connection, unable to read PROXY header from 127\.0\.0\.1: draining$/mg),
     3, 'drain: each waiting connection closed with its line');
  my $eof;
  read_to_eof($silent[0], 2, \$eof);
  ok($eof, 'drain: the waiting connection was closed');
}

# A stalled logger and a failing exec on the fast path (vfork): SIGTERM
# still ends the server.  Its descriptor 2 is a pipe filled to the brim
# that nobody reads.
{
  pipe(my $r, my $w) or die;
  fcntl($w, F_SETFL, O_NONBLOCK) or die;
  1 while syswrite($w, 'x' x 65536);
  fcntl($w, F_SETFL, 0) or die;   # the server's writes must block
  my $pid = fork // die;
  if (!$pid) {
    open STDERR, '>&', $w or die;
    open STDOUT, '>', '/dev/null';
    exec(ours('tcpserver'), '-HRl', 'x', '127.0.0.1', '0', "$t/no-such-program") or POSIX::_exit(127);
  }
  my $port = wait_until(5, sub { listen_port($pid) });
  ok($port, 'stalled logger: the server listens');
  my @c = map { connect_from('127.0.0.1', $port) } 1 .. 2;
  sleep 0.5;
  kill 'TERM', $pid;
  my $st = wait_pid($pid, 5);
  ok(defined $st, 'stalled logger, failing exec, vfork: SIGTERM ends the server within 5 s');
  kill 'KILL', $pid unless defined $st;
  close $r;
}

# The port pid listens on, from /proc.
sub listen_port {
  my ($pid) = @_;
  my %inode;
  opendir my $d, "/proc/$pid/fd" or return;
  for (readdir $d) { my $l = readlink("/proc/$pid/fd/$_") // next; $inode{$1} = 1 if $l =~ /^socket:\[(\d+)\]/ }
  open my $fh, '<', '/proc/net/tcp' or return;
  while (<$fh>) {
    my @f = split ' ';
    next unless @f > 9 && $f[3] eq '0A' && $inode{$f[9]};
    return hex((split /:/, $f[1])[1]);
  }
  return;
}

done_testing();
