#!/usr/bin/env bash
# The desktop entry and the AppStream metainfo pass their validators
# (desktop-file-utils, appstream), when installed. TAP.
res=$1
echo "1..2"
if command -v desktop-file-validate >/dev/null; then
  if out=$(desktop-file-validate "$res/org.xceptionstudio.XceptionStudio.desktop" 2>&1) && \
     ! echo "$out" | grep -q 'error'; then echo "ok 1 desktop-file-validate"
  else echo "not ok 1 desktop-file-validate"; echo "$out" | sed 's/^/# /'; fi
else echo "ok 1 # SKIP desktop-file-utils is not installed"; fi
if command -v appstreamcli >/dev/null; then
  if out=$(appstreamcli validate --pedantic --no-net \
             "$res/org.xceptionstudio.XceptionStudio.metainfo.xml" 2>&1); then
    echo "ok 2 appstreamcli validate --pedantic"
  else echo "not ok 2 appstreamcli validate --pedantic"; echo "$out" | sed 's/^/# /'; fi
else echo "ok 2 # SKIP appstream is not installed"; fi
