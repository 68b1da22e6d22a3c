#!/usr/bin/perl
# --help and --version: usage or version on stdout, exit 0, but only as
# the one argument, where 0.88 (in /usr/bin) fails; elsewhere "--help"
# still ends the options as in 0.88.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use Test::More;

my $bin = ours();
chomp(my $version = slurp("$FindBin::Bin/../VERSION"));

# (exit code, stdout, stderr); a program still running after 2 s (a
# server) is stopped and gives -1.
sub run {
  my $r = run_cmd([@_], timeout => 2);
  return ($r->{status}, $r->{out}, $r->{err});
}

for my $p (qw(tcpserver tcpclient rblsmtpd tcprules tcprulescheck recordio argv0 fixcrio)) {
  my ($code, $out, $err) = run("$bin/$p", '--help');
  is($code, 0, "$p --help: exit 0");
  like($out, qr/^usage: \Q$p\E\b.*\n\z/, "$p --help: the usage on stdout");
  is($err, '', "$p --help: nothing on stderr");
  ($code, $out, $err) = run("$bin/$p", '--version');
  is("$code $out$err", "0 $p $version\n", "$p --version: the version from VERSION");
  if (-x "/usr/bin/$p") {
    ($code) = run("/usr/bin/$p", '--help');
    isnt($code, 0, "$p --help: the reference fails, so nothing that worked changes");
  }
}

# Not alone: "--help" ends the options, 0.88's way.
my ($code, $out, $err) = run("$bin/tcpserver", '--help', '127.0.0.1', '0', 'true');
is("$code $out$err", "-1 ", "tcpserver --help 127.0.0.1 0 true runs a server (still running)");
($code, $out, $err) = run("$bin/tcprulescheck", '--help', 'x');
is("$code $err", "111 tcprulescheck: fatal: unable to read --help: file does not exist\n",
   "tcprulescheck --help x: --help is the file name, as in 0.88");
($code, $out, $err) = run("$bin/rblsmtpd", '--help', 'echo', 'hi');
is("$code $out", "0 hi\n", "rblsmtpd --help echo hi runs echo");

done_testing();
