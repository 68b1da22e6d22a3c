#!/usr/bin/perl
# tcpserver behind a real HAProxy (Debian's package haproxy), configured
# by examples/haproxy/haproxy.cfg and examples/haproxy/rules with the
# test's ports: a frontend whose backend sends PROXY v1 (send-proxy),
# one sending v2 (send-proxy-v2, health checks with a v2 LOCAL header),
# and one more to a tcpserver with -C 1.  Clients connect to HAProxy from
# other 127/8 addresses; the program must see them, not the balancer,
# and their own rules must apply (variables, deny, the -C count).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use Test::More;
use IO::Socket::IP;
use IO::Socket::UNIX;
use Socket qw(SOCK_STREAM);
use Time::HiRes qw(sleep time);

need_ours('tcpserver', 'tcprules');
my ($haproxy) = grep { -x } '/usr/sbin/haproxy', map { "$_/haproxy" } split /:/, $ENV{PATH};
skip_all('no haproxy (Debian package haproxy; make deps)') unless $haproxy;

my $dir = tmpdir();
my $examples = "$FindBin::Bin/../examples/haproxy";

# The example's rules with the test's clients before them.
my $rules = <<'EOF' . slurp("$examples/rules");
127.0.0.2:allow,X="two"
127.0.0.3:deny
127.0.0.4:allow,X="four"
EOF
like($rules, qr{^127\.0\.0\.1:allow,PROXYPROTOCOL="any"$}m, 'the example rules trust the balancer\'s address');
make_rules("$dir/rules.cdb", $rules);

my $prog = "$dir/prog";
spew($prog, <<'EOF');
#!/bin/sh
env | grep -E '^(TCP|PROXY|PROTO=|X=)' | sort
IFS= read -r line
echo "read:$line"
EOF
chmod 0755, $prog;

my @common = ('-v', '-H', '-R', '-l', 'x', '-x', "$dir/rules.cdb");
my $srv = start_server(ours('tcpserver'), [@common, '127.0.0.1', '0', $prog]);
my $lim = start_server(ours('tcpserver'), [@common, '-C', '1:busy', '127.0.0.1', '0', $prog]);
my $c2 = start_server(ours('tcpserver'), [@common, '-c', '2', '127.0.0.1', '0', $prog]);


# The example configuration with the test's ports and stats socket, and
# a third frontend to the -C 1 server.
sub config {
  my ($fa1, $fa2, $fa3, $fa4) = @_;
  my $cfg = slurp("$examples/haproxy.cfg");
  my $n = 0;
  $n += $cfg =~ s{bind 0\.0\.0\.0:7$}{bind 127.0.0.1:$fa1}m;
  $n += $cfg =~ s{bind 0\.0\.0\.0:8007$}{bind 127.0.0.1:$fa2}m;
  $n += $cfg =~ s{127\.0\.0\.1:10007 }{127.0.0.1:$srv->{port} }g;
  $n += $cfg =~ s{inter 2s}{inter 200ms};
  $n += $cfg =~ s{stats socket /run/haproxy/admin\.sock}{stats socket $dir/admin.sock};
  die "examples/haproxy/haproxy.cfg changed: $n substitutions\n" unless $n == 6;
  $cfg .= <<"EOF";

frontend limit
    bind 127.0.0.1:$fa3
    default_backend limit

backend limit
    server s1 127.0.0.1:$lim->{port} send-proxy-v2

frontend climit
    bind 127.0.0.1:$fa4
    default_backend climit

backend climit
    server s1 127.0.0.1:$c2->{port} send-proxy-v2 check check-send-proxy inter 200ms
EOF
  return $cfg;
}

# HAProxy in the foreground; its ports are probed free first, so a race
# with another program costs one more try.
my ($hpid, @front);
for my $try (1 .. 5) {
  @front = map { free_port() } 1 .. 4;
  spew("$dir/haproxy.cfg", config(@front));
  unlink "$dir/admin.sock";
  ($hpid) = start_process([$haproxy, '-f', "$dir/haproxy.cfg", '-db'], stderr => "$dir/haproxy.err", timeout => 0.2);
  my $up = wait_until(10, sub { -S "$dir/admin.sock" || defined wait_pid($hpid, 0) });
  last if $up && -S "$dir/admin.sock" && kill(0, $hpid);
  diag("haproxy did not start (try $try): " . slurp("$dir/haproxy.err"));
  stop_pid($hpid);
  $hpid = undef;
}
BAIL_OUT('haproxy does not start') unless $hpid;
my ($fv1, $fv2, $flim, $fc2) = @front;

# A stats socket command's answer.
sub haproxy_cmd {
  my ($cmd) = @_;
  my $c = IO::Socket::UNIX->new(Type => SOCK_STREAM, Peer => "$dir/admin.sock") or return '';
  print $c "$cmd\n";
  $c->flush;
  my $got = read_to_eof($c, 5);
  close $c;
  return $got;
}
# The status field of a server in "show stat" (UP, DOWN, no check, ...).
sub server_status {
  my ($backend, $server) = @_;
  my @lines = split /\n/, haproxy_cmd('show stat');
  my @head = split /,/, (shift(@lines) // '') =~ s/^# //r;
  my ($col) = grep { $head[$_] eq 'status' } 0 .. $#head;
  for (@lines) {
    my @f = split /,/;
    return $f[$col] if defined $col && $f[0] eq $backend && $f[1] eq $server;
  }
  return '';
}

# Connect to HAProxy's frontend from $from, write $data (undef: nothing,
# keep the connection), read to EOF.
sub via {
  my ($port, $from, $data) = @_;
  my $c = IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => $port, LocalHost => $from, Timeout => 5)
    or return ('', 0);
  return ($c, $c->sockport) unless defined $data;
  syswrite($c, $data);
  shutdown($c, 1);
  my $got = read_to_eof($c, 10);
  my $sport = $c->sockport;
  close $c;
  return ($got, $sport);
}

for my $v ([1, $fv1], [2, $fv2]) {
  my ($ver, $fport) = @$v;
  my ($got, $sport) = via($fport, '127.0.0.2', "hello v$ver\n");
  my $e = env_of($got);
  is($e->{TCPREMOTEIP}, '127.0.0.2', "v$ver: TCPREMOTEIP the client's address") or diag(show_text($got));
  is($e->{TCPREMOTEPORT}, $sport, "v$ver: TCPREMOTEPORT the client's port");
  is($e->{TCPLOCALIP}, '127.0.0.1', "v$ver: TCPLOCALIP the frontend's address");
  is($e->{TCPLOCALPORT}, $fport, "v$ver: TCPLOCALPORT the frontend's port");
  is($e->{PROXYREMOTEIP}, '127.0.0.1', "v$ver: PROXYREMOTEIP the balancer");
  like($e->{PROXYREMOTEPORT} // '', qr{^\d+$}, "v$ver: PROXYREMOTEPORT set");
  is($e->{PROXYLOCALPORT}, $srv->{port}, "v$ver: PROXYLOCALPORT tcpserver's own port");
  is($e->{PROXYVERSION}, $ver, "v$ver: PROXYVERSION=$ver");
  is($e->{X}, 'two', "v$ver: the client's rule (X=\"two\")");
  is($e->{PROTO}, 'TCP', "v$ver: PROTO=TCP");
  like($got, qr{^read:hello v$ver$}m, "v$ver: the client's data reaches the program");
  ok(wait_until(5, sub { slurp($srv->{log}) =~ m{^tcpserver: pid (\d+) from 127\.0\.0\.2\ntcpserver: proxy \1 from 127\.0\.0\.1:\d+\ntcpserver: ok \1 x:127\.0\.0\.1:$fport :127\.0\.0\.2::$sport$}m }),
    "v$ver: pid, proxy and ok lines name the client") or diag(slurp($srv->{log}));

  my $before = () = slurp($srv->{log}) =~ /^tcpserver: deny /mg;
  ($got, $sport) = via($fport, '127.0.0.3', "let me in\n");
  is($got, '', "v$ver: 127.0.0.3 (deny) through the balancer: nothing from the program");
  ok(wait_until(5, sub { slurp($srv->{log}) =~ m{^tcpserver: deny \d+ x:127\.0\.0\.1:$fport :127\.0\.0\.3::$sport$}m }),
    "v$ver: 127.0.0.3 denied: deny line with its address") or diag(slurp($srv->{log}));
}

# -C 1 counts the client behind the balancer, not the balancer.
{
  my ($held) = via($flim, '127.0.0.2', undef);
  ok($held, '-C 1: first client from 127.0.0.2 connected');
  ok(wait_until(5, sub { slurp($lim->{log}) =~ m{^tcpserver: ok \d+ x:127\.0\.0\.1:$flim :127\.0\.0\.2::\d+$}m }),
    '-C 1: its program runs') or diag(slurp($lim->{log}));
  my ($got, $sport) = via($flim, '127.0.0.2', "second\n");
  is($got, "busy\r\n", '-C 1: a second client from 127.0.0.2 gets the message, nothing else');
  ok(wait_until(5, sub { slurp($lim->{log}) =~ m{^tcpserver: limit 0 x:127\.0\.0\.1:$flim :127\.0\.0\.2::$sport client 1/1$}m }),
    '-C 1: limit line names the client, client 1/1') or diag(slurp($lim->{log}));
  ($got) = via($flim, '127.0.0.4', "four\n");
  like($got, qr{^read:four$}m, '-C 1: meanwhile 127.0.0.4 is served');
  like($got, qr{^X=four$}m, '-C 1: ... with its rule');
  syswrite($held, "first\n");
  shutdown($held, 1);
  like(read_to_eof($held, 10), qr{^read:first$}m, '-C 1: the first client is served to the end');
  close $held;
}

# Health checks: v2 LOCAL, the balancer's own address as the client.
ok(wait_until(10, sub { server_status('tcpserver_v2', 's1') =~ /^UP/ }), 'HAProxy marks the checked server UP')
  or diag(haproxy_cmd('show stat'));
like(haproxy_cmd('show servers state tcpserver_v2'), qr{^\d+ tcpserver_v2 \d+ s1 127\.0\.0\.1 2 }m,
  'show servers state: s1 running (operational state 2)');
ok(wait_until(5, sub { slurp($srv->{log}) =~ m{^tcpserver: ok \d+ x:127\.0\.0\.1:$srv->{port} :127\.0\.0\.1::\d+$}m }),
  'the check connections are logged as the balancer\'s own address (v2 LOCAL)') or diag(slurp($srv->{log}));
unlike(slurp($srv->{log}), qr{^tcpserver: warning: .*PROXY}m, 'no PROXY header was refused')
  or diag(slurp($srv->{log}));

# -c 2 behind the balancer, its health checks included: six held
# clients, never more than two programs, every child reaped.
{
  my @held = map { (via($fc2, '127.0.0.2', undef))[0] } 1 .. 6;
  is(scalar(grep { $_ } @held), 6, '-c 2: six clients connected through the balancer');
  sleep 1;
  my $max = 0;
  for (1 .. 10) {
    my $n = grep { $_->[1] ne 'Z' } children($c2->{pid});
    $max = $n if $n > $max;
    sleep 0.1;
  }
  cmp_ok($max, '<=', 2, "-c 2: at most two programs at once ($max)");
  my ($status) = sort { $b <=> $a } slurp($c2->{log}) =~ m{^tcpserver: status: (\d+)/2$}mg;
  cmp_ok($status // 0, '<=', 2, '-c 2: no status line above 2/2');
  for my $h (@held) { syswrite($h, "bye\n"); shutdown($h, 1) }
  my $served = grep { read_to_eof($_, 10) =~ /^read:bye$/m } @held;
  is($served, 6, '-c 2: all six served in turn');
  close $_ for @held;
  ok(wait_until(5, sub { !grep { $_->[1] eq 'Z' } children($c2->{pid}) }), '-c 2: no zombie left');
  ($status) = sort { $b <=> $a } slurp($c2->{log}) =~ m{^tcpserver: status: (\d+)/2$}mg;
  cmp_ok($status // 0, '<=', 2, '-c 2: the status never went above 2/2');
}

stop_pid($hpid);
stop_server($_) for $srv, $lim, $c2;
done_testing();
