#!/usr/bin/perl
# tlsclient against real TLS servers: openssl s_server (verification,
# names, client certificates), a silent peer (the handshake deadline),
# and a Python STARTTLS server for -n (UCSPI-TLS, the client side).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use Ucspi::Tls;
use IO::Socket::IP;
use Test::More;

need_ours('tlsclient');
need_openssl();
my $tc = ours('tlsclient');
my $p = pki();

# openssl s_server in its line-reversing mode on a free port.
sub s_server {
  my (@args) = @_;
  for (1 .. 5) {
    my $port = free_port();
    my ($pid) = start_process(['openssl', 's_server', '-accept', "127.0.0.1:$port", '-rev',
                               '-cert', $p->{srv}, '-key', $p->{srv_key}, @args],
                              timeout => 0.01, stderr => '/dev/null');
    return { pid => $pid, port => $port } if port_open($port);
    stop_pid($pid);
  }
  die 'no s_server';
}

sub client {
  my ($env, @args) = @_;
  return run_cmd([$tc, '-RH', @args], env => $env, timeout => 20);
}

my $say = 'echo hello >&7; read x <&6; echo "$x"';
my $s = s_server();
my $r = client({ CAFILE => $p->{ca} }, '127.0.0.1', $s->{port}, 'sh', '-c',
               $say . '; echo "$SSL_PROTOCOL ${CAFILE-none} ${TCPREMOTEPORT}"');
my ($line, $env) = split /\n/, $r->{out};
is($line, 'olleh', 'data both ways through a verified connection') or diag($r->{err});
is($env, "TLSv1.3 none $s->{port}", 'the program sees SSL_PROTOCOL and the TCP variables, not CAFILE');
is($r->{status}, 0, 'exit 0: the program\'s');

$r = client({ CAFILE => $p->{ca} }, 'localhost', $s->{port}, 'sh', '-c', $say);
is($r->{out}, "olleh\n", 'a host name is checked against the certificate');

$r = client({ CAFILE => $p->{ca} }, '-k', 'other.test', '127.0.0.1', $s->{port}, 'sh', '-c', 'echo ran');
is($r->{status}, 111, 'a name mismatch exits 111');
like($r->{err}, qr/^tlsclient: fatal: unable to start TLS with other\.test: certificate verify failed: hostname mismatch$/m,
     'and says why');
is($r->{out}, '', 'the program never runs');

$r = client({ CAFILE => $p->{ca2} }, '127.0.0.1', $s->{port}, 'true');
is($r->{status}, 111, 'a server from another CA: exit 111');
like($r->{err}, qr/certificate verify failed: unable to get local issuer certificate/, 'with the reason');
stop_pid($s->{pid});

# Client certificates: a server that requires one.
$s = s_server('-Verify', '1', '-CAfile', $p->{ca}, '-verify_return_error');
$r = client({ CAFILE => $p->{ca}, CERTFILE => $p->{client}, KEYFILE => $p->{client_key} },
            '127.0.0.1', $s->{port}, 'sh', '-c', $say . '; echo "${CERTFILE-none}${KEYFILE-none}"');
is($r->{out}, "olleh\nnonenone\n", 'a client certificate from CERTFILE/KEYFILE, hidden from the program')
  or diag($r->{err});
$r = client({ CAFILE => $p->{ca} }, '127.0.0.1', $s->{port}, 'sh', '-c', $say);
isnt($r->{out}, "olleh\n", 'without one the server refuses');
stop_pid($s->{pid});

# A peer that accepts and never answers: the handshake deadline.
my $silent = IO::Socket::IP->new(LocalHost => '127.0.0.1', LocalPort => 0, Listen => 5) or die;
$r = client({ CAFILE => $p->{ca} }, '-w', '1', '127.0.0.1', $silent->sockport, 'true');
is($r->{status}, 111, '-w 1: a silent server fails the handshake');
like($r->{err}, qr/unable to start TLS with 127\.0\.0\.1: timed out/, 'timed out');
cmp_ok($r->{seconds}, '<', 5, 'within about a second');
close $silent;

# -n: the program talks in cleartext, then asks for TLS with 'Y'.
SKIP: {
  skip('python3 is missing', 4) unless have_tool('python3');
  my $py = <<'PY';
import socket, ssl, sys
ls = socket.socket(); ls.bind(("127.0.0.1", 0)); ls.listen(5)
print(ls.getsockname()[1], flush=True)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); ctx.load_cert_chain(sys.argv[1], sys.argv[2])
c, _ = ls.accept(); f = c.makefile("rb")
c.sendall(b"220 hi\r\n")
if f.readline() != b"STARTTLS\r\n": sys.exit(1)
c.sendall(b"220 go\r\n")
t = ctx.wrap_socket(c, server_side=True); g = t.makefile("rb")
t.sendall(b"secret " + g.readline())
t.close()
PY
  spew(tmpdir() . '/starttls.py', $py);
  my ($pid, $port) = start_process(['python3', tmpdir() . '/starttls.py', $p->{srv}, $p->{srv_key}]);
  chomp $port;
  my $prog = <<'SH';
read greet <&6; printf 'STARTTLS\r\n' >&7; read go <&6
printf Y >&$SSLCTLFD
vars=$(tr '\0' '\n' <&$SSLCTLFD)
echo word >&$SSLWRITEFD
read answer <&$SSLREADFD
echo "$greet|$go|$answer|$vars"
SH
  $r = client({ CAFILE => $p->{ca} }, '-n', '127.0.0.1', $port, 'sh', '-c', $prog);
  my ($greet, $go, $answer, $vars) = split /\|/, $r->{out}, 4;
  like($greet // '', qr/^220 hi/, '-n: the greeting in cleartext on fd 6');
  like($go // '', qr/^220 go/, 'the STARTTLS dialogue in cleartext');
  is($answer, 'secret word', 'then TLS through SSLREADFD and SSLWRITEFD') or diag($r->{err});
  like($vars // '', qr/^SSL_PROTOCOL=TLSv1\.3$/m, "'Y' returns the variables on SSLCTLFD");
  wait_pid($pid, 5);
}
done_testing();
