#!/usr/bin/perl
# The rules extensions: IPv6 exact keys and CIDR for both families, end
# to end through tcprules and tcprulescheck: stored forms, the lookup
# order (longest prefix across notations, exact before prefix, =host
# before prefixes, prefixes before host suffixes), tcprulescheck's
# explanations, and the prefix index written only when needed.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use Test::More;

my $bin = ours();
my $dir = tmpdir();

sub compile {
  my ($text) = @_;
  spew("$dir/in", $text);
  return system("timeout 10 $bin/tcprules $dir/r.cdb $dir/r.tmp < $dir/in 2> $dir/err") >> 8;
}

# The stored keys, read with our own lookup of every key: cdb -d if there.
sub keys_of {
  return undef unless -x '/usr/bin/cdb';
  my ($list, @k) = scalar `cdb -l $dir/r.cdb`;
  while ($list =~ /\G\+(\d+):/gc) {
    push @k, substr($list, pos($list), $1);
    pos($list) += $1 + 1;
  }
  return join ' ', @k;
}

# tcprulescheck's answer as one line.
sub check {
  my ($ip, $host, $info) = @_;
  local %ENV = %ENV;
  delete @ENV{qw(TCPREMOTEIP TCPREMOTEHOST TCPREMOTEINFO)};
  $ENV{TCPREMOTEIP} = $ip if defined $ip;
  $ENV{TCPREMOTEHOST} = $host if defined $host;
  $ENV{TCPREMOTEINFO} = $info if defined $info;
  my $out = `timeout 10 $bin/tcprulescheck $dir/r.cdb 2>&1`;
  $out =~ s/\n/ | /g;
  $out =~ s/ \| $//;
  return $out;
}

# Canonical stored forms (the mapped ones warn: tested in ipv6_rules.t).
is(compile(join '', map { "$_:allow\n" }
  ('2001:DB8:0:0:0:0:0:1', '2001:db8:0:0:1:0:0:1', '0:0:0:0:0:0:0:1', '::FFFF:1.2.3.4',
   'joe@2001:0DB8::0001', '10.1.2.3/8', '010.001.002.003/24', '2001:db8:ffff::1/32',
   '::/0', '0.0.0.0/0', '::ffff:192.168.7.1/112', 'fe80::1:2/64', '1.2.3.4')), '0', 'odd forms compile');
SKIP: {
  my $k = keys_of();
  skip('no cdb tool', 1) unless defined $k;
  is($k, join(' ', '2001:db8::1', '2001:db8::1:0:0:1', '::1', '::ffff:1.2.3.4', 'joe@2001:db8::1',
    '10.0.0.0/8', '10.1.2.0/24', '2001:db8::/32', '::/0', '0.0.0.0/0', '::ffff:192.168.0.0/112',
    'fe80::/64', '1.2.3.4', "\n\0prefix-index"), 'stored canonical, host bits cleared, mapped kept (ucspi-tcp-ipv6), index last');
}

# The lookup order with both notations.
compile(<<'EOF');
10.0.0.0/8:deny
10.1.0.0/16:allow,N=/cidr16/
10.1.2.:allow,N=/dotted24/
10.1.2.0/24:allow,N=/cidr24/
10.1.2.128/25:allow,N=/cidr25/
10.2.:allow,N=/dotted16/
10.2.0.0/12:allow,N=/cidr12/
10.3.0.0/17:allow,N=/cidr17/
10.3.:allow,N=/dotted16b/
10.9.9.9:allow,N=/exact/
10.9.9.0/24:allow,N=/cidr24b/
=h.example:allow,N=/host/
=.example:allow,N=/suffix/
2001:db8::/32:deny
2001:db8::1:allow,N=/exact6/
2001:db8:1::/48:allow,N=/cidr48/
joe@2001:db8::7:deny,N=/info6/
=:allow,N=/anyhost/
:allow,N=/default/
EOF
is(check('10.200.0.1'), 'rule 10.0.0.0/8: | deny connection', 'IPv4 /8');
is(check('10.1.9.9'), 'rule 10.1.0.0/16: | set environment variable N=cidr16 | allow connection', '/16 beats /8');
is(check('10.1.2.3'), 'rule 10.1.2.: | set environment variable N=dotted24 | allow connection', 'same length: dotted first');
is(check('10.1.2.200'), 'rule 10.1.2.128/25: | set environment variable N=cidr25 | allow connection', 'longest wins: /25 beats a.b.c.');
is(check('10.2.0.1'), 'rule 10.2.: | set environment variable N=dotted16 | allow connection', 'dotted /16 beats CIDR /12');
is(check('10.3.0.1'), 'rule 10.3.0.0/17: | set environment variable N=cidr17 | allow connection', 'CIDR /17 beats dotted a.b. (unlike ucspi-tcp6)');
is(check('10.3.200.1'), 'rule 10.3.: | set environment variable N=dotted16b | allow connection', 'outside the /17: the dotted rule');
is(check('10.9.9.9'), 'rule 10.9.9.9: | set environment variable N=exact | allow connection', 'exact beats prefixes');
is(check('10.9.9.8', 'h.example'), 'rule =h.example: | set environment variable N=host | allow connection', '=host beats prefixes');
is(check('10.9.9.8', 'x.example'), 'rule 10.9.9.0/24: | set environment variable N=cidr24b | allow connection', 'IP prefix beats host suffix');
is(check('11.0.0.1', 'x.example'), 'rule =.example: | set environment variable N=suffix | allow connection', 'host suffix');
is(check('11.0.0.1', ''), 'rule =: | set environment variable N=anyhost | allow connection', 'empty host: =');
is(check('11.0.0.1'), 'rule : | set environment variable N=default | allow connection', 'the empty rule');
is(check('2001:db8::1'), 'rule 2001:db8::1: | set environment variable N=exact6 | allow connection', 'IPv6 exact');
is(check('2001:DB8:0::0:1'), 'rule 2001:db8::1: | set environment variable N=exact6 | allow connection', 'TCPREMOTEIP in an odd form is made canonical');
is(check('2001:db8::2'), 'rule 2001:db8::/32: | deny connection', 'IPv6 /32');
is(check('2001:db8:1::2'), 'rule 2001:db8:1::/48: | set environment variable N=cidr48 | allow connection', 'IPv6 /48 beats /32');
is(check('2001:db8::7', undef, 'joe'), 'rule joe@2001:db8::7: | deny connection', 'info@IPv6 (printing stops at the deny, as 0.88)');
is(check('2001:db8::1', 'h.example'), 'rule 2001:db8::1: | set environment variable N=exact6 | allow connection', 'IPv6 exact beats =host');
is(check('2001:db8::2', 'h.example'), 'rule =h.example: | set environment variable N=host | allow connection', '=host beats IPv6 prefixes');
is(check('2001:db8::2', 'x.example'), 'rule 2001:db8::/32: | deny connection', 'IPv6 prefix beats host suffix');
is(check('3001::1'), 'rule : | set environment variable N=default | allow connection', 'other IPv6: the empty rule');
is(check('::ffff:10.1.2.3'), 'rule : | set environment variable N=default | allow connection', 'v4-mapped TCPREMOTEIP is not IPv4 (as ucspi-tcp-ipv6)');

# Index only with CIDR: a file of exact IPv6 keys has none; with it, the
# IPv4 0.88 behaviour is unchanged for text keys.
compile("2001:db8::1:allow\n1.2.3.:deny\n");
SKIP: {
  my $k = keys_of();
  skip('no cdb tool', 1) unless defined $k;
  is($k, '2001:db8::1 1.2.3.', 'no index record without CIDR rules');
}
is(check('1.2.3.4'), 'rule 1.2.3.: | deny connection', 'dotted prefix without index');

# Colons inside values do not move the split; 0.88 lines split as before.
is(compile("1.2.3.4:allow,MSG=/a:allow/,X=\"::1:deny\"\n::1:allow,Y=/b:c/\n"), '0', 'colons in values compile');
is(check('1.2.3.4'), 'rule 1.2.3.4: | set environment variable MSG=a:allow | set environment variable X=::1:deny | allow connection', 'split at the first action colon');
is(check('::1'), 'rule ::1: | set environment variable Y=b:c | allow connection', 'IPv6 key with a colon value');

# A bad form leaves the previous cdb byte for byte.
my $before = slurp("$dir/r.cdb");
for my $bad ('10.0.0.0/33', '::/129', '10.0.0.0/8/8', '1.2.3.4/ 8', ':::', '2001:db8::xyz', '1::2::3') {
  is(compile("1.1.1.1:allow\n$bad:deny\n"), '100', "'$bad' rejected with 100");
  ok(slurp("$dir/r.cdb") eq $before, "'$bad': old cdb intact");
}
done_testing();
