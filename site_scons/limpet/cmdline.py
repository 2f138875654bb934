"""The kernel command line: "KERNEL-ARGS -- APP-ARGS".

The kernel splits it at blanks (kernel/cmdline.c); double quotes group
words and a backslash makes the next character literal.  Everything after
"--" becomes the service's argv[1..].
"""

import re


def quote_arg(arg):
    """One app argument for the kernel's splitter: a word without blanks,
    quotes or backslashes as it is; anything else (the empty word too) in
    double quotes, with " and \\ escaped by a backslash."""
    if arg and not re.search(r'[\s"\\]', arg):
        return arg
    return '"' + arg.replace('\\', '\\\\').replace('"', '\\"') + '"'


def join_args(*parts):
    """Kernel arguments from several sources, blank-separated, empty ones
    left out."""
    return ' '.join(p for p in parts if p)


def make_cmdline(kernel_args='', app_args=None):
    """kernel_args, then "--" and the app arguments quoted; no "--" when
    app_args is None (an empty list gives a bare "--")."""
    cmdline = kernel_args
    if app_args is not None:
        cmdline += (' ' if cmdline else '') + '--'
        for a in app_args:
            cmdline += ' ' + quote_arg(a)
    return cmdline
