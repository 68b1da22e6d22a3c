#!/usr/bin/perl
# The package swap as a djbdns service sees it: Debian's axfrdns run
# script (tcpserver -vDRHl0 -x tcp.cdb -- "$IP" 53 axfrdns, IP 127.0.0.1
# from its conf) run under ucspi-tcp-ipv6's tcpserver and under ours,
# with the tcp.cdb that ucspi-tcp-ipv6's tcprules made (the file a swap
# leaves in place) and then ours: the same clients get the same zone
# transfer, byte for byte, the same clients are refused, and the log
# lines name the same clients.  In a private network namespace; axfrdns
# and tinydns-data come unpacked from Debian's packages (make deps), and
# axfrdns chroots, so this needs root.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use IO::Socket::IP;
use Test::More;

need_ours('tcpserver', 'tcprules');
need_ipv6('tcpserver', 'tcprules');
my $djbdns = $ENV{UCSPI_DJBDNS} || '/var/cache/ucspi-tcp-modern/djbdns';
skip_all("axfrdns and tinydns are not unpacked in $djbdns (make deps as root)")
  unless -x "$djbdns/usr/sbin/axfrdns" && -x "$djbdns/usr/sbin/tinydns-data";
skip_all('axfrdns chroots: needs root') if $> != 0;
need_private_net();
my $dir = tmpdir();
chmod 0755, $dir;

# The zone, compiled as tinydns-data does on a djbdns machine.
spew("$dir/data", "Zexample.org:ns.example.org.:hostmaster.example.org.:1:2:3:4:5:60\n"
  . "+www.example.org:10.0.0.1:60\n+mail.example.org:10.0.0.2:60\n");
is(system("cd $dir && $djbdns/usr/sbin/tinydns-data"), 0, 'tinydns-data compiles the zone');
# Debian's /etc/sv/axfrdns/tcp, with its sample line made real.
my $tcp = "# sample line:  1.2.3.4:allow,AXFR=\"heaven.af.mil/3.2.1.in-addr.arpa\"\n"
  . "127.0.0.1:allow,AXFR=\"example.org\"\n:deny\n";

# A zone transfer of example.org over TCP from source address $from:
# the answer's bytes (hex), '' when the server refuses or closes.
sub axfr {
  my ($port, $from) = @_;
  my $c = IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => $port,
    LocalHost => $from, Timeout => 5) or return 'no connection';
  my $q = pack('n6', 0x1234, 0, 1, 0, 0, 0) . "\7example\3org\0" . pack('n2', 252, 1);
  syswrite($c, pack('n', length $q) . $q);
  my $got = '';
  my $end = time + 10;
  while (time < $end) {
    my $part = read_to_eof($c, 1, \my $eof);
    $got .= $part;
    last if $eof;
    # Both SOA records (start and end) in: the transfer is complete.
    last if ($got =~ tr/\x06//) && length($got) > 100 && $got =~ /\x00\x06\x00\x01.*\x00\x06\x00\x01/s;
  }
  close $c;
  return unpack('H*', $got);
}

# The service under one side's tcpserver: what each client gets and the
# log's ok/deny lines (pids and ports replaced).
sub service {
  my ($server, $cdb) = @_;
  my $s = start_server($server, ['-vDRHl0', '-x', $cdb, '--', '127.0.0.1', '0',
    'env', "ROOT=$dir", 'UID=65534', 'GID=65534', "$djbdns/usr/sbin/axfrdns"]);
  my %got = map { $_ => axfr($s->{port}, $_) } '127.0.0.1', '127.0.0.2';
  $got{'::1'} = IO::Socket::IP->new(PeerHost => '::1', PeerPort => $s->{port}, Timeout => 2)
    ? 'connected' : 'refused';
  wait_until(5, sub { my $l = slurp($s->{log}); ($l =~ tr/\n//) >= 8 });
  stop_server($s);
  my @lines = grep { /^tcpserver: (ok|deny) / } split /\n/, normalise(slurp($s->{log}));
  return (\%got, \@lines);
}

for my $maker ('ucspi-tcp-ipv6', 'ours') {
  my $tcprules = $maker eq 'ours' ? ours('tcprules') : ipv6_bin('tcprules');
  is(run_cmd([$tcprules, "$dir/tcp.cdb", "$dir/tcp.tmp"], in => $tcp)->{status}, 0,
    "tcp.cdb made by tcprules of $maker");
  my ($theirs, $tlog) = service(ipv6_bin('tcpserver'), "$dir/tcp.cdb");
  my ($ours, $olog) = service(ours('tcpserver'), "$dir/tcp.cdb");
  like($theirs->{'127.0.0.1'}, qr/^[0-9a-f]{200,}$/, "$maker cdb: ucspi-tcp-ipv6 transfers the zone to 127.0.0.1");
  is($ours->{'127.0.0.1'}, $theirs->{'127.0.0.1'}, "$maker cdb: ours transfers the same bytes");
  is($theirs->{'127.0.0.2'}, '', "$maker cdb: ucspi-tcp-ipv6 refuses 127.0.0.2");
  is($ours->{'127.0.0.2'}, $theirs->{'127.0.0.2'}, "$maker cdb: so does ours");
  is($ours->{'::1'}, $theirs->{'::1'}, "$maker cdb: ::1 alike ($theirs->{'::1'})");
  # The log names the same clients; ucspi-tcp-ipv6 writes an IPv4
  # client's addresses mapped in its ok/deny lines, ours as 0.88 does.
  s/::ffff:(\d+\.\d+\.\d+\.\d+)/$1/g for @$tlog;
  ok(@$olog >= 2, "$maker cdb: our log has the ok and deny lines") or diag("@$olog");
  is("@$olog", "@$tlog", "$maker cdb: the same ok and deny lines (addresses unmapped)");
}
done_testing();
