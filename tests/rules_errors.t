#!/usr/bin/perl
# tcprules' failures: every bad line exits 100 with 0.88's message and
# leaves the previous cdb byte for byte; write, create, read and rename
# errors exit 111 with the system's reason and the old cdb intact.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use Test::More;

my $bin = ours();
my $dir = tmpdir();

# Run tcprules on input with the given cdb and tmp; returns (exit, stderr).
sub run {
  my ($input, $cdb, $tmp, $stdin) = @_;
  spew("$dir/in", $input) if defined $input;
  $stdin //= "$dir/in";
  my $rc = system("timeout 10 $bin/tcprules '$cdb' '$tmp' < '$stdin' 2> $dir/err") >> 8;
  return ($rc, slurp("$dir/err"));
}

my $cdb = "$dir/rules.cdb";
my ($rc, $err) = run("1.2.3.4:allow\n=good:deny\n", $cdb, "$dir/rules.tmp");
ok($rc == 0 && -s $cdb, 'a good cdb to start from');
my $good = slurp($cdb);

# Each bad line, alone and after good lines: exit 100, the message names
# the line (trailing white space stripped, cut at a NUL), cdb unchanged.
my @bad = (
  ['1:bad', '1:bad'], ["1:bad \t", '1:bad'], ["1:allow\r", "1:allow\r"],
  ['1:allowed', '1:allowed'], ['1:Allow', '1:Allow'], ['1:deny ,x=/y/', '1:deny ,x=/y/'],
  ['1:allow,', '1:allow,'], ['1:allow,=x=', '1:allow,=x='], ['1:allow,a', '1:allow,a'],
  ['1:allow,a=', '1:allow,a='], ['1:allow,a=/x', '1:allow,a=/x'], ['1-2-3:allow', '1-2-3:allow'],
  ['1.2.3.a-5:allow', '1.2.3.a-5:allow'], ["a\0b:allowx", 'a'], ['x:y:allow', 'x:y:allow'],
  # the extensions' bad forms
  ['10.0.0.0/33:deny', '10.0.0.0/33:deny'], ['::/129:deny', '::/129:deny'],
  ['10.0.0.0/8x:deny', '10.0.0.0/8x:deny'], ['10.0.0.0/:deny', '10.0.0.0/:deny'],
  ['10.0.0/8:deny', '10.0.0/8:deny'], [':::1:deny', ':::1:deny'], ['1:::2:deny', '1:::2:deny'],
  ['2001:db8::g:deny', '2001:db8::g:deny'], ['12345::1:allow', '12345::1:allow'],
  ['[::1]:allow', '[::1]:allow'], ['fe80::1%lo:allow', 'fe80::1%lo:allow'],
  ['=a:b:deny', '=a:b:deny'], ['a:b@1.2.3.4:deny', 'a:b@1.2.3.4:deny'],
  ['joe@10.0.0.0/8:deny', 'joe@10.0.0.0/8:deny'],
);
for my $case (@bad) {
  my ($line, $shown) = @$case;
  for my $input ("$line\n", "5.6.7.8:allow\n$line\n9.9.9.9:deny\n") {
    unlink "$dir/rules.tmp";
    ($rc, $err) = run($input, $cdb, "$dir/rules.tmp");
    my $name = show($input);
    ok($rc == 100, "exit 100: $name");
    ok($err eq "tcprules: fatal: unable to parse this line: $shown\n", "message: $name")
      or diag('got: ' . show($err));
    ok(slurp($cdb) eq $good, "old cdb intact: $name");
  }
}

# A directory as tmp: create fails.
mkdir "$dir/adir";
($rc, $err) = run("1:allow\n", $cdb, "$dir/adir");
ok($rc == 111 && $err eq "tcprules: fatal: unable to create $dir/adir: is a directory\n",
   'tmp is a directory: 111, is a directory') or diag("$rc " . show($err));
ok(slurp($cdb) eq $good, 'old cdb intact after a create error');

# An unwritable tmp in a directory we may not write (skipped as root).
SKIP: {
  mkdir "$dir/ro";
  chmod 0555, "$dir/ro";
  if (open my $h, '>', "$dir/ro/probe") { close $h; unlink "$dir/ro/probe";
    skip('running as root: read-only directories are writable', 2) }
  ($rc, $err) = run("1:allow\n", $cdb, "$dir/ro/rules.tmp");
  ok($rc == 111 && $err eq "tcprules: fatal: unable to create $dir/ro/rules.tmp: access denied\n",
     'unwritable tmp: 111, access denied') or diag("$rc " . show($err));
  ok(slurp($cdb) eq $good, 'old cdb intact after access denied');
}

# /dev/full as tmp: the write fails.
SKIP: {
  skip('no /dev/full', 2) unless -w '/dev/full';
  ($rc, $err) = run("1:allow\n", $cdb, '/dev/full');
  ok($rc == 111 && $err eq "tcprules: fatal: unable to write to /dev/full: out of disk space\n",
     '/dev/full: 111, out of disk space') or diag("$rc " . show($err));
  ok(slurp($cdb) eq $good, 'old cdb intact after a write error');
}

# The target cannot be renamed over: a non-empty directory, a missing dir.
mkdir "$dir/target";
spew("$dir/target/x", 'x');
($rc, $err) = run("1:allow\n", "$dir/target", "$dir/rules.tmp");
ok($rc == 111 && $err eq "tcprules: fatal: unable to move $dir/rules.tmp to $dir/target: is a directory\n",
   'rename over a directory: 111') or diag("$rc " . show($err));
ok(-f "$dir/target/x", 'the directory is untouched');
($rc, $err) = run("1:allow\n", "$dir/nodir/rules.cdb", "$dir/rules.tmp");
ok($rc == 111 && $err eq "tcprules: fatal: unable to move $dir/rules.tmp to $dir/nodir/rules.cdb: file does not exist\n",
   'rename into a missing directory: 111, file does not exist') or diag("$rc " . show($err));

# Unreadable input: a directory on stdin.
($rc, $err) = run(undef, $cdb, "$dir/rules.tmp", $dir);
ok($rc == 111 && $err eq "tcprules: fatal: unable to read input: is a directory\n",
   'unreadable input: 111') or diag("$rc " . show($err));
ok(slurp($cdb) eq $good, 'old cdb intact after a read error');

# Success: fsync then rename; the tmp file is gone, mode 0644 less umask.
($rc, $err) = run("1:allow\n", $cdb, "$dir/rules.tmp");
ok($rc == 0 && $err eq '' && !-e "$dir/rules.tmp" && slurp($cdb) ne $good, 'success replaces the cdb, no tmp left');
my $strace = `sh -c 'command -v strace'`;
SKIP: {
  skip('no strace', 1) unless $strace;
  spew("$dir/in", "1:allow\n");
  my $trace = `strace -e trace=fsync,close,rename $bin/tcprules $cdb $dir/rules.tmp < $dir/in 2>&1`;
  ok($trace =~ /fsync\((\d+)\).*\nclose\(\1\).*\nrename\(/, 'fsync, close, then rename') or diag($trace);
}
done_testing();
