#!/usr/bin/perl
# --help and --version: usage or version on stdout, exit 0, but only as
# the one argument, where 0.88 (in /usr/bin) fails or, for the filters
# that take no arguments at all, ignores it; elsewhere "--help" still
# ends the options as in 0.88.  Every program found in the build
# directory is asked, so a new program that does not answer fails here.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use Test::More;

need_ours('tcpserver');
my $bin = ours();
chomp(my $version = slurp("$FindBin::Bin/../VERSION"));
my $dir = tmpdir();

# (exit code, stdout, stderr); a program still running after 2 s (a
# server) is stopped and gives -1.
sub run {
  my $r = run_cmd([@_], timeout => 2);
  return ($r->{status}, $r->{out}, $r->{err});
}

# The programs: every executable file of the build directory.
opendir my $dh, $bin or die "$bin: $!";
my @progs = sort grep { -f "$bin/$_" && -x _ } readdir $dh;
closedir $dh;
ok(@progs >= 17, 'the build holds the suite (' . scalar(@progs) . ' programs)');

# The scripts call tcpclient under conf-home: copies calling a fake one
# that leaves a mark show that an answer needs no tcpclient.
open my $ch, '<', "$FindBin::Bin/../conf-home" or die "conf-home: $!";
chomp(my $home = <$ch>);
mkdir "$dir/bin";
spew("$dir/bin/tcpclient", "#!/bin/sh\ntouch $dir/ran\nexit 111\n");
chmod 0755, "$dir/bin/tcpclient";
sub runnable {
  my ($p) = @_;
  my $text = slurp("$bin/$p");
  return "$bin/$p" unless $text =~ /^#!/;
  $text =~ s{\Q$home\E/bin/}{$dir/bin/}g;
  spew("$dir/$p", $text);
  chmod 0755, "$dir/$p";
  return "$dir/$p";
}

for my $p (@progs) {
  my $path = runnable($p);
  unlink "$dir/ran";
  my ($code, $out, $err) = run($path, '--help');
  is($code, 0, "$p --help: exit 0");
  like($out, qr/^usage: \Q$p\E(?: .*)?\n\z/, "$p --help: the usage on stdout");
  is($err, '', "$p --help: nothing on stderr");
  ($code, $out, $err) = run($path, '--version');
  is("$code $out$err", "0 $p $version\n", "$p --version: the version from VERSION");
  ok(!-e "$dir/ran", "$p: answered without running tcpclient");
  my $page = slurp("$FindBin::Bin/../man/$p.1");
  ok($page =~ /\\-\\-help/ && $page =~ /\\-\\-version/, "man/$p.1 tells of --help and --version");
  ($code, $out, $err) = run('sh', '-c', 'exec "$0" --version >/dev/full', $path);
  is("$code $err", "111 ", "$p --version >/dev/full: 111, silently");
  if (-x "/usr/bin/$p" && $p !~ /^(?:addcr|delcr|mconnect-io)$/) {
    # The scripts ending in a pipe exit 0 with tcpclient's error.
    ($code, $out, $err) = run("/usr/bin/$p", '--help');
    ok($code != 0 || $err =~ /^tcpclient: /,
       "$p --help: the reference fails, so nothing that worked changes") or diag("$code $err");
  }
}

# The programs with options beyond 0.88's list them all in --help.
for my $t (['tcpclient', qr/-46hHrRdDqQv\b.*-I ifname/], ['rblsmtpd', qr/-bBcC\b.*-T seconds/]) {
  my ($p, $re) = @$t;
  my ($code, $out) = run("$bin/$p", '--help');
  like($out, $re, "$p --help: every option, the extensions too");
}

# Not alone: "--help" ends the options, 0.88's way.
my ($code, $out, $err) = run("$bin/tcpserver", '--help', '127.0.0.1', '0', 'true');
is("$code $out$err", "-1 ", "tcpserver --help 127.0.0.1 0 true runs a server (still running)");
($code, $out, $err) = run("$bin/tcprulescheck", '--help', 'x');
is("$code $err", "111 tcprulescheck: fatal: unable to read --help: file does not exist\n",
   "tcprulescheck --help x: --help is the file name, as in 0.88");
($code, $out, $err) = run("$bin/rblsmtpd", '--help', 'echo', 'hi');
is("$code $out", "0 hi\n", "rblsmtpd --help echo hi runs echo");

# The filters take no arguments: 0.88 ignores them, and so do they
# when --help or --version is not the only one.
for my $p (qw(addcr delcr)) {
  my $r = run_cmd(["$bin/$p", '--help', 'x'], in => "a\n", timeout => 2);
  is("$r->{status} " . show($r->{out}), $p eq 'addcr' ? "0 a\\x0d\\x0a" : "0 a\\x0a",
     "$p --help x: filters its input as 0.88 does");
  next unless -x "/usr/bin/$p";
  my $ref = run_cmd(["/usr/bin/$p", '--help'], in => "a\n", timeout => 2);
  is($ref->{status}, 0, "$p --help: the reference ignores it (the documented difference)");
}
my $r = run_cmd(["$dir/" . 'tcpcat', '--help', '0'], timeout => 2);
ok(-e "$dir/ran", 'tcpcat --help 0: not alone, it is a host name for tcpclient, as in 0.88');

done_testing();
