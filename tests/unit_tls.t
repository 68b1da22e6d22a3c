#!/usr/bin/perl
# The tls module's unit test, with certificates made here.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use Ucspi::Tls;

my $t = ours('t/unit_tls');
skip_all('unit_tls not built') unless -x $t;
need_openssl();
$ENV{PKI} = pki()->{dir};
exec $t or die "$t: $!";
