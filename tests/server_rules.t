#!/usr/bin/perl
# -x rules: a new rules.cdb applies to the next connection without a
# restart; deny runs nothing; -X forgives only a missing file.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use Test::More;

need_ours('tcpserver', 'tcprules');
my $t = tmpdir();
sub rules { my ($text) = @_; make_rules("$t/r.cdb", $text) }
for my $path (['fast', [qw(-HRl x)]], ['slow', [qw(-R -l x)]]) {
  my ($name, $opts) = @$path;
  rules("127.0.0.1:allow,X=\"first\"\n");
  my $s = start_server(ours('tcpserver'), ['-v', '-B', "hi\n", '-x', "$t/r.cdb", @$opts, '127.0.0.1', '0',
                                    'sh', '-c', 'echo X=$X']);
  is(fetch($s->{port}), "hi\nX=first\n", "$name: the rule's variable");
  rules("127.0.0.1:allow,X=\"second\"\n");
  is(fetch($s->{port}), "hi\nX=second\n", "$name: changed rules apply at once");
  # Rewritten in place (same inode), not renamed over: seen as well.
  {
    make_rules("$t/other.cdb", "127.0.0.1:allow,X=\"third\"\n");
    open my $in, '<:raw', "$t/other.cdb" or die;
    local $/;
    my $data = <$in>;
    open my $out, '+<:raw', "$t/r.cdb" or die;
    truncate $out, 0;
    print $out $data;
    close $out;
  }
  is(fetch($s->{port}), "hi\nX=third\n", "$name: rules rewritten in place apply at once");
  rules("127.0.0.:deny\n");
  is(fetch($s->{port}), "hi\n", "$name: deny: banner, then the connection closes");
  unlink "$t/r.cdb";
  is(fetch($s->{port}), "hi\n", "$name: missing rules: connection dropped");
  mkdir "$t/r.cdb";
  is(fetch($s->{port}), "hi\n", "$name: a directory as rules: dropped");
  rmdir "$t/r.cdb";
  log_settled($s);
  stop_server($s);
  my $log = slurp($s->{log});
  my ($deny) = $log =~ /^tcpserver: deny (\d+) x:127\.0\.0\.1:\d+ [^:]*:127\.0\.0\.1::\d+$/m;
  ok($deny && $log =~ /^tcpserver: end $deny status 25600$/m, "$name: deny logged, child exit 100");
  my ($drop) = $log =~ m{^tcpserver: pid (\d+) from 127.0.0.1\ntcpserver: warning: dropping connection, unable to read \Q$t\E/r\.cdb: file does not exist$}m;
  ok($drop && $log =~ /^tcpserver: end $drop status 28416$/m,
     "$name: missing rules: the reference's warning, exit 111");
  like($log, qr{^tcpserver: warning: dropping connection, unable to read \Q$t\E/r\.cdb: \S.*$}m,
       "$name: directory: a warning with a reason");
}

# -X forgives a missing file, not a broken one.
my $s = start_server(ours('tcpserver'), ['-v', '-X', '-x', "$t/none.cdb", qw(-HRl x 127.0.0.1 0 echo ran)]);
is(fetch($s->{port}), "ran\n", '-X: missing file allows');
stop_server($s);
open my $fh, '>', "$t/bad.cdb" or die;
close $fh;
$s = start_server(ours('tcpserver'), ['-v', '-X', '-x', "$t/bad.cdb", qw(-HRl x 127.0.0.1 0 echo ran)]);
is(fetch($s->{port}), '', '-X: an empty (unreadable) cdb still drops');
log_settled($s);
stop_server($s);
like(slurp($s->{log}), qr/dropping connection, unable to read \Q$t\E\/bad\.cdb: /, '-X: warning for the broken file');
# A connection made after the file changed is judged by the new file,
# even when the server takes it in the same wake-up as one made before
# the change: here the server is held in a log write (its stderr a full
# pipe) between the two.
{
  rules("127.0.0.1:allow,X=\"before\"\n");
  pipe(my $er, my $ew) or die "pipe: $!";
  fcntl($ew, 1031, 4096);   # F_SETPIPE_SZ: one page
  my ($pid, $port) = start_process([ours('tcpserver'), '-1', '-v', '-x', "$t/r.cdb", qw(-HRl x 127.0.0.1 0),
                                    'sh', '-c', 'echo X=$X'],
                                   code => sub { close $er; open STDERR, '>&', $ew or die });
  chomp $port;
  $er->blocking(0);
  my $seen = '';
  wait_until(5, sub { my $b; $seen .= $b if sysread($er, $b, 4096); $seen =~ m{status: 0/} });
  # Filled through a description of its own: the server's stays blocking.
  open my $fill, '>', '/proc/self/fd/' . fileno($ew) or die "reopen: $!";
  close $ew;
  $fill->blocking(0);
  1 while syswrite($fill, 'x' x 512);   # the pipe full: the next log line waits
  close $fill;
  my $first = IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => $port, Timeout => 5) or die;
  # Where the kernel names what a process waits in (wchan), the wait is
  # checked; where it never names one, it cannot be, and the test goes
  # on (the server is held all the same).
  my $named = 0;
  my $held = wait_until(5, sub {
    my $w = slurp("/proc/$pid/wchan") // '';
    $named ||= $w =~ /[a-z]/;
    return $w =~ /pipe/;
  });
  SKIP: {
    skip('/proc/PID/wchan names no wait here', 1) unless $held || $named;
    ok($held, 'held: the server waits in its log write');
  }
  rules("127.0.0.1:allow,X=\"after\"\n");
  my $second = IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => $port, Timeout => 5) or die;
  my $drain = background(sub { $er->blocking(1); 1 while sysread($er, my $b, 65536) });
  close $er;
  is(read_to_eof($first, 10), "X=before\n", 'held: the first connection, the old rules');
  is(read_to_eof($second, 10), "X=after\n", 'held: the second connection, made after the change, the new rules');
  stop_pid($pid);
  wait_pid($drain, 5);
}
done_testing();
