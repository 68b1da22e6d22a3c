#!/usr/bin/perl
# Differential tests of tcprules and tcprulescheck against Debian's
# ucspi-tcp-ipv6 (the second oracle, unpacked by make deps): rules files
# written for it, with its IPv6 forms (textual prefixes 2001:db8: and
# 2001:db8::, exact addresses, ::ffff:a.b.c.d, the IPv4 forms), compile
# on both sides with the same exit code, and every client gets the same
# answer from both tcprulescheck programs, each on its own cdb and each on
# the other's (the cdb a swapped package finds in place).  Then the
# places where we differ on purpose, each listed in tcprules(1) and
# tcprulescheck(1) DIFFERENCES: asserted as ours, not compared.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use Test::More;

need_ours('tcprules', 'tcprulescheck');
need_ipv6('tcprules', 'tcprulescheck');
my $dir = tmpdir();
my %prog = (ours => ours(), theirs => ipv6_bin(''));
$prog{theirs} =~ s{/$}{};

# Compile with one side's tcprules: "exit|stdout", stderr kept in $dir.
sub compile {
  my ($side, $text) = @_;
  spew("$dir/in", $text);
  my $r = run_cmd(["$prog{$side}/tcprules", "$dir/$side.cdb", "$dir/$side.tmp"],
    stdin => "$dir/in");
  spew("$dir/$side.err", $r->{err});
  return "$r->{status}|$r->{out}";
}

# One side's tcprulescheck on a cdb, for a client: "exit|stdout".
sub check {
  my ($side, $cdb, $ip, $host, $info) = @_;
  my %env = (PATH => '/bin:/usr/bin');
  $env{TCPREMOTEIP} = $ip if defined $ip;
  $env{TCPREMOTEHOST} = $host if defined $host;
  $env{TCPREMOTEINFO} = $info if defined $info;
  my $r = run_cmd(["$prog{$side}/tcprulescheck", $cdb], env => \%env);
  return "$r->{status}|$r->{out}";
}

# A rules file as ucspi-tcp-ipv6's users write them.
my $rules = <<'EOF';
# IPv6 rules the ucspi-tcp-ipv6 way
2001:db8::7:allow,K=/exact/
2001:db8:::deny,K=/dcolon/
2001:db8::allow,K=/prefix32/
2001:db8:0:1::allow,K=/prefix64/
2001::allow,K=/prefix16/
::1:allow,K=/loopback/
:::allow,K=/anycolon/
::ffff:127.0.0.1:deny,K=/mapped/
::ffff:10.:allow,K=/mapped10/
joe@2001:db8::9:deny,K=/info6/
=h6.example:allow,K=/host/
127.:allow,RELAYCLIENT=""
10.1.2.3-5:deny
:allow,K=/default/
EOF

my @clients = (
  ['2001:db8::7'], ['2001:db8::8'], ['2001:db8::'], ['2001:db8:0:1::5'],
  ['2001:db8:1::5'], ['2001:db8:ffff:1:2:3:4:5'], ['2001::1'], ['2001:1::1'],
  ['::1'], ['::2'], ['::ffff:127.0.0.1'], ['::ffff:10.1.2.3'],
  ['::ffff:11.0.0.1'], ['127.0.0.1'], ['10.1.2.4'], ['10.1.2.6'], ['3000::1'],
  ['2001:db8::9', undef, 'joe'], ['2001:db8::9', undef, 'ann'],
  ['3000::1', 'h6.example'], ['2001:db8::7', 'h6.example'],
  ['2001:db8::8', 'h6.example'], [undef],
);

is(compile('ours', $rules), compile('theirs', $rules), 'the file compiles on both sides');
like(slurp("$dir/ours.err"), qr/warning: line 3: 2001:db8:: is a textual prefix/,
  'ours warns about 2001:db8:: (address or prefix)');
is(slurp("$dir/theirs.err"), '', 'theirs says nothing');
for my $c (@clients) {
  my $name = join ' ', map { $_ // '-' } @$c;
  my $want = check('theirs', "$dir/theirs.cdb", @$c);
  is(check('ours', "$dir/ours.cdb", @$c), $want, "$name: same answer");
  is(check('ours', "$dir/theirs.cdb", @$c), $want, "$name: ours on their cdb");
  is(check('theirs', "$dir/ours.cdb", @$c), $want, "$name: theirs on our cdb");
}

# Written in the forms it stores and we store alike, the cdb is the same
# byte for byte.
is(compile('ours', $rules), compile('theirs', $rules), 'recompiled');
ok(slurp("$dir/ours.cdb") eq slurp("$dir/theirs.cdb"), 'the same cdb, byte for byte');

# Rejected alike: what neither side can parse.
for my $bad ("2001:db8::1-3:allow\n", "::1:allow,\n", "::1:allow,x\n") {
  my ($o, $t) = (compile('ours', $bad), compile('theirs', $bad));
  is((split /\|/, $o)[0], (split /\|/, $t)[0], "'" . show($bad) . "': the same exit code");
}

# --- Differences, on purpose (DIFFERENCES in tcprules(1), tcprulescheck(1)).
# A lone zero group: ucspi-tcp-ipv6 wrote 2001:db8:0:1:1:1:1:1 as
# 2001:db8::1:1:1:1:1, so its 2001:db8:0:1: did not match it; ours matches
# the RFC 5952 text as well, and its prefix is the longer one.
compile('ours', $rules);
compile('theirs', $rules);
like(check('theirs', "$dir/theirs.cdb", '2001:db8::1:1:1:1:1'), qr/rule 2001:db8:::/,
  'theirs: 2001:db8:0:1:1:1:1:1 (in its own text) is under 2001:db8::');
like(check('ours', "$dir/ours.cdb", '2001:db8:0:1:1:1:1:1'), qr/rule 2001:db8:0:1::/,
  'ours: the /64 prefix 2001:db8:0:1: matches it');
like(check('ours', "$dir/ours.cdb", '2001:db8::1:1:1:1:1'), qr/rule 2001:db8:0:1::/,
  'ours: TCPREMOTEIP in that text is read as the address');
# A key only matches what tcpserver writes: ours writes lower case and
# compressed, and reads TCPREMOTEIP that way.
like(check('theirs', "$dir/theirs.cdb", '2001:DB8::7'), qr/rule 2001::/,
  'theirs: an upper-case TCPREMOTEIP matches as text');
like(check('ours', "$dir/ours.cdb", '2001:DB8::7'), qr/rule 2001:db8::7:/,
  'ours: it is the address 2001:db8::7');
my $odd = "2001:DB8::7:allow,K=/upper/\n2001:0db8::allow,K=/zeros/\n";
compile('ours', $odd);
like(check('ours', "$dir/ours.cdb", '2001:db8::7'), qr/K=upper/, 'ours: an upper-case key is stored canonical');
like(check('ours', "$dir/ours.cdb", '2001:db8::8'), qr/K=zeros/, 'ours: a prefix with leading zeros too');
compile('theirs', $odd);
like(check('theirs', "$dir/theirs.cdb", '2001:db8::7'), qr/^0\|default:/, 'theirs: neither ever matches');
# CIDR keys are ours: theirs stores them as text no client matches.
compile('theirs', "2001:db8::/32:deny\n");
like(check('theirs', "$dir/theirs.cdb", '2001:db8::7'), qr/default:/, 'theirs: 2001:db8::/32 is inert');
compile('ours', "2001:db8::/32:deny\n");
like(check('ours', "$dir/ours.cdb", '2001:db8::7'), qr/rule 2001:db8::\/32:/, 'ours: it is the network');
# A key that can never match is refused (the whole file, exit 100).
is((split /\|/, compile('ours', "2001:db8:deny\n"))[0], 100, 'ours: 2001:db8 (no client is written so) is refused');
is((split /\|/, compile('theirs', "2001:db8:deny\n"))[0], 0, 'theirs: stored as inert text');
# tcprulescheck says on stderr how a two-way key matched.
compile('ours', "2001:db8:::deny\n");
my $r = run_cmd([ours('tcprulescheck'), "$dir/ours.cdb"],
  env => { TCPREMOTEIP => '2001:db8::8' });
is($r->{out}, "rule 2001:db8:::\ndeny connection\n", 'the answer as theirs');
like($r->{err}, qr/^tcprulescheck: note: 2001:db8:: matched as a textual prefix of 2001:db8::8/,
  'and a note on stderr');
$r = run_cmd([ours('tcprulescheck'), "$dir/ours.cdb"], env => { TCPREMOTEIP => '2001:db8::' });
is($r->{err}, '', 'no note when it matched as the address');
compile('ours', "::ffff:127.0.0.1:deny\n::ffff:10.0.0.0/104:deny\n");
like(slurp("$dir/ours.err"), qr/line 1: ::ffff:127.0.0.1 matches only clients presented in IPv6 form \(tcpserver -6\), as in ucspi-tcp-ipv6; for IPv4 clients write 127.0.0.1\n/,
  'a mapped key: the warning names the IPv4 form');
like(slurp("$dir/ours.err"), qr/line 2: .*write 10.0.0.0\/8\n/, 'and the IPv4 network of a mapped CIDR');
done_testing();
