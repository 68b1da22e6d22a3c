#!/usr/bin/perl
# -u/-g/-U as root: the child runs as nobody with exactly that group;
# without them it keeps root.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use Test::More;

need_ours('tcpserver');
if ($> != 0) { skip_all('not root') }
my (undef, undef, $uid, $gid) = getpwnam('nobody');
if (!defined $uid) { skip_all('no user nobody') }
my $nogroup = getgrgid($gid) ? $gid : 65534;

sub id_of {
  my ($opts, %o) = @_;
  my $s = start_server(ours('tcpserver'), [@$opts, qw(-HRl x 127.0.0.1 0 sh -c), 'id -u; id -g; id -G'], %o);
  my $out = fetch($s->{port});
  stop_server($s);
  return $out;
}
is(id_of(['-u', $uid, '-g', $nogroup]), "$uid\n$nogroup\n$nogroup\n",
   '-u -g: uid, gid and the supplementary groups exactly gid');
is(id_of(['-U'], env => { UID => $uid, GID => $nogroup }), "$uid\n$nogroup\n$nogroup\n",
   '-U: from $UID and $GID');
is(id_of(['-g', $nogroup]), "0\n$nogroup\n$nogroup\n", '-g alone');
like(id_of([]), qr/^0\n0\n/, 'no option: root stays');
# The server itself dropped them too (after binding).
my $s = start_server(ours('tcpserver'), ['-u', $uid, '-g', $nogroup, qw(-HRl x 127.0.0.1 0 true)]);
my ($ruid) = slurp("/proc/$s->{pid}/status") =~ /^Uid:\s+(\d+)/m;
is($ruid, $uid, 'the server runs as the user after binding');
stop_server($s);

SKIP: {
  skip 'reference not installed', 1 unless have_ref('tcpserver', 'tcprules');
  my $r = start_server(ref_bin('tcpserver'), ['-u', $uid, '-g', $nogroup, qw(-HRl x 127.0.0.1 0 sh -c), 'id -u; id -g; id -G']);
  my $ref = fetch($r->{port});
  stop_server($r);
  is(id_of(['-u', $uid, '-g', $nogroup]), $ref, 'same ids as the reference');
}
done_testing();
