#!/usr/bin/perl
# rblsmtpd beyond 0.88, in a private network namespace: IPv6 clients
# (nibble names), the bound on the total lookup time (-T) against silent
# and stalling servers, $DNSCACHEIP with several servers, and
# /etc/resolv.conf (bind-mounted in the private mount namespace) when
# $DNSCACHEIP is absent.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use Ucspi::Rbl;
use Test::More;

need_ours('rblsmtpd');
need_private_net(mount => 1);

my $v6 = '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2';
my $log = start_dnsd(<<"ZONE");
$v6.bl.test TXT v6\\slisted
$v6.white.test A 127.0.0.2
4.3.2.1.bl.test TXT v4\\slisted
4.3.2.1.sil.test SILENT
4.3.2.1.sil2.test SILENT
4.3.2.1.sil3.test SILENT
4.3.2.1.stall.test STALL
ZONE

my $smtp = "QUIT\r\n";
my $blocked = "220 rblsmtpd.local\r\n221 rblsmtpd.local\r\n";
my %base = (DNSCACHEIP => '127.0.0.1');
sub rbl {
  my ($ip, $args, $env) = @_;
  clear_queries($log);
  my %env = (%base, TCPREMOTEIP => $ip, %{$env // {}});
  delete $env{$_} for grep { !defined $env{$_} } keys %env;
  my $r = run_rbl(ours('rblsmtpd'), [@$args, 'echo', 'ran'], \%env, $smtp, 40);
  my %seen;
  $r->{queries} = [grep { !$seen{$_}++ } queries($log)];
  return $r;
}

# IPv6: the 32 nibbles, least significant first.
my $r = rbl('2001:db8::1', [qw(-r bl.test)]);
is_deeply($r->{queries}, ["$v6.bl.test TXT"], 'IPv6: nibble name');
is($r->{out}, $blocked, 'IPv6: listed');
is($r->{err}, "rblsmtpd: 2001:db8::1 pid PID: 451 v6 listed\n", 'IPv6: log line');
$r = rbl('2001:DB8:0:0::1', [qw(-r bl.test)]);
is_deeply($r->{queries}, ["$v6.bl.test TXT"], 'IPv6 in upper case, uncompressed: same name');
$r = rbl('2001:db8::1', [qw(-a white.test -r bl.test)]);
is_deeply($r->{queries}, ["$v6.white.test A"], 'IPv6 anti-RBL: nibble name');
is($r->{out}, "ran\n", 'IPv6 anti-listed: the program runs');
$r = rbl('::ffff:1.2.3.4', [qw(-r bl.test)]);
is_deeply($r->{queries}, ['4.3.2.1.bl.test TXT'], 'IPv4-mapped: the IPv4 name');
is($r->{err}, "rblsmtpd: ::ffff:1.2.3.4 pid PID: 451 v4 listed\n", 'IPv4-mapped: logged as given');
$r = rbl('2001:db8::2', [qw(-r bl.test)]);
is($r->{out}, "ran\n", 'IPv6 not listed: the program runs');

# -T: all lookups together, however many, within the bound.  (The
# assertions on time are safety bounds with a wide margin.)
$r = rbl('1.2.3.4', [qw(-T 3 -r sil.test -r sil2.test -r sil3.test)]);
is($r->{out}, "ran\n", '-T 3, three silent lists: fails open, the program runs');
cmp_ok($r->{seconds}, '<', 3 + 3, "-T 3: done in $r->{seconds} s");
ok(!grep({ /sil3/ } @{$r->{queries}}), '-T 3: no time left for the third list: not even asked');

$r = rbl('1.2.3.4', [qw(-T 2 -c -r sil.test -b)]);
is($r->{out}, $blocked, '-T 2 -c, silent list: blocked');
is($r->{err}, "rblsmtpd: 1.2.3.4 pid PID: 451 temporary RBL lookup error\n", '-T 2 -c: temporary error');
cmp_ok($r->{seconds}, '<', 2 + 3, "-T 2 -c: done in $r->{seconds} s");

$r = rbl('1.2.3.4', [qw(-T 2 -r sil.test -r bl.test)]);
is($r->{out}, "ran\n", 'budget spent on a silent list: later lists are skipped (fail open)');
ok(!grep({ /bl\.test/ } @{$r->{queries}}), 'budget spent: later list not asked');

$r = rbl('1.2.3.4', [qw(-T 2 -r stall.test)]);
is_deeply($r->{queries}, ['4.3.2.1.stall.test TXT', '4.3.2.1.stall.test TXT tcp'],
          'stalled TCP fallback: asked over TCP');
is($r->{out}, "ran\n", 'stalled TCP fallback: given up, the program runs');
cmp_ok($r->{seconds}, '<', 2 + 3, "stalled TCP fallback: cut at -T ($r->{seconds} s)");

$r = rbl('1.2.3.4', [qw(-T 0 -r sil.test)], { RES_OPTIONS => 'timeout:1 attempts:1' });
is($r->{out}, "ran\n", '-T 0: the resolver\'s own limits (RES_OPTIONS) apply');

$r = rbl('1.2.3.4', [qw(-T 1 -r sil.test -T 20 -r bl.test)]);
is($r->{out}, $blocked, '-T applies to the lookups after it');

# DNSCACHEIP: several servers; a refusing one is skipped.
$r = rbl('1.2.3.4', [qw(-r bl.test)], { DNSCACHEIP => '127.0.0.9 127.0.0.1' });
is($r->{out}, $blocked, 'DNSCACHEIP with two servers, the first closed');
$r = rbl('1.2.3.4', [qw(-r bl.test)], { DNSCACHEIP => '127.0.0.9,127.0.0.1' });
is($r->{out}, $blocked, 'DNSCACHEIP separated by a comma');
$r = rbl('1.2.3.4', [qw(-r bl.test)], { DNSCACHEIP => '127.0.0.9.127.0.0.1' });
is($r->{out}, $blocked, 'DNSCACHEIP in the djbdns form (dots only)');
SKIP: {
  skip 'no /usr/bin/rblsmtpd', 1 unless have_ref('rblsmtpd');
  my $x = run_rbl(ref_bin('rblsmtpd'), [qw(-r bl.test echo ran)],
                  { TCPREMOTEIP => '1.2.3.4', DNSCACHEIP => '127.0.0.9.127.0.0.1' }, $smtp);
  is($x->{out}, $blocked, 'the reference reads that form the same way');
}
my $quiet = start_dnsd("4.3.2.1.bl.test SILENT\n", '127.0.0.2');
$r = rbl('1.2.3.4', [qw(-T 10 -r bl.test)], { DNSCACHEIP => '127.0.0.2 127.0.0.1' });
is($r->{out}, $blocked, 'DNSCACHEIP: a silent first server, the second answers');
$r = rbl('1.2.3.4', [qw(-T 2 -c -r bl.test)], { DNSCACHEIP => '127.0.0.2' });
is($r->{err}, "rblsmtpd: 1.2.3.4 pid PID: 451 temporary RBL lookup error\n", 'DNSCACHEIP: only a silent server');

# /etc/resolv.conf, when DNSCACHEIP is absent or holds no address.
SKIP: {
  my $conf = tmpdir() . '/resolv.conf';
  open my $fh, '>', $conf or die;
  print $fh "nameserver 127.0.0.9\nnameserver ::1\n";
  close $fh;
  skip 'cannot bind-mount /etc/resolv.conf', 4
    if system("mount --bind $conf /etc/resolv.conf 2>/dev/null") != 0;
  skip 'no ::1 in the namespace', 4 unless eval { start_dnsd("4.3.2.1.bl.test TXT from\\sresolv.conf\n", '::1'); 1 };
  $r = rbl('1.2.3.4', [qw(-r bl.test)], { DNSCACHEIP => undef });
  is($r->{err}, "rblsmtpd: 1.2.3.4 pid PID: 451 from resolv.conf\n", 'resolv.conf servers (IPv6 too) without DNSCACHEIP');
  $r = rbl('1.2.3.4', [qw(-r bl.test)], { DNSCACHEIP => 'junk' });
  is($r->{err}, "rblsmtpd: 1.2.3.4 pid PID: 451 from resolv.conf\n", 'DNSCACHEIP without an address: resolv.conf');
  $r = rbl('1.2.3.4', [qw(-r bl.test)], { DNSCACHEIP => '127.0.0.1' });
  is($r->{err}, "rblsmtpd: 1.2.3.4 pid PID: 451 v4 listed\n", 'DNSCACHEIP overrides resolv.conf (and its IPv6 server)');
  SKIP: {
    skip 'no /usr/bin/rblsmtpd', 1 unless have_ref('rblsmtpd');
    clear_queries($log);
    my $x = run_rbl(ref_bin('rblsmtpd'), [qw(-r bl.test echo ran)], { TCPREMOTEIP => '1.2.3.4', DNSCACHEIP => '127.0.0.1' }, $smtp);
    is($x->{err}, "rblsmtpd: 1.2.3.4 pid PID: 451 v4 listed\n", 'the reference reads DNSCACHEIP the same way');
  }
}

done_testing();
