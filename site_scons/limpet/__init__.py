"""What Limpet's tools know about Limpet, once: the package that the
build (SConstruct), the front end (./limpet), the tests (tests/conftest.py),
the bench (netbench/bench.py) and scripts/ share.

    paths     the variants and the image each build writes
    services  where services live and what their service.conf says
    cmdline   the kernel command line and the quoting of app arguments
    status    exit statuses: the guest's, through isa-debug-exit, and ours
    qemu      QEMU's command line per platform, the NIC, the accelerator
    cli*      ./limpet's commands

The standard library only, for Debian's /usr/bin/python3: ./limpet runs
before setup has installed anything.  SCons puts site_scons/ on sys.path
itself; everything else adds it with one line.
"""
