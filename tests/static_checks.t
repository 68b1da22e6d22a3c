#!/usr/bin/perl
# Static checks of the C sources, each tool on every file of src/:
# cppcheck (warning, style, performance, portability), gcc -fanalyzer,
# clang-tidy's misc-no-recursion.  Each must report nothing.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use Test::More;

skip_all('the sanitizer run: the same sources were checked in the plain run') if $ENV{UCSPI_SANITIZED};
my $top = "$FindBin::Bin/..";
chdir $top or die "$top: $!";
my @files = sort(glob('src/*.c'), glob('src/lib/*.c'), glob('src/*/*.c'));
ok(@files > 30, 'the sources found (' . scalar(@files) . ' files)');
my @flags = qw(-std=c11 -D_GNU_SOURCE -Isrc/lib -Isrc/tcpserver -DVERSION="x");

# The findings in a tool's output: lines "src/...:line:...: warning|...".
sub judge {
  my ($tool, $out) = @_;
  my @found = grep { m{^(?:\./)?src/\S+?:\d+:(?:\d+:)? (?:warning|error|style|performance|portability)} }
              split /\n/, $out;
  is(scalar(@found), 0, "$tool: nothing found") or diag(join("\n", @found));
}

SKIP: {
  skip('cppcheck is missing', 1) unless have_tool('cppcheck');
  my $r = run_cmd(['cppcheck', '--enable=warning,style,performance,portability', '--quiet',
                   '--template={file}:{line}:{column}: {severity}: {message} [{id}]', '-I', 'src/lib', 'src'],
                  timeout => 300);
  judge('cppcheck', $r->{err} . $r->{out});
}

SKIP: {
  skip('gcc is missing', 1) unless have_tool('gcc');
  my $out = '';
  for my $f (@files) {
    my $r = run_cmd(['gcc', @flags, '-O2', '-fanalyzer', '-c', '-o', '/dev/null', $f], timeout => 120);
    $out .= $r->{err};
  }
  judge('gcc -fanalyzer', $out);
}

SKIP: {
  skip('clang-tidy is missing', 1) unless have_tool('clang-tidy');
  my $out = '';
  for my $f (@files) {
    my $r = run_cmd(['clang-tidy', '--quiet', '-checks=-*,misc-no-recursion', $f, '--', @flags], timeout => 120);
    $out .= $r->{out};
  }
  $out =~ s{^\Q$ENV{PWD}\E/}{}mg if $ENV{PWD};
  $out =~ s{^/\S*?/(src/)}{$1}mg;
  judge('clang-tidy misc-no-recursion', $out);
}
done_testing();
