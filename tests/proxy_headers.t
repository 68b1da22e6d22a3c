#!/usr/bin/perl
# PROXY protocol headers made by hand, sent over a plain socket to
# tcpserver from a "balancer" address whose rule sets PROXYPROTOCOL:
# the valid v1 and v2 forms and what the program then sees (addresses,
# the client's rule, PROXY* variables, TLVs, the bytes after the header),
# each malformed form dropped with its warning line before any program
# runs, headers that arrive slowly or in pieces, the -W timeout, many
# silent balancer connections at once, a forged header from an address
# that is not trusted.  Every case runs against the fast path (-H -R -l x:
# no lookups) and the slow path (host names and the local name looked up).
# Clients bind 127/8 source addresses: 127.0.0.1 is the balancer ("any"),
# 127.0.0.5 may send v1 only, 127.0.0.6 v2 only, 127.0.0.7 has a bad value.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use Test::More;
use IO::Socket::IP;
use Socket qw(inet_pton inet_aton AF_INET6);
use Time::HiRes qw(sleep time);

need_ours('tcpserver', 'tcprules');

my $dir = tmpdir();
my $rules = <<'EOF';
127.0.0.1:allow,PROXYPROTOCOL="any",WHO="balancer"
127.0.0.5:allow,PROXYPROTOCOL="v1",WHO="v1 balancer"
127.0.0.6:allow,PROXYPROTOCOL="v2",WHO="v2 balancer"
127.0.0.7:allow,PROXYPROTOCOL="v3"
127.0.0.2:allow,WHO="two"
127.0.0.3:deny
10.1.2.3:allow,WHO="client"
2001:db8::1:allow,WHO="client6"
:allow,WHO="other"
EOF
spew("$dir/rules", $rules);
make_rules("$dir/rules.cdb", $rules);

# The program: its TCP and PROXY variables, sorted, then the first line
# it reads, so that the bytes after the header can be checked.
my $prog = "$dir/prog";
spew($prog, <<'EOF');
#!/bin/sh
env | grep -E '^(TCP|PROXY|PROTO=|WHO=)' | sort
IFS= read -r line
echo "read:$line"
EOF
chmod 0755, $prog;

# ---- headers

my $SIG = "\r\n\r\n\0\r\nQUIT\n";

# CRC32C (Castagnoli, reflected 0x82F63B78), as the v2 CRC32C TLV wants.
my @crc_table = map {
  my $c = $_;
  $c = $c & 1 ? ($c >> 1) ^ 0x82F63B78 : $c >> 1 for 1 .. 8;
  $c
} 0 .. 255;
sub crc32c {
  my $c = 0xFFFFFFFF;
  $c = $crc_table[($c ^ $_) & 0xFF] ^ ($c >> 8) for unpack 'C*', $_[0];
  return $c ^ 0xFFFFFFFF;
}

sub tlv { my ($type, $value) = @_; pack('Cn', $type, length $value) . $value }

# A v2 header: command byte, family byte, address block, TLVs; the
# length field is the block's plus the TLVs' unless given.
sub v2 {
  my (%o) = @_;
  my $body = ($o{addr} // '') . ($o{tlvs} // '');
  my $len = $o{len} // length $body;
  return ($o{sig} // $SIG) . pack('CCn', $o{cmd} // 0x21, $o{fam} // 0x11, $len) . $body;
}
sub v4_block { my ($s, $d, $sp, $dp) = @_; inet_aton($s) . inet_aton($d) . pack('nn', $sp, $dp) }
sub v6_block { my ($s, $d, $sp, $dp) = @_; inet_pton(AF_INET6, $s) . inet_pton(AF_INET6, $d) . pack('nn', $sp, $dp) }

# A v2 header with a CRC32C TLV: right, or (bad => 1) off by one.
sub v2_crc {
  my (%o) = @_;
  my $zero = v2(%o, tlvs => ($o{tlvs} // '') . tlv(0x03, "\0\0\0\0"));
  my $crc = crc32c($zero) ^ ($o{bad} ? 1 : 0);
  substr($zero, -4) = pack('N', $crc);
  return $zero;
}

# ---- clients

# Connect from source address $from, write each piece (a number in the
# list is a pause in seconds), shut down the write side unless o{keep},
# read to EOF.  Returns (what was read, our source port).
sub talk {
  my ($port, $from, @pieces) = @_;
  my $c = IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => $port, LocalHost => $from,
    Timeout => 5) or return ('', 0);
  local $SIG{PIPE} = 'IGNORE';
  for my $p (@pieces) {
    if (ref $p) { sleep $$p; next }
    syswrite($c, $p) // last;
  }
  shutdown($c, 1);
  my $got = read_to_eof($c, 10);
  my $sport = $c->sockport;
  close $c;
  return ($got, $sport);
}
sub pause { my $s = shift; return \$s }


my $WARN = qr{tcpserver: warning: dropping connection, unable to read PROXY header from };

for my $path (['fast', '-v', '-H', '-R', '-l', 'x'], ['slow', '-v', '-h', '-R']) {
  my ($pname, @opts) = @$path;
  subtest "$pname path (@opts)" => sub {
    my $s = start_server(ours('tcpserver'),
      [@opts, '-W', '2', '-b', '1100', '-c', '100', '-x', "$dir/rules.cdb", '127.0.0.1', '0', $prog]);
    my $port = $s->{port};
    my $log = sub { slurp($s->{log}) };

    # A served connection: (env, what the program read).
    my $served = sub {
      my ($from, @pieces) = @_;
      my ($got, $sport) = talk($port, $from, @pieces);
      my ($read) = $got =~ /^read:(.*)$/m;
      return (env_of($got), $read, $sport, $got);
    };
    # A dropped one: nothing reaches the client, one more warning with
    # the reason is logged.
    my $dropped = sub {
      my ($name, $reason, $from, @pieces) = @_;
      my $before = count_of($log->(), $WARN);
      my ($got) = talk($port, $from, @pieces);
      is($got, '', "$name: the program never runs") or diag(show($got, 300));
      ok(wait_until(5, sub { count_of($log->(), $WARN) > $before }), "$name: warning logged")
        or diag($log->());
      my @w = $log->() =~ /^($WARN.*)$/mg;
      like($w[-1] // '', qr{^${WARN}127\.0\.0\.\d+: .*\Q$reason\E}, "$name: reason given")
        if defined $reason;
    };

    # -- v1, valid
    my ($e, $read, $sport) = $served->('127.0.0.1', "PROXY TCP4 10.1.2.3 10.9.9.9 1234 80\r\nhello\n");
    is($e->{TCPREMOTEIP}, '10.1.2.3', 'v1 TCP4: TCPREMOTEIP the client');
    is($e->{TCPREMOTEPORT}, '1234', 'v1 TCP4: TCPREMOTEPORT the client');
    is($e->{TCPLOCALIP}, '10.9.9.9', 'v1 TCP4: TCPLOCALIP the destination');
    is($e->{TCPLOCALPORT}, '80', 'v1 TCP4: TCPLOCALPORT the destination');
    is($e->{PROTO}, 'TCP', 'v1 TCP4: PROTO=TCP');
    is($e->{PROXYREMOTEIP}, '127.0.0.1', 'v1 TCP4: PROXYREMOTEIP the balancer');
    is($e->{PROXYREMOTEPORT}, $sport, 'v1 TCP4: PROXYREMOTEPORT the balancer\'s port');
    is($e->{PROXYLOCALIP}, '127.0.0.1', 'v1 TCP4: PROXYLOCALIP the socket\'s');
    is($e->{PROXYLOCALPORT}, $port, 'v1 TCP4: PROXYLOCALPORT the socket\'s');
    is($e->{PROXYVERSION}, '1', 'v1 TCP4: PROXYVERSION=1');
    is($e->{WHO}, 'client', 'v1 TCP4: the client\'s rule, not the balancer\'s');
    ok(!exists $e->{PROXYPROTOCOL}, 'v1 TCP4: PROXYPROTOCOL (the balancer\'s rule) not in the environment')
      or diag("PROXYPROTOCOL=$e->{PROXYPROTOCOL}");
    ok(!exists $e->{TCPREMOTEINFO}, 'v1 TCP4: TCPREMOTEINFO unset');
    is($read, 'hello', 'v1 TCP4: header and data in one write: the program reads the data');
    ok(wait_until(5, sub { $log->() =~ m{^tcpserver: pid (\d+) from 10\.1\.2\.3\ntcpserver: proxy \1 from 127\.0\.0\.1:$sport\ntcpserver: ok \1 [^:]*:10\.9\.9\.9:80 [^:]*:10\.1\.2\.3::1234$}m }),
      'v1 TCP4: pid, proxy and ok lines') or diag($log->());
    if ($pname eq 'fast') {
      is($e->{TCPLOCALHOST}, 'x', 'fast path: TCPLOCALHOST from -l');
      ok(!exists $e->{TCPREMOTEHOST}, 'fast path: no TCPREMOTEHOST');
    }

    ($e, $read) = $served->('127.0.0.1', "PROXY TCP6 2001:db8::1 2001:db8::2 40000 443\r\nsix\n");
    is($e->{TCPREMOTEIP}, '2001:db8::1', 'v1 TCP6: TCPREMOTEIP');
    is($e->{TCPREMOTEPORT}, '40000', 'v1 TCP6: TCPREMOTEPORT');
    is($e->{TCPLOCALIP}, '2001:db8::2', 'v1 TCP6: TCPLOCALIP');
    is($e->{TCPLOCALPORT}, '443', 'v1 TCP6: TCPLOCALPORT');
    is($e->{PROTO}, 'TCP6', 'v1 TCP6: PROTO=TCP6');
    is($e->{WHO}, 'client6', 'v1 TCP6: the IPv6 client\'s rule');
    is($read, 'six', 'v1 TCP6: data after the header');
    ok(wait_until(5, sub { $log->() =~ m{^tcpserver: ok \d+ [^:]*:\[2001:db8::2\]:443 [^:]*:\[2001:db8::1\]::40000$}m }),
      'v1 TCP6: ok line with bracketed addresses') or diag($log->());

    ($e) = $served->('127.0.0.1', "PROXY TCP6 ::ffff:10.1.2.3 ::ffff:10.9.9.9 5 6\r\n");
    is($e->{TCPREMOTEIP}, '10.1.2.3', 'v1 TCP6 IPv4-mapped: shown as IPv4');
    is($e->{PROTO}, 'TCP', 'v1 TCP6 IPv4-mapped: PROTO=TCP');
    is($e->{WHO}, 'client', 'v1 TCP6 IPv4-mapped: the IPv4 rule');
    ($e) = $served->('127.0.0.1', "PROXY TCP6 ::ffff:10.1.2.3 2001:db8::2 5 6\r\n");
    is(join(' ', map { $e->{$_} // 'unset' } qw(PROTO TCPREMOTEIP TCPLOCALIP)),
       'TCP6 ::ffff:10.1.2.3 2001:db8::2', 'v1 TCP6, only the source IPv4-mapped: both stay IPv6, PROTO=TCP6');

    for my $h ("PROXY UNKNOWN\r\n", "PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n") {
      ($e, $read, $sport) = $served->('127.0.0.1', "${h}unknown\n");
      is($e->{TCPREMOTEIP}, '127.0.0.1', 'v1 ' . show($h) . ': the real remote address');
      is($e->{TCPREMOTEPORT}, $sport, 'v1 UNKNOWN: the real remote port');
      is($e->{TCPLOCALIP}, '127.0.0.1', 'v1 UNKNOWN: the real local address');
      is($e->{TCPLOCALPORT}, $port, 'v1 UNKNOWN: the real local port');
      is($e->{WHO}, 'balancer', 'v1 UNKNOWN: the balancer\'s own rule');
      is($read, 'unknown', 'v1 UNKNOWN: the program runs, reads the data');
    }

    # Exactly 107 bytes (the longest v1 line) is fine, 108 is not.
    my $pad = sub { my $n = shift; my $h = 'PROXY UNKNOWN '; $h . ('x' x ($n - length($h) - 2)) . "\r\n" };
    ($e, $read) = $served->('127.0.0.1', $pad->(107) . "long\n");
    is($read, 'long', 'v1: a 107-byte line is accepted');

    # -- v2, valid
    ($e, $read, $sport) = $served->('127.0.0.1', v2(addr => v4_block('10.1.2.3', '10.9.9.9', 1234, 80)) . "hello2\n");
    is($e->{TCPREMOTEIP}, '10.1.2.3', 'v2 TCP4: TCPREMOTEIP');
    is($e->{TCPREMOTEPORT}, '1234', 'v2 TCP4: TCPREMOTEPORT');
    is($e->{TCPLOCALIP}, '10.9.9.9', 'v2 TCP4: TCPLOCALIP');
    is($e->{TCPLOCALPORT}, '80', 'v2 TCP4: TCPLOCALPORT');
    is($e->{PROTO}, 'TCP', 'v2 TCP4: PROTO');
    is($e->{PROXYVERSION}, '2', 'v2 TCP4: PROXYVERSION=2');
    is($e->{PROXYREMOTEIP}, '127.0.0.1', 'v2 TCP4: PROXYREMOTEIP');
    is($e->{PROXYREMOTEPORT}, $sport, 'v2 TCP4: PROXYREMOTEPORT');
    is($e->{WHO}, 'client', 'v2 TCP4: the client\'s rule');
    is($read, 'hello2', 'v2 TCP4: header and data in one write');

    ($e, $read) = $served->('127.0.0.1', v2(fam => 0x21, addr => v6_block('2001:db8::1', '2001:db8::2', 40000, 443)) . "six2\n");
    is($e->{TCPREMOTEIP}, '2001:db8::1', 'v2 TCP6: TCPREMOTEIP');
    is($e->{TCPREMOTEPORT}, '40000', 'v2 TCP6: TCPREMOTEPORT');
    is($e->{TCPLOCALIP}, '2001:db8::2', 'v2 TCP6: TCPLOCALIP');
    is($e->{PROTO}, 'TCP6', 'v2 TCP6: PROTO=TCP6');
    is($read, 'six2', 'v2 TCP6: data');

    for my $local ([v2(cmd => 0x20, fam => 0x00), 'no addresses'],
                   [v2(cmd => 0x20, fam => 0x11, addr => v4_block('10.1.2.3', '10.9.9.9', 1, 2)), 'an address block']) {
      ($e, $read, $sport) = $served->('127.0.0.1', "$local->[0]local\n");
      is($e->{TCPREMOTEIP}, '127.0.0.1', "v2 LOCAL with $local->[1]: the real remote address");
      is($e->{TCPREMOTEPORT}, $sport, "v2 LOCAL with $local->[1]: the real remote port");
      is($e->{TCPLOCALPORT}, $port, "v2 LOCAL with $local->[1]: the real local port");
      is($e->{WHO}, 'balancer', "v2 LOCAL with $local->[1]: the balancer's rule");
      is($read, 'local', "v2 LOCAL with $local->[1]: the program runs");
    }

    ($e, $read) = $served->('127.0.0.1', v2_crc(addr => v4_block('10.1.2.3', '10.9.9.9', 7, 8)) . "crc\n");
    is($e->{TCPREMOTEIP}, '10.1.2.3', 'v2 with a good CRC32C: accepted');
    is($read, 'crc', 'v2 with a good CRC32C: data');

    my $ssl = tlv(0x20, pack('CN', 0x01, 0) . tlv(0x21, 'TLSv1.3') . tlv(0x22, 'client.example')
      . tlv(0x23, 'TLS_AES_128_GCM_SHA256'));
    my $tlvs = tlv(0x05, 'req-42') . tlv(0x02, 'www.example.org') . tlv(0x01, 'h2') . tlv(0x04, "\0\0\0")
      . tlv(0xE0, "custom\0") . $ssl;
    ($e, $read) = $served->('127.0.0.1', v2(addr => v4_block('10.1.2.3', '10.9.9.9', 7, 8), tlvs => $tlvs) . "tlv\n");
    is($e->{PROXYUNIQUEID}, 'req-42', 'TLV UNIQUE_ID: PROXYUNIQUEID');
    is($e->{PROXYAUTHORITY}, 'www.example.org', 'TLV AUTHORITY: PROXYAUTHORITY');
    is($e->{PROXYALPN}, 'h2', 'TLV ALPN: PROXYALPN');
    is($e->{PROXYSSL}, '1', 'TLV SSL: PROXYSSL=1');
    is($e->{PROXYSSLVERSION}, 'TLSv1.3', 'TLV SSL: PROXYSSLVERSION');
    is($e->{PROXYSSLCN}, 'client.example', 'TLV SSL: PROXYSSLCN');
    is($e->{PROXYSSLCIPHER}, 'TLS_AES_128_GCM_SHA256', 'TLV SSL: PROXYSSLCIPHER');
    is($read, 'tlv', 'TLVs: the data after them');

    ($e) = $served->('127.0.0.1', v2(addr => v4_block('10.1.2.3', '10.9.9.9', 7, 8),
      tlvs => tlv(0x02, "bad\x01host\x7f\xff") . tlv(0x05, "id\ttab")));
    is($e->{PROXYAUTHORITY}, 'bad?host??', 'TLV value: bytes outside 32..126 become ?');
    is($e->{PROXYUNIQUEID}, 'id?tab', 'TLV value: a tab becomes ?');
    ok(!exists $e->{PROXYSSL}, 'no SSL TLV: PROXYSSL unset');
    ok(!exists $e->{PROXYALPN}, 'no ALPN TLV: PROXYALPN unset');

    # An SSL TLV saying the client did not use TLS sets nothing.
    ($e) = $served->('127.0.0.1', v2(addr => v4_block('10.1.2.3', '10.9.9.9', 7, 8),
      tlvs => tlv(0x20, pack('CN', 0x00, 0) . tlv(0x21, 'TLSv1.3'))));
    ok(!exists $e->{PROXYSSL}, 'SSL TLV without the client-used-TLS flag: PROXYSSL unset');

    # The longest values kept: 255 bytes (AUTHORITY), 128 (UNIQUE_ID).
    ($e) = $served->('127.0.0.1', v2(addr => v4_block('10.1.2.3', '10.9.9.9', 7, 8),
      tlvs => tlv(0x02, 'a' x 255) . tlv(0x05, 'u' x 128)));
    is($e->{PROXYAUTHORITY}, 'a' x 255, 'a 255-byte AUTHORITY: in the environment');
    is($e->{PROXYUNIQUEID}, 'u' x 128, 'a 128-byte UNIQUE_ID: in the environment');

    # The largest v2 header (4096 bytes) is accepted.
    my $noop = 4096 - 16 - 12 - 3;
    ($e, $read) = $served->('127.0.0.1', v2(addr => v4_block('10.1.2.3', '10.9.9.9', 7, 8), tlvs => tlv(0x04, "\0" x $noop)) . "big\n");
    is($read, 'big', 'v2: a 4096-byte header is accepted');

    # -- the client's rule after the header
    ($e) = $served->('127.0.0.1', "PROXY TCP4 127.0.0.2 127.0.0.1 1000 2000\r\n");
    is($e->{WHO}, 'two', 'header names 127.0.0.2: its rule\'s variables');
    my $deny_before = count_of($log->(), qr{^tcpserver: deny }m);
    my ($got) = talk($port, '127.0.0.1', "PROXY TCP4 127.0.0.3 127.0.0.1 1000 2000\r\n");
    is($got, '', 'header names a denied client: the program does not run');
    ok(wait_until(5, sub { count_of($log->(), qr{^tcpserver: deny \d+ [^:]*:127\.0\.0\.1:2000 [^:]*:127\.0\.0\.3::1000$}m) > 0 }),
      'header names a denied client: deny line with its addresses') or diag($log->());
    # A client whose own rule sets PROXYPROTOCOL does not get to send a second header.
    ($e, $read) = $served->('127.0.0.1', "PROXY TCP4 127.0.0.1 127.0.0.1 1000 2000\r\nPROXY TCP4 10.1.2.3 10.9.9.9 1 2\r\n");
    is($e->{TCPREMOTEIP}, '127.0.0.1', 'header names a balancer address: that is the client');
    is($read, "PROXY TCP4 10.1.2.3 10.9.9.9 1 2\r", 'PROXYPROTOCOL is not applied twice: the second header is data');
    if ($pname eq 'slow') {
      is($e->{TCPREMOTEHOST}, 'localhost', 'slow path: the client\'s name looked up (TCPREMOTEHOST)');
      is($e->{TCPLOCALHOST}, 'localhost', 'slow path: the header destination\'s name looked up (TCPLOCALHOST)');
    }

    # -- the version the rule allows
    ($e, $read) = $served->('127.0.0.5', "PROXY TCP4 10.1.2.3 10.9.9.9 1 2\r\nv1ok\n");
    is($read, 'v1ok', 'rule "v1": a v1 header is accepted');
    $dropped->('rule "v1", v2 sent', 'only v1', '127.0.0.5', v2(addr => v4_block('10.1.2.3', '10.9.9.9', 1, 2)) . "x\n");
    ($e, $read) = $served->('127.0.0.6', v2(addr => v4_block('10.1.2.3', '10.9.9.9', 1, 2)) . "v2ok\n");
    is($read, 'v2ok', 'rule "v2": a v2 header is accepted');
    $dropped->('rule "v2", v1 sent', 'only v2', '127.0.0.6', "PROXY TCP4 10.1.2.3 10.9.9.9 1 2\r\nx\n");
    {
      my $before = count_of($log->(), qr{bad PROXYPROTOCOL});
      my ($g) = talk($port, '127.0.0.7', "PROXY TCP4 10.1.2.3 10.9.9.9 1 2\r\nx\n");
      is($g, '', 'rule PROXYPROTOCOL="v3": dropped');
      ok(wait_until(5, sub { $log->() =~ m{^tcpserver: warning: dropping connection, bad PROXYPROTOCOL in \S+$}m }),
        'rule PROXYPROTOCOL="v3": the bad PROXYPROTOCOL warning') or diag($log->());
    }

    # -- malformed headers: dropped, the program never runs
    my $v4 = v4_block('10.1.2.3', '10.9.9.9', 1, 2);
    my @bad = (
      ['v1 bare LF', 'PROXY TCP4 10.1.2.3 10.9.9.9 1234 80' . "\nx\n", 'LF without CR'],
      ['v1 lone CR', "PROXY TCP4 10.1.2.3 10.9.9.9 1234 80\rx\r\n", 'CR without LF'],
      ['v1 double space', "PROXY TCP4  10.1.2.3 10.9.9.9 1234 80\r\nx\n", 'empty field'],
      ['v1 leading zero in a port', "PROXY TCP4 10.1.2.3 10.9.9.9 01234 80\r\nx\n", 'bad source port'],
      ['v1 port 65536', "PROXY TCP4 10.1.2.3 10.9.9.9 1234 65536\r\nx\n", 'bad destination port'],
      ['v1 108 bytes', $pad->(108) . "x\n", 'line too long'],
      ['v1 bad address', "PROXY TCP4 10.1.2.300 10.9.9.9 1234 80\r\nx\n", 'bad source address'],
      ['v1 IPv6 address for TCP4', "PROXY TCP4 2001:db8::1 10.9.9.9 1234 80\r\nx\n", 'bad source address'],
      ['v1 unknown protocol', "PROXY UDP4 10.1.2.3 10.9.9.9 1234 80\r\nx\n", 'unknown protocol'],
      ['v1 lowercase', "proxy TCP4 10.1.2.3 10.9.9.9 1234 80\r\nx\n", 'not a PROXY header'],
      ['neither v1 nor v2', "GET / HTTP/1.0\r\n\r\n", 'not a PROXY header'],
      ['v2 bad signature', v2(sig => "\r\n\r\n\0\r\nQUIX\n", addr => $v4), 'bad signature'],
      ['v2 version nibble 1', v2(cmd => 0x11, addr => $v4), 'version not 2'],
      ['v2 command 2', v2(cmd => 0x22, addr => $v4), 'unknown command'],
      ['v2 family UNIX', v2(fam => 0x31, addr => "\0" x 216), 'UNIX'],
      ['v2 transport DGRAM', v2(fam => 0x12, addr => $v4), 'datagram'],
      ['v2 address block truncated (closed)', substr(v2(addr => $v4), 0, 16 + 6), 'connection closed'],
      ['v2 length shorter than the block', v2(addr => substr($v4, 0, 8), len => 8), 'length shorter'],
      ['v2 IPv6 length shorter than the block', v2(fam => 0x21, addr => "\0" x 24, len => 24), 'length shorter'],
      ['v2 TLV overrun', v2(addr => $v4 . pack('Cn', 0x05, 10) . 'ab'), 'TLV runs past'],
      ['v2 TLV header cut', v2(addr => $v4 . pack('C', 0x05)), 'truncated TLV'],
      ['v2 AUTHORITY of 256 bytes', v2(addr => $v4, tlvs => tlv(0x02, 'a' x 256)), 'too long'],
      ['v2 UNIQUE_ID of 129 bytes', v2(addr => $v4, tlvs => tlv(0x05, 'u' x 129)), 'UNIQUE_ID'],
      ['v2 UNIQUE_ID twice', v2(addr => $v4, tlvs => tlv(0x05, 'a') . tlv(0x05, 'b')), 'repeated TLV'],
      ['v2 bad CRC32C', v2_crc(addr => $v4, bad => 1) . "x\n", 'CRC32C'],
      ['v2 oversized (4097 bytes)', v2(addr => $v4, tlvs => tlv(0x04, "\0" x ($noop + 1))) . "x\n", 'oversized'],
      ['v2 length field over 4096', v2(addr => $v4, len => 0xFFFF) . ("\0" x 5000), 'oversized'],
      ['v2 signature only, then closed', $SIG, 'connection closed'],
    );
    $dropped->($_->[0], $_->[2], '127.0.0.1', $_->[1]) for @bad;
    my @w = $log->() =~ /^($WARN.*)$/mg;
    ok(!grep({ !/^${WARN}127\.0\.0\.\d+: [ -~]+$/ } @w), 'every warning line: the balancer\'s address and a printable reason')
      or diag(join "\n", @w);

    # -- headers in pieces, slow headers, silence
    my $v1 = "PROXY TCP4 10.1.2.3 10.9.9.9 1234 80\r\n";
    ($e, $read) = $served->('127.0.0.1', (map { ($_, pause(0.005)) } split //, $v1), "bytes\n");
    is($e->{TCPREMOTEIP}, '10.1.2.3', 'v1 one byte per write: accepted');
    is($read, 'bytes', 'v1 one byte per write: data');
    my $h2 = v2(addr => $v4, tlvs => tlv(0x05, 'piecewise'));
    ($e, $read) = $served->('127.0.0.1', (map { ($_, pause(0.005)) } split //, $h2), "bytes2\n");
    is($e->{PROXYUNIQUEID}, 'piecewise', 'v2 one byte per write: accepted');
    is($read, 'bytes2', 'v2 one byte per write: data');
    ($e, $read) = $served->('127.0.0.1', substr($v1, 0, 10), pause(1.2), substr($v1, 10), "slow\n");
    is($read, 'slow', 'a header finishing within -W 2: accepted');

    my $t0 = time;
    $dropped->('silent past -W 2', 'timed out', '127.0.0.1', pause(4));
    my $t = time - $t0;
    cmp_ok($t, '<', 4.5, 'silent past -W 2: dropped before the client gives up');

    diag(join "\n", slurp($s->{log}) =~ m{^tcpserver: warning.*$}mg) if $ENV{SHOW_WARNINGS};
    stop_server($s);
  };
}

# -W 1: a silent connection kept open is dropped after about a second.
{
  my $s = start_server(ours('tcpserver'), ['-v', '-H', '-R', '-l', 'x', '-W', '1', '-x', "$dir/rules.cdb", '127.0.0.1', '0', $prog]);
  my $c = IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => $s->{port}, LocalHost => '127.0.0.1') or die;
  my $t0 = time;
  my $eof;
  my $got = read_to_eof($c, 5, \$eof);
  my $t = time - $t0;
  ok($eof && $got eq '', '-W 1: a silent connection is closed, nothing written');
  ok($t > 0.7 && $t < 3, sprintf('-W 1: closed after about 1 s (%.2f s)', $t));
  ok(wait_until(5, sub { slurp($s->{log}) =~ m{^${WARN}127\.0\.0\.1: timed out$}m }), '-W 1: "timed out" logged')
    or diag(slurp($s->{log}));
  unlike(slurp($s->{log}), qr{^tcpserver: pid }m, '-W 1: no process for it');
  close $c;

  # A forged header from an address that is not trusted is the program's data.
  my ($out, $sport) = talk($s->{port}, '127.0.0.2', "PROXY TCP4 10.1.2.3 10.9.9.9 1234 80\r\n");
  my $e = env_of($out);
  is($e->{TCPREMOTEIP}, '127.0.0.2', 'forged header from 127.0.0.2: TCPREMOTEIP stays 127.0.0.2');
  is($e->{TCPREMOTEPORT}, $sport, 'forged header from 127.0.0.2: its own port');
  is($e->{WHO}, 'two', 'forged header from 127.0.0.2: its own rule');
  ok(!exists $e->{PROXYREMOTEIP} && !exists $e->{PROXYVERSION}, 'forged header: no PROXY variables');
  like($out, qr{^read:PROXY TCP4 10\.1\.2\.3 10\.9\.9\.9 1234 80\r$}m, 'forged header: the program reads it as data');
  stop_server($s);
}

# 1,000 silent balancer connections, held open: a direct client and a
# proxied client with a full header are still served at once.
{
  my $s = start_server(ours('tcpserver'), ['-v', '-H', '-R', '-l', 'x', '-W', '20', '-b', '1100', '-x', "$dir/rules.cdb", '127.0.0.1', '0', $prog]);
  my @silent;
  for (1 .. 1000) {
    my $c = IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => $s->{port}, LocalHost => '127.0.0.1', Timeout => 5)
      or last;
    push @silent, $c;
  }
  is(scalar @silent, 1000, '1,000 silent connections open');
  sleep 0.5;
  my $t0 = time;
  my ($out) = talk($s->{port}, '127.0.0.2', "direct\n");
  my $t = time - $t0;
  like($out, qr{^read:direct$}m, '1,000 silent: a direct client from 127.0.0.2 is served');
  cmp_ok($t, '<', 2, sprintf('1,000 silent: ... promptly (%.2f s)', $t));
  $t0 = time;
  ($out) = talk($s->{port}, '127.0.0.1', "PROXY TCP4 10.1.2.3 10.9.9.9 1 2\r\nproxied\n");
  $t = time - $t0;
  like($out, qr{^read:proxied$}m, '1,000 silent: a proxied client with a full header is served');
  like($out, qr{^TCPREMOTEIP=10\.1\.2\.3$}m, '1,000 silent: ... as the client');
  cmp_ok($t, '<', 2, sprintf('1,000 silent: ... promptly (%.2f s)', $t));
  # More than 1,024 waiting: the oldest are dropped, "too many waiting".
  for (1 .. 40) {
    my $c = IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => $s->{port}, LocalHost => '127.0.0.1', Timeout => 5)
      or last;
    push @silent, $c;
  }
  ok(wait_until(5, sub { slurp($s->{log}) =~ m{^${WARN}127\.0\.0\.1: too many waiting$}m }),
    'past 1,024 waiting: the oldest dropped with "too many waiting"');
  my $eof;
  read_to_eof($silent[0], 2, \$eof);
  ok($eof, 'past 1,024 waiting: the oldest connection is closed');
  close $_ for @silent;
  stop_server($s);
}

done_testing();
