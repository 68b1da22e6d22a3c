#!/usr/bin/perl
# tlsserver with real clients: the program's environment, SNI (two names,
# a wildcard, none, an unknown one), client certificates (none, asked,
# required, another CA, expired), resumption with one ticket key, curl,
# gnutls-cli and Python, 1 GiB both ways with checksums through
# tlsclient, and a close in each direction.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use Ucspi::Tls;
use Test::More;

need_ours('tlsserver', 'tlsclient');
need_openssl();
my $p = pki();
my $dir = tmpdir();

my $envprog = "$dir/env.sh";
spew($envprog, <<'EOF');
#!/bin/sh
env | grep -E '^(SSL_|CERTFILE|KEYFILE|CAFILE|TLS_|TCPREMOTEIP=)' | sort
EOF
chmod 0755, $envprog;
sub vars { my %v = map { /^([^=]+)=(.*)$/ ? ($1, $2) : () } split /\n/, $_[0]; return \%v }

my %sni = (tls_env($p), 'CERTFILE:a.test' => $p->{a}, 'KEYFILE:a.test' => $p->{a_key},
           'CERTFILE:b.test' => $p->{b}, 'KEYFILE:b.test' => $p->{b_key},
           'CERTFILE:*.w.test' => $p->{wild}, 'KEYFILE:*.w.test' => $p->{wild_key},
           TLS_UID => $<, CAFILE => $p->{ca});
my $s = tls_server(['-v', '-RH', '-l', 'x', '127.0.0.1', '0', $envprog], env => \%sni);

my $r = s_client($s->{port}, '');
my $v = vars($r->{out});
is($v->{SSL_PROTOCOL}, 'TLSv1.3', 'SSL_PROTOCOL: TLS 1.3 preferred');
like($v->{SSL_CIPHER} // '', qr/^TLS_/, 'SSL_CIPHER');
is($v->{SSL_SESSION_RESUMED}, 'Initial', 'SSL_SESSION_RESUMED=Initial');
is($v->{SSL_CLIENT_VERIFY}, 'NONE', 'no client certificate: SSL_CLIENT_VERIFY=NONE');
is($v->{TCPREMOTEIP}, '127.0.0.1', 'the TCP variables as tcpserver sets them');
is(join(',', grep { /^(CERTFILE|KEYFILE|CAFILE|TLS_)/ } sort keys %$v), '',
   'no CERTFILE, KEYFILE, CAFILE, TLS_UID or CERTFILE:name in the program\'s environment');
ok(!exists $v->{SSL_TLS_SNI_SERVERNAME}, 'no SNI sent: no SSL_TLS_SNI_SERVERNAME');
is(peer_cn($r), 'localhost', 'no SNI: the default certificate');
like(slurp($s->{log}), qr/^tlsserver: tls \d+ TLSv1\.3 TLS_\S+$/m, 'the -v line of the handshake');

$r = s_client($s->{port}, '', '-servername', 'a.test');
is(peer_cn($r), 'a.test', 'SNI a.test: its certificate');
is(vars($r->{out})->{SSL_TLS_SNI_SERVERNAME}, 'a.test', 'SSL_TLS_SNI_SERVERNAME=a.test');
$r = s_client($s->{port}, '', '-servername', 'b.test');
is(peer_cn($r), 'b.test', 'SNI b.test: the second pair');
$r = s_client($s->{port}, '', '-servername', 'mail.w.test');
is(peer_cn($r), '*.w.test', 'SNI mail.w.test: the wildcard');
$r = s_client($s->{port}, '', '-servername', 'unknown.test');
is(peer_cn($r), 'localhost', 'an unknown name: the default');
like(slurp($s->{log}), qr/^tlsserver: tls \d+ TLSv1\.3 \S+ mail\.w\.test$/m, 'the SNI name ends the tls line');

# Resumption: the ticket of one connection opens the next (another engine).
my $sess = "$dir/sess";
$r = s_client($s->{port}, '', '-sess_out', $sess);
$r = s_client($s->{port}, '', '-sess_in', $sess);
is(vars($r->{out})->{SSL_SESSION_RESUMED}, 'Resumed', 'a ticket from another connection resumes: SSL_SESSION_RESUMED=Resumed');

SKIP: {
  skip('no curl', 1) unless have_tool('curl');
  my $web = tls_server(['-RH', '-l', 'x', '127.0.0.1', '0', "$FindBin::Bin/../examples/tls/https/respond"], env => \%sni);
  my $c = run_cmd(['curl', '-sS', '--cacert', $p->{ca}, '--resolve', "a.test:$web->{port}:127.0.0.1",
                   "https://a.test:$web->{port}/index"], timeout => 20);
  like($c->{out}, qr{^site a\.test over TLSv1\.3 \(TLS_\S+\), path /index$}, 'curl: HTTPS through examples/tls/https/respond')
    or diag($c->{err});
  stop_server($web);
}
SKIP: {
  skip('no gnutls-cli', 1) unless have_tool('gnutls-cli');
  my $g = run_cmd(['gnutls-cli', '--x509cafile', $p->{ca}, '--port', $s->{port}, 'localhost'], timeout => 20);
  like($g->{out}, qr/^SSL_PROTOCOL=TLSv1\.3$/m, 'gnutls-cli reads the program\'s output') or diag($g->{err});
}
SKIP: {
  skip('no python3', 1) unless have_tool('python3');
  my $py = run_cmd(['python3', '-c', <<"PY"], timeout => 20);
import socket, ssl
ctx = ssl.create_default_context(cafile="$p->{ca}")
with socket.create_connection(("127.0.0.1", $s->{port})) as raw:
    with ctx.wrap_socket(raw, server_hostname="x.w.test") as t:
        data = b""
        while True:
            d = t.recv(4096)
            if not d: break
            data += d
print(data.decode(), end="")
PY
  like($py->{out}, qr/^SSL_TLS_SNI_SERVERNAME=x\.w\.test$/m, 'Python\'s ssl, verifying the wildcard') or diag($py->{err});
}

# -B: the banner goes through TLS, before the program's output.
my $ban = tls_server(['-B', "banner\n", '-RH', '-l', 'x', '127.0.0.1', '0', 'echo', 'program']);
is(s_client($ban->{port}, '')->{out}, "banner\nprogram\n", '-B: the banner through TLS, then the program');
stop_server($ban);

# -G: the drain reaches the program through its engine: the front exits
# at once, the server sends TERM at the 1 s deadline.
my $drain = tls_server(['-v', '-G', '1', '-RH', '-l', 'x', '127.0.0.1', '0', 'sh', '-c',
                        'trap "echo bye; exit 0" TERM; echo hi; while :; do sleep 0.1; done']);
my $client = s_client_held($drain->{port}, "$dir/drain.out");
ok(wait_until(5, sub { slurp("$dir/drain.out") eq "hi\n" }), 'a held connection');
kill 'TERM', $drain->{pid};
is(wait_pid($drain->{pid}, 8), 0, '-G: SIGTERM drains, the front exits 0 at once');
ok(wait_until(8, sub { slurp("$dir/drain.out") eq "hi\nbye\n" }),
   'the program got SIGTERM at the deadline through its engine and its last words reached the client')
  or diag(slurp("$dir/drain.out"));
stop_pid($client);

# A program that cannot be run: the connection is dropped with 0.88's
# warning, on both sides.
my $none = tls_server(['-RH', '-l', 'x', '127.0.0.1', '0', "$dir/no-such-program"]);
$r = s_client($none->{port}, '');
is($r->{out}, '', 'a program that does not exist: nothing after the handshake');
ok(wait_until(5, sub { slurp($none->{log}) =~ m{^tlsserver: warning: dropping connection, unable to run \S+/no-such-program: file does not exist$}m }),
   "tcpserver's warning");
stop_server($none);
$r = run_cmd([ours('tlsclient'), '-RH', '-k', 'localhost', '127.0.0.1', $s->{port}, "$dir/no-such-program"],
             env => { CAFILE => $p->{ca} });
is($r->{status}, 111, 'tlsclient: a program that does not exist: 111');
like($r->{err}, qr{^tlsclient: fatal: unable to run \S+/no-such-program: file does not exist$}m, 'with the reason');
stop_server($s);

# IPv6: the same over ::1.
SKIP: {
  my $s6 = eval { tls_server(['-RH', '-l', 'x', '::1', '0', $envprog]) };
  skip('no IPv6 on lo', 1) unless $s6;
  my $r6 = run_cmd(['openssl', 's_client', '-brief', '-ign_eof', '-connect', "[::1]:$s6->{port}", '-CAfile', $p->{ca}],
                   timeout => 20);
  is(vars($r6->{out})->{TCPREMOTEIP}, '::1', 'over IPv6: TLS and the TCP variables of ::1');
  stop_server($s6);
}

# Client certificates.
sub with_cert {
  my ($port, $who) = @_;
  my @cert = $who ? ('-cert', $p->{$who}, '-key', $p->{"${who}_key"}) : ();
  return s_client($port, '', @cert);
}
my %ca = (%sni, CAFILE => $p->{ca});
my $req = tls_server(['-v', '-y', '-s', '-RH', '-l', 'x', '127.0.0.1', '0', $envprog], env => \%ca);
$r = with_cert($req->{port}, 'client');
$v = vars($r->{out});
is($v->{SSL_CLIENT_VERIFY}, 'SUCCESS', '-y with a good certificate: SUCCESS');
is($v->{SSL_CLIENT_S_DN}, 'CN=client1,O=Test', 'SSL_CLIENT_S_DN in RFC 2253 form');
is($v->{SSL_CLIENT_I_DN}, 'CN=Test ca', '-s: SSL_CLIENT_I_DN');
like($v->{SSL_CLIENT_M_SERIAL} // '', qr/^[0-9A-F]+$/, '-s: SSL_CLIENT_M_SERIAL');
like($v->{SSL_CLIENT_V_END} // '', qr/ GMT$/, '-s: SSL_CLIENT_V_END');
my $hash = run_cmd(['openssl', 'x509', '-in', $p->{client}, '-noout', '-fingerprint', '-sha256'])->{out};
$hash =~ s/^.*=//; $hash =~ s/[:\n]//g;
is($v->{SSL_PEER_CERT_HASH}, lc $hash, 'SSL_PEER_CERT_HASH: the SHA-256 of the certificate');
for my $bad (['', 'none'], ['intruder', 'from another CA'], ['expired', 'expired']) {
  $r = with_cert($req->{port}, $bad->[0]);
  is($r->{out}, '', "-y: a client certificate $bad->[1] gets no program");
}
ok(wait_until(5, sub { slurp($req->{log}) =~ /^tlsserver: tls \d+ failed 127\.0\.0\.1:\d+: .*expired/m }),
   'the failure is logged with the client and the reason');
stop_server($req);

# sslserver's -i: the same as -y; its -a is taken and changes nothing.
my $ssl = tls_server(['-a', '-i', '-RH', '-l', 'x', '127.0.0.1', '0', $envprog], env => \%ca);
is(vars(with_cert($ssl->{port}, 'client')->{out})->{SSL_CLIENT_VERIFY}, 'SUCCESS', 'sslserver\'s -a -i with a good certificate: SUCCESS');
is(with_cert($ssl->{port}, '')->{out}, '', 'sslserver\'s -i: without a certificate no program');
stop_server($ssl);

my $ask = tls_server(['-Y', '-RH', '-l', 'x', '127.0.0.1', '0', $envprog], env => \%ca);
is(vars(with_cert($ask->{port}, '')->{out})->{SSL_CLIENT_VERIFY}, 'NONE', '-Y without a certificate: served, NONE');
$v = vars(with_cert($ask->{port}, 'client')->{out});
is($v->{SSL_CLIENT_VERIFY}, 'SUCCESS', '-Y with one: SUCCESS');
ok(!exists $v->{SSL_CLIENT_I_DN}, 'without -s no issuer');
stop_server($ask);

# A transfer of 1 GiB both ways at once, and the close of each
# direction.  Each side sends a stream it makes (AES-CTR of zeros) and
# hashes it as it sends it; the other hashes and counts what it reads.
my $mib = $ENV{UCSPI_TLS_MIB} || 1024;
need_tool('bash');
my $gen = sub { "openssl enc -aes-128-ctr -nosalt -pbkdf2 -pass pass:$_[0] -in /dev/zero 2>/dev/null | head -c ${mib}M" };
my $srvprog = "$dir/both.sh";
spew($srvprog, "#!/bin/bash\n" . $gen->('down') . " | tee >(sha256sum > $dir/sent_down) &\n" .
               "exec 1>&-\ntee >(wc -c > $dir/n_server) | sha256sum > $dir/at_server\nwait\n");
chmod 0755, $srvprog;
my $big = tls_server(['-RH', '-l', 'x', '127.0.0.1', '0', $srvprog]);
$r = run_cmd([ours('tlsclient'), '-RH', '-k', 'localhost', '127.0.0.1', $big->{port}, 'bash', '-c',
              $gen->('up') . " | tee >(sha256sum > $dir/sent_up) >&7 & exec 7>&-; tee >(wc -c > $dir/n_client) <&6 | sha256sum > $dir/at_client; wait"],
             env => { CAFILE => $p->{ca} }, timeout => 300);
is($r->{status}, 0, "$mib MiB each way through tlsclient and tlsserver") or diag($r->{err});
my $sum = sub { my $f = "$dir/$_[0]"; wait_until(10, sub { -s $f }); return (split ' ', slurp($f) // '')[0] // '' };
like($sum->('sent_up'), qr/^[0-9a-f]{64}$/, 'the upload was hashed as it was sent');
is($sum->('at_server'), $sum->('sent_up'), 'the upload arrives whole');
is($sum->('at_client'), $sum->('sent_down'), 'the download arrives whole');
my $count = sub { my $f = "$dir/$_[0]"; wait_until(10, sub { -s $f }); return (slurp($f) // '') =~ /(\d+)/ ? $1 : -1 };
is($count->('n_server'), $mib * 1048576, "the server's program read $mib MiB");
is($count->('n_client'), $mib * 1048576, "the client's program read $mib MiB");
stop_server($big);

my $late = tls_server(['-RH', '-l', 'x', '127.0.0.1', '0', 'sh', '-c', 'cat >/dev/null; echo after your end']);
$r = run_cmd([ours('tlsclient'), '-RH', '-k', 'localhost', '127.0.0.1', $late->{port}, 'sh', '-c',
              'echo hi >&7; exec 7>&-; cat <&6'], env => { CAFILE => $p->{ca} }, timeout => 20);
is($r->{out}, "after your end\n", 'the client closes its direction first and still reads the answer');
stop_server($late);
$late = tls_server(['-RH', '-l', 'x', '127.0.0.1', '0', 'sh', '-c', 'echo early; exec 1>&-; read x; echo "$x" > ' . "$dir/late"]);
$r = run_cmd([ours('tlsclient'), '-RH', '-k', 'localhost', '127.0.0.1', $late->{port}, 'sh', '-c',
              'cat <&6; echo "after $(cat <&6 | wc -c)" >&7'], env => { CAFILE => $p->{ca} }, timeout => 20);
is($r->{out}, "early\n", 'the server closes its direction first');
ok(wait_until(5, sub { slurp("$dir/late") eq "after 0\n" }), 'and still reads what the client sends after');
stop_server($late);
done_testing();
