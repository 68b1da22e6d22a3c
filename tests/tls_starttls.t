#!/usr/bin/perl
# tlsserver -n (UCSPI-TLS) with real SMTP clients: openssl s_client
# -starttls smtp, swaks --tls, Python's smtplib, a client that never asks
# for TLS, and one whose handshake fails; 'y' and 'Y'.  And SMTPS
# (without -n) with swaks --tlsc.  The server's program is
# tests/tls_smtpd.pl, which writes what it saw to a trace file.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use Ucspi::Tls;
use IO::Socket::IP;
use Test::More;

need_ours('tlsserver');
need_openssl();
my $p = pki();
my $dir = tmpdir();
my $smtpd = "$FindBin::Bin/tls_smtpd.pl";
my $n = 0;

# A server running tls_smtpd.pl with its own trace file.
sub smtp_server {
  my ($ask, @opts) = @_;
  my $trace = "$dir/trace" . $n++;
  spew($trace, '');
  my $s = tls_server(['-v', @opts, '-RH', '-l', 'x', '127.0.0.1', '0', 'env', "TRACE=$trace", "ASK=$ask", $smtpd]);
  $s->{trace} = $trace;
  return $s;
}
sub trace_has { my ($s, $re) = @_; return wait_until(5, sub { slurp($s->{trace}) =~ $re }) }

my $s = smtp_server('Y', '-n');
my $r = s_client($s->{port}, "EHLO after\r\nQUIT\r\n", '-starttls', 'smtp');
ok(trace_has($s, qr/^secure QUIT$/m), 's_client -starttls smtp: the dialogue goes on in TLS') or diag(slurp($s->{trace}));
like(slurp($s->{trace}), qr/^clear EHLO .*\nclear STARTTLS\ntls SSL_PROTOCOL=TLSv1\.3 SSL_CIPHER=\S+ SSL_SESSION_RESUMED=Initial SSL_CLIENT_VERIFY=NONE\nsecure EHLO after\n/m,
     "cleartext up to STARTTLS, 'Y' brings the variables back, then TLS");
like($r->{out}, qr/^221 bye/m, 'the client reads the answers through TLS');
like(slurp($s->{log}), qr/^tlsserver: tls \d+ TLSv1\.3 /m, 'the tls line');

SKIP: {
  skip('no swaks', 2) unless have_tool('swaks');
  my $w = run_cmd(['swaks', '--to', 'a@example.org', '--from', 'b@example.org', '--server', "127.0.0.1:$s->{port}",
                   '--tls', '--helo', 'swaks.test'], timeout => 30);
  is($w->{status}, 0, 'swaks --tls: a message through STARTTLS') or diag($w->{out} . $w->{err});
  ok(trace_has($s, qr/^secure MAIL FROM:<b\@example\.org>/m), 'MAIL FROM came through TLS');
}
SKIP: {
  skip('no python3', 1) unless have_tool('python3');
  my $py = run_cmd(['python3', '-c', <<"PY"], timeout => 30);
import smtplib, ssl
ctx = ssl.create_default_context(cafile="$p->{ca}")
with smtplib.SMTP("127.0.0.1", $s->{port}, local_hostname="py.test") as c:
    c.starttls(context=ctx)
    c.sendmail("py\@example.org", ["x\@example.org"], "Subject: t\\r\\n\\r\\nbody\\r\\n")
print("sent")
PY
  is($py->{out}, "sent\n", "Python's smtplib: starttls with verification, then a message") or diag($py->{err});
}

# Declined: a client that never says STARTTLS stays in cleartext.
my $c = IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => $s->{port}) or die;
print $c "EHLO plain\r\nNOOP\r\nQUIT\r\n";
my $plain = read_to_eof($c, 5);
like($plain, qr/^220 test ESMTP\r\n250-test\r\n250 STARTTLS\r\n250 ok\r\n221 bye\r\n$/, 'a client that declines TLS talks in cleartext to the end');
ok(trace_has($s, qr/^clear NOOP$/m), 'the program saw it in cleartext');

# A failed handshake: the program reads EOF and the log says why.
$c = IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => $s->{port}) or die;
print $c "STARTTLS\r\n";
line_within($c, 5); line_within($c, 5);
print $c "this is no ClientHello\r\n" x 4;
read_to_eof($c, 5);
ok(trace_has($s, qr/^clear STARTTLS\ntls \neof$/m), 'a failed handshake: no variables, and the program reads EOF')
  or diag(slurp($s->{trace}));
ok(wait_until(5, sub { slurp($s->{log}) =~ /^tlsserver: tls \d+ failed 127\.0\.0\.1:\d+: \S/m }),
   'and the line names the client and the reason');
stop_server($s);

# tlsclient -n against tlsserver -n: UCSPI-TLS on both sides.
SKIP: {
  skip('tlsclient not built', 1) unless -x ours('tlsclient');
  my $both = tls_server(['-n', '-RH', '-l', 'x', '127.0.0.1', '0', 'sh', '-c',
                         'echo hello; read x; printf Y >&3; v=$(tr "\0" " " <&3); echo "secret $v" >&5; exec 5>&-; cat <&4 >/dev/null']);
  my $c = run_cmd([ours('tlsclient'), '-RH', '-n', '127.0.0.1', $both->{port}, 'sh', '-c',
                   'read g <&6; echo go >&7; printf y >&3; read s <&4; echo "$g|$s"'], env => { CAFILE => $p->{ca} });
  like($c->{out}, qr/^hello\|secret SSL_PROTOCOL=TLSv1\.3 SSL_CIPHER=\S+ SSL_SESSION_RESUMED=Initial SSL_CLIENT_VERIFY=NONE/,
       'tlsclient -n and tlsserver -n: cleartext, then TLS asked for on both sides') or diag($c->{err});
  stop_server($both);
}

# 'y': TLS without the variables.
$s = smtp_server('y', '-n');
s_client($s->{port}, "QUIT\r\n", '-starttls', 'smtp');
ok(trace_has($s, qr/^tls\nsecure QUIT$/m), "'y' starts TLS and sends nothing back");
stop_server($s);

# SMTPS: TLS from the first byte, the same program in cleartext behind it.
SKIP: {
  skip('no swaks', 2) unless have_tool('swaks');
  $s = smtp_server('Y');
  my $w = run_cmd(['swaks', '--to', 'a@example.org', '--from', 'c@example.org', '--server', "127.0.0.1:$s->{port}",
                   '--tlsc', '--helo', 'swaks.test'], timeout => 30);
  is($w->{status}, 0, 'swaks --tlsc: SMTPS') or diag($w->{out} . $w->{err});
  ok(trace_has($s, qr/^clear MAIL FROM:<c\@example\.org>/m), 'the program reads cleartext on descriptor 0');
  stop_server($s);
}

# examples/tlsclient/smtps-check against an SMTPS tlsserver.
SKIP: {
  skip('tlsclient not built', 2) unless -x ours('tlsclient');
  $s = smtp_server('Y');
  my $check = "$FindBin::Bin/../examples/tlsclient/smtps-check";
  my $r = run_cmd([$check, 'localhost', $s->{port}], env => { PATH => ours() . ':/bin:/usr/bin', CAFILE => $p->{ca} });
  is($r->{status}, 0, 'examples/tlsclient/smtps-check: exit 0 for a server that greets with 220') or diag($r->{err});
  like($r->{out}, qr/^< 220 test ESMTP\r?\n< 250-test\r?\n< 250 STARTTLS\r?\n< 221 bye/, 'and prints the dialogue');
  stop_server($s);
}
done_testing();
