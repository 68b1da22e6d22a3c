#!/usr/bin/perl
# tcpserver -G behind a real HAProxy (Debian's package haproxy), with the
# layer 4 health check of examples/haproxy/haproxy.cfg ("check port" with
# the server's own port, so no PROXY header): the checks start no
# program and leave no line in tcpserver's log; a restart of tcpserver
# (SIGTERM to the front, the next instance started as soon as it exited,
# as a supervisor does) does not make HAProxy mark the server DOWN, a
# client connected through HAProxy keeps its connection until the drain's
# deadline, and new clients are served by the next instance.  (Checks
# every 100 ms, DOWN after 10 failures: the restart is within a second
# even on a loaded machine.)
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use Ucspi::Restart;
use Test::More;
use IO::Socket::IP;
use IO::Socket::UNIX;
use Socket qw(SOCK_STREAM);
use Time::HiRes qw(sleep time);

need_ours('tcpserver', 'tcprules');
my ($haproxy) = grep { -x } '/usr/sbin/haproxy', map { "$_/haproxy" } split /:/, $ENV{PATH};
skip_all('no haproxy (Debian package haproxy; make deps)') unless $haproxy;
skip_all('cannot become a child subreaper (prctl)') unless subreaper();
like(slurp("$FindBin::Bin/../examples/haproxy/haproxy.cfg"), qr/^#\s+server s1 \S+ send-proxy check port /m,
     'the example shows the layer 4 check');

my $dir = tmpdir();
my $r = run_cmd([ours('tcprules'), "$dir/rules.cdb", "$dir/rules.tmp"],
                in => qq{127.0.0.1:allow,PROXYPROTOCOL="any"\n:allow\n});
is($r->{status}, 0, 'rules compiled') or diag($r->{err});
my @server = (ours('tcpserver'), '-v', '-G', '2+1', '-H', '-R', '-l', 'x', '-x', "$dir/rules.cdb");
my @echo = ('sh', '-c', 'while IFS= read -r l; do printf "%s\n" "$l"; done');
my $log = "$dir/server-log";

my $s = start_server($server[0], [@server[1 .. $#server], '127.0.0.1', '0', @echo], log => $log);
my $port = $s->{port};

my ($hpid, $front);
for my $try (1 .. 5) {
  $front = free_port();
  spew("$dir/haproxy.cfg", <<"EOF");
global
    maxconn 256
    stats socket $dir/admin.sock mode 600 level admin
defaults
    mode tcp
    timeout connect 5s
    timeout client 1m
    timeout server 1m
frontend echo
    bind 127.0.0.1:$front
    default_backend tcpserver
backend tcpserver
    server s1 127.0.0.1:$port send-proxy check port $port inter 100ms fall 10
EOF
  unlink "$dir/admin.sock";
  ($hpid) = start_process([$haproxy, '-f', "$dir/haproxy.cfg", '-db'], stderr => "$dir/haproxy.err", timeout => 0.2);
  last if wait_until(10, sub { -S "$dir/admin.sock" }) && kill(0, $hpid);
  stop_pid($hpid);
  $hpid = undef;
}
BAIL_OUT('haproxy does not start: ' . slurp("$dir/haproxy.err")) unless $hpid;

sub status {
  my $c = IO::Socket::UNIX->new(Type => SOCK_STREAM, Peer => "$dir/admin.sock") or return '';
  print $c "show stat\n";
  $c->flush;
  my @lines = split /\n/, read_to_eof($c, 5);
  my @head = split /,/, (shift(@lines) // '') =~ s/^# //r;
  my ($col) = grep { $head[$_] eq 'status' } 0 .. $#head;
  for (@lines) { my @f = split /,/; return $f[$col] if defined $col && $f[1] eq 's1' }
  return '';
}

ok(wait_until(10, sub { status() =~ /^UP/ }), 'HAProxy checks the server: UP');
sleep 1;
my $checks_log = slurp($log);
unlike($checks_log, qr/^tcpserver: (?:pid|warning)/m, 'a second of checks every 100 ms: no program, no line')
  or diag($checks_log);

my $c = IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => $front, Timeout => 3) or die;
is(echo_line($c, 'one'), "one\n", 'a client through HAProxy is served');

# The restart, as a supervisor does it.
my $t = time;
my $old_server = (map { $_->[0] } grep { $_->[1] ne 'Z' } children($s->{pid}))[0];
kill 'TERM', $s->{pid};
is(wait_pid($s->{pid}, 2), 0, 'the front exits at once');
my $s2 = start_server($server[0], [@server[1 .. $#server], '127.0.0.1', $port, @echo], log => "$log-2");
is($s2->{port}, $port, 'the next instance listens on the port');
my @seen;
my $until = time + 1.5;
while (time < $until) { push @seen, status(); sleep 0.05 }
ok(!grep({ !/^UP/ } @seen), 'HAProxy never marks the server DOWN (' . scalar(@seen) . ' looks)')
  or diag(join ' ', @seen);
is(echo_line($c, 'two'), "two\n", 'the client keeps its connection through the restart');
my $c2 = IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => $front, Timeout => 3) or die;
is(echo_line($c2, 'new'), "new\n", 'a new client is served by the next instance');
close $c2;
my $eof;
read_to_eof($c, 4, \$eof);
my $end = time - $t;
ok($eof && $end > 1.7 && $end < 2.8, sprintf('the old connection ends at the deadline (%.2f s)', $end));
ok(wait_until(3, sub { !alive($old_server) }), 'the old server exits');
reap($old_server);
like(slurp($log), qr/^tcpserver: drain: pid $old_server stopped accepting/m, 'its drain is logged');
stop_pid($hpid);
stop_server($s2);
done_testing();
