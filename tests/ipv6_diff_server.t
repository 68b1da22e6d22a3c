#!/usr/bin/perl
# Differential tests of tcpserver against Debian's ucspi-tcp-ipv6 (the
# second oracle, unpacked by make deps), in a private network namespace:
# for the run-script forms it defined (-6 0, -4 0, -6 with an address,
# ::1, and 0 with UCSPI_TCP_IPV6 set), the same clients are served, with
# the same PROTO, TCP* and TCP6* variables, and the same rules verdicts,
# an IPv4 client seen in IPv4-mapped form under -6 included.  Then what
# we decide otherwise on purpose (tcpserver(1) DIFFERENCES): host 0 is
# 0.88's without the variable, :: is served, and no TCP6INTERFACE of
# "[unknown]".
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use IO::Socket::IP;
use Test::More;

need_ours('tcpserver', 'tcprules');
need_ipv6('tcpserver', 'tcprules');
need_private_net();
skip_all('no IPv6 loopback')
  unless IO::Socket::IP->new(Listen => 1, LocalHost => '::1', LocalPort => 0);
my $dir = tmpdir();
my %server = (ours => ours('tcpserver'), theirs => ipv6_bin('tcpserver'));
my $show = 'env | grep -E "^(PROTO|TCP|K=)" | LC_ALL=C sort';

# What each client gets from one side's server: "no connection", or the
# variables with the ports checked pairwise and replaced by N.
sub serve {
  my ($side, $opts, $host, %o) = @_;
  my $s = start_server($server{$side}, ['-HR', '-l', 'x', @$opts, $host, '0', 'sh', '-c', $show],
    env => $o{env});
  my %got;
  for my $peer ('127.0.0.1', '::1') {
    my $out = fetch($s->{port}, undef, $peer);
    if ($out eq '') { $got{$peer} = 'no connection or denied'; next }
    my %v = $out =~ /^(\w+)=(.*)$/mg;
    for my $p (qw(LOCALPORT REMOTEPORT)) {
      $out .= "TCP6$p differs from TCP$p\n"
        if defined $v{"TCP6$p"} && $v{"TCP6$p"} ne $v{"TCP$p"};
    }
    $out =~ s/PORT=\d+/PORT=N/g;
    $got{$peer} = $out;
  }
  stop_server($s);
  return \%got;
}

sub same {
  my ($opts, $host, $name, %o) = @_;
  my $theirs = serve('theirs', $opts, $host, %o);
  my $ours = serve('ours', $opts, $host, %o);
  # ucspi-tcp-ipv6 sets TCP6INTERFACE=[unknown] for a mapped address
  # bound by number: noise, not carried over (DIFFERENCES).
  s/^TCP6INTERFACE=\[unknown\]\n//m for values %$theirs;
  for my $peer ('127.0.0.1', '::1') {
    is($ours->{$peer}, $theirs->{$peer}, "$name, client $peer");
  }
  return $ours;
}

my $got = same(['-6'], '0', '-6 0: both families, IPv4 clients in mapped form');
like($got->{'127.0.0.1'}, qr/^PROTO=TCP6\n.*^TCPREMOTEIP=::ffff:127.0.0.1$/ms, '-6 0: as claimed');
same(['-4'], '0', '-4 0: IPv4 only, with the TCP6* copies');
same([], '127.0.0.1', '127.0.0.1 with UCSPI_TCP_IPV6=1', env => { UCSPI_TCP_IPV6 => 1 });
same(['-6'], '127.0.0.1', '-6 127.0.0.1');
same([], '::1', '::1');
same(['-6'], '::1', '-6 ::1');
$got = same([], '0', '0 with UCSPI_TCP_IPV6=1: ucspi-tcp-ipv6\'s meaning',
  env => { UCSPI_TCP_IPV6 => 1 });
like($got->{'127.0.0.1'}, qr/^PROTO=TCP\n.*^TCP6REMOTEIP=::ffff:127.0.0.1$/ms, '0 with the variable: as claimed');

# Rules: its files keep their verdicts, with its cdb or ours, and under
# -6 an IPv4 client is matched in mapped form, as there.
my $rules = "::ffff:127.0.0.1:allow,K=/mapped/\n127.0.0.1:allow,K=/dotted/\n"
  . "::1:deny\n:allow,K=/default/\n";
for my $maker ('theirs', 'ours') {
  my $tcprules = $maker eq 'ours' ? ours('tcprules') : ipv6_bin('tcprules');
  my $r = run_cmd([$tcprules, "$dir/$maker.cdb", "$dir/$maker.tmp"], in => $rules);
  is($r->{status}, 0, "$maker tcprules compiles the rules");
  for my $opts (['-6'], [], ['-4']) {
    my %env = @$opts ? () : (env => { UCSPI_TCP_IPV6 => 1 });
    same([@$opts, '-x', "$dir/$maker.cdb"], '0',
      "rules of $maker tcprules, @$opts 0" . (@$opts ? '' : ' with UCSPI_TCP_IPV6=1'), %env);
  }
}

# --- Decided otherwise, on purpose (tcpserver(1) DIFFERENCES).
my $plain = serve('ours', [], '0');
like($plain->{'127.0.0.1'}, qr/^PROTO=TCP\n/, '0 without the variable: 0.88, IPv4 served');
unlike($plain->{'127.0.0.1'}, qr/TCP6/, '0 without the variable: no TCP6* (0.88\'s environment)');
is($plain->{'::1'}, 'no connection or denied', '0 without the variable: IPv4 only, as 0.88');
my $r = run_cmd([$server{theirs}, '::', '0', 'true'], timeout => 5);
like($r->{err}, qr/unable to figure out IP address for ::/, 'theirs refuses ::');
my $dual = serve('ours', [], '::');
like($dual->{'127.0.0.1'}, qr/^PROTO=TCP\n.*^TCPREMOTEIP=127.0.0.1$/ms, 'ours serves ::, IPv4 clients plain');
like($dual->{'::1'}, qr/^PROTO=TCP6\n/, 'and IPv6 clients');
my $six = serve('ours', ['-6'], '::');
is($six->{'127.0.0.1'}, 'no connection or denied', '-6 :: is IPv6 only');
like($six->{'::1'}, qr/^TCPREMOTEIP=::1$/m, '-6 :: serves ::1');
my $theirs = serve('theirs', ['-6'], '127.0.0.1');
like($theirs->{'127.0.0.1'}, qr/^TCP6INTERFACE=\[unknown\]$/m, 'theirs: TCP6INTERFACE=[unknown] under -6 127.0.0.1');
done_testing();
