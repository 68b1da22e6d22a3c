#!/usr/bin/perl
# rblsmtpd's DNS lookups against the test responder, in a private network
# namespace: listed, not listed, anti-RBL, TXT variants, SERVFAIL and
# REFUSED with and without -c, the order of the options, RBLSMTPD
# overriding lookups.  Each case states the expected result (observed on
# 0.88) and, when /usr/bin/rblsmtpd is present, is also run through it:
# same output, log line, exit code and queries.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use Ucspi::Rbl;
use Test::More;

need_ours('rblsmtpd');
need_private_net(mount => 1);

my $long = join ' ', ('0123456789' x 25) x 2;     # two 250-byte strings
my $log = start_dnsd(<<"ZONE");
4.3.2.1.bl.test TXT listed\\sby\\sbl.test
4.3.2.1.other.test TXT other\\slist
4.3.2.1.multi.test TXT abc def
4.3.2.1.multi.test TXT ghi
4.3.2.1.bin.test TXT a\\001b\\200c\\255d\\000e\\177f\\009g\\013\\010
4.3.2.1.long.test TXT $long
4.3.2.1.empty.test TXT
4.3.2.1.emptys.test TXT "" ""
4.3.2.1.nodata.test A 127.0.0.2
4.3.2.1.a.test A 127.0.0.2
4.3.2.1.sf.test SERVFAIL
4.3.2.1.ref.test REFUSED
4.3.2.1.tc.test TRUNCATE
4.3.2.1.tc.test TXT over\\stcp
apex.test TXT no\\sclient\\saddress
ZONE

my $smtp = "HELO x\r\nMAIL FROM:<a\@b>\r\nRCPT TO:<c\@d>\r\nDATA\r\nQUIT\r\n";
sub blocked {
  my ($reply) = @_;
  return "220 rblsmtpd.local\r\n250 rblsmtpd.local\r\n250 rblsmtpd.local\r\n"
    . "$reply\r\n$reply\r\n221 rblsmtpd.local\r\n";
}
my $ran = "ran\n";
my $usage = "rblsmtpd: usage: rblsmtpd [ -b ] [ -R ] [ -t timeout ] [ -r base ] [ -a base ] smtpd [ arg ... ]\n";

# [ name, args, expected reply (undef: the program runs), queries,
#   extra environment, slow on the reference (SERVFAIL: 11 s) ]
my @cases = (
  [ 'listed', [qw(-r bl.test)], '451 listed by bl.test', ['4.3.2.1.bl.test TXT'] ],
  [ 'NXDOMAIN: not listed', [qw(-r nx.test)], undef, ['4.3.2.1.nx.test TXT'] ],
  [ 'no TXT record: not listed', [qw(-r nodata.test)], undef, ['4.3.2.1.nodata.test TXT'] ],
  [ 'TXT without strings: not listed', [qw(-r empty.test)], undef, ['4.3.2.1.empty.test TXT'] ],
  [ 'TXT of empty strings: not listed', [qw(-r emptys.test)], undef, ['4.3.2.1.emptys.test TXT'] ],
  [ 'strings and records concatenated', [qw(-r multi.test)], '451 abcdefghi', ['4.3.2.1.multi.test TXT'] ],
  [ 'binary TXT made printable', [qw(-r bin.test)], '451 a?b?c?d?e?f?g??', ['4.3.2.1.bin.test TXT'] ],
  [ 'long TXT (via TCP) cut at 200', [qw(-r long.test)], '451 ' . substr('0123456789' x 25, 0, 200),
    ['4.3.2.1.long.test TXT', '4.3.2.1.long.test TXT tcp'] ],
  [ 'truncated answer retried over TCP', [qw(-r tc.test)], '451 over tcp',
    ['4.3.2.1.tc.test TXT', '4.3.2.1.tc.test TXT tcp'] ],
  [ '-b: 553', [qw(-b -r bl.test)], '553 listed by bl.test', ['4.3.2.1.bl.test TXT'] ],
  [ '-b after -r has no effect on it', [qw(-r bl.test -b)], '451 listed by bl.test', ['4.3.2.1.bl.test TXT'] ],
  [ '-B after -b', [qw(-b -B -r bl.test)], '451 listed by bl.test', ['4.3.2.1.bl.test TXT'] ],
  [ 'first listing wins, no more lookups', [qw(-r nx.test -r bl.test -r other.test)], '451 listed by bl.test',
    ['4.3.2.1.nx.test TXT', '4.3.2.1.bl.test TXT'] ],
  [ 'anti-RBL first: accepted, no more lookups', [qw(-a a.test -r bl.test)], undef, ['4.3.2.1.a.test A'] ],
  [ 'anti-RBL after the listing: too late', [qw(-r bl.test -a a.test)], '451 listed by bl.test', ['4.3.2.1.bl.test TXT'] ],
  [ 'anti-RBL without A record', [qw(-a nx.test -r bl.test)], '451 listed by bl.test',
    ['4.3.2.1.nx.test A', '4.3.2.1.bl.test TXT'] ],
  [ 'anti-RBL: a TXT-only name is not an A', [qw(-a bl.test -r other.test)], '451 other list',
    ['4.3.2.1.bl.test A', '4.3.2.1.other.test TXT'] ],
  [ 'base with a trailing dot', [qw(-r bl.test.)], '451 listed by bl.test', ['4.3.2.1.bl.test TXT'] ],
  [ 'RBLSMTPD empty: no lookup, accepted', [qw(-r bl.test)], undef, [], { RBLSMTPD => '' } ],
  [ 'RBLSMTPD text: no lookup, 451', [qw(-r bl.test)], '451 from rules', [], { RBLSMTPD => 'from rules' } ],
  [ 'RBLSMTPD -text: 553', [qw(-r bl.test)], '553 bounce', [], { RBLSMTPD => '-bounce' } ],
  [ 'no TCPREMOTEIP: the base itself', [qw(-r apex.test)], '451 no client address', ['apex.test TXT'],
    { TCPREMOTEIP => undef } ],
  [ 'SERVFAIL fails open', [qw(-r sf.test)], undef, ['4.3.2.1.sf.test TXT'], {}, 'slow' ],
  [ 'SERVFAIL with -c', [qw(-c -r sf.test)], '451 temporary RBL lookup error', ['4.3.2.1.sf.test TXT'], {}, 'slow' ],
  [ 'SERVFAIL with -c -b: still 451', [qw(-c -b -r sf.test)], '451 temporary RBL lookup error',
    ['4.3.2.1.sf.test TXT'], {}, 'slow' ],
  [ 'REFUSED with -c', [qw(-c -r ref.test)], '451 temporary RBL lookup error', ['4.3.2.1.ref.test TXT'], {}, 'slow' ],
  [ 'a failed lookup makes a later -b listing 451', [qw(-b -r sf.test -r bl.test)], '451 listed by bl.test',
    ['4.3.2.1.sf.test TXT', '4.3.2.1.bl.test TXT'], {}, 'slow' ],
  [ 'failed anti-RBL lookup: accepted', [qw(-a sf.test -r bl.test)], undef, ['4.3.2.1.sf.test A'], {}, 'slow' ],
  [ 'failed anti-RBL lookup with -c: not anti-listed, 451 even with -b', [qw(-c -b -a sf.test -r bl.test)],
    '451 listed by bl.test', ['4.3.2.1.sf.test A', '4.3.2.1.bl.test TXT'], {}, 'slow' ],
  [ '-c after the failed lookup has no effect on it', [qw(-r sf.test -c)], undef, ['4.3.2.1.sf.test TXT'], {}, 'slow' ],
);

my $slow_ref = $ENV{RBL_SLOW_REFERENCE};
for my $c (@cases) {
  my ($name, $args, $reply, $want_q, $extra, $slow) = @$c;
  my %env = (TCPREMOTEIP => '1.2.3.4', DNSCACHEIP => '127.0.0.1', %{$extra // {}});
  delete $env{$_} for grep { !defined $env{$_} } keys %env;
  clear_queries($log);
  my $r = run_rbl(ours('rblsmtpd'), [@$args, 'echo', 'ran'], \%env, $smtp);
  my %seen;
  my @q = grep { !$seen{$_}++ } queries($log);    # resolver retries counted once
  if (defined $reply) {
    is($r->{out}, blocked($reply), "$name: transcript");
    my $ip = exists $env{TCPREMOTEIP} ? $env{TCPREMOTEIP} : '';
    is($r->{err}, "rblsmtpd: $ip pid PID: $reply\n", "$name: log line");
  } else {
    is($r->{out}, $ran, "$name: the program runs");
    is($r->{err}, '', "$name: nothing logged");
  }
  is($r->{status}, 0, "$name: exit 0");
  is_deeply(\@q, $want_q, "$name: queries");

  SKIP: {
    skip 'no /usr/bin/rblsmtpd', 2 unless have_ref('rblsmtpd');
    skip 'slow on the reference; RBL_SLOW_REFERENCE=1 to compare', 2 if $slow && !$slow_ref;
    clear_queries($log);
    my $x = run_rbl(ref_bin('rblsmtpd'), [@$args, 'echo', 'ran'], \%env, $smtp, 60);
    %seen = ();
    my @xq = grep { !$seen{$_}++ } queries($log);
    is_deeply([$r->{out}, $r->{err}, $r->{status}], [$x->{out}, $x->{err}, $x->{status}],
              "$name: same as the reference");
    is_deeply(\@q, \@xq, "$name: same queries as the reference");
  }
}

# Lookups happen while the options are read: the usage error comes after.
clear_queries($log);
my $r = run_rbl(ours('rblsmtpd'), [qw(-r bl.test)], { TCPREMOTEIP => '1.2.3.4', DNSCACHEIP => '127.0.0.1' }, '');
is($r->{status}, 100, 'no program: exit 100');
is($r->{err}, $usage, 'no program: usage');
is_deeply([queries($log)], ['4.3.2.1.bl.test TXT'], 'no program: the lookup was made first');

# Not listed, program missing: 111.
$r = run_rbl(ours('rblsmtpd'), [qw(-r nx.test ./no/such/program)], { TCPREMOTEIP => '1.2.3.4', DNSCACHEIP => '127.0.0.1' }, '');
is($r->{status}, 111, 'missing program: exit 111');
is($r->{err}, "rblsmtpd: fatal: unable to run ./no/such/program: file does not exist\n", 'missing program: message');

# Listed, program missing: the dialogue anyway, as 0.88.
$r = run_rbl(ours('rblsmtpd'), [qw(-r bl.test ./no/such/program)], { TCPREMOTEIP => '1.2.3.4', DNSCACHEIP => '127.0.0.1' }, "QUIT\r\n");
is($r->{out}, "220 rblsmtpd.local\r\n221 rblsmtpd.local\r\n", 'listed, missing program: dialogue');

# The program gets its arguments and the environment untouched.
$r = run_rbl(ours('rblsmtpd'), ['-r', 'nx.test', 'sh', '-c', 'echo "$0 $1 $RBLX $DNSCACHEIP"; cat', 'a0', 'a1'],
             { TCPREMOTEIP => '1.2.3.4', DNSCACHEIP => '127.0.0.1', RBLX => 'kept' }, "input\n");
is($r->{out}, "a0 a1 kept 127.0.0.1\ninput\n", 'program runs with its arguments, environment and input');

done_testing();
