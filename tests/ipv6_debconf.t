#!/usr/bin/perl
# The Debian package says once, at installation, to whoever replaces
# ucspi-tcp-ipv6 that host 0 of tcpserver is IPv4 only here: debian/config
# shows the debconf note of debian/templates when ucspi-tcp-ipv6 is still
# installed (apt preconfigures before it removes anything), never again
# once seen, and never to anyone else.  Run with debconf's own frontend
# on private databases (a stand-in dpkg-query answers for
# ucspi-tcp-ipv6); the machine's debconf database is not touched.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use Test::More;

my $frontend = '/usr/share/debconf/frontend';
skip_all('no debconf') unless -x $frontend;
my $dir = tmpdir();
my $src = "$FindBin::Bin/..";
spew("$dir/debconf.conf", <<"EOF");
Config: configdb
Templates: templatedb

Name: configdb
Driver: File
Filename: $dir/config.dat

Name: templatedb
Driver: File
Mode: 644
Filename: $dir/templates.dat
EOF
# The templates as po2debconf installs them when untranslated.
(my $templates = slurp("$src/debian/templates")) =~ s/^_Description:/Description:/mg;
spew("$dir/ucspi-tcp-modern.templates", $templates);
spew("$dir/ucspi-tcp-modern.config", slurp("$src/debian/config"));
chmod 0755, "$dir/ucspi-tcp-modern.config";
for my $state ('installed', 'absent') {
  mkdir "$dir/$state";
  spew("$dir/$state/dpkg-query", $state eq 'installed'
    ? "#!/bin/sh\necho 'install ok installed'\n" : "#!/bin/sh\nexit 1\n");
  chmod 0755, "$dir/$state/dpkg-query";
}

# The config script under the teletype frontend: what it shows.
sub configure {
  my ($state) = @_;
  my $r = run_cmd([$frontend, "$dir/ucspi-tcp-modern.config", 'configure'], in => "\n",
    env => { PATH => "$dir/$state:/usr/sbin:/usr/bin:/sbin:/bin", DEBIAN_FRONTEND => 'teletype',
             DEBCONF_SYSTEMRC => "$dir/debconf.conf", DEBCONF_NOWARNINGS => 'yes' });
  is($r->{status}, 0, "config exits 0 (ucspi-tcp-ipv6 $state)") or diag($r->{err});
  return $r->{out} . $r->{err};
}

like(configure('installed'), qr/Host 0 of tcpserver means IPv4 only.*UCSPI_TCP_IPV6=1/s,
  'replacing ucspi-tcp-ipv6: the note, with the variable that keeps its meaning');
unlike(configure('installed'), qr/Host 0/, 'once: not shown again');
unlink "$dir/config.dat";
unlike(configure('absent'), qr/Host 0/, 'not replacing ucspi-tcp-ipv6: no note');
ok(!-e "$src/debian/postinst" && slurp("$src/debian/rules") =~ /dh_installdebconf -n/,
  'no maintainer script: the note is for preconfiguration alone');
done_testing();
