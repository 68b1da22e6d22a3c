#!/usr/bin/perl
# tcpcat, mconnect, http@ against a fake server; who@, date@, finger@
# and the others compared line by line with the reference's scripts.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use Test::More;

need_ours('tcpclient');
my $bin = ours();
my $dir = tmpdir();

open my $ch, '<', 'conf-home' or die "conf-home: $!";
my $home = <$ch>; chomp $home;
my @scripts = qw(tcpcat mconnect who@ date@ finger@ http@);

# The installed scripts call $home/bin/...; point copies at the build.
for my $s (@scripts) {
  my $text = slurp("$bin/$s");
  ok($text =~ m{\Q$home\E/bin/tcpclient}, "$s calls tcpclient under conf-home");
  $text =~ s{\Q$home\E/bin/}{$bin/}g;
  spew("$dir/$s", $text);
  chmod 0755, "$dir/$s";
  if (-x "/usr/bin/$s") {
    my $ours = slurp("$bin/$s");
    $ours =~ s{\Q$home\E/bin/}{/usr/bin/}g;
    my $theirs = slurp("/usr/bin/$s");
    s/^#.*\n//mg for $ours, $theirs;
    # Our one addition: --help and --version as the only argument.
    ok($ours =~ s/^case \$#:\$\{1-\} in\n(?:1:--(?:help|version)\) .*\n){2}esac\n//m,
       "$s: answers --help and --version first");
    ok($ours eq $theirs, "$s: the reference's commands, apart from paths and comments")
      or diag(show_text("ours:\n$ours\ntheirs:\n$theirs"));
  } else { SKIP: { skip("no reference $s", 1) } }
}

# A server that records what it gets and answers with canned bytes.
sub server {
  my ($answer, $read_request) = @_;
  my ($pid, $port) = fake_server(sub {
    my ($c) = @_;
    my $got = '';
    if ($read_request) {
      while (sysread($c, my $b, 1000)) { $got .= $b; last if $got =~ $read_request }
    }
    spew("$dir/request", $got);
    print $c $answer;
  }, once => 1, timeout => 20) or die "listener: $!";
  return ($port, $pid);
}

my ($P, $pid) = server("line one\r\nline two\r\n\0bin", undef);
my $out = `timeout 10 $dir/tcpcat 127.0.0.1 $P`;
ok($out eq "line one\r\nline two\r\n\0bin", 'tcpcat: what the server sends, unchanged');
waitpid($pid, 0);

($P, $pid) = server("220 hi\r\n250 ok\r\n", qr/QUIT\r\n/);
spew("$dir/in", "HELO x\nQUIT\n");
$out = `timeout 10 $dir/mconnect 127.0.0.1 $P < $dir/in`;
waitpid($pid, 0);
ok(slurp("$dir/request") eq "HELO x\r\nQUIT\r\n", 'mconnect: lines go out with CR LF');
ok($out eq "220 hi\r\n250 ok\r\n", 'mconnect: the replies come back unchanged');

($P, $pid) = server("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nbody one\r\n\r\nbody two\r\n", qr/\r\n\r\n/);
$out = `timeout 10 $dir/http\@ 127.0.0.1 some/path $P`;
waitpid($pid, 0);
ok(slurp("$dir/request") eq "GET /some/path HTTP/1.0\r\nHost: 127.0.0.1:$P\r\n\r\n", 'http@: the request');
ok($out eq "body one\nbody two\n", 'http@: the body without CRs, headers and empty lines dropped') or diag(show_text($out));

my $C = free_port();
$out = `timeout 10 $dir/tcpcat 127.0.0.1 $C 2>&1; echo rc=\$?`;
ok($out eq "tcpclient: unable to connect to 127.0.0.1 port $C: connection refused\nrc=111\n", 'tcpcat: refused');
done_testing();
