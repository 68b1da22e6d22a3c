#!/usr/bin/perl
# addcr, delcr and fixcrio on crafted inputs: against a model of the
# translation, and byte for byte against the reference when installed.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use Test::More;

need_ours('addcr', 'delcr', 'fixcrio');
my $bin = ours();
my $dir = tmpdir();

# Run "cmd < input", return (stdout, exit code).  Output goes through a
# pipe read to its end: fixcrio's relay may still be writing after the
# program (the process the shell waits for) has exited.
sub run {
  my ($cmd, $input) = @_;
  spew("$dir/in", $input);
  unlink "$dir/rc";
  system("(timeout 10 $cmd < $dir/in 2>$dir/err; echo \$? > $dir/rc) | cat > $dir/out");
  my $rc = slurp("$dir/rc");
  chomp $rc;
  return (slurp("$dir/out"), $rc eq '' ? -1 : $rc);
}


my $chunk = 8192;
my %bigs = (
  'CR LF split over a read boundary' => ('a' x ($chunk - 1)) . "\r\n" . "b\n",
  'CR at a read boundary, no LF' => ('a' x ($chunk - 1)) . "\rc",
  'CR at the very end of a full read' => ('a' x ($chunk - 1)) . "\r",
);
my @inputs = ('', "\n", "\r", "\r\n", "\n\r", "hello\n", "partial", "a\r\nb\nc\r\r\nd\re\r",
  "\r\r\r\n\r", "x\n\r\n\r", "\n\n\r\r\n\n", "no newline at all\r", "\0\r\0\n\xff\r\n",
  (map { $bigs{$_} } sort keys %bigs));
srand(4711);
push @inputs, join('', map { chr(int(rand(256))) } 1 .. 30000);
push @inputs, join('', map { ("\r", "\n", "x")[int(rand(3))] } 1 .. 20000);

my %model = (
  addcr => sub { my $s = shift; $s =~ s/\n/\r\n/g; $s },
  delcr => sub { my $s = shift; $s =~ s/\r\n/\n/g; $s },
  fixcrio => sub { my $s = shift; $s =~ s/(?<!\r)\n/\r\n/g; $s },
);
my $have_ref = -x '/usr/bin/addcr' && -x '/usr/bin/fixcrio';

for my $in (@inputs) {
  my $what = show($in, 60) . ' (' . length($in) . ' bytes)';
  for my $p (qw(addcr delcr)) {
    my ($out, $rc) = run("$bin/$p", $in);
    ok($out eq $model{$p}->($in) && $rc == 0, "$p on $what");
    if ($have_ref) {
      my ($ref, $rrc) = run("/usr/bin/$p", $in);
      ok($out eq $ref && $rc == $rrc, "$p same as the reference on $what");
    } else { SKIP: { skip('no reference', 1) } }
  }
  # fixcrio's input direction: the program stores what it reads.
  my ($out, $rc) = run("$bin/fixcrio sh -c 'cat > $dir/got'", $in);
  my $got = slurp("$dir/got");
  ok($got eq $model{fixcrio}->($in) && $out eq '' && $rc == 0, "fixcrio input side on $what");
  # Output direction: the program writes the bytes itself.
  spew("$dir/data", $in);
  ($out, $rc) = run("$bin/fixcrio cat $dir/data", '');
  ok($out eq $model{fixcrio}->($in), "fixcrio output side on $what");
  if ($have_ref) {
    my ($ref) = run("/usr/bin/fixcrio cat", $in);
    ($out) = run("$bin/fixcrio cat", $in);
    ok($out eq $ref, "fixcrio both sides same as the reference on $what");
  } else { SKIP: { skip('no reference', 1) } }
}

# A CR at the end of one packet counts for the LF starting the next.
my ($out) = run("sh -c '(printf \"a\\r\"; sleep 0.3; printf \"\\nb\\n\") | $bin/fixcrio cat'", '');
ok($out eq "a\r\nb\r\n", 'fixcrio remembers a CR across packets');
($out) = run("sh -c '(printf \"a\\r\"; sleep 0.3; printf \"\\nb\\r\") | $bin/delcr'", '');
ok($out eq "a\nb\r", 'delcr holds a CR across reads and keeps a final one');

# Errors: exit 111 without a message, as the reference.
for my $p (qw(addcr delcr)) {
  system("$bin/$p < / > /dev/null 2>$dir/err");
  ok(($? >> 8) == 111 && slurp("$dir/err") eq '', "$p: read error exits 111 silently");
  system("echo x | $bin/$p > /dev/full 2>$dir/err");
  ok(($? >> 8) == 111 && slurp("$dir/err") eq '', "$p: write error exits 111 silently");
}
system("$bin/fixcrio > $dir/out 2>$dir/err");
ok(($? >> 8) == 100 && slurp("$dir/err") eq "fixcrio: usage: fixcrio program [ arg ... ]\n", 'fixcrio usage');
system("$bin/fixcrio /nonexistent/x < /dev/null > $dir/out 2>$dir/err");
ok(($? >> 8) == 111 && slurp("$dir/err") eq "fixcrio: fatal: unable to run /nonexistent/x: file does not exist\n", 'fixcrio: unable to run');
($out, my $rc) = run("$bin/fixcrio sh -c 'cat; exit 7'", "hi\n");
ok($rc == 7 && $out eq "hi\r\n", "fixcrio: the program's exit code");
done_testing();
