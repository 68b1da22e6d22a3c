#!/usr/bin/perl
# Replays every fuzz corpus input and every crash regression
# (fuzz/regress/NAME/) through the fuzz targets built as plain programs
# ($UCSPI_BIN/t/fuzz_NAME); under make asan they run with the sanitizers.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use Test::More;
use File::Basename qw(basename);
use File::Find qw(find);

for my $src (sort glob('fuzz/*.c')) {
  my $name = basename($src, '.c');
  next if $name eq 'replay';
  SKIP: {
    my $target = ours("t/fuzz_$name");
    skip("fuzz_$name not built (its library sources are not written yet)", 1) unless -x $target;
    my @files;
    find({ wanted => sub { push @files, $File::Find::name if -f }, no_chdir => 1 },
         grep { -d } "fuzz/corpus/$name", "fuzz/regress/$name");
    my $count = @files;
    if (!$count) { fail("$name: no corpus in fuzz/corpus/$name"); next }
    # xargs runs the target on many files at once; a crash fails it.
    my $r = run_cmd(['xargs', '-0', $target], in => join('', map { "$_\0" } @files), timeout => 120);
    is($r->{status}, 0, "$name replays its $count corpus and regression inputs") or diag($r->{err});
  }
}
done_testing();
