#!/usr/bin/perl
# -r: ident (RFC 1413) against small responders on port 113, in a private
# network namespace: a correct one, ERROR, a silent one (-t honoured),
# an endless and a binary reply (bounded and sanitised), none at all;
# IPv4 and IPv6; the same results as the reference where it is installed.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use IO::Socket::IP;
use POSIX qw(WNOHANG);
use Test::More;

need_ours('tcpserver');
need_private_net();

my $identd;
sub identd {
  my ($mode, $host) = @_;
  stop_identd();
  my ($pid) = fake_server(sub {
    my ($c) = @_;
    my $q = <$c> // '';
    my ($r, $lp) = $q =~ /(\d+)\s*,\s*(\d+)/ ? ($1, $2) : (0, 0);
    if ($mode eq 'joe') { print $c "$r , $lp : USERID : UNIX : j o e\r\n" }
    elsif ($mode eq 'error') { print $c "$r , $lp : ERROR : NO-USER\r\n" }
    elsif ($mode eq 'twocolons') { print $c "$r , $lp : USERID : UNIX\r\n" }
    elsif ($mode eq 'nocolon') { print $c "hello\r\n" }
    elsif ($mode eq 'silent') { sleep 30 }
    elsif ($mode eq 'endless') { print $c "$r,$lp:USERID:UNIX:"; print $c 'a' x 4096 for 1 .. 256 }
    elsif ($mode eq 'binary') { print $c "$r,$lp:USERID:UNIX:a\001b:c%d\377e\r\n" }
  }, host => $host // '127.0.0.1', port => 113) or die "113: $!";
  $identd = $pid;
}
sub stop_identd {
  return unless $identd;
  stop_pid($identd, 'KILL');
  undef $identd;
}

my $show = 'echo "info=${TCPREMOTEINFO-unset}"';
sub run_with {
  my ($bin, $opts, $host) = @_;
  $host //= '127.0.0.1';
  my $s = start_server($bin, ['-v', '-H', '-l', 'x', @$opts, $host, '0', 'sh', '-c', $show]);
  my $out = fetch($s->{port}, undef, $host);
  log_settled($s);
  stop_server($s);
  my ($line) = slurp($s->{log}) =~ /^(tcpserver: ok .*)$/m;
  $line //= '';
  $line =~ s/^tcpserver: ok \d+ x:(\S+):\d+ (.*):\d+$/ok $1 $2/;
  return ($out, $line);
}

my ($out, $line);
identd('joe');
($out, $line) = run_with(ours('tcpserver'), []);
is($out, "info=joe\n", 'correct reply: white space removed');
is($line, 'ok 127.0.0.1 :127.0.0.1:joe', 'info in the log line');
($out) = run_with(ours('tcpserver'), ['-R']);
is($out, "info=unset\n", '-R: no query');

identd('error');
($out) = run_with(ours('tcpserver'), []);
is($out, "info=\n", 'ERROR reply: set and empty');

# tcpserver.1: a reply without three colons sets it empty, as in 0.88.
identd('twocolons');
($out, $line) = run_with(ours('tcpserver'), []);
is($out, "info=\n", 'reply with two colons: set and empty');
is($line, 'ok 127.0.0.1 :127.0.0.1:', 'reply with two colons: empty info in the log line');
identd('nocolon');
($out) = run_with(ours('tcpserver'), []);
is($out, "info=\n", 'reply without a colon: set and empty');

identd('silent');
($out) = run_with(ours('tcpserver'), ['-t', '1']);
is($out, "info=unset\n", 'silent identd: -t 1 honoured (fetch is bounded at 10 s), unset');

identd('endless');
($out) = run_with(ours('tcpserver'), ['-t', '5']);
like($out, qr/^info=a{257}\n\z/, 'endless reply: cut at 257 bytes');

identd('binary');
($out, $line) = run_with(ours('tcpserver'), []);
is($out, "info=a?b:c%d?e\n", 'binary reply: bytes outside 33..126 become ?');
is($line, 'ok 127.0.0.1 :127.0.0.1:a?b?c?d?e', 'log field sanitised');

stop_identd();
($out) = run_with(ours('tcpserver'), []);
is($out, "info=unset\n", 'no identd (refused): unset');

SKIP: {
  skip 'no IPv6 loopback', 2 unless IO::Socket::IP->new(Listen => 1, LocalHost => '::1', LocalPort => 0);
  identd('joe', '::1');
  ($out, $line) = run_with(ours('tcpserver'), [], '::1');
  is($out, "info=joe\n", 'ident over IPv6');
  is($line, 'ok [::1] :[::1]:joe', 'IPv6 log line');
}

SKIP: {
  skip 'reference not installed', 11 unless have_ref('tcpserver', 'tcprules');
  for my $mode ('joe', 'error', 'twocolons', 'nocolon', 'binary', 'none') {
    $mode eq 'none' ? stop_identd() : identd($mode);
    my @ref = run_with(ref_bin('tcpserver'), []);
    my @our = run_with(ours('tcpserver'), []);
    # By design the value is sanitised in the environment too (the
    # reference passes raw bytes): only the log line compares there.
    is($our[0], $ref[0], "$mode: same TCPREMOTEINFO as the reference") unless $mode eq 'binary';
    is($our[1], $ref[1], "$mode: same log line as the reference");
  }
}
done_testing();
