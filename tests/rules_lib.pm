# Helpers of tests/rules_*.t: a tiny TAP counter and byte-exact file
# reading and writing.
package rules_lib;
use strict;
use warnings;
use Exporter 'import';
our @EXPORT = qw(ok is slurp spew show done);

my ($n, $failed) = (0, 0);

sub ok {
  my ($cond, $name) = @_;
  $n++;
  $failed++ unless $cond;
  print(($cond ? '' : 'not '), "ok $n - $name\n");
  return $cond;
}

sub is {
  my ($got, $want, $name) = @_;
  ok($got eq $want, $name) or print "# got:      '$got'\n# expected: '$want'\n";
}

sub slurp { my $f = shift; open my $h, '<:raw', $f or return undef; local $/; my $s = <$h>; $s }
sub spew { my ($f, $s) = @_; open my $h, '>:raw', $f or die "$f: $!"; print $h $s; close $h }

# Bytes as printable text, for test names and diagnostics.
sub show {
  my ($s, $max) = @_;
  $s =~ s/([^\x20-\x7e])/sprintf('\\x%02x', ord $1)/ge;
  return defined $max && length $s > $max ? substr($s, 0, $max) . '...' : $s;
}

# The plan, and the exit status prove expects.
sub done { print "1..$n\n"; exit($failed ? 1 : 0) }
1;
