#!/usr/bin/perl
# tcprules under faults: a full disk (/dev/full, and a tiny tmpfs when we
# may mount one), a read error, a malformed last line, a kill in the
# middle, an enormous line.  Each time the exit code and message are the
# reference's and the old cdb stays exactly as it was: never a partial cdb.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use Test::More;
use File::Copy qw(copy);

need_ours('tcprules', 'tcprulescheck');
my $dir = tmpdir();
my $tcprules = ours('tcprules');
my $cdb = "$dir/rules.cdb";

# Run tcprules CDB TMP with INPUT (a string, or a file name in \$name).
sub tcprules {
  my ($cdbf, $tmp, $input) = @_;
  my $in = ref $input ? $$input : do {
    open my $fh, '>', "$dir/input" or die;
    print $fh $input;
    close $fh;
    "$dir/input";
  };
  my $err = `timeout 60 $tcprules '$cdbf' '$tmp' < '$in' 2>&1 >/dev/null`;
  return ($? >> 8, $err);
}
# The bytes a process has read so far (its rchar in /proc).
sub read_chars { slurp("/proc/$_[0]/io") =~ /^rchar: (\d+)$/m ? $1 : -1 }
sub same_file { my ($x, $y) = @_; return system('cmp', '-s', $x, $y) == 0 }
sub lookup {
  my ($cdbf, $ip) = @_;
  local $ENV{TCPREMOTEIP} = $ip;
  delete local $ENV{TCPREMOTEHOST};
  delete local $ENV{TCPREMOTEINFO};
  return scalar `timeout 20 @{[ours('tcprulescheck')]} '$cdbf'`;
}

# The old cdb every case must leave alone.
my ($rc, $err) = tcprules($cdb, "$dir/rules.tmp", "1.2.3.4:allow,OLD=\"yes\"\n");
is($rc, 0, 'old cdb made');
copy($cdb, "$dir/saved") or die;

my $big = join '', map { "10.$_.0.1:allow,X=\"value$_\"\n" } 1 .. 200000;

symlink('/dev/full', "$dir/full") or die;
for my $case (['a small input', "5.6.7.8:deny\n"], ['a large input', $big]) {
  ($rc, $err) = tcprules($cdb, "$dir/full", $case->[1]);
  is($rc, 111, "/dev/full, $case->[0]: exit 111");
  is($err, "tcprules: fatal: unable to write to $dir/full: out of disk space\n", '... with the reference\'s message');
  ok(same_file($cdb, "$dir/saved"), '... and the old cdb intact');
}
ok(-l "$dir/full", 'the tmp name was not renamed over the cdb');

($rc, $err) = tcprules($cdb, "$dir/rules.tmp", \'/');
is($rc, 111, 'input not readable (a directory): exit 111');
is($err, "tcprules: fatal: unable to read input: is a directory\n", '... with the reference\'s message');
ok(same_file($cdb, "$dir/saved"), '... and the old cdb intact');

($rc, $err) = tcprules($cdb, "$dir/nodir/rules.tmp", "5.6.7.8:deny\n");
is($rc, 111, 'tmp in a missing directory: exit 111');
is($err, "tcprules: fatal: unable to create $dir/nodir/rules.tmp: file does not exist\n", '... with the reference\'s message');
ok(same_file($cdb, "$dir/saved"), '... and the old cdb intact');

($rc, $err) = tcprules($cdb, "$dir/rules.tmp", $big . "10.0.0.1:allowed\n");
is($rc, 100, 'malformed last line after 200,000 good ones: exit 100');
is($err, "tcprules: fatal: unable to parse this line: 10.0.0.1:allowed\n", '... with the reference\'s message');
ok(same_file($cdb, "$dir/saved"), '... and the old cdb intact');

# Killed in the middle of its input: the old cdb must stay.
{
  pipe(my $r, my $w) or die;
  my $pid = background(sub {
    close $w;
    open STDIN, '<&', $r;
    exec $tcprules, $cdb, "$dir/rules.tmp";
  });
  close $r;
  local $SIG{PIPE} = 'IGNORE';
  my $half = substr($big, 0, length($big) / 2);
  for (my $off = 0; $off < length $half; ) {
    my $n = syswrite($w, $half, 65536, $off) or last;
    $off += $n;
  }
  # Killed once it has read all that was sent, waiting for more.
  ok(wait_until(10, sub { read_chars($pid) >= length $half }), 'tcprules read half of its input');
  kill 'KILL', $pid;
  waitpid($pid, 0);
  close $w;
  is($? & 127, 9, 'tcprules killed in the middle of its input');
  ok(same_file($cdb, "$dir/saved"), '... and the old cdb intact');
}

# An enormous line (a 20 MB value): either a complete new cdb or the old one.
my $huge = '1.2.3.4:allow,X="' . ('a' x 20_000_000) . "\"\n";
($rc, $err) = tcprules($cdb, "$dir/rules.tmp", $huge);
if ($rc == 0) {
  my $out = lookup($cdb, '1.2.3.4');
  is(length($out), length("rule 1.2.3.4:\nset environment variable X=\nallow connection\n") + 20_000_000,
    'an enormous line: a complete new cdb with the whole value');
} else {
  ok(same_file($cdb, "$dir/saved"), "an enormous line refused (exit $rc): the old cdb intact");
}

# A real full file system, when this test may mount a tiny tmpfs.
SKIP: {
  my $mnt = "$dir/mnt";
  mkdir $mnt;
  skip 'cannot mount a tmpfs here (needs root)', 3
    unless $> == 0 && system("mount -t tmpfs -o size=256k tmpfs '$mnt' 2>/dev/null") == 0;
  my ($rc0) = tcprules("$mnt/rules.cdb", "$mnt/rules.tmp", "1.2.3.4:allow\n");
  copy("$mnt/rules.cdb", "$dir/saved2");
  ($rc, $err) = tcprules("$mnt/rules.cdb", "$mnt/rules.tmp", $big);
  is($rc, 111, 'full tmpfs: exit 111');
  is($err, "tcprules: fatal: unable to write to $mnt/rules.tmp: out of disk space\n", '... with the reference\'s message');
  ok($rc0 == 0 && same_file("$mnt/rules.cdb", "$dir/saved2"), '... and the old cdb intact');
  system('umount', $mnt);
}
done_testing();
