#!/usr/bin/perl
# tlsserver decides in cleartext before any handshake: a client a rule
# denies, or one over -C, gets no ServerHello (not a byte), nor does any
# of a flood over -C or -F, which starts no process; a client
# that sends nothing is dropped at the handshake deadline (-w) with a
# line; and a client behind HAProxy (send-proxy-v2) is the one the
# rules and the program see.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use Ucspi::Tls;
use IO::Socket::IP;
use Test::More;
use Time::HiRes qw(time);

need_ours('tlsserver', 'tcprules');
need_openssl();
need_tool('python3', 'python3 is missing: it makes the ClientHello');
my $p = pki();
my $dir = tmpdir();

# A Python program that has `hello`, a real ClientHello (Python's, made
# through a memory BIO), run with the rest of its text; its output line.
sub with_hello {
  my ($rest, $timeout) = @_;
  my $r = run_cmd(['python3', '-c', <<"PY" . $rest], timeout => $timeout);
import socket, ssl, selectors, time
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
i, o = ssl.MemoryBIO(), ssl.MemoryBIO()
t = ctx.wrap_bio(i, o, server_hostname="localhost")
try: t.do_handshake()
except ssl.SSLWantReadError: pass
hello = o.read()
PY
  chomp(my $out = $r->{out});
  diag($r->{err}) if $r->{err};
  return $out;
}

# What the server sends back to a ClientHello from address `from`:
# "N eof" when it closed (or reset) after N bytes, "N open" when it was
# still open after 3 s.
sub reply_to_hello {
  my ($port, $from) = @_;
  return with_hello(<<"PY", 20);
s = socket.socket(); s.bind(("$from", 0)); s.settimeout(3); s.connect(("127.0.0.1", $port))
n, end = 0, "eof"
try:
    s.sendall(hello)
    while True:
        d = s.recv(65536)
        if not d: break
        n += len(d)
except socket.timeout:
    end = "open"
except ConnectionError:
    pass
print(n, end)
PY
}

# A flood: n connections from address `from`, 20 at a time, each
# sending a ClientHello; "BYTES CLOSED": the bytes the server sent back
# over all of them, and how many it closed within 3 s.
sub flood_hello {
  my ($port, $from, $n) = @_;
  return with_hello(<<"PY", 120);
got = closed = 0
for start in range(0, $n, 20):
    sel = selectors.DefaultSelector()
    for k in range(min(20, $n - start)):
        s = socket.socket(); s.bind(("$from", 0)); s.connect(("127.0.0.1", $port))
        try: s.sendall(hello)
        except ConnectionError: pass
        sel.register(s, selectors.EVENT_READ)
    end = time.time() + 3
    while sel.get_map() and time.time() < end:
        for key, _ in sel.select(0.2):
            try: d = key.fileobj.recv(65536)
            except ConnectionError: d = b""
            got += len(d)
            if not d:
                closed += 1; sel.unregister(key.fileobj); key.fileobj.close()
    for key in list(sel.get_map().values()): key.fileobj.close()
print(got, closed)
PY
}

my $rules = "127.0.0.3:deny\n:allow\n";
is(run_cmd([ours('tcprules'), "$dir/r.cdb", "$dir/r.tmp"], in => $rules)->{status}, 0, 'rules compiled');
my $s = tls_server(['-v', '-RH', '-l', 'x', '-x', "$dir/r.cdb", '-C', '1', '127.0.0.1', '0', 'sh', '-c', 'echo hello; cat']);

like(reply_to_hello($s->{port}, '127.0.0.2'), qr/^[1-9]\d* open$/, 'an allowed client gets its ServerHello');
is(reply_to_hello($s->{port}, '127.0.0.3'), '0 eof', 'a denied client: closed without a byte (no ServerHello)');
like(slurp($s->{log}), qr/^tlsserver: deny \d+ x:127\.0\.0\.1:\d+ :127\.0\.0\.3::\d+$/m, 'the deny line');

# One connection held from 127.0.0.1: a second one is over -C 1.
my $held = run_bg_client($s->{port});
ok(wait_until(5, sub { slurp($s->{log}) =~ /^tlsserver: tls \d+ /m }), 'a connection held');
is(reply_to_hello($s->{port}, '127.0.0.1'), '0 eof', '-C 1: the second connection gets no ServerHello');
like(slurp($s->{log}), qr/^tlsserver: limit 0 /m, 'refused by the parent: a limit line, no process');
# A flood from the held client's address: every one refused before any
# handshake, by the parent alone, while others are still served.
my $pids = count_of(slurp($s->{log}), qr/^tlsserver: pid \d+ /m);
cmp_ok($pids, '>', 0, 'the clients served so far have their pid lines');
my $tls_lines = count_of(slurp($s->{log}), qr/^tlsserver: tls \d+ /m);
is(flood_hello($s->{port}, '127.0.0.1', 300), '0 300', '-C 1: a flood of 300 ClientHellos, not one byte back, all closed');
is(count_of(slurp($s->{log}), qr/^tlsserver: limit 0 .*127\.0\.0\.1::\d+/m), 301, 'a limit line each');
is(count_of(slurp($s->{log}), qr/^tlsserver: tls \d+ /m), $tls_lines, 'and no handshake');
is(count_of(slurp($s->{log}), qr/^tlsserver: pid \d+ /m), $pids, 'no process started for them (no pid line)');
like(reply_to_hello($s->{port}, '127.0.0.2'), qr/^[1-9]\d* open$/, 'another client is still served');
stop_pid($held);
stop_server($s);

sub run_bg_client {
  my ($port) = @_;
  return background(sub {
    open STDERR, '>', '/dev/null';
    exec 'openssl', 's_client', '-quiet', '-connect', "127.0.0.1:$port", '-CAfile', $p->{ca};
  });
}

# -F: a client over its rate is refused by the parent, before any
# handshake, as under tcpserver.
$s = tls_server(['-v', '-RH', '-l', 'x', '-F', '0.1/1', '127.0.0.1', '0', 'echo', 'hi']);
like(reply_to_hello($s->{port}, '127.0.0.6'), qr/^[1-9]\d* (?:eof|open)$/, '-F 0.1/1: the first connection gets its ServerHello');
is(reply_to_hello($s->{port}, '127.0.0.6'), '0 eof', 'the second at once: refused without a byte');
like(slurp($s->{log}), qr/^tlsserver: limit 0 .*127\.0\.0\.6/m, 'a limit line for it');
is(flood_hello($s->{port}, '127.0.0.6', 300), '0 300', '-F: a flood of 300 from it, not one byte back');
like(reply_to_hello($s->{port}, '127.0.0.7'), qr/^[1-9]\d* (?:eof|open)$/, 'another address is still served');
stop_server($s);

# The handshake deadline.
$s = tls_server(['-v', '-w', '1', '-RH', '-l', 'x', '127.0.0.1', '0', 'cat']);
my $c = IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => $s->{port}) or die;
my $t0 = time;
my $got = read_to_eof($c, 8, \my $eof);
ok($eof && $got eq '', 'a silent client is dropped without a byte');
cmp_ok(time - $t0, '<', 4, 'at the deadline of -w 1');
ok(wait_until(5, sub { slurp($s->{log}) =~ /^tlsserver: tls \d+ failed 127\.0\.0\.1:\d+: timed out$/m }),
   'with a line naming the client and the reason');
stop_server($s);

# HAProxy in front, sending PROXY v2.
SKIP: {
  my ($haproxy) = grep { -x } '/usr/sbin/haproxy', map { "$_/haproxy" } split /:/, $ENV{PATH};
  skip('no haproxy', 2) unless $haproxy;
  my $pr = "127.0.0.1:allow,PROXYPROTOCOL=\"v2\"\n127.0.0.5:allow,X=\"five\"\n:allow\n";
  run_cmd([ours('tcprules'), "$dir/p.cdb", "$dir/p.tmp"], in => $pr);
  my $b = tls_server(['-v', '-RH', '-l', 'x', '-x', "$dir/p.cdb", '127.0.0.1', '0', 'sh', '-c',
                      'echo "$TCPREMOTEIP $PROXYREMOTEIP ${X-} $SSL_PROTOCOL"']);
  my $front = free_port();
  spew("$dir/h.cfg", <<"EOF");
global
    log stderr local0 err
defaults
    mode tcp
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend f
    bind 127.0.0.1:$front
    default_backend b
backend b
    server s1 127.0.0.1:$b->{port} send-proxy-v2
EOF
  my $h = background(sub { exec $haproxy, '-db', '-f', "$dir/h.cfg" });
  port_open($front);
  my $r = run_cmd(['python3', '-c', <<"PY"], timeout => 20);
import socket, ssl
ctx = ssl.create_default_context(cafile="$p->{ca}")
raw = socket.socket(); raw.bind(("127.0.0.5", 0)); raw.connect(("127.0.0.1", $front))
t = ctx.wrap_socket(raw, server_hostname="localhost")
print(t.recv(4096).decode(), end="")
PY
  is($r->{out}, "127.0.0.5 127.0.0.1 five TLSv1.3\n",
     'behind send-proxy-v2: the client\'s address, its rule, the balancer in PROXYREMOTEIP, then TLS')
    or diag($r->{err});
  like(slurp($b->{log}), qr/^tlsserver: proxy \d+ from 127\.0\.0\.1:\d+$/m, 'the proxy line');
  stop_pid($h);
  stop_server($b);
}
done_testing();
