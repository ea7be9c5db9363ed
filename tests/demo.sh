#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make demo: a VNC session between two NATed lab hosts through stuntd.
# stuntd and stuntctl do not exist yet; say so plainly instead of pretending.
echo "make demo: the end-to-end VNC demo needs stuntd and stuntctl, which are not built yet." >&2
echo "What exists today: make check (lab self-test, protocol, nfq engine, stunt-rules, stunt-server)." >&2
exit 1
