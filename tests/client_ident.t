#!/usr/bin/perl
# tcpclient -r: TCPREMOTEINFO from a fake identd on 127.0.0.1:113 (root
# only; skipped when the port cannot be had), -t, -R.
use strict;
use warnings;
use IO::Socket::IP;
use POSIX ();
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use Test::More;

need_ours('tcpclient');
my $tc = ours('tcpclient');
my $identd = IO::Socket::IP->new(Listen => 5, LocalHost => '127.0.0.1', LocalPort => 113, ReuseAddr => 1);
skip_all('cannot listen on 127.0.0.1:113') unless $identd;
my $server = IO::Socket::IP->new(Listen => 5, LocalHost => '127.0.0.1', LocalPort => 0) or die;
my $P = $server->sockport;

# A helper process, gone after 30 s at most.
sub helper {
  my ($code) = @_;
  background(sub { $SIG{PIPE} = 'IGNORE'; $SIG{ALRM} = sub { POSIX::_exit(0) }; alarm 30; $code->() });
}
helper(sub { while (my $c = $server->accept) { close $c } });
# The identd answers the first query, stays silent on the second.
helper(sub {
  my $k = 0;
  while (my $c = $identd->accept) {
    my $q = <$c>;
    if ($k++ == 0 && defined $q && $q =~ /^\s*(\d+)\s*,\s*(\d+)/) {
      print $c "$1 , $2 : USERID : UNIX : j o e\r\n";
      close $c;
    } else { sleep 5 }
  }
});
close $identd; close $server;

my $show = 'echo "info=${TCPREMOTEINFO-unset}"';
my $out = `timeout 10 $tc -Hl0 127.0.0.1 $P sh -c '$show' 2>&1`;
ok($out eq "info=joe\n", '-r: TCPREMOTEINFO from the identd, white space removed') or diag($out);
$out = `timeout 10 $tc -Hl0 -t 1 127.0.0.1 $P sh -c '$show' 2>&1`;
ok($out eq "info=unset\n", '-t 1: a silent identd leaves TCPREMOTEINFO unset');
$out = `TCPREMOTEINFO=stale timeout 10 $tc -RHl0 127.0.0.1 $P sh -c '$show' 2>&1`;
ok($out eq "info=unset\n", '-R: no lookup, inherited value removed');
done_testing();
