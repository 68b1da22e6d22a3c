#!/usr/bin/perl
# recordio: exact transcripts with deterministic programs, process
# structure, errors; and the same transcripts as the reference's.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use Test::More;

need_ours('recordio');
my $bin = ours();
my $dir = tmpdir();

# Run recordio (ours or the reference) on input with a program that
# records its pid, reads all its input, then writes `output` at once.
# Returns (transcript, stdout, exit code, pid).
sub record {
  my ($recordio, $input, $output, $code) = @_;
  spew("$dir/in", $input);
  spew("$dir/want", $output);
  unlink "$dir/pid";
  system("timeout 10 $recordio sh -c 'echo \$\$ > $dir/pid; cat > /dev/null; cat $dir/want; exit $code'"
    . " < $dir/in > $dir/out 2> $dir/err");
  my $rc = $? >> 8;
  # The relay may still be writing its last line after the program ended.
  wait_until(10, sub { slurp("$dir/err") =~ /> \[EOF\]\n\z/ });
  my $pid = slurp("$dir/pid"); chomp $pid;
  return (slurp("$dir/err"), slurp("$dir/out"), $rc, $pid);
}

# The expected transcript: packets of at most 256 bytes, split at LF.
sub transcript {
  my ($pid, $dirchar, $data) = @_;
  my $t = '';
  for (my $i = 0; $i < length $data; $i += 256) {
    my $packet = substr($data, $i, 256);
    while (length $packet) {
      if ($packet =~ s/\A([^\n]*)\n//) { $t .= "$pid $dirchar $1 \n" }
      else { $t .= "$pid $dirchar $packet+\n"; $packet = '' }
    }
  }
  return $t . "$pid $dirchar [EOF]\n";
}

my @cases = (
  ['empty both ways', '', ''],
  ['one line each', "hello\n", "world\n"],
  ['empty lines', "\n\n", "a\n\nb\n"],
  ['no final newline', "abc", "partial"],
  ['mixed', "one\ntwo", "x\ny\nz"],
  ['binary with CR and NUL', "a\r\n\0b\xff\n", "\r\r\n\0"],
  ['600 bytes: three packets', ('x' x 300) . "\n" . ('y' x 299), ('z' x 255) . "\n" . ('w' x 344)],
  ['newline at byte 256', ('q' x 255) . "\n" . "r\n", ('q' x 256) . "\nr"],
);
my $have_ref = -x '/usr/bin/recordio';
for my $c (@cases) {
  my ($name, $in, $out) = @$c;
  my ($t, $stdout, $rc, $pid) = record("$bin/recordio", $in, $out, 3);
  my $want = transcript($pid, '<', $in) . transcript($pid, '>', $out);
  ok($t eq $want, "transcript: $name") or diag(show_text("got:\n$t"), show_text("want:\n$want"));
  ok($stdout eq $out && $rc == 3, "data passes unchanged, program's exit code: $name");
  if ($have_ref) {
    my ($rt, $rstdout, $rrc, $rpid) = record('/usr/bin/recordio', $in, $out, 3);
    $rt =~ s/^\Q$rpid\E /PID /mg;
    $t =~ s/^\Q$pid\E /PID /mg;
    ok($t eq $rt && $rstdout eq $stdout && $rrc == $rc, "same as the reference: $name")
      or diag(show_text("ours:\n$t"), show_text("reference:\n$rt"));
  } else { SKIP: { skip('no reference recordio', 1) } }
}

# Every transcript line is one write(2): ask strace when there is one.
SKIP: {
  skip('no strace', 1) unless have_tool('strace');
  spew("$dir/in", "a\nb\nc");
  # -ff: a file per process, so that writes of two processes at the same
  # moment cannot show as "unfinished ... resumed" halves.
  system("strace -ff -e trace=write -o $dir/strace $bin/recordio cat < $dir/in > /dev/null 2> $dir/err");
  my @w = grep { /write\(2,/ } map { split /\n/, slurp($_) } glob("$dir/strace.*");
  my $lines = () = slurp("$dir/err") =~ /\n/g;
  ok($lines == 8 && @w == $lines && !grep({ !/\\n", \d+\) += \d+$/ } @w), "each transcript line is one write");
}

# recordio ends when the program's output ends, with stdin still open.
{
  pipe(my $r_in, my $w_in) or die;
  pipe(my $r_out, my $w_out) or die;
  my $pid = background(sub {
    close $w_in; close $r_out;
    open STDIN, '<&', $r_in; open STDOUT, '>&', $w_out; open STDERR, '>', "$dir/err";
    exec("$bin/recordio", 'sh', '-c', 'echo bye');
  });
  close $r_in; close $w_out;
  # Read to EOF: it must come within 10 s, although stdin stays open.
  my $got = read_to_eof($r_out, 10, \my $eof);
  ok($eof && $got eq "bye\n", "the relay ends with the program's output, stdin still open");
  close $w_in;
  stop_pid($pid);
}

# The relay stops and the program ends when stdin ends.
spew("$dir/in", "line\n");
# Read through a pipe to its end: the relay, a child of recordio, may
# still be writing when cat (recordio's own process) has exited.
{
  open my $p, '-|', "timeout 10 $bin/recordio cat < $dir/in 2> $dir/err" or die;
  my $got = do { local $/; <$p> } // '';
  close $p;
  ok(($? >> 8) == 0 && $got eq "line\n", 'cat sees the end of its input');
}

system("$bin/recordio > $dir/out 2> $dir/err");
ok(($? >> 8) == 100 && slurp("$dir/err") eq "recordio: usage: recordio program [ arg ... ]\n", 'usage');
system("timeout 10 $bin/recordio /nonexistent/prog < /dev/null > $dir/out 2> $dir/err");
my $rc = $? >> 8;
wait_until(10, sub { slurp("$dir/err") =~ /unable to run/ });
ok($rc == 111 && slurp("$dir/err") =~ /^recordio: fatal: unable to run \/nonexistent\/prog: file does not exist$/m,
   'unable to run: exit 111');
done_testing();
