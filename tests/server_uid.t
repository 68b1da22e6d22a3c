#!/usr/bin/perl
# -u/-g/-U as root: the child runs as nobody with exactly that group;
# without them it keeps root.
use strict;
use warnings;
use lib 'tests';
use server_lib;
use Test::More;

need_ours('tcpserver');
if ($> != 0) { print "1..0 # SKIP not root\n"; exit 0 }
my (undef, undef, $uid, $gid) = getpwnam('nobody');
if (!defined $uid) { print "1..0 # SKIP no user nobody\n"; exit 0 }
my $nogroup = getgrgid($gid) ? $gid : 65534;

sub id_of {
  my ($opts, %o) = @_;
  my $s = start(ours('tcpserver'), [@$opts, qw(-HRl x 127.0.0.1 0 sh -c), 'id -u; id -g; id -G'], %o);
  my $out = fetch($s->{port});
  stop($s);
  return $out;
}
is(id_of(['-u', $uid, '-g', $nogroup]), "$uid\n$nogroup\n$nogroup\n",
   '-u -g: uid, gid and the supplementary groups exactly gid');
is(id_of(['-U'], env => { UID => $uid, GID => $nogroup }), "$uid\n$nogroup\n$nogroup\n",
   '-U: from $UID and $GID');
is(id_of(['-g', $nogroup]), "0\n$nogroup\n$nogroup\n", '-g alone');
like(id_of([]), qr/^0\n0\n/, 'no option: root stays');
# The server itself dropped them too (after binding).
my $s = start(ours('tcpserver'), ['-u', $uid, '-g', $nogroup, qw(-HRl x 127.0.0.1 0 true)]);
my ($ruid) = slurp("/proc/$s->{pid}/status") =~ /^Uid:\s+(\d+)/m;
is($ruid, $uid, 'the server runs as the user after binding');
stop($s);

SKIP: {
  skip 'reference not installed', 1 unless have_ref();
  my $r = start(ref_bin('tcpserver'), ['-u', $uid, '-g', $nogroup, qw(-HRl x 127.0.0.1 0 sh -c), 'id -u; id -g; id -G']);
  my $ref = fetch($r->{port});
  stop($r);
  is(id_of(['-u', $uid, '-g', $nogroup]), $ref, 'same ids as the reference');
}
done_testing();
