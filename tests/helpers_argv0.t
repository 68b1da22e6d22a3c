#!/usr/bin/perl
# argv0 and mconnect-io, against expectations and the reference.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use Test::More;
use Fcntl qw(F_SETFD);
use POSIX ();

need_ours('argv0', 'mconnect-io');
my $dir = tmpdir();
my $argv0 = ours('argv0');

# argv0 REALNAME PROGRAM ARGS: REALNAME runs with argv[0] = PROGRAM.
my $r = run_cmd([$argv0, 'cat', 'fancy-name', '/proc/self/cmdline']);
is($r->{out} =~ tr/\0/ /r, 'fancy-name /proc/self/cmdline ', 'argv0 sets argv[0], keeps the arguments');
{
  local $ENV{PATH} = '/nonexistent:/bin:/usr/bin';
  is(run_cmd([$argv0, 'sh', 'x', '-c', 'echo found'])->{out}, "found\n", 'argv0 searches PATH');
}
sub rc_err { my $r = run_cmd([$argv0, @_]); return "$r->{status}:$r->{err}" }
is(rc_err('sh'), "100:argv0: usage: argv0 realname program [ arg ... ]\n", 'argv0 usage');
is(rc_err('/nonexistent/p', 'x'), "111:argv0: fatal: unable to run /nonexistent/p: file does not exist\n",
   'argv0: no such file');
spew("$dir/text", "not a program\n");
chmod 0755, "$dir/text";
is(rc_err("$dir/text", 'x'), "111:argv0: fatal: unable to run $dir/text: exec format error\n",
   'argv0: no sh fallback for a text file');
is(rc_err('--', 'sh'), "111:argv0: fatal: unable to run --: file does not exist\n", 'argv0 takes no options');
SKIP: {
  skip('no reference argv0', 5) unless have_ref('argv0');
  for my $args (['sh', 'name', '-c', 'echo $0'], ['/nonexistent', 'x'], ["$dir/text", 'x'], ['/tmp', 'x'], ['--', 'sh']) {
    my $o = run_cmd([$argv0, @$args]);
    my $x = run_cmd([ref_bin('argv0'), @$args]);
    is_deeply([@$o{qw(out err status)}], [@$x{qw(out err status)}], "argv0 @$args: same as the reference");
  }
}

# Run PROG with descriptors: stdin, stdout, stderr, 6 and 7 each a file
# name (or a handle for 6, read from); returns its exit code (-1: it did
# not end within 10 s).
sub with_fds {
  my ($prog, %fd) = @_;
  my $pid = background(sub {
    open STDIN, '<', $fd{0} // '/dev/null' or die;
    open STDOUT, '>', $fd{1} // '/dev/null' or die;
    open STDERR, '>', $fd{2} // '/dev/null' or die;
    my $in6 = ref $fd{6} ? $fd{6} : do { open my $h, '<', $fd{6} or die; $h };
    open my $out7, '>', $fd{7} or die;
    for ([$in6, 6], [$out7, 7]) {
      my ($h, $n) = @$_;
      if (fileno($h) == $n) { fcntl($h, F_SETFD, 0) } else { POSIX::dup2(fileno($h), $n) }
    }
    exec $prog;
  });
  close $fd{6} if ref $fd{6};
  my $st = wait_pid($pid, 10);
  if (!defined $st) { stop_pid($pid, 'KILL'); return -1 }
  return $st >> 8;
}

# mconnect-io: fd 6 to stdout unchanged; stdin to fd 7 with addcr's CR.
# The network side (fd 6) sends its line and ends only once all of stdin
# has reached fd 7.
my $to_net = "in1\r\nin2\r\r\nz";
sub run_mconnect {
  my ($prog) = @_;
  spew("$dir/stdin", "in1\nin2\r\nz");
  unlink "$dir/to-net";
  pipe(my $net_r, my $net_w) or die;
  my $feeder = background(sub {
    close $net_r;
    wait_until(10, sub { slurp("$dir/to-net") eq $to_net });
    syswrite($net_w, "late\n");
  });
  close $net_w;
  my $rc = with_fds($prog, 0 => "$dir/stdin", 1 => "$dir/from-net", 6 => $net_r, 7 => "$dir/to-net");
  stop_pid($feeder);
  return $rc;
}
my $mio = ours('mconnect-io');
is_deeply([run_mconnect($mio), slurp("$dir/to-net")], [0, $to_net], 'mconnect-io: stdin to fd 7 with a CR before each LF');
is(slurp("$dir/from-net"), "late\n", 'mconnect-io: fd 6 to stdout');
spew("$dir/net", "net1\r\nnet2\nx\r");
my $rc = with_fds($mio, 1 => "$dir/from-net", 6 => "$dir/net", 7 => '/dev/null');
is_deeply([$rc, slurp("$dir/from-net")], [0, slurp("$dir/net")], 'mconnect-io: the network side passes unchanged');
$rc = with_fds($mio, 0 => "$dir/net", 1 => '/dev/full', 2 => "$dir/err", 6 => '/', 7 => '/dev/full');
is("$rc:" . slurp("$dir/err"), '0:', 'mconnect-io: errors ignored, exit 0, as the reference');
SKIP: {
  skip('no reference mconnect-io', 1) unless have_ref('mconnect-io');
  is_deeply([run_mconnect(ref_bin('mconnect-io')), slurp("$dir/to-net")], [0, $to_net], 'reference mconnect-io agrees');
}
done_testing();
