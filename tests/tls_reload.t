#!/usr/bin/perl
# tlsserver's reload: a certificate renamed over CERTFILE is taken
# without a signal (looked at once a second), SIGHUP rebuilds, a broken
# file keeps the old certificate with one line why.  And privileges (as
# root): the engine under TLS_UID, the program under -u, unable to read
# the key, with no KEYFILE.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use Ucspi::Tls;
use Test::More;

need_ours('tlsserver');
need_openssl();
my $p = pki();
my $dir = tmpdir();

# One file with the certificate and its key, replaced by rename.
sub install_pem {
  my ($name) = @_;
  spew("$dir/new.pem", slurp($p->{$name}) . slurp($p->{"${name}_key"}));
  rename "$dir/new.pem", "$dir/cert.pem" or die;
}
install_pem('srv');
my $s = tls_server(['-v', '-RH', '-l', 'x', '127.0.0.1', '0', 'echo', 'hi'],
                   env => { CERTFILE => "$dir/cert.pem" });
is(peer_cn(s_client($s->{port}, '')), 'localhost', 'the first certificate');

install_pem('a');
ok(wait_until(5, sub { peer_cn(s_client($s->{port}, '')) eq 'a.test' }),
   'a certificate renamed over CERTFILE serves the next connections, without a signal');

spew("$dir/new.pem", "not a certificate\n");
rename "$dir/new.pem", "$dir/cert.pem" or die;
ok(wait_until(5, sub { slurp($s->{log}) =~ /^tlsserver: warning: unable to reload the certificates, keeping the old ones: unable to load CERTFILE \S+: .+$/m }),
   'a broken file: one line why');
is(peer_cn(s_client($s->{port}, '')), 'a.test', 'and the old certificate stays');
sleep 2;
my @lines = slurp($s->{log}) =~ /unable to reload/g;
is(scalar @lines, 1, 'the broken file is reported once, not every second');

# Written in place (no rename) and then SIGHUP.
spew("$dir/cert.pem", slurp($p->{b}) . slurp($p->{b_key}));
kill 'HUP', $s->{pid};
ok(wait_until(5, sub { peer_cn(s_client($s->{port}, '')) eq 'b.test' }), 'SIGHUP rebuilds');
ok(!defined wait_pid($s->{pid}, 0.1), 'and the server runs on');
stop_server($s);

SKIP: {
  skip('privileges need root', 8) unless $> == 0;
  my ($uid, $gid) = (65534, 65534);
  my ($tuid, $tgid) = (65533, 65533);
  my $key = "$dir/secret.key";
  spew($key, slurp($p->{srv_key}));
  chmod 0600, $key;
  my $prog = "$dir/who.sh";
  spew($prog, <<"EOF");
#!/bin/sh
echo "uid \$(id -u) gid \$(id -g)"
echo "engine \$(awk '/^Uid:/ { print \$2 }' /proc/\$PPID/status)"
echo "key \${KEYFILE-none}"
cat $key >/dev/null 2>&1 && echo "read the key" || echo "key unreadable"
EOF
  chmod 0755, $prog;
  chmod 0755, $dir;
  my $r = tls_server(['-RH', '-l', 'x', '-u', $uid, '-g', $gid, '127.0.0.1', '0', $prog],
                     env => { CERTFILE => $p->{srv}, KEYFILE => $key, TLS_UID => $tuid, TLS_GID => $tgid });
  my $out = s_client($r->{port}, '')->{out};
  like($out, qr/^uid $uid gid $gid$/m, 'the program runs under -u and -g');
  like($out, qr/^engine $tuid$/m, 'the engine under TLS_UID');
  like($out, qr/^key none$/m, 'no KEYFILE in its environment');
  like($out, qr/^key unreadable$/m, 'and it cannot read the key');
  my $stat = slurp("/proc/$r->{pid}/status");
  like($stat, qr/^Uid:\s+0\s/m, 'the server keeps its uid, to start both');
  stop_server($r);
  # -n: the program starts at once under -u, the engine under TLS_UID.
  my $n = tls_server(['-n', '-RH', '-l', 'x', '-u', $uid, '-g', $gid, '127.0.0.1', '0', 'sh', '-c',
                      'echo "hello $(id -u)"; read x; printf y >&3; ' .
                      'echo "engine $(awk \'/^Uid:/ { print $2 }\' /proc/$PPID/status)" >&5; exec 5>&-; cat <&4 >/dev/null'],
                     env => { CERTFILE => $p->{srv}, KEYFILE => $key, TLS_UID => $tuid, TLS_GID => $tgid });
  my $c = run_cmd([ours('tlsclient'), '-RH', '-n', '127.0.0.1', $n->{port}, 'sh', '-c',
                   'read g <&6; echo go >&7; printf y >&3; read s <&4; echo "$g|$s"'], env => { CAFILE => $p->{ca} });
  is($c->{out}, "hello $uid|engine $tuid\n", '-n: the program under -u from the start, the engine under TLS_UID');
  stop_server($n);
  SKIP: {
    skip('no setpriv', 2) unless have_tool('setpriv');
    my $n = run_cmd(['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', ours('tlsserver'),
                     '127.0.0.1', '0', 'true'], env => { CERTFILE => $p->{srv}, KEYFILE => $p->{srv_key}, TLS_UID => 5 });
    is($n->{status}, 111, 'TLS_UID without root: exit 111 at once');
    is($n->{err}, "tlsserver: fatal: TLS_UID and TLS_GID need the server to be started as root\n", 'saying why');
  }
}
done_testing();
