#!/usr/bin/perl
# The TLS service examples of examples/tls run as written, with a ./conf
# pointing them at the test's port, certificates and programs: SMTPS
# (swaks --tlsc) and submission with STARTTLS (swaks --tls) with
# tests/tls_smtpd.pl in qmail-smtpd's place, HTTPS with its respond
# script (curl).  They give the engine and the program uids of their
# own, so they need root.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use Ucspi::Tls;
use Test::More;

need_ours('tlsserver', 'tcprules', 'rblsmtpd');
need_openssl();
skip_all('the examples set uids: root only') unless $> == 0;
my $p = pki();
my $tmp = tmpdir();
chmod 0755, $tmp, $p->{dir};
my $examples = "$FindBin::Bin/../examples/tls";
my $smtpd = "$FindBin::Bin/tls_smtpd.pl";
run_cmd([ours('tcprules'), "$tmp/rules.cdb", "$tmp/rules.tmp"], in => ":allow\n");

# examples/tls/NAME copied, with conf, started; the port it serves.
sub run_example {
  my ($name, $conf) = @_;
  my $dir = "$tmp/$name";
  system('cp', '-R', "$examples/$name", $dir) == 0 or die "cp $name";
  chmod 0755, $dir;
  my $port = free_port();
  spew("$dir/conf", "IP=127.0.0.1\nPORT=$port\n$conf");
  my ($pid) = start_process(['sh', "$dir/run"], timeout => 0.01, stderr => "$dir/log.txt", code => sub {
    chdir $dir or die;
    $ENV{PATH} = ours() . ":$ENV{PATH}";
  });
  ok(port_open($port), "examples/tls/$name serves") or diag(slurp("$dir/log.txt"));
  return ($pid, $port, $dir);
}

my $ids = "TLS_UID=65533\nTLS_GID=65533\n";
my $keys = "CERTFILE=$p->{srv}\nKEYFILE=$p->{srv_key}\n";
my $mail = "QMAILDUID=65534\nNOFILESGID=65534\nRULES=$tmp/rules.cdb\nSMTPD=$smtpd\n";

SKIP: {
  skip('no swaks', 6) unless have_tool('swaks');
  for my $case (['smtps', '--tlsc', 'clear'], ['submission', '--tls', 'secure']) {
    my ($name, $how, $state) = @$case;
    my $trace = "$tmp/$name.trace";
    spew($trace, '');
    chmod 0666, $trace;
    my ($pid, $port) = run_example($name, "$keys$ids$mail" .
      "export RBLSMTPD='' TRACE=$trace\n");
    my $w = run_cmd(['swaks', '--to', 'a@example.org', '--from', 'b@example.org', '--server', "127.0.0.1:$port",
                     $how, '--helo', 'swaks.test'], timeout => 30);
    is($w->{status}, 0, "$name: swaks $how delivers") or diag($w->{out} . $w->{err});
    ok(wait_until(5, sub { slurp($trace) =~ /^$state MAIL FROM:<b\@example\.org>$/m }),
       "the program saw MAIL FROM ($state)") or diag(slurp($trace));
    stop_pid($pid);
  }
}

SKIP: {
  skip('no curl', 2) unless have_tool('curl');
  my ($pid, $port) = run_example('https', "$keys" . "WWWUID=65534\nWWWGID=65534\n");
  my $c = run_cmd(['curl', '-sS', '--cacert', $p->{ca}, "https://localhost:$port/page"], timeout => 20);
  like($c->{out}, qr{^site localhost over TLSv1\.3 \(TLS_\S+\), path /page$}, 'https: curl gets the page')
    or diag($c->{err});
  stop_pid($pid);
}
done_testing();
