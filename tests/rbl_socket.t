#!/usr/bin/perl
# rblsmtpd behind a real tcpserver on 127.0.0.1: a refused client sees
# the conversation over TCP, TCPREMOTEIP reaches the log line, and an
# accepted client talks to the program.  The server is the reference's
# tcpserver (this test is about rblsmtpd), or ours when it is absent.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use Ucspi::Rbl;
use Test::More;

need_ours('rblsmtpd');
my $tcpserver = -x '/usr/bin/tcpserver' ? '/usr/bin/tcpserver' : ours('tcpserver');
plan skip_all => 'no tcpserver' unless -x $tcpserver;

my $log = tmpdir() . '/server.log';

# tcpserver -1 on 127.0.0.1, port 0, running rblsmtpd with RBLSMTPD as
# given (undef: unset); returns the port.
sub serve {
  my ($rblsmtpd_env) = @_;
  my (undef, $port) = start_process([$tcpserver, '-1', '-R', '-H', '127.0.0.1', '0',
      ours('rblsmtpd'), '-t', '10', 'sh', '-c', 'echo "220 real smtpd $TCPREMOTEIP"; cat'], code => sub {
    open STDERR, '>>', $log;
    if (defined $rblsmtpd_env) { $ENV{RBLSMTPD} = $rblsmtpd_env } else { delete $ENV{RBLSMTPD} }
  });
  chomp $port if defined $port;
  die "no port from tcpserver\n" unless $port && $port =~ /^\d+$/;
  return $port;
}

sub talk { my ($port, $send) = @_; return fetch($port, $send) }

my $port = serve('refused here');
is(talk($port, "EHLO x\r\nMAIL FROM:<a\@b>\r\nRCPT TO:<c\@d>\r\nQUIT\r\n"),
   "220 rblsmtpd.local\r\n250 rblsmtpd.local\r\n250 rblsmtpd.local\r\n451 refused here\r\n221 rblsmtpd.local\r\n",
   'refused client: the conversation over TCP');
is(talk($port, "HELO x\r\n"), "220 rblsmtpd.local\r\n250 rblsmtpd.local\r\n",
   'refused client closing without QUIT');

my $port2 = serve('');
is(talk($port2, "HELO x\r\n"), "220 real smtpd 127.0.0.1\nHELO x\r\n",
   'accepted client: the program has the socket');

# Each client had its whole answer, so rblsmtpd is done with the log.
sub log_lines { grep { /^rblsmtpd:/ } split /^/m, slurp($log) }
wait_until(10, sub { log_lines() >= 2 });
my @lines = log_lines();
like($lines[0] // '', qr/^rblsmtpd: 127\.0\.0\.1 pid \d+: 451 refused here\n\z/, 'log line with TCPREMOTEIP');
is(scalar @lines, 2, 'one log line per refused client, none for the accepted one');

done_testing();
