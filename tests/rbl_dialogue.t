#!/usr/bin/perl
# rblsmtpd's SMTP conversation with a blocked client, byte for byte, and
# its other interface: RBLSMTPD forms, the log line, -t, usage errors.
# No DNS is involved ($RBLSMTPD decides).  Every case is also run through
# /usr/bin/rblsmtpd when present and must give the same bytes.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use Ucspi::Rbl;
use POSIX qw(WNOHANG);
use Time::HiRes qw(time sleep);
use Test::More;

need_ours('rblsmtpd');

my $usage = "rblsmtpd: usage: rblsmtpd [ -b ] [ -R ] [ -t timeout ] [ -r base ] [ -a base ] smtpd [ arg ... ]\n";
my $G = "220 rblsmtpd.local\r\n";
my $OK = "250 rblsmtpd.local\r\n";
my $BYE = "221 rblsmtpd.local\r\n";

# Runs ours (and the reference) with ARGS, ENV, INPUT; checks output,
# log and exit code, and that the reference gives the same.
sub case {
  my ($name, $args, $env, $input, $out, $err, $status) = @_;
  my %env = (TCPREMOTEIP => '192.0.2.7', %$env);
  delete $env{$_} for grep { !defined $env{$_} } keys %env;
  my $r = run_rbl(ours('rblsmtpd'), $args, \%env, $input);
  is($r->{out}, $out, "$name: output") if defined $out;
  is($r->{err}, $err, "$name: log") if defined $err;
  is($r->{status}, $status // 0, "$name: exit code");
  SKIP: {
    skip 'no /usr/bin/rblsmtpd', 1 unless have_ref('rblsmtpd');
    my $x = run_rbl(ref_bin('rblsmtpd'), $args, \%env, $input);
    is_deeply([$r->{out}, $r->{err}, $r->{status}], [$x->{out}, $x->{err}, $x->{status}],
              "$name: same as the reference");
  }
  return $r;
}

sub logline { "rblsmtpd: 192.0.2.7 pid PID: $_[0]\n" }

# RBLSMTPD forms.
case('RBLSMTPD unset, no lists: the program runs', [qw(echo ran)], {}, '', "ran\n", '');
case('RBLSMTPD empty: the program runs', [qw(echo ran)], { RBLSMTPD => '' }, '', "ran\n", '');
case('RBLSMTPD text: 451', [qw(echo ran)], { RBLSMTPD => 'go away' }, "QUIT\r\n",
     $G . $BYE, logline('451 go away'));
case('RBLSMTPD -text: 553', [qw(echo ran)], { RBLSMTPD => '-go away' }, "QUIT\r\n",
     $G . $BYE, logline('553 go away'));
case('RBLSMTPD "-": 553 with empty text', [qw(echo ran)], { RBLSMTPD => '-' }, "DATA\r\nQUIT\r\n",
     $G . "553 \r\n" . $BYE, logline('553 '));
case('RBLSMTPD "--x": 553 -x', [qw(echo ran)], { RBLSMTPD => '--x' }, "DATA\r\n",
     $G . "553 -x\r\n", logline('553 -x'));
case('-b does not touch RBLSMTPD', [qw(-b echo ran)], { RBLSMTPD => 'temp' }, "DATA\r\n",
     $G . "451 temp\r\n", logline('451 temp'));
case('no TCPREMOTEIP: empty address in the log', [qw(echo ran)], { RBLSMTPD => 'x', TCPREMOTEIP => undef },
     "", $G, "rblsmtpd:  pid PID: 451 x\n");
case('IPv6 address logged as given', [qw(echo ran)], { RBLSMTPD => 'x', TCPREMOTEIP => '2001:db8::1' },
     "", $G, "rblsmtpd: 2001:db8::1 pid PID: 451 x\n");

# The full transcript of a typical client.
my $reply = "451 listed\r\n";
case('SMTP transcript',
     [qw(echo ran)], { RBLSMTPD => 'listed' },
     "EHLO client.example\r\nMAIL FROM:<a\@example.com>\r\nRCPT TO:<b\@example.org>\r\nDATA\r\nRSET\r\nNOOP\r\nVRFY x\r\nHELO x\r\nQUIT\r\nNOOP\r\n",
     $G . $OK . $OK . $reply . $reply . $OK . $OK . $reply . $OK . $BYE, logline('451 listed'));

# How a line's verb is found: up to the first space, case ignored, one CR
# before the LF dropped; anything else is refused.
my @verbs = (
  [ "helo\n", $OK ], [ "HeLo\r\n", $OK ], [ "ehlo x y\r\n", $OK ], [ "MAIL\n", $OK ],
  [ "rset  \r\n", $OK ], [ "NOOP \r\n", $OK ], [ "mail\tx\r\n", $reply ],
  [ " helo\r\n", $reply ], [ "helo\r\r\n", $reply ], [ "he\rlo\r\n", $reply ],
  [ "helox\r\n", $reply ], [ "hel\r\n", $reply ], [ "\r\n", $reply ], [ "\n", $reply ],
  [ "noop\0\r\n", $reply ], [ "noop \0\r\n", $OK ], [ "\0noop\r\n", $reply ],
  [ "helo\r \n", $reply ], [ "quitquit\r\n", $reply ], [ "h\xe9lo\r\n", $reply ],
);
for my $v (@verbs) {
  my ($line, $want) = @$v;
  (my $shown = $line) =~ s/([^ -~])/sprintf "\\x%02x", ord $1/ge;
  case("line \"$shown\"", [qw(echo ran)], { RBLSMTPD => 'listed' }, $line, $G . $want);
}
case('QUIT variants', [qw(echo ran)], { RBLSMTPD => 'm' }, "quit now\r\nNOOP\r\n", $G . $BYE);
case('QUIT alone', [qw(echo ran)], { RBLSMTPD => 'm' }, "Quit\n", $G . $BYE);
case('end of input without QUIT', [qw(echo ran)], { RBLSMTPD => 'm' }, "NOOP\r\nNOOP", $G . $OK);
case('an unfinished last line is not answered', [qw(echo ran)], { RBLSMTPD => 'm' }, "QUIT", $G);
case('a 100 kB line: one reply', [qw(echo ran)], { RBLSMTPD => 'm' }, ('x' x 100000) . "\r\nQUIT\r\n",
     $G . "451 m\r\n" . $BYE);
case('a 100 kB HELO line', [qw(echo ran)], { RBLSMTPD => 'm' }, 'HELO ' . ('x' x 100000) . "\r\n",
     $G . $OK);

# The message: bytes outside 32..126 become '?', cut at 200 bytes.
case('message made printable', [qw(echo ran)], { RBLSMTPD => "a\tb\x7fc\xc3\xa9\r\nd" }, "DATA\n",
     $G . "451 a?b?c????d\r\n", logline('451 a?b?c????d'));
my $long = join '', map { chr(33 + $_ % 90) } 0 .. 299;
case('message cut at 200', [qw(echo ran)], { RBLSMTPD => $long }, "DATA\n",
     $G . '451 ' . substr($long, 0, 200) . "\r\n", logline('451 ' . substr($long, 0, 200)));
case('-message cut at 200 after the dash', [qw(echo ran)], { RBLSMTPD => "-$long" }, "DATA\n",
     $G . '553 ' . substr($long, 0, 200) . "\r\n", logline('553 ' . substr($long, 0, 200)));

# -t 0: the reply once, no greeting, nothing read.
case('-t 0', [qw(-t 0 echo ran)], { RBLSMTPD => 'm' }, "HELO x\r\n", "451 m\r\n", logline('451 m'));
case('-t junk counts as 0', [qw(-t abc echo ran)], { RBLSMTPD => 'm' }, "HELO x\r\n", "451 m\r\n");
case('-t 5x counts as 5', [qw(-t 5x echo ran)], { RBLSMTPD => 'm' }, "QUIT\r\n", $G . $BYE);

# Usage errors: exit 100.
case('unknown option', [qw(-x echo ran)], {}, '', '',
     "rblsmtpd: illegal option -- x\n$usage", 100);
case('missing argument', [qw(-r)], {}, '', '',
     "rblsmtpd: option requires an argument -- r\n$usage", 100);
case('no program', [], {}, '', '', $usage, 100);
case('no program, blocked: usage anyway', [], { RBLSMTPD => 'x' }, '', '', $usage, 100);
case('options end at the program', [qw(echo -x -b)], {}, '', "-x -b\n", '');
case('options end at --', [qw(-- echo ran)], {}, '', "ran\n", '');
case('program not found', [qw(./no/such/program)], {}, '', '',
     "rblsmtpd: fatal: unable to run ./no/such/program: file does not exist\n", 111);

# -t bounds the whole conversation, not each read: a client sending a
# NOOP every 0.3 s is dropped after -t seconds.
sub trickle {
  my ($prog) = @_;
  pipe(my $r, my $w) or die;
  pipe(my $or, my $ow) or die;
  my $pid = fork // die;
  if (!$pid) {
    open STDIN, '<&', $r; open STDOUT, '>&', $ow; open STDERR, '>', '/dev/null';
    %ENV = (PATH => '/bin:/usr/bin', RBLSMTPD => 'm');
    exec $prog, qw(-t 2 echo ran);
    exit 127;
  }
  close $r; close $ow;
  local $SIG{PIPE} = 'IGNORE';
  $w->autoflush(1);
  my ($start, $ended) = (time, 0);
  for (1 .. 40) {                         # 12 s of input at most
    last unless print $w "NOOP\r\n";
    sleep 0.3;
    if (waitpid($pid, WNOHANG) == $pid) { $ended = 1; last }
  }
  my $elapsed = time - $start;
  close $w;
  if (!$ended) { kill 'KILL', $pid; waitpid($pid, 0) }
  my $status = $? >> 8;
  local $/;
  my $out = <$or>;
  my $replies = () = $out =~ /^250 /mg;
  return ($ended, $elapsed, $replies, $status);
}
my ($ended, $elapsed, $replies, $status) = trickle(ours('rblsmtpd'));
ok($ended, '-t 2: a trickling client is dropped');
ok($elapsed < 11, "-t 2: dropped before its input ended ($elapsed s)");
ok($replies >= 1 && $replies < 40, "-t 2: $replies of 40 NOOPs answered");
is($status, 0, '-t 2: exit 0 when the time is up');

done_testing();
