# SPDX-License-Identifier: GPL-2.0
"""Judging a test run: the verdicts drawn from a boot's output channel (the
kselftests' TAP, the test modules, the group dumps, a kmemleak report: read
through protocol.py) and console (KUnit's KTAP through the tree's own
kunit_parser, kernel splats, KCSAN reports), and from the TAP of a host test.
A verdict is (kind, name, detail): kind pass, fail or skip."""
import json
import os
import re
import subprocess
import sys
from typing import NamedTuple


class Verdict(NamedTuple):
    kind: str       # pass, fail or skip
    name: str
    detail: str


# A kernel splat anywhere in the console fails the run.
SPLAT = re.compile(r'(WARNING: CPU:|------------\[ cut here \]|BUG: |Oops|Kernel panic|'
                   r'KASAN: |UBSAN: |possible circular locking|possible recursive locking|'
                   r'inconsistent lock state|suspicious RCU usage|Call Trace:|'
                   r'INFO: task .* blocked for more than|unreferenced object 0x|'
                   r'watchdog: BUG: soft lockup)')

TAP_RESULT = re.compile(r'^(not ok|ok) +(\d+)(?: +-?)? *([^#]*?)\s*(?:#\s*(.*))?$')


def parse_tap(text):
    """Results of one kselftest binary's TAP: (plan, [(ok, num, name, directive)])."""
    plan = None
    results = []
    for line in text.splitlines():
        if re.match(r'^1\.\.\d+', line) and plan is None:
            plan = int(line[3:].split()[0])
            continue
        m = TAP_RESULT.match(line)
        if m:
            results.append((m.group(1) == 'ok', int(m.group(2)), m.group(3).strip(),
                            (m.group(4) or '').strip()))
    return plan, results


# A KTAP document starts at a version line that is not indented (nested
# suites' are); a console timestamp may precede it.
KTAP_DOC_START = re.compile(r'^(?:\[[^\]]*\] ?)?K?TAP version \d+\s*$')
KTAP_EMPTY_PLAN = re.compile(r'^(?:\[[^\]]*\] ?)?1\.\.0\s*$')


def ktap_documents(console):
    """The KTAP documents in a console log: one from the built-in suites at
    boot (KUnit built in), then one per test module as it is loaded."""
    docs, cur = [], None
    for line in console.splitlines():
        if KTAP_DOC_START.match(line):
            cur = [line]
            docs.append(cur)
        elif cur is not None:
            cur.append(line)
    return ['\n'.join(d) + '\n' for d in docs]


def kunit_results(console_log, ktree, suites=()):
    """KUnit results from the console, through the tree's own KTAP parser,
    each KTAP document on its own; every suite named in SUITES must have
    reported test cases."""
    with open(console_log, errors='replace') as f:
        console = f.read()
    res = []
    parser = os.path.join(ktree, 'tools/testing/kunit/kunit.py')
    for n, doc in enumerate(ktap_documents(console)):
        lines = doc.splitlines()
        if len(lines) > 1 and KTAP_EMPTY_PLAN.match(lines[1]):
            continue    # KUnit built in, no built-in suite enabled
        src = '%s.ktap%d' % (console_log, n)
        js = src + '.json'
        with open(src, 'w') as f:
            f.write(doc)
        if os.path.exists(js):
            os.unlink(js)
        subprocess.run([sys.executable, parser, 'parse', '--json=' + js, src],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            with open(js) as f:
                data = json.load(f)
        except (OSError, ValueError):
            res.append(Verdict('fail', 'kunit', 'KTAP output could not be parsed'))
            continue
        finally:
            os.unlink(src)
        found = []

        def walk(group, path):
            for c in group.get('test_cases', []):
                st = c.get('status', 'FAIL')
                v = {'PASS': 'pass', 'SKIP': 'skip'}.get(st, 'fail')
                found.append(Verdict(v, '/'.join(path + [c.get('name', '?')]),
                                     '' if v == 'pass' else st))
            for g in group.get('sub_groups', []):
                walk(g, path + [g.get('name', '?')])
        walk(data, ['kunit'])
        if not found:
            found.append(Verdict('fail', 'kunit', 'KUnit ran but no test case was parsed'))
        res += found
    for s in suites:
        if not any(n.startswith('kunit/%s/' % s) for _, n, _ in res):
            res.append(Verdict('fail', 'kunit/' + s, 'the suite did not report (not built, '
                               'or its module did not load)'))
    return res


def kunit_console_verdicts(console_log, ktree, suites):
    """A KUnit run booted elsewhere (kunit.py --raw_output=all): its results,
    every suite in SUITES reporting, and no splat in its console."""
    with open(console_log, errors='replace') as f:
        console = f.read()
    return kunit_results(console_log, ktree, suites) + splat_verdicts(console)


def first_splat(console):
    """The first line of a kernel splat in @console, or None."""
    return next((l.strip() for l in console.splitlines() if SPLAT.search(l)), None)


# The one hang vmrun.py boots a 'tests' guest again for: under TCG an
# emulated CPU's timer sometimes never fires once init has started. RCU's
# stall report (kernel/rcu/tree_stall.h) then says that its grace-period
# kthread's timer did not wake it, and marks each stalled CPU that is idle
# (in an extended quiescent state) "(false positive?)". A CPU spinning with
# interrupts off, say in a deadlock of the series' own probe code, is not
# idle and gets no such mark; a self-detected stall is a CPU busy in the
# kernel.
TCG_TIMER_HANG = re.compile(r"rcu_\w+ kthread timer wakeup didn't happen")
RCU_STALL = re.compile(r'rcu: INFO: \w+ (self-)?detected stall')
STALLED_CPU = re.compile(r'(?:^|rcu:)\s+\d+-\S+: \(')


def without_kcsan(console):
    """@console without KCSAN's reports (a splat of their own kind)."""
    return '\n'.join(l for l in console.splitlines() if 'KCSAN' not in l and
                     'Kernel Concurrency Sanitizer' not in l)


def tcg_timer_hang(console):
    """Whether @console (of a boot that never began its tests) shows that
    hang and nothing else: init started, then RCU's first stall report,
    not self-detected, names only idle CPUs and a timer that never fired,
    and no splat came before it."""
    lines = console.splitlines()
    init = next((i for i, l in enumerate(lines) if 'Run /init' in l), None)
    report = next((i for i, l in enumerate(lines) if RCU_STALL.search(l)), None)
    if init is None or report is None or report < init or 'self-detected' in lines[report]:
        return False
    end = next((i for i in range(report + 1, len(lines)) if RCU_STALL.search(lines[i])),
               len(lines))
    block = lines[report:end]
    cpus = [l for l in block if STALLED_CPU.search(l)]
    return (bool(cpus) and all(l.rstrip().endswith('(false positive?)') for l in cpus) and
            any(TCG_TIMER_HANG.search(l) for l in block) and
            first_splat(without_kcsan('\n'.join(lines[:report]))) is None)


def splat_verdicts(console):
    """A kernel splat anywhere in @console fails the run."""
    splat = first_splat(console)
    return [Verdict('fail', 'console', 'kernel splat: ' + splat)] if splat else []


# Kernel types in enum order, their reserved_regions names, and the
# reserved_regions_detail names of each (the PCI kinds are new: "reserved").
KTYPES = [('direct', 'direct', ('direct',)),
          ('direct-relaxable', 'direct-relaxable', ('direct-relaxable',)),
          ('reserved', 'reserved', ('reserved',)),
          ('msi', 'msi', ('msi',)),
          ('sw-msi', 'msi', ('sw-msi',))]
NEW_KINDS = ('bridge-window', 'peer-bar', 'host-window', 'dma-range-gap')


def legacy_without_new_kinds(detail):
    """reserved_regions as the group would read without the PCI kinds the
    series adds: the detail lines of the other types merged per kernel type
    (overlapping or adjacent ranges), ordered by start then type."""
    spans = []
    for k, (_, legacy, names) in enumerate(KTYPES):
        ranges = sorted((int(f[0], 16), int(f[1], 16)) for f in
                        (line.split() for line in detail) if f[2] in names)
        merged = []
        for start, end in ranges:
            if merged and start <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        spans += [(start, k, end, legacy) for start, end in merged]
    return ''.join('0x%016x 0x%016x %s\n' % (start, end, legacy)
                   for start, _, end, legacy in sorted(spans))


def module_verdicts(channel):
    """The guest's loading and unloading of test modules."""
    return [Verdict('pass' if rc == 0 else 'fail', 'module/%s/%s' % (name, op),
                    '' if rc == 0 else 'exit status %d' % rc)
            for name, op, rc in channel.modules]


def group_dump(channel, when='tests'):
    """{device: its group's reserved_regions text} from the guest's group dump
    @when (boot: before the tests, tests: after them), and {"device type": its
    group's default domain type}; {} for a dump that did not end (a guest
    stopped in it must not pass for one with fewer groups).

    Keyed by device, not group: group numbering, and on DT the grouping
    itself (ACS enabled from enumeration), may differ between kernels; what
    a device's group reports must not. A group whose detailed view has the
    PCI kinds the series adds is represented by its file as it would read
    without them, rebuilt from the detailed view (that the file is exactly
    the detailed view's union is checked in the guest by iommu_resv_detail)."""
    dump = channel.dumps.get(when)
    if not dump or not dump.ended:
        return {}
    groups = {}
    for g in dump.groups:
        for dev in g.members:
            groups[dev] = ''.join(line + '\n' for line in g.regions)
            if g.type is not None:
                groups[dev + ' type'] = g.type
            if any(line.split()[2] in NEW_KINDS for line in g.detail):
                groups[dev] = legacy_without_new_kinds(g.detail)
    return groups


# The platform devices topology/arm64-dt-platform.dtsi adds on the DT boot:
# the base kernel groups them only once iommu_resv_platform has bound them to
# vfio-platform, and must have; one reads differently there on purpose.
DT_PLATFORM_DEVICES = ('iommu-resv-direct', 'iommu-resv-reserved')
BASE_DIFFERS = {
    'iommu-resv-reserved': '6.12 reads the iommu-addresses entry of another device as its own '
                           '(fixed by "iommu/of: Step over the iommu-addresses entries of '
                           'other devices")',
}


def compare_dumps(mine, other, at_boot=False):
    """Verdicts: each device's group file, and its group's default domain
    type (the series probes DT/ACPI devices at add; the decision for the
    devices present at boot must not change), must read the same on both kernels;
    a device grouped on only one of them (the series groups unbound DT
    devices, upstream does not) is compared where it exists on both, except
    the DT boot's platform devices, which after the tests (that bind them)
    must be grouped on both, and those of BASE_DIFFERS, which must read
    differently."""
    verdicts = []
    if not at_boot and any(dev in mine for dev in DT_PLATFORM_DEVICES):
        for dev in DT_PLATFORM_DEVICES:
            if dev not in mine or dev not in other:
                verdicts.append(Verdict('fail', dev, 'not grouped on both kernels, not compared'))
    for dev in sorted(set(mine) & set(other)):
        if dev in BASE_DIFFERS:
            same = mine[dev] == other[dev]
            verdicts.append(Verdict('fail' if same else 'pass', dev,
                                    ('reads the same on the base kernel: ' if same else 'differs: ') +
                                    BASE_DIFFERS[dev]))
        elif mine[dev] != other[dev]:
            verdicts.append(Verdict('fail', dev, 'reserved_regions differs: %r vs %r'
                                    % (mine[dev], other[dev])))
        else:
            verdicts.append(Verdict('pass', dev, ''))
    for dev in sorted(set(other) - set(mine)):
        verdicts.append(Verdict('fail', dev, 'grouped on the other kernel only'))
    if not verdicts:
        verdicts.append(Verdict('fail', 'groups', 'no device grouped on both kernels'))
    return verdicts


def judge_tap(name, text, rc):
    """Verdicts for one TAP stream (a kselftest binary or a host test)."""
    verdicts = []
    plan, results = parse_tap(text)
    if plan is None:
        verdicts.append(Verdict('fail', name, 'no TAP plan'))
    elif len(results) != plan:
        verdicts.append(Verdict('fail', name, f'plan says {plan} tests, {len(results)} reported'))
    for ok, num, tname, directive in results:
        if directive.upper().startswith('SKIP'):
            verdicts.append(Verdict('skip', f'{name}/{tname}', directive))
        elif ok:
            verdicts.append(Verdict('pass', f'{name}/{tname}', ''))
        else:
            verdicts.append(Verdict('fail', f'{name}/{tname}', directive))
    if rc is None:
        verdicts.append(Verdict('fail', name, 'did not finish'))
    elif rc not in (0, 4) and not any(v.kind == 'fail' for v in verdicts):
        # kselftest exits 4 when everything skipped; any other non-zero is a failure.
        verdicts.append(Verdict('fail', name, f'exit status {rc}'))
    return verdicts


# kmemleak blocks that involve the code under test (the rest is reported, not failed).
LEAK_OURS = re.compile(r'iommu|vfio|iopt|resv')


def kmemleak_verdicts(channel):
    """Judge the guest's kmemleak report, if it sent one."""
    if channel.kmemleak is None:
        return []
    blocks = re.split(r'^(?=unreferenced object 0x)', channel.kmemleak, flags=re.M)
    leaks = [b for b in blocks if b.startswith('unreferenced object')]
    ours = [b for b in leaks if LEAK_OURS.search(b.split('backtrace', 1)[-1])]
    print(f'vmrun: kmemleak: {len(leaks)} suspected leak(s), {len(ours)} in IOMMU/VFIO code',
          file=sys.stderr)
    if ours:
        return [Verdict('fail', 'kmemleak', ours[0].splitlines()[0].strip() + ' (' +
                        ' '.join(l.strip() for l in ours[0].splitlines()
                                 if LEAK_OURS.search(l))[:200] + ')')]
    return [Verdict('pass', 'kmemleak', '')]


# KCSAN reports (make stress, KCSAN kernel): the functions that raced, each
# printed as %ps ("name" or "name [module]").
KCSAN_REPORT = re.compile(r'BUG: KCSAN: (?:data-race|assert: race) in (\S+)(?: \[\S+\])?'
                          r'(?: / (\S+)(?: \[\S+\])?)?')


def bare(func):
    """A function's name without an offset or a compiler suffix (.constprop.0)."""
    return func.split('+', 1)[0].split('.', 1)[0]


def defined_in(func, ktree, files):
    """The first of @files (paths in @ktree) that defines function @func (a
    definition, with its body: not a prototype), or None."""
    pattern = re.compile(r'^(?:[A-Za-z_][^;{}()]*[\s*])?' + re.escape(bare(func)) +
                         r'\([^;{]*\)\s*\{', re.M)
    for path in files:
        try:
            with open(os.path.join(ktree, path), errors='replace') as f:
                if pattern.search(f.read()):
                    return path
        except OSError:
            continue
    return None


def kcsan_verdicts(console, ktree, touched):
    """A data race in a function that a file the series adds or touches defines
    fails; one elsewhere is reported as a skip naming the pair, not fixed here."""
    if 'kcsan: enabled early' not in console:
        return [Verdict('fail', 'kcsan', 'KCSAN did not report itself enabled at boot')]
    if not re.search(r'kcsan: selftest: (\d+)/\1 tests passed', console):
        return [Verdict('fail', 'kcsan', 'KCSAN\'s boot self-test did not pass')]
    seen, verdicts = set(), []
    for m in KCSAN_REPORT.finditer(console):
        pair = ' / '.join(bare(f) for f in m.groups() if f)
        if pair in seen:
            continue
        seen.add(pair)
        ours = [(f, defined_in(f, ktree, touched)) for f in m.groups() if f]
        ours = [f'{f} ({p})' for f, p in ours if p]
        if ours:
            verdicts.append(Verdict('fail', 'kcsan', f'data-race in {pair}: ' + ', '.join(ours)))
        else:
            verdicts.append(Verdict('skip', f'kcsan/elsewhere/{pair}',
                                    'data race outside the code the series adds or touches'))
    print(f'vmrun: kcsan: {len(seen)} distinct report(s), '
          f'{sum(v == "fail" for v, _, _ in verdicts)} in code the series touches',
          file=sys.stderr)
    return verdicts or [Verdict('pass', 'kcsan', '')]


def stopped_at(channel):
    """Where a guest that did not finish was, from the last of init's markers."""
    running = [t for t, run in channel.tests.items() if run.rc is None]
    if running:
        return 'in ' + running[0]
    if not channel.marks:
        return 'before the tests (at boot or while probing settled)'
    last = channel.marks[-1]
    if last in ('@@DUMP boot', '@@DUMP tests'):
        return 'in the group dump ' + ('before' if last.endswith('boot') else 'after') + \
            ' the tests'
    if last.startswith(('@@MODULE', '@@BEGIN')) or last == '@@DUMP boot end':
        return 'before the tests (loading the test modules)'
    return 'after the tests'


def judge(res, expected_tests, ktree, kunit_suites=(), kcsan_touched=None):
    """The verdicts of one 'tests' boot (a vmboot.BootResult); with
    @kcsan_touched (the files the series adds or touches), KCSAN reports are
    judged by place."""
    verdicts = []
    ch = res.channel
    for t in expected_tests:
        if t not in ch.tests:
            verdicts.append(Verdict('fail', t, 'did not run (boot failed or timed out?)'))
            continue
        verdicts += judge_tap(t, ch.tests[t].text, ch.tests[t].rc)
    verdicts += module_verdicts(ch)
    verdicts += kunit_results(res.console_log, ktree, kunit_suites)
    if res.timed_out:
        verdicts.append(Verdict('fail', 'boot', 'timed out ' + stopped_at(ch)))
    elif not ch.done:
        verdicts.append(Verdict('fail', 'boot', 'the guest did not finish its tests: it '
                                'stopped ' + stopped_at(ch)))
    console = res.console
    if kcsan_touched is not None:
        # A KCSAN report is a splat of its own kind, judged below.
        console = without_kcsan(console)
    verdicts += splat_verdicts(console)
    verdicts += kmemleak_verdicts(ch)
    if kcsan_touched is not None:
        verdicts += kcsan_verdicts(res.console, ktree, kcsan_touched)
    return verdicts
