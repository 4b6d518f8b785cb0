#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Boot a test kernel in QEMU on an arch's topology and judge the run.

Two modes:
  tests  run every kselftest in the initramfs; parse their TAP output and
         the KUnit KTAP in the console; fail on any 'not ok', a missing plan,
         a timeout or a kernel splat. Writes one result line per test case.
  run    run /run-me, print its output, exit with its exit status.
"""
import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.realpath(__file__))

ARCHES = {
    'x86_64': dict(qemu='qemu-system-x86_64', console='ttyS0',
                   out='/dev/ttyS1',
                   cmdline='intel_iommu=on iommu.strict=1',
                   outdev=lambda path: ['-serial', 'file:' + path]),
    'arm64': dict(qemu='qemu-system-aarch64', console='ttyAMA0',
                  out='/dev/hvc0',
                  # The DT boot's platform devices have no reset handler.
                  cmdline='iommu.strict=1 vfio_platform.reset_required=0',
                  # Appended to QEMU's device tree on the DT boot.
                  dt_extra='arm64-dt-platform.dtsi',
                  # virtio-mmio: not on PCI, so not behind the SMMU and not in a group.
                  outdev=lambda path: ['-device', 'virtio-serial-device',
                                       '-chardev', 'file,id=tout,path=' + path,
                                       '-device', 'virtconsole,chardev=tout']),
}

# How the guest learns its hardware: 'dt' boots the kernel directly with the
# device tree QEMU generates; 'acpi' (arm64) boots it through UEFI, which
# hands over QEMU's ACPI tables (IORT, MCFG, ...) instead.
UEFI_ARM64 = '/usr/share/qemu-efi-aarch64/QEMU_EFI.fd'
FIRMWARE = {
    'dt': dict(args=[], cmdline=''),
    'acpi': dict(args=['-bios', UEFI_ARM64], cmdline='acpi=force', arches=('arm64',),
                 needs=UEFI_ARM64),
}

# A kernel splat anywhere in the console fails the run.
SPLAT = re.compile(r'(WARNING: CPU:|------------\[ cut here \]|BUG: |Oops|Kernel panic|'
                   r'KASAN: |UBSAN: |possible circular locking|possible recursive locking|'
                   r'inconsistent lock state|suspicious RCU usage|Call Trace:|'
                   r'INFO: task .* blocked for more than|unreferenced object 0x|'
                   r'watchdog: BUG: soft lockup)')

TAP_RESULT = re.compile(r'^(not ok|ok) +(\d+)(?: +-?)? *([^#]*?)\s*(?:#\s*(.*))?$')


def topology_args(path):
    args = []
    with open(path) as f:
        for line in f:
            line = line.split('#', 1)[0].strip()
            if line:
                args += shlex.split(line)
    return args


def probe_kvm(arch, kernel, initrd, logdir):
    """KVM only if a probe guest boots with it (here it fails: use TCG)."""
    if arch != 'x86_64' or os.uname().machine != 'x86_64' or not os.access('/dev/kvm', os.R_OK | os.W_OK):
        return 'tcg'
    cache = os.path.join(logdir, '..', 'kvm-probe')
    if os.path.exists(cache):
        return open(cache).read().strip()
    res = boot(arch, kernel, initrd, 'kvm', 'probe', [], os.path.join(logdir, 'kvm-probe'), 15,
               topology=False)
    accel = 'kvm' if res['ok'] and '@@PROBE ok' in res['out'] else 'tcg'
    with open(cache, 'w') as f:
        f.write(accel + '\n')
    print(f'vmrun: KVM probe guest {"booted" if accel == "kvm" else "failed"}; using {accel.upper()}')
    return accel


def boot(arch, kernel, initrd, accel, mode, extra, logbase, timeout, topology=True,
         echo=False, firmware='dt', cmdline='', topology_file=None):
    a = ARCHES[arch]
    fw = FIRMWARE[firmware]
    console_log = logbase + '.console.log'
    out_log = logbase + '.out.log'
    for p in (console_log, out_log):
        if os.path.exists(p):
            os.unlink(p)
    open(out_log, 'w').close()
    dt_extra = (a.get('dt_extra') if topology and not topology_file and firmware == 'dt'
                else None)
    append = (f'console={a["console"]} {a["cmdline"]} {fw["cmdline"]} panic=-1 printk.time=0 '
              f'resv.mode={mode} resv.out={a["out"]} resv.timeout={max(timeout - 30, 30)} '
              # iommu_resv_platform: the devices the DT adds must be found.
              f'{"RESV_DT_PLATFORM=1 " if dt_extra else ""}{cmdline}')
    cmd = [a['qemu']]
    if topology:
        cmd += topology_args(topology_file or os.path.join(HERE, 'topology', arch + '.qemu'))
    elif arch == 'x86_64':
        cmd += ['-machine', 'q35', '-m', '512M']
    else:
        cmd += ['-machine', 'virt', '-cpu', 'cortex-a57', '-m', '512M']
    if accel == 'icount':
        # Guest time is instructions executed: a host-independent cost.
        cmd += ['-accel', 'tcg,thread=single', '-icount', 'shift=0,sleep=off']
    else:
        cmd += ['-accel', accel]
    cmd += ['-display', 'none', '-monitor', 'none', '-no-reboot',
            '-serial', 'file:' + console_log]
    cmd += a['outdev'](out_log)
    cmd += fw['args']
    cmd += ['-kernel', kernel, '-initrd', initrd, '-append', ' '.join(append.split())]
    cmd += extra
    if dt_extra:
        cmd += ['-dtb', extended_dtb(cmd, os.path.join(HERE, 'topology', dt_extra), logbase)]
    with open(logbase + '.cmd', 'w') as f:
        f.write(shlex.join(cmd) + '\n')
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    shown = 0
    timed_out = False
    while proc.poll() is None:
        if echo:
            shown = echo_new(out_log, shown)
        if time.monotonic() - start > timeout:
            proc.kill()
            timed_out = True
            break
        time.sleep(0.2)
    qemu_out = proc.communicate()[0]
    if echo:
        echo_new(out_log, shown)
    with open(out_log, errors='replace') as f:
        out = f.read().replace('\r\n', '\n')
    console = ''
    if os.path.exists(console_log):
        with open(console_log, errors='replace') as f:
            console = f.read().replace('\r\n', '\n')
    return dict(ok=not timed_out and proc.returncode == 0, rc=proc.returncode,
                timed_out=timed_out, out=out, console=console, qemu_out=qemu_out,
                seconds=time.monotonic() - start, console_log=console_log)


def extended_dtb(cmd, dtsi, logbase):
    """The device tree QEMU generates for @cmd, with @dtsi appended (dtc)."""
    dtb, dts = logbase + '.qemu.dtb', logbase + '.dts'

    def run(c):
        res = subprocess.run(c, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
        if res.returncode:
            sys.exit(f'vmrun: error: {shlex.join(c[:3])}... failed: {res.stderr.strip()}')

    run(cmd + ['-machine', 'dumpdtb=' + dtb])
    run(['dtc', '-q', '-I', 'dtb', '-O', 'dts', '-o', dts, dtb])
    with open(dts, 'a') as out, open(dtsi) as extra:
        out.write('\n' + extra.read())
    run(['dtc', '-q', '-I', 'dts', '-O', 'dtb', '-o', logbase + '.dtb', dts])
    return logbase + '.dtb'


def echo_new(path, shown):
    """Print the complete lines added to @path since byte @shown."""
    with open(path, 'rb') as f:
        f.seek(shown)
        data = f.read()
    cut = data.rfind(b'\n') + 1
    for line in data[:cut].decode(errors='replace').splitlines():
        line = line.rstrip('\r')
        if not line.startswith('@@'):  # protocol lines are for the host
            print(line, flush=True)
    return shown + cut


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


def split_tests(out):
    """Per-test sections of the output channel: {name: (text, rc or None)}."""
    tests = {}
    cur = None
    buf = []
    for line in out.splitlines():
        if line.startswith('@@TEST '):
            cur, buf = line[7:].strip(), []
        elif line.startswith('@@END ') and cur:
            m = re.search(r'rc=(\d+)', line)
            tests[cur] = ('\n'.join(buf), int(m.group(1)) if m else None)
            cur = None
        elif cur:
            buf.append(line)
    if cur:
        tests[cur] = ('\n'.join(buf), None)
    return tests


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
            res.append(('fail', 'kunit', 'KTAP output could not be parsed'))
            continue
        finally:
            os.unlink(src)
        found = []

        def walk(group, path):
            for c in group.get('test_cases', []):
                st = c.get('status', 'FAIL')
                v = {'PASS': 'pass', 'SKIP': 'skip'}.get(st, 'fail')
                found.append((v, '/'.join(path + [c.get('name', '?')]),
                              '' if v == 'pass' else st))
            for g in group.get('sub_groups', []):
                walk(g, path + [g.get('name', '?')])
        walk(data, ['kunit'])
        if not found:
            found.append(('fail', 'kunit', 'KUnit ran but no test case was parsed'))
        res += found
    for s in suites:
        if not any(n.startswith('kunit/%s/' % s) for _, n, _ in res):
            res.append(('fail', 'kunit/' + s, 'the suite did not report (not built, '
                        'or its module did not load)'))
    return res


def kunit_console_verdicts(console_log, ktree, suites):
    """A KUnit run booted elsewhere (kunit.py --raw_output=all): its results,
    every suite in SUITES reporting, and no splat in its console."""
    res = kunit_results(console_log, ktree, suites)
    with open(console_log, errors='replace') as f:
        splats = [l for l in f.read().splitlines() if SPLAT.search(l)]
    if splats:
        res.append(('fail', 'console', 'kernel splat: ' + splats[0].strip()))
    return res


def module_verdicts(out):
    """The guest's loading and unloading of test modules (@@MODULE lines)."""
    verdicts = []
    for m in re.finditer(r'^@@MODULE (\S+) (insmod|rmmod) rc=(\d+)', out, re.M):
        name, op, rc = m.group(1), m.group(2), int(m.group(3))
        verdicts.append(('pass' if rc == 0 else 'fail', 'module/%s/%s' % (name, op),
                         '' if rc == 0 else 'exit status %d' % rc))
    return verdicts


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


def group_dump(out, when='tests'):
    """{device: its group's reserved_regions text} from the @@GROUP/@@R/@@D
    lines the guest sent between "@@DUMP @when" and "@@DUMP @when end" (boot:
    before the tests, tests: after them), and {"device type": its group's
    default domain type} from its @@TYPE lines; {} for a dump that did not
    end (a guest stopped in it must not pass for one with fewer groups).

    Keyed by device, not group: group numbering, and on DT the grouping
    itself (ACS enabled from enumeration), may differ between kernels; what
    a device's group reports must not. A group whose detailed view has the
    PCI kinds the series adds is represented by its file as it would read
    without them, rebuilt from the detailed view (that the file is exactly
    the detailed view's union is checked in the guest by iommu_resv_detail)."""
    groups, members, detail = {}, [], []

    def close():
        if any(line.split()[2] in NEW_KINDS for line in detail):
            for dev in members:
                groups[dev] = legacy_without_new_kinds(detail)

    inside = ended = False
    for line in out.splitlines():
        if line.startswith('@@DUMP ') or line == '@@DONE':
            ended = ended or (inside and line == f'@@DUMP {when} end')
            inside = line == '@@DUMP ' + when
        elif not inside:
            continue
        elif line.startswith('@@GROUP '):
            close()
            members, detail = line[8:].split(), []
            for dev in members:
                groups[dev] = ''
        elif line.startswith('@@R '):
            for dev in members:
                groups[dev] += line[4:] + '\n'
        elif line.startswith('@@TYPE '):
            for dev in members:
                groups[dev + ' type'] = line[7:].strip()
        elif line.startswith('@@D ') and len(line.split()) == 7:
            detail.append(line[4:])
    close()
    return groups if ended else {}


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
                verdicts.append(('fail', dev, 'not grouped on both kernels, not compared'))
    for dev in sorted(set(mine) & set(other)):
        if dev in BASE_DIFFERS:
            same = mine[dev] == other[dev]
            verdicts.append(('fail' if same else 'pass', dev,
                             ('reads the same on the base kernel: ' if same else 'differs: ') +
                             BASE_DIFFERS[dev]))
        elif mine[dev] != other[dev]:
            verdicts.append(('fail', dev, 'reserved_regions differs: %r vs %r'
                             % (mine[dev], other[dev])))
        else:
            verdicts.append(('pass', dev, ''))
    for dev in sorted(set(other) - set(mine)):
        verdicts.append(('fail', dev, 'grouped on the other kernel only'))
    if not verdicts:
        verdicts.append(('fail', 'groups', 'no device grouped on both kernels'))
    return verdicts


def judge_tap(name, text, rc):
    """Verdicts for one TAP stream (a kselftest binary or a host test)."""
    verdicts = []
    plan, results = parse_tap(text)
    if plan is None:
        verdicts.append(('fail', name, 'no TAP plan'))
    elif len(results) != plan:
        verdicts.append(('fail', name, f'plan says {plan} tests, {len(results)} reported'))
    for ok, num, tname, directive in results:
        if directive.upper().startswith('SKIP'):
            verdicts.append(('skip', f'{name}/{tname}', directive))
        elif ok:
            verdicts.append(('pass', f'{name}/{tname}', ''))
        else:
            verdicts.append(('fail', f'{name}/{tname}', directive))
    if rc is None:
        verdicts.append(('fail', name, 'did not finish'))
    elif rc not in (0, 4) and not any(v[0] == 'fail' for v in verdicts):
        # kselftest exits 4 when everything skipped; any other non-zero is a failure.
        verdicts.append(('fail', name, f'exit status {rc}'))
    return verdicts


# kmemleak blocks that involve the code under test (the rest is reported, not failed).
LEAK_OURS = re.compile(r'iommu|vfio|iopt|resv')


def kmemleak_verdicts(out):
    """Judge the guest's kmemleak report (@@KMEMLEAK BEGIN..END), if it sent one."""
    m = re.search(r'^@@KMEMLEAK BEGIN\n(.*?)^@@KMEMLEAK END', out, re.M | re.S)
    if not m:
        return []
    blocks = re.split(r'^(?=unreferenced object 0x)', m.group(1), flags=re.M)
    leaks = [b for b in blocks if b.startswith('unreferenced object')]
    ours = [b for b in leaks if LEAK_OURS.search(b.split('backtrace', 1)[-1])]
    print(f'vmrun: kmemleak: {len(leaks)} suspected leak(s), {len(ours)} in IOMMU/VFIO code',
          file=sys.stderr)
    if ours:
        return [('fail', 'kmemleak', ours[0].splitlines()[0].strip() + ' (' +
                 ' '.join(l.strip() for l in ours[0].splitlines()
                          if LEAK_OURS.search(l))[:200] + ')')]
    return [('pass', 'kmemleak', '')]


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
        return [('fail', 'kcsan', 'KCSAN did not report itself enabled at boot')]
    if not re.search(r'kcsan: selftest: (\d+)/\1 tests passed', console):
        return [('fail', 'kcsan', 'KCSAN\'s boot self-test did not pass')]
    seen, verdicts = set(), []
    for m in KCSAN_REPORT.finditer(console):
        pair = ' / '.join(bare(f) for f in m.groups() if f)
        if pair in seen:
            continue
        seen.add(pair)
        ours = [(f, defined_in(f, ktree, touched)) for f in m.groups() if f]
        ours = [f'{f} ({p})' for f, p in ours if p]
        if ours:
            verdicts.append(('fail', 'kcsan', f'data-race in {pair}: ' + ', '.join(ours)))
        else:
            verdicts.append(('skip', f'kcsan/elsewhere/{pair}',
                             'data race outside the code the series adds or touches'))
    print(f'vmrun: kcsan: {len(seen)} distinct report(s), '
          f'{sum(v == "fail" for v, _, _ in verdicts)} in code the series touches',
          file=sys.stderr)
    return verdicts or [('pass', 'kcsan', '')]


def stopped_at(out, sections):
    """Where a guest that did not finish was, from the last of init's markers."""
    running = [t for t, (_, rc) in sections.items() if rc is None]
    if running:
        return 'in ' + running[0]
    marks = [l for l in out.splitlines() if re.match(r'@@(BEGIN|DUMP|MODULE|END|KMEMLEAK)', l)]
    if not marks:
        return 'before the tests (at boot or while probing settled)'
    last = marks[-1]
    if last in ('@@DUMP boot', '@@DUMP tests'):
        return 'in the group dump ' + ('before' if last.endswith('boot') else 'after') + \
            ' the tests'
    if last.startswith(('@@MODULE', '@@BEGIN')) or last == '@@DUMP boot end':
        return 'before the tests (loading the test modules)'
    return 'after the tests'


def judge(res, expected_tests, ktree, kunit_suites=(), kcsan_touched=None):
    """List of (verdict, name, detail) for one 'tests' boot; with @kcsan_touched
    (the files the series adds or touches), KCSAN reports are judged by place."""
    verdicts = []
    sections = split_tests(res['out'])
    for t in expected_tests:
        if t not in sections:
            verdicts.append(('fail', t, 'did not run (boot failed or timed out?)'))
            continue
        text, rc = sections[t]
        verdicts += judge_tap(t, text, rc)
    verdicts += module_verdicts(res['out'])
    verdicts += kunit_results(res['console_log'], ktree, kunit_suites)
    if res['timed_out']:
        verdicts.append(('fail', 'boot', 'timed out ' + stopped_at(res['out'], sections)))
    elif '@@DONE' not in res['out']:
        verdicts.append(('fail', 'boot', 'the guest did not finish its tests: it stopped ' +
                         stopped_at(res['out'], sections)))
    console = res['console']
    if kcsan_touched is not None:
        # A KCSAN report is a splat of its own kind, judged below.
        console = '\n'.join(l for l in console.splitlines() if 'KCSAN' not in l and
                            'Kernel Concurrency Sanitizer' not in l)
    splats = [l for l in console.splitlines() if SPLAT.search(l)]
    if splats:
        verdicts.append(('fail', 'console', 'kernel splat: ' + splats[0].strip()))
    verdicts += kmemleak_verdicts(res['out'])
    if kcsan_touched is not None:
        verdicts += kcsan_verdicts(res['console'], ktree, kcsan_touched)
    return verdicts


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--arch', choices=sorted(ARCHES))
    ap.add_argument('--kernel')
    ap.add_argument('--initrd')
    ap.add_argument('--judge-tap', metavar='FILE',
                    help='judge a host test\'s TAP output instead of booting')
    ap.add_argument('--exit-status', type=int, default=0,
                    help='with --judge-tap: the test\'s exit status')
    ap.add_argument('--judge-kunit', metavar='CONSOLE',
                    help='judge the console of a KUnit run booted by kunit.py '
                         '(needs --ktree; --kunit-suites must all report)')
    ap.add_argument('--mode', choices=('tests', 'run'), default='tests')
    ap.add_argument('--tests', default='', help='names expected to run (tests mode)')
    ap.add_argument('--ktree', help='kernel tree (for the KUnit parser)')
    ap.add_argument('--kunit-suites', default='',
                    help='KUnit suites that must report (built in or loaded as modules)')
    ap.add_argument('--logdir')
    ap.add_argument('--label', default='')
    ap.add_argument('--results', help='append result lines here (tests mode)')
    ap.add_argument('--timeout', type=int, default=900)
    ap.add_argument('--extra', default='', help='extra QEMU arguments')
    ap.add_argument('--topology', metavar='FILE',
                    help="a topology file to boot instead of the arch's (topology/ARCH.qemu)")
    ap.add_argument('--cmdline', default='',
                    help='extra kernel command line (KEY=value words reach the tests '
                         'as environment variables)')
    ap.add_argument('--firmware', default='dt', choices=sorted(FIRMWARE),
                    help='hardware description the guest boots with (acpi: arm64, via UEFI)')
    ap.add_argument('--accel', default='auto', choices=('auto', 'tcg', 'kvm', 'icount'),
                    help='icount: TCG on one thread with -icount shift=0, so that the '
                    "guest's clock counts the instructions it executes (1 ns each)")
    ap.add_argument('--dump', metavar='FILE',
                    help='tests mode: write the guest\'s group dump as JSON')
    ap.add_argument('--kcsan-touched', metavar='FILE',
                    help='tests mode, KCSAN kernel: the files (one per line, paths in '
                         '--ktree) the series adds or touches; a data race there fails, '
                         'one elsewhere is reported as a skip')
    ap.add_argument('--boot-dump', metavar='FILE',
                    help='tests mode: write the guest\'s group dump from before the tests')
    ap.add_argument('--compare-dumps', nargs=2, metavar=('MINE', 'OTHER'),
                    help='judge two dumps: reserved_regions must match per group')
    ap.add_argument('--at-boot', action='store_true',
                    help='with --compare-dumps: the dumps are from before the tests')
    args = ap.parse_args()

    if args.compare_dumps:
        dumps = []
        for path in args.compare_dumps:
            with open(path) as f:
                dumps.append(json.load(f))
        sys.exit(record(compare_dumps(*dumps, at_boot=args.at_boot), args.label,
                        args.results))
    if args.judge_tap:
        with open(args.judge_tap, errors='replace') as f:
            text = f.read()
        sys.exit(record(judge_tap('', text, args.exit_status), args.label,
                        args.results))
    if args.judge_kunit:
        if not args.ktree:
            ap.error('--judge-kunit needs --ktree')
        sys.exit(record(kunit_console_verdicts(args.judge_kunit, args.ktree,
                                               args.kunit_suites.split()),
                        args.label, args.results))
    if not (args.arch and args.kernel and args.initrd and args.logdir):
        ap.error('--arch, --kernel, --initrd and --logdir are required to boot')
    a = ARCHES[args.arch]
    if not shutil.which(a['qemu']):
        sys.exit(f'vmrun: error: {a["qemu"]} not found (run "make deps")')
    for p in (args.kernel, args.initrd):
        if not os.path.exists(p):
            sys.exit(f'vmrun: error: {p} does not exist (run "make build")')
    fw = FIRMWARE[args.firmware]
    if args.arch not in fw.get('arches', ARCHES):
        sys.exit(f'vmrun: error: --firmware {args.firmware} is not available on {args.arch}')
    if fw.get('needs') and not os.path.exists(fw['needs']):
        sys.exit(f'vmrun: error: {fw["needs"]} not found (run "make deps")')
    os.makedirs(args.logdir, exist_ok=True)
    accel = args.accel
    if accel == 'auto':
        accel = probe_kvm(args.arch, args.kernel, args.initrd, args.logdir)
    label = args.label or args.arch
    logbase = os.path.join(args.logdir, label)
    extra = shlex.split(args.extra)

    if args.mode == 'run':
        res = boot(args.arch, args.kernel, args.initrd, accel, 'run', extra, logbase,
                   args.timeout, echo=True, firmware=args.firmware, cmdline=args.cmdline,
                   topology_file=args.topology)
        m = re.search(r'^@@EXIT (\d+)', res['out'], re.M)
        print(f'vmrun: console log: {res["console_log"]}', file=sys.stderr)
        if res['timed_out']:
            print(f'vmrun: error: timed out after {args.timeout} s', file=sys.stderr)
            sys.exit(124)
        if not m:
            print('vmrun: error: the guest ended without an exit status '
                  f'(QEMU: {res["qemu_out"].strip() or "rc " + str(res["rc"])})', file=sys.stderr)
            sys.exit(125)
        splats = [l for l in res['console'].splitlines() if SPLAT.search(l)]
        if splats:
            print(f'vmrun: warning: kernel splat in the console: {splats[0].strip()}',
                  file=sys.stderr)
        rc = int(m.group(1))
        if rc:
            print(f'vmrun: the program exited with status {rc}', file=sys.stderr)
        sys.exit(rc)

    tests = args.tests.split()
    res = boot(args.arch, args.kernel, args.initrd, accel, 'tests', extra, logbase,
               args.timeout, firmware=args.firmware, cmdline=args.cmdline)
    if res['qemu_out'].strip():
        with open(logbase + '.qemu.log', 'w') as f:
            f.write(res['qemu_out'])
    touched = None
    if args.kcsan_touched:
        with open(args.kcsan_touched) as f:
            touched = [l.strip() for l in f if l.strip()]
    verdicts = judge(res, tests, args.ktree or '', args.kunit_suites.split(), touched)
    for path, when in ((args.dump, 'tests'), (args.boot_dump, 'boot')):
        if path:
            with open(path, 'w') as f:
                json.dump(group_dump(res['out'], when), f, indent=1, sort_keys=True)
    print(f'vmrun: {label}: booted and ran in {res["seconds"]:.0f} s ({accel.upper()}); '
          f'console log: {res["console_log"]}')
    if res['qemu_out'].strip() and any(v == 'fail' for v, _, _ in verdicts):
        print('vmrun: QEMU said: ' + res['qemu_out'].strip().splitlines()[-1])
    sys.exit(record(verdicts, label, args.results))


def record(verdicts, label, results):
    """Print and store one line per verdict; 1 if anything failed."""
    lines = [f'{v} {label}' + ('/' + n.lstrip('/') if n.strip('/') else '') +
             (f' # {d}' if d else '') for v, n, d in verdicts]
    # Failures and skips in full; passes only counted (all are in the results file).
    for l in lines:
        if not l.startswith('pass '):
            print('  ' + l)
    counts = {k: sum(v == k for v, _, _ in verdicts) for k in ('pass', 'fail', 'skip')}
    print(f'  {label}: {counts["pass"]} passed, {counts["fail"]} failed, '
          f'{counts["skip"]} skipped')
    if results:
        with open(results, 'a') as f:
            f.write('\n'.join(lines) + '\n')
    return 1 if any(v == 'fail' for v, _, _ in verdicts) else 0


if __name__ == '__main__':
    main()
