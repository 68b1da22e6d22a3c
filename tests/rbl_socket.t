#!/usr/bin/perl
# rblsmtpd behind a real tcpserver on 127.0.0.1: a refused client sees
# the conversation over TCP, TCPREMOTEIP reaches the log line, and an
# accepted client talks to the program.  The server is the reference's
# tcpserver (this test is about rblsmtpd), or ours when it is absent.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use rbl_lib;
use IO::Socket::INET;
use Test::More;

need_bin();
my $tcpserver = -x '/usr/bin/tcpserver' ? '/usr/bin/tcpserver' : bin('tcpserver');
plan skip_all => 'no tcpserver' unless -x $tcpserver;

my $log = tmpdir() . '/server.log';
my @servers;
END { local $?; for (@servers) { kill 'TERM', $_; waitpid($_, 0) } }

# tcpserver -1 on 127.0.0.1, port 0, running rblsmtpd with RBLSMTPD as
# given (undef: unset); returns the port.
sub serve {
  my ($rblsmtpd_env) = @_;
  pipe(my $r, my $w) or die;
  my $pid = fork // die;
  if (!$pid) {
    close $r;
    open STDOUT, '>&', $w;
    open STDERR, '>>', $log;
    open STDIN, '<', '/dev/null';
    if (defined $rblsmtpd_env) { $ENV{RBLSMTPD} = $rblsmtpd_env } else { delete $ENV{RBLSMTPD} }
    exec $tcpserver, '-1', '-R', '-H', '127.0.0.1', '0',
      bin('rblsmtpd'), '-t', '10', 'sh', '-c', 'echo "220 real smtpd $TCPREMOTEIP"; cat';
    exit 127;
  }
  close $w;
  push @servers, $pid;
  my $port;
  eval { local $SIG{ALRM} = sub { die }; alarm 10; $port = <$r>; alarm 0 };
  chomp $port if defined $port;
  die "no port from tcpserver\n" unless $port && $port =~ /^\d+$/;
  return $port;
}

sub talk {
  my ($port, $send) = @_;
  my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Timeout => 10)
    or die "connect: $!";
  my $got = '';
  eval {
    local $SIG{ALRM} = sub { die "timeout\n" };
    alarm 10;
    print $s $send;
    shutdown $s, 1;
    local $/;
    $got = <$s> // '';
    alarm 0;
  };
  return $got;
}

my $port = serve('refused here');
is(talk($port, "EHLO x\r\nMAIL FROM:<a\@b>\r\nRCPT TO:<c\@d>\r\nQUIT\r\n"),
   "220 rblsmtpd.local\r\n250 rblsmtpd.local\r\n250 rblsmtpd.local\r\n451 refused here\r\n221 rblsmtpd.local\r\n",
   'refused client: the conversation over TCP');
is(talk($port, "HELO x\r\n"), "220 rblsmtpd.local\r\n250 rblsmtpd.local\r\n",
   'refused client closing without QUIT');

my $port2 = serve('');
is(talk($port2, "HELO x\r\n"), "220 real smtpd 127.0.0.1\nHELO x\r\n",
   'accepted client: the program has the socket');

sleep 1;
open my $fh, '<', $log or die;
my @lines = grep { /^rblsmtpd:/ } <$fh>;
like($lines[0] // '', qr/^rblsmtpd: 127\.0\.0\.1 pid \d+: 451 refused here\n\z/, 'log line with TCPREMOTEIP');
is(scalar @lines, 2, 'one log line per refused client, none for the accepted one');

done_testing();
