#!/usr/bin/perl
# tlsserver's spawner: the parent forks no engine; a standby, cloned by
# the spawner beforehand, takes each connection and is the server's own
# child (its end line, -c, the drain as for a forked child).  The
# helpers are reaped without a line; a killed spawner is replaced and no
# connection is lost; a reload starts a new spawner with the new
# certificate; the slow path with -x is forked by the parent.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use Ucspi::Tls;
use Ucspi::Restart;
use Test::More;

need_ours('tlsserver');
need_openssl();
my $p = pki();
my $dir = tmpdir();
my $reaping = subreaper();   # the -G server, once its front exited

my $who = "$dir/who.sh";
spew($who, <<'EOF2');
#!/bin/sh
echo "engine $PPID parent $(cut -d' ' -f4 /proc/$PPID/stat)"
EOF2
chmod 0755, $who;

# The server's children: [pid, state, start time].
sub kids {
  my ($ppid) = @_;
  my @k;
  for my $stat (glob('/proc/[0-9]*/stat')) {
    open my $fh, '<', $stat or next;
    my $line = <$fh> // next;
    my @f = split ' ', (split /\) /, $line, 2)[1] // '';
    push @k, [$stat =~ m{(\d+)/stat$}, $f[0], $f[19]] if @f && $f[1] == $ppid;
  }
  return sort { $a->[2] <=> $b->[2] || $a->[0] <=> $b->[0] } @k;
}
sub live_kids { return map { $_->[0] } grep { $_->[1] ne 'Z' } kids($_[0]) }
sub zombies { return map { $_->[0] } grep { $_->[1] eq 'Z' } kids($_[0]) }
# The spawner: the oldest child (standbys and engines come after it).
sub spawner_of { my @k = grep { $_->[1] ne 'Z' } kids($_[0]); return @k ? $k[0][0] : undef }
sub engine_of { my ($out) = @_; return $out =~ /^engine (\d+) parent (\d+)$/m ? ($1, $2) : () }
sub count { my ($text, $re) = @_; my $n = () = $text =~ /$re/g; return $n }   # give qr//m

# --- the hand-over
my $s = tls_server(['-v', '-RH', '-l', 'x', '-c', '1', '127.0.0.1', '0', $who]);
ok(wait_until(5, sub { live_kids($s->{pid}) == 2 }), 'idle: two children, the spawner and a standby')
  or diag(join ' ', live_kids($s->{pid}));
my %before = map { $_ => 1 } live_kids($s->{pid});
my ($engine, $parent) = engine_of(s_client($s->{port}, '')->{out});
ok($engine, 'the program ran') or BAIL_OUT('no engine');
is($parent, $s->{pid}, "the engine is the server's own child");
ok($before{$engine}, 'and it is the standby that waited before the connection came');
ok(wait_until(5, sub { slurp($s->{log}) =~ m{^tlsserver: end $engine status 0\ntlsserver: status: 0/1$}m }),
   'its end line, and the count back to 0');

# -c 1 with TLS clients: one at a time, each counted once.
my $slow = tls_server(['-v', '-RH', '-l', 'x', '-c', '1', '127.0.0.1', '0', 'sh', '-c', 'echo hi; sleep 1']);
wait_until(5, sub { live_kids($slow->{pid}) == 2 });
my @clients = map {
  my $n = $_;
  s_client_held($slow->{port}, "$dir/c1-$n.out")
} 1 .. 3;
ok(wait_until(15, sub { (grep { slurp("$dir/c1-$_.out") eq "hi\n" } 1 .. 3) == 3 }), '-c 1: three clients served');
ok(wait_until(5, sub { count(slurp($slow->{log}), qr/^tlsserver: end \d+ status 0$/m) == 3 }), 'three end lines');
stop_pid($_) for @clients;
my $log = slurp($slow->{log});
is(count($log, qr/^tlsserver: status: (?:[2-9]|\d\d+)\/1$/m), 0, 'never more than 1/1') or diag($log);
is(count($log, qr/^tlsserver: pid \d+ from /m), 3, 'one pid line a connection');
my @order = $log =~ /^tlsserver: (pid|end) \d+/mg;
is("@order", 'pid end pid end pid end', 'each connection ends before the next one starts');
like($log, qr{tlsserver: status: 0/1\n\z}, 'the count ends at 0');
stop_server($slow);

# --- a killed spawner: replaced, no connection lost
my $old = spawner_of($s->{pid});
ok($old, 'the spawner');
kill 'KILL', $old;
my @served = grep { my ($e, $pp) = engine_of(s_client($s->{port}, '')->{out}); $pp && $pp == $s->{pid} } 1 .. 4;
is(scalar @served, 4, 'after its SIGKILL every connection is served, by a child of the server');
my $new = spawner_of($s->{pid});
ok($new && $new != $old, 'a new spawner');
ok(wait_until(5, sub { !grep { $_ == $old } map { $_->[0] } kids($s->{pid}) }), 'the old one reaped');
$log = slurp($s->{log});
is(count($log, qr/^tlsserver: warning: the spawner is gone, forking: /m), 1, 'one warning') or diag($log);
ok(wait_until(5, sub { count(slurp($s->{log}), qr/^tlsserver: end \d+ status/m) == 5 }),
   'an end line for each of the five connections, none for the helpers') or diag(slurp($s->{log}));
unlike(slurp($s->{log}), qr/^tlsserver: end $old /m, 'none for the spawner');

# --- a killed standby, reaped while a connection runs: its note is stale,
# it is never counted (a count that never went back to 0 would stop a
# server at its -c).
my $k = tls_server(['-v', '-RH', '-l', 'x', '-c', '2', '127.0.0.1', '0', 'sh', '-c', 'echo hi; sleep 1']);
wait_until(5, sub { live_kids($k->{pid}) == 2 });
my $held = s_client_held($k->{port}, "$dir/held.out");
ok(wait_until(5, sub { slurp("$dir/held.out") eq "hi\n" && live_kids($k->{pid}) == 3 }), 'a connection held, a new standby');
my $standby = (live_kids($k->{pid}))[-1];
kill 'KILL', $standby;
ok(wait_until(5, sub { !grep { $_ == $standby } map { $_->[0] } kids($k->{pid}) }), 'the killed standby is reaped');
my $n = grep { s_client($k->{port}, '')->{out} eq "hi\n" } 1 .. 3;
is($n, 3, 'the next connections are served');
stop_pid($held);
ok(wait_until(8, sub { slurp($k->{log}) =~ m{tlsserver: status: 0/2\n\z} }), 'and the count goes back to 0')
  or diag(slurp($k->{log}));
unlike(slurp($k->{log}), qr/^tlsserver: (?:pid|end) $standby /m, 'the standby never counted');
stop_server($k);

# --- a reload: a new spawner, with the new certificate
sub install_pem {
  my ($name) = @_;
  spew("$dir/new.pem", slurp($p->{$name}) . slurp($p->{"${name}_key"}));
  rename "$dir/new.pem", "$dir/cert.pem" or die;
}
install_pem('srv');
my $r = tls_server(['-v', '-RH', '-l', 'x', '127.0.0.1', '0', $who], env => { CERTFILE => "$dir/cert.pem" });
is(peer_cn(s_client($r->{port}, '')), 'localhost', 'the first certificate');
wait_until(5, sub { live_kids($r->{pid}) == 2 });
my $first = spawner_of($r->{pid});
spew("$dir/cert.pem", slurp($p->{b}) . slurp($p->{b_key}));
kill 'HUP', $r->{pid};
ok(wait_until(5, sub { peer_cn(s_client($r->{port}, '')) eq 'b.test' }), 'SIGHUP: the new certificate');
ok(wait_until(5, sub { my $sp = spawner_of($r->{pid}); $sp && $sp != $first }), 'served by a new spawner');
ok(wait_until(5, sub { !grep { $_ == $first } map { $_->[0] } kids($r->{pid}) }), 'the old spawner ended and was reaped');
ok(wait_until(5, sub { live_kids($r->{pid}) == 2 && !zombies($r->{pid}) }), 'no zombie: the spawner and its standby')
  or diag(join ' ', map { "@$_" } kids($r->{pid}));
stop_server($r);

# --- the slow path: lookups in the standby; with -x, forked
my $sl = tls_server(['-v', '-R', '127.0.0.1', '0', $who]);
wait_until(5, sub { live_kids($sl->{pid}) == 2 });
%before = map { $_ => 1 } live_kids($sl->{pid});
($engine, $parent) = engine_of(s_client($sl->{port}, '')->{out});
ok($engine && $before{$engine}, 'slow path: the standby took it') or diag(slurp($sl->{log}));
like(slurp($sl->{log}), qr/^tlsserver: ok $engine \S*:127\.0\.0\.1:\d+ \S*:127\.0\.0\.1::\d+$/m, 'and made its ok line');
stop_server($sl);
make_rules("$dir/rules.cdb", "127.0.0.1:allow,X=\"y\"\n");
my $rx = tls_server(['-v', '-R', '-x', "$dir/rules.cdb", '127.0.0.1', '0', $who]);
wait_until(5, sub { live_kids($rx->{pid}) == 2 });
%before = map { $_ => 1 } live_kids($rx->{pid});
($engine, $parent) = engine_of(s_client($rx->{port}, '')->{out});
ok($engine && !$before{$engine} && $parent == $rx->{pid}, 'slow path with -x: forked by the server');
stop_server($rx);

# --- the drain
SKIP: {
  skip('cannot become a child subreaper (prctl)', 3) unless $reaping;
  my $d = tls_server(['-v', '-G', '5', '-RH', '-l', 'x', '127.0.0.1', '0', 'sh', '-c', 'echo hi; read x; echo bye']);
  my $c = s_client_held($d->{port}, "$dir/drain.out", 'sleep 2; echo go');
  ok(wait_until(5, sub { slurp("$dir/drain.out") eq "hi\n" }), 'drain: a held connection');
  kill 'TERM', $d->{pid};
  is(wait_pid($d->{pid}, 3), 0, 'the front exits at once');
  ok(wait_until(8, sub { slurp($d->{log}) =~ /^tlsserver: end \d+ status 0\n(?:.*\n)?tlsserver: drain: done$/m }),
     'the held connection ends on its own, then the drain is done') or diag(slurp($d->{log}));
  stop_pid($c);
}

# --- no zombie left
ok(wait_until(5, sub { !zombies($s->{pid}) }), 'no zombie under the server') or diag(join ' ', zombies($s->{pid}));
stop_server($s);
done_testing();
