"""Faults: each makes the kernel print a readable dump and stop with 125."""

import re
import subprocess

import pytest

from conftest import FAULT_STATUS, boot, describe, image_path

PF = r'page fault \(#PF\)'

# case: (vector name, what the dump must say besides, the function named
# in the backtrace)
CASES = {
    'null': (PF, [r'read at address 0x0000000000000000', 'NULL pointer'], 'fault_null'),
    'unmapped': (PF, [r'read at address 0x00000000dead0000: page not mapped',
                      r'CR2 0x00000000dead0000'], 'fault_unmapped'),
    'write-text': (PF, [r'write at address', r'W\^X'], 'fault_write_text'),
    'exec-data': (PF, [r'instruction fetch', r'W\^X'], 'main'),
    'exec-heap': (PF, [r'instruction fetch', r'W\^X'], 'main'),
    'write-rodata': (PF, [r'write at address', r'W\^X'], 'fault_write_rodata'),
    'stack-overflow': (r'(double fault \(#DF\)|page fault \(#PF\))', [r'stack overflow'],
                       'fault_stack_overflow'),
    'ud2': (r'invalid opcode \(#UD\)', [], 'fault_ud2'),
    'div0': (r'divide error \(#DE\)', [], 'fault_div0'),
}


def check_dump(r, case):
    vector, says, function = CASES[case]
    status, out = r
    assert status == FAULT_STATUS, describe(r)
    assert ('test_fault: %s' % case) in out, describe(r)
    assert 'survived' not in out, describe(r)
    assert re.search(r'^\*\*\* %s, vector \d+' % vector, out, re.M), describe(r)
    assert re.search(r'^RIP 0x[0-9a-f]{16}', out, re.M), describe(r)
    assert re.search(r'^CR2 0x[0-9a-f]{16} +RSP', out, re.M), describe(r)
    for s in says:
        assert re.search(s, out), describe(r)
    assert re.search(r'^backtrace:', out, re.M), describe(r)
    assert re.search(r'^ +#\d+ +0x[0-9a-f]{16} <%s\+0x[0-9a-f]+>' % function, out, re.M), \
        describe(r)


@pytest.mark.parametrize('case', CASES)
def test_fault_dump(case):
    check_dump(boot('test_fault', app_args=[case]), case)


@pytest.mark.parametrize('case', ['unmapped', 'exec-data', 'stack-overflow'])
def test_fault_dump_on_microvm(case):
    check_dump(boot('test_fault', platform='microvm', app_args=[case]), case)


def test_fault_usage():
    r = boot('test_fault', app_args=['nosuch'])
    assert r.status == 2 and 'usage' in r.output, describe(r)


@pytest.mark.parametrize('variant', ['pc-debug-info', 'pc-release-info', 'microvm-debug-info'])
def test_symbols_linked_in_match_the_image(variant):
    """The build links each image twice and puts the first link's function
    symbols into the second (kernel.ld, SConstruct): no function may have
    moved between the two, or backtraces would name the wrong ones."""
    def functions(path):
        out = subprocess.run(['nm', '--defined-only', str(path)], capture_output=True,
                             text=True, check=True).stdout
        return sorted(l for l in out.splitlines() if l.split()[1] in ('t', 'T'))

    for service in ('hello', 'httpd'):
        final = image_path(service).parent.parent / variant / (service + '.elf')
        first = final.with_name(service + '.nosyms.elf')
        assert final.exists() and first.exists(), final
        assert functions(final) == functions(first), final
        assert 'LIMPSYM1' in final.read_bytes().decode('latin-1')


def test_fault_dump_by_loader():
    """The multiboot loader's path (GRUB's) names functions too, from the
    image's own .limpet_symbols, as PVH does."""
    check_dump(boot('test_fault', app_args=['ud2'], via='loader'), 'ud2')
