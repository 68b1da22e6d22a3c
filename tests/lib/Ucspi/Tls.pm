# Helpers of the TLS tests (tests/tls_*.t): certificates made at test
# time with the openssl command, and waiting for a TLS peer's port.
#
#   pki()   a fresh set of P-256 certificates in tmpdir()/pki, made once
#       per test; a hash of paths:
#         ca, ca2            the test CA and another one (PEM)
#         srv                CN=localhost, DNS:localhost, IP:127.0.0.1
#         a, b               DNS:a.test, DNS:b.test
#         wild               DNS:*.w.test
#         client             CN=client1 from ca (clientAuth)
#         intruder           CN=intruder from ca2
#         expired            CN=expired from ca, ended yesterday
#         chain              srv's certificate followed by ca's
#       each certificate NAME has NAME (the .pem) and NAME_key.
#   need_openssl()   skip unless the openssl command exists
#   tls_env(P[, NAME])   CERTFILE and KEYFILE of P's NAME (default srv)
#   port_open(PORT[, SECONDS])   true once 127.0.0.1 PORT accepts
#   tls_server([ARGS...], %o)   start_server of our tlsserver (ARGS end
#       with host port program) with o{env} added to the environment
#       (default: tls_env(pki()))
#   s_client(PORT, IN, ARGS...)   openssl s_client -brief -ign_eof to
#       127.0.0.1 PORT with IN on stdin: run_cmd's result ({out} the
#       server's data, {err} s_client's report: "Protocol version: ...",
#       "Peer certificate: CN = ...")
#   s_client_held(PORT, OUT[, STDIN_CMD])   a background openssl s_client
#       -quiet to 127.0.0.1 PORT (a connection held open), the server's
#       data into the file OUT, stdin from /dev/null or from the output
#       of the shell command STDIN_CMD; returns its pid
#   peer_cn(R)    the CN of the certificate s_client's result R saw
package Ucspi::Tls;
use strict;
use warnings;
use Exporter 'import';
use IO::Socket::IP;
use Ucspi;

our @EXPORT = qw(pki need_openssl tls_env port_open tls_server s_client s_client_held peer_cn);

my $made;

sub need_openssl { need_tool('openssl', 'the openssl command is missing (package openssl)') }

sub ossl {
  my @cmd = @_;
  my $r = run_cmd(['openssl', @cmd], timeout => 30);
  die "openssl @cmd: $r->{err}" if $r->{status};
}

sub key_and_csr {
  my ($d, $name, $subj) = @_;
  ossl('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
       '-keyout', "$d/$name.key", '-out', "$d/$name.csr", '-subj', $subj);
}

sub sign {
  my ($d, $name, $ca, $ext, $days) = @_;
  spew("$d/$name.ext", "$ext\n");
  ossl('x509', '-req', '-in', "$d/$name.csr", '-CA', "$d/$ca.pem", '-CAkey', "$d/$ca.key",
       '-CAcreateserial', '-out', "$d/$name.pem", '-days', $days // 30, '-extfile', "$d/$name.ext");
}

sub pki {
  return $made if $made;
  my $d = tmpdir() . '/pki';
  mkdir $d;
  for my $ca (qw(ca ca2)) {
    ossl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
         '-keyout', "$d/$ca.key", '-out', "$d/$ca.pem", '-days', 30, '-subj', "/CN=Test $ca");
  }
  my %server = (srv => 'DNS:localhost,IP:127.0.0.1', a => 'DNS:a.test', b => 'DNS:b.test',
                wild => 'DNS:*.w.test');
  for my $n (sort keys %server) {
    my $cn = $server{$n} =~ s/^DNS:([^,]*).*/$1/r;
    key_and_csr($d, $n, "/CN=$cn");
    sign($d, $n, 'ca', "subjectAltName=$server{$n}\nextendedKeyUsage=serverAuth");
  }
  my %client = (client => ['client1', 'ca', 30], intruder => ['intruder', 'ca2', 30],
                expired => ['expired', 'ca', -1]);
  for my $n (sort keys %client) {
    my ($cn, $ca, $days) = @{ $client{$n} };
    key_and_csr($d, $n, "/O=Test/CN=$cn");
    sign($d, $n, $ca, 'extendedKeyUsage=clientAuth', $days);
  }
  spew("$d/chain.pem", slurp("$d/srv.pem") . slurp("$d/ca.pem"));
  $made = { dir => $d, chain => "$d/chain.pem", chain_key => "$d/srv.key" };
  for my $n (qw(ca ca2 srv a b wild client intruder expired)) {
    $made->{$n} = "$d/$n.pem";
    $made->{"${n}_key"} = "$d/$n.key";
  }
  return $made;
}

sub tls_env {
  my ($p, $name) = @_;
  $name //= 'srv';
  return (CERTFILE => $p->{$name}, KEYFILE => $p->{"${name}_key"});
}

sub port_open {
  my ($port, $seconds) = @_;
  return wait_until($seconds // 5, sub {
    my $s = IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => $port, Timeout => 1);
    return $s ? 1 : 0;
  });
}

sub tls_server {
  my ($args, %o) = @_;
  my $env = $o{env} // { tls_env(pki()) };
  return start_server(ours('tlsserver'), $args, %o, env => $env);
}

sub s_client {
  my ($port, $in, @args) = @_;
  return run_cmd(['openssl', 's_client', '-brief', '-ign_eof', '-connect', "127.0.0.1:$port",
                  '-CAfile', pki()->{ca}, @args], in => $in, timeout => 20);
}

sub s_client_held {
  my ($port, $out, $stdin_cmd) = @_;
  my $ca = pki()->{ca};
  return background(sub {
    if (defined $stdin_cmd) { open STDIN, '-|', 'sh', '-c', $stdin_cmd or die }
    else { open STDIN, '<', '/dev/null' }
    open STDOUT, '>', $out;
    open STDERR, '>', '/dev/null';
    exec 'openssl', 's_client', '-quiet', '-connect', "127.0.0.1:$port", '-CAfile', $ca;
  });
}

sub peer_cn {
  my ($r) = @_;
  return $r->{err} =~ /^Peer certificate: .*?CN = ([^,\n]+)/m ? $1 : '';
}

1;
