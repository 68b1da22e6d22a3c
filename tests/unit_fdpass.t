#!/bin/sh
exec "${UCSPI_BIN:-build}/t/unit_fdpass"
