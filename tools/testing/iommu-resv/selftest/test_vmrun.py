#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The verdicts the harness draws from guest output: a run that should fail
must fail. Prints TAP."""
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)), '..'))
import protocol  # noqa: E402
import vmboot  # noqa: E402
import vmjudge  # noqa: E402

PASSING_TAP = """TAP version 13
1..2
# Starting 2 tests from 1 test cases.
ok 1 groups.format
ok 2 groups.sorted # SKIP no groups
# Totals: pass:1 fail:0 xfail:0 xpass:0 skip:1 error:0
"""


def boot_result(out, console='', timed_out=False):
    fd, path = tempfile.mkstemp(suffix='.console.log')
    with os.fdopen(fd, 'w') as f:
        f.write(console)
    return vmboot.BootResult(out=out, console=console, timed_out=timed_out, console_log=path)


def judged(out, console='', timed_out=False, tests=(), ktree='', suites=(),
           kcsan_touched=None):
    """vmjudge.judge() of one boot with this output and console."""
    res = boot_result(out, console, timed_out)
    try:
        return vmjudge.judge(res, list(tests), ktree, suites, kcsan_touched)
    finally:
        os.unlink(res.console_log)


def verdicts(out, console='', timed_out=False, tests=('t1',)):
    return judged(out, console, timed_out, tests)


def dump(out, when='tests'):
    """The group dump @when of the guest output @out, as compared."""
    return vmjudge.group_dump(protocol.parse(out), when)


def assembled_tree():
    """The assembled kernel tree, for the KUnit parser, or None."""
    here = os.path.dirname(os.path.realpath(__file__))
    ktree = os.environ.get('OUT', os.path.join(here, '../../../../out')) + '/patched/src'
    if not os.path.exists(ktree + '/tools/testing/kunit/kunit.py'):
        print('# no assembled tree for the KUnit parser')
        return None
    return ktree


def kinds(vs):
    return sorted(v for v, _, _ in vs)


CASES = []


def case(fn):
    CASES.append(fn)
    return fn


@case
def good_run_passes():
    vs = verdicts('@@BEGIN\n@@TEST t1\n' + PASSING_TAP + '@@END t1 rc=0\n@@DONE\n')
    return kinds(vs) == ['pass', 'skip']


@case
def not_ok_fails():
    tap = PASSING_TAP.replace('ok 1 groups.format', 'not ok 1 groups.format')
    vs = verdicts('@@TEST t1\n' + tap + '@@END t1 rc=1\n@@DONE\n')
    return ('fail', 't1/groups.format', '') in vs


@case
def missing_plan_fails():
    tap = PASSING_TAP.replace('1..2\n', '')
    vs = verdicts('@@TEST t1\n' + tap + '@@END t1 rc=0\n@@DONE\n')
    return any(v == 'fail' and d == 'no TAP plan' for v, _, d in vs)


@case
def short_count_fails():
    tap = PASSING_TAP.replace('1..2', '1..3')
    vs = verdicts('@@TEST t1\n' + tap + '@@END t1 rc=0\n@@DONE\n')
    return any(v == 'fail' and 'plan says 3' in d for v, _, d in vs)


@case
def crash_without_end_fails():
    vs = verdicts('@@TEST t1\nTAP version 13\n1..2\nok 1 a\n')
    return any(v == 'fail' and n == 't1' for v, n, _ in vs) and \
        any(v == 'fail' and n == 'boot' for v, n, _ in vs)


@case
def test_that_never_ran_fails():
    vs = verdicts('@@DONE\n', tests=('t1', 't2'))
    return [n for v, n, _ in vs if v == 'fail'] == ['t1', 't2']


@case
def nonzero_exit_fails():
    vs = verdicts('@@TEST t1\n' + PASSING_TAP + '@@END t1 rc=139\n@@DONE\n')
    return any(v == 'fail' and 'exit status 139' in d for v, _, d in vs)


@case
def timeout_fails():
    vs = verdicts('@@TEST t1\n' + PASSING_TAP + '@@END t1 rc=0\n', timed_out=True)
    return any(v == 'fail' and d == 'timed out after the tests' for v, _, d in vs)


@case
def timeout_names_the_running_test():
    vs = verdicts('@@TEST t1\n' + PASSING_TAP + '@@END t1 rc=0\n@@TEST t2\nTAP version 13\n',
                  timed_out=True, tests=('t1', 't2'))
    return any(v == 'fail' and d == 'timed out in t2' for v, _, d in vs)


@case
def splats_fail():
    ok = '@@TEST t1\n' + PASSING_TAP + '@@END t1 rc=0\n@@DONE\n'
    for splat in ('WARNING: CPU: 0 PID: 1 at drivers/iommu/iommu.c:1 x+0x1/0x2',
                  'BUG: KASAN: slab-out-of-bounds in foo+0x1/0x2',
                  'Oops: general protection fault', 'Call Trace:',
                  'WARNING: possible circular locking dependency detected',
                  'unreferenced object 0xffff888001234567 (size 64):',
                  'INFO: task sh:1 blocked for more than 120 seconds.'):
        vs = verdicts(ok, console='booting\n' + splat + '\n')
        if not any(v == 'fail' and n == 'console' for v, n, _ in vs):
            print('# not caught: ' + splat)
            return False
    return not any(v == 'fail' for v, _, _ in verdicts(ok, console='all fine\n'))


@case
def kunit_failure_fails():
    console = ('KTAP version 1\n1..1\n    KTAP version 1\n    # Subtest: suite\n'
               '    1..2\n    ok 1 a\n    not ok 2 b\nnot ok 1 suite\n')
    ktree = assembled_tree()
    if not ktree:
        return False
    vs = judged('@@DONE\n', console, ktree=ktree)
    return ('pass', 'kunit/suite/a', '') in vs and \
        any(v == 'fail' and n == 'kunit/suite/b' for v, n, _ in vs)


@case
def kunit_modules_judged():
    # Built in with no suite (1..0), then one KTAP document per loaded module:
    # each is parsed; a failing case in the second module fails; a suite that
    # must report and did not fails; a module that did not load fails.
    doc = ('KTAP version 1\n1..1\n    KTAP version 1\n    # Subtest: %s\n'
           '    1..1\n    %s 1 c\n%s 1 %s\n')
    console = ('KTAP version 1\n1..0\nsome_test: loading test module taints kernel.\n' +
               doc % ('m1', 'ok', 'ok', 'm1') + 'random line\n' +
               doc % ('m2', 'not ok', 'not ok', 'm2'))
    out = ('@@MODULE m1.ko insmod rc=0\n@@MODULE m1.ko rmmod rc=0\n'
           '@@MODULE m2.ko insmod rc=0\n@@MODULE m2.ko rmmod rc=0\n'
           '@@MODULE m3.ko insmod rc=1\n@@MODULE m3.ko rmmod rc=1\n@@DONE\n')
    ktree = assembled_tree()
    if not ktree:
        return False
    res = boot_result(out, console)
    try:
        vs = vmjudge.judge(res, [], ktree, ['m1', 'm2', 'm3'])
        builtin_only = vmjudge.kunit_results(res.console_log, ktree)
    finally:
        os.unlink(res.console_log)
    fails = sorted(n for v, n, _ in vs if v == 'fail')
    return (('pass', 'kunit/m1/c', '') in vs and
            fails == ['kunit/m2/c', 'kunit/m3', 'module/m3.ko/insmod', 'module/m3.ko/rmmod'] and
            ('pass', 'module/m1.ko/insmod', '') in vs and
            len(builtin_only) == 2)


@case
def kmemleak_in_iommu_code_fails():
    ok = '@@TEST t1\n' + PASSING_TAP + '@@END t1 rc=0\n'
    leak = ('unreferenced object 0xffff888001234567 (size 64):\n'
            '  comm "sh", pid 1, jiffies 4294\n  backtrace (crc 0):\n'
            '    [<0>] __kmalloc+0x1/0x2\n    [<0>] %s+0x10/0x20\n')
    def run(report):
        return verdicts(ok + '@@KMEMLEAK BEGIN\n' + report + '@@KMEMLEAK END\n@@DONE\n')
    ours = run(leak % 'acpi_ut_allocate' + leak % 'iommu_resv_snapshot_add')
    theirs = run(leak % 'acpi_ut_allocate')
    # No exception for a leak upstream has too (the 6.12 SMMUv3 one is fixed by the series)
    smmu = run(leak % 'arm_smmu_attach_prepare' + '    [<0>] __iommu_attach_device+0x5c/0x360\n')
    clean = run('')
    none = verdicts(ok + '@@DONE\n')
    return (any(v == 'fail' and n == 'kmemleak' and 'iommu_resv_snapshot_add' in d
                for v, n, d in ours) and
            any(v == 'fail' and '__iommu_attach_device' in d for v, _, d in smmu) and
            not any(v == 'skip' and n.startswith('kmemleak') for v, n, _ in smmu) and
            ('pass', 'kmemleak', '') in theirs and ('pass', 'kmemleak', '') in clean and
            not any(n == 'kmemleak' for _, n, _ in none))


@case
def kcsan_race_in_series_code_fails():
    ok = '@@TEST t1\n' + PASSING_TAP + '@@END t1 rc=0\n@@DONE\n'
    report = ('==================================================================\n'
              'BUG: KCSAN: data-race in %s / %s\n\n'
              'write to 0xffff888003d2a0c8 of 8 bytes by task 93 on cpu 1:\n'
              ' %s+0x3a/0x90\n\n'
              'Reported by Kernel Concurrency Sanitizer on:\n'
              '==================================================================\n')
    with tempfile.TemporaryDirectory() as tree:
        os.makedirs(os.path.join(tree, 'drivers/iommu'))
        with open(os.path.join(tree, 'drivers/iommu/iommu-resv.c'), 'w') as f:
            f.write('static int helper(void);\n'
                    'int pci_bus_add_device(struct pci_dev *dev);\n'
                    'unsigned long iommu_group_resv_generation(struct iommu_group *g)\n{\n}\n'
                    'static inline int\niommu_resv_helper(int x)\n{\n}\n')
        touched = ['drivers/iommu/iommu-resv.c', 'drivers/iommu/gone.c']

        def run(console):
            return judged(ok, 'kcsan: enabled early\nkcsan: selftest: 5/5 tests passed\n' +
                          console, tests=['t1'], ktree=tree, kcsan_touched=touched)
        ours = run(report % ('iommu_group_resv_generation', 'pci_bus_add_device',
                             'iommu_group_resv_generation'))
        theirs = run(report % ('tick_sched_do_timer', 'tick_nohz_next_event',
                               'tick_sched_do_timer') * 2)
        # a prototype is not a definition; a module's "name [mod]" form; a
        # definition with the name in column 0
        declared = run(report % ('pci_bus_add_device', 'x', 'x'))
        module = run(report % ('foo.constprop.0 [vfio]', 'iommu_resv_helper [iommufd]', 'x'))
        clean = run('')
        off = judged(ok, '', tests=['t1'], ktree=tree, kcsan_touched=touched)
        broken = judged(ok, 'kcsan: enabled early\nkcsan: selftest: 4/5 tests passed\n',
                        tests=['t1'], ktree=tree, kcsan_touched=touched)
    return (any(v == 'fail' and n == 'kcsan' and 'iommu-resv.c' in d for v, n, d in ours) and
            not any(n == 'console' for _, n, _ in ours + theirs) and
            [(v, n) for v, n, _ in theirs if n.startswith('kcsan')] ==
            [('skip', 'kcsan/elsewhere/tick_sched_do_timer / tick_nohz_next_event')] and
            ('pass', 'kcsan', '') in clean and
            [v for v, n, _ in declared if n.startswith('kcsan')] == ['skip'] and
            any(v == 'fail' and 'iommu_resv_helper' in d for v, n, d in module
                if n == 'kcsan') and
            any(v == 'fail' and 'not report itself enabled' in d for v, n, d in off
                if n == 'kcsan') and
            any(v == 'fail' and 'self-test' in d for v, n, d in broken if n == 'kcsan') and
            # without the KCSAN judging, a report is a splat like any other
            any(n == 'console' for _, n, _ in verdicts(ok, report % ('a', 'b', 'a'))))


@case
def group_dumps_compared():
    out = ('@@DUMP tests\n@@GROUP 0000:00:04.0 \n@@R 0x00000000fee00000 0x00000000feefffff msi\n'
           '@@GROUP 0000:00:1f.0 0000:00:1f.2 \n@@R 0x0000000000000000 0x0000000000ffffff '
           'direct-relaxable\n@@R 0x00000000fee00000 0x00000000feefffff msi\n'
           '@@DUMP tests end\n@@DONE\n')
    mine = dump(out)
    if len(mine) != 3 or mine['0000:00:04.0'].count('\n') != 1 or \
            mine['0000:00:1f.0'] != mine['0000:00:1f.2']:
        return False
    same = vmjudge.compare_dumps(mine, dict(mine))
    changed = dict(mine)
    changed['0000:00:04.0'] = '0x00000000fee00000 0x00000000feefffff reserved\n'
    missing = {k: v for k, v in mine.items() if k != '0000:00:04.0'}
    return (all(v == 'pass' for v, _, _ in same) and
            [v for v, _, _ in vmjudge.compare_dumps(mine, changed)] == ['fail', 'pass', 'pass'] and
            # grouped only by the series: fine; grouped only by upstream: a failure
            all(v == 'pass' for v, _, _ in vmjudge.compare_dumps(mine, missing)) and
            any(v == 'fail' for v, _, _ in vmjudge.compare_dumps(missing, mine)) and
            vmjudge.compare_dumps({}, {})[0][0] == 'fail')


@case
def boot_and_tests_dumps_kept_apart():
    msi = '@@R 0x00000000fee00000 0x00000000feefffff msi\n'
    out = ('@@DUMP boot\n@@GROUP 0000:00:04.0 \n' + msi + '@@DUMP boot end\n'
           '@@TEST t1\n' + msi + '@@END t1 rc=0 secs=3\n'
           '@@DUMP tests\n@@GROUP 0000:00:04.0 0000:00:05.0 \n' + msi +
           '@@DUMP tests end\n@@DONE\n@@GROUP 0000:00:06.0 \n')
    boot, tests = dump(out, 'boot'), dump(out)
    # a dump the guest stopped in is no dump: not one with fewer groups
    cut = out[:out.index('@@DUMP tests end')]
    return (boot == {'0000:00:04.0': msi[4:]} and
            sorted(tests) == ['0000:00:04.0', '0000:00:05.0'] and
            dump(cut) == {} and dump(cut, 'boot') == boot and
            protocol.parse(out).tests['t1'].rc == 0)


@case
def stop_place_named():
    begin = '@@BEGIN 6.12 x86_64\n@@DUMP boot\n@@DUMP boot end\n'
    after = begin + '@@TEST t1\n' + PASSING_TAP + '@@END t1 rc=0 secs=1\n'

    def said(out, timed_out=True):
        return [d for v, n, d in verdicts(out, timed_out=timed_out) if n == 'boot']
    return (said('') == ['timed out before the tests (at boot or while probing settled)'] and
            said(begin + '@@MODULE a.ko insmod rc=0\n') ==
            ['timed out before the tests (loading the test modules)'] and
            said(after + '@@DUMP tests\n@@GROUP x \n') ==
            ['timed out in the group dump after the tests'] and
            said(after, timed_out=False) ==
            ['the guest did not finish its tests: it stopped after the tests'])


@case
def dt_platform_devices_compared():
    msi = '0x0000000008000000 0x00000000080fffff msi\n'
    bogus = '0x0000000000001000 0x0020000000000fff reserved\n'
    mine = {'iommu-resv-direct': msi, 'iommu-resv-reserved': msi}
    base_bug = {'iommu-resv-direct': msi, 'iommu-resv-reserved': bogus + msi}

    def verdicts(a, b):
        return sorted((v, n) for v, n, _ in vmjudge.compare_dumps(a, b))
    return (
        # the base kernel misreads the second device's entries: expected
        verdicts(mine, base_bug) == [('pass', 'iommu-resv-direct'),
                                     ('pass', 'iommu-resv-reserved')] and
        # ... and reading the same there means the fix is no longer shown
        ('fail', 'iommu-resv-reserved') in verdicts(mine, mine) and
        # not grouped on the base kernel (not bound there): a failure
        ('fail', 'iommu-resv-direct') in verdicts(mine, {'iommu-resv-reserved': bogus}) and
        # ... which it is not before the tests bind them
        # ... which it is not at boot, where it groups neither: only the
        # devices grouped on both are compared then
        [v for v, _, _ in vmjudge.compare_dumps(dict(mine, x=msi), {'x': msi}, at_boot=True)] ==
        ['pass'])


@case
def group_types_compared():
    out = ('@@DUMP tests\n@@GROUP 0000:00:04.0 \n@@TYPE DMA-FQ\n@@R 0x00000000fee00000 0x00000000feefffff msi\n'
           '@@DUMP tests end\n@@DONE\n')
    mine = dump(out)
    other = dict(mine, **{'0000:00:04.0 type': 'identity'})
    return (mine.get('0000:00:04.0 type') == 'DMA-FQ' and
            [v for v, _, _ in vmjudge.compare_dumps(mine, mine)] == ['pass', 'pass'] and
            [v for v, _, _ in vmjudge.compare_dumps(mine, other)] == ['pass', 'fail'])


@case
def new_kinds_left_out_of_comparison():
    # A group with a bridge window (new, "reserved") and the MSI window: it
    # compares as the MSI window alone; a group without new kinds as its file.
    out = ('@@DUMP tests\n@@GROUP 0000:01:00.0 \n'
           '@@R 0x00000000fe000000 0x00000000fe1fffff reserved\n'
           '@@R 0x00000000fee00000 0x00000000feefffff msi\n'
           '@@D 0x00000000fe000000 0x00000000fe1fffff bridge-window 0000:01:00.0 device /x\n'
           '@@D 0x00000000fee00000 0x00000000feefffff msi 0000:01:00.0 iommu /d\n'
           '@@GROUP 0000:00:1f.0 \n'
           '@@R 0x0000000000000000 0x0000000000ffffff direct-relaxable\n'
           '@@R 0x0000000000800000 0x0000000000ffffff reserved\n'
           '@@D 0x0000000000000000 0x0000000000ffffff direct-relaxable 0000:00:1f.0 device /y\n'
           '@@D 0x0000000000800000 0x0000000000ffffff reserved 0000:00:1f.0 firmware z\n'
           '@@DUMP tests end\n@@DONE\n')
    d = dump(out)
    return (d['0000:01:00.0'] == '0x00000000fee00000 0x00000000feefffff msi\n' and
            d['0000:00:1f.0'] == ('0x0000000000000000 0x0000000000ffffff direct-relaxable\n'
                                  '0x0000000000800000 0x0000000000ffffff reserved\n'))


# A console as the x86_64 TCG timer hang left it (abridged, printk.time=0),
# and the same report of a CPU spinning in the kernel with interrupts off.
INIT = 'Freeing unused kernel image memory: 2048K\nRun /init as init process\n'
STALL = ('rcu: INFO: rcu_sched detected stalls on CPUs/tasks:\n'
         'rcu: \t1-...!: (0 ticks this GP) idle=30d0/0/0x0 softirq=3/3 fqs=0{mark}\n'
         'rcu: \t(detected by 0, t=5252 jiffies, g=-1183, q=950 ncpus=2)\n'
         'Sending NMI from CPU 0 to CPUs 1:\n{backtrace}')
TIMER = ("rcu: rcu_sched kthread timer wakeup didn't happen for 5251 jiffies! g-1183 f0x0 "
         'RCU_GP_WAIT_FQS(5) ->state=0x402\n'
         'rcu: \tPossible timer handling issue on cpu=1 timer-softirq=2\n'
         'rcu: rcu_sched kthread starved for 5252 jiffies! g-1183 f0x0 RCU_GP_WAIT_FQS(5) '
         '->state=0x402 ->cpu=1\n'
         'rcu: RCU grace-period kthread stack dump:\n'
         'task:rcu_sched       state:I stack:0     pid:14    tgid:14    ppid:2\n'
         'Call Trace:\n <TASK>\n __schedule+0x2c1/0x760\n schedule+0x27/0x90\n')
IDLE = STALL.format(mark=' (false positive?)',
                    backtrace='NMI backtrace for cpu 1 skipped: idling at default_idle+0xf/0x20\n')
BUSY = STALL.format(mark='', backtrace='NMI backtrace for cpu 1\nCall Trace:\n'
                    ' <NMI>\n native_queued_spin_lock_slowpath+0x60/0x2a0\n'
                    ' iommu_probe_device+0x3e/0x90\n')


@case
def tcg_timer_hang_told_apart():
    hang = vmjudge.tcg_timer_hang
    warn = 'WARNING: CPU: 1 PID: 1 at drivers/iommu/iommu.c:500 iommu_x+0x1/0x2\n'
    kcsan = 'BUG: KCSAN: data-race in tick_sched_do_timer / tick_sched_do_timer\n'
    return (hang(INIT + IDLE + TIMER) and
            hang(INIT + IDLE.replace('rcu_sched', 'rcu_preempt') +
                 TIMER.replace('rcu_sched', 'rcu_preempt')) and
            # a KCSAN kernel's report before it is judged elsewhere
            hang(INIT + kcsan + IDLE + TIMER) and
            # a CPU busy in the kernel (a deadlock): RCU's timer line comes all the same
            not hang(INIT + BUSY + TIMER) and
            not hang(INIT + IDLE.replace('detected stalls on CPUs/tasks',
                                         'self-detected stall on CPU') + TIMER) and
            # the first report has no word of a timer, a later one has
            not hang(INIT + IDLE + IDLE + TIMER) and
            not hang(INIT + warn + IDLE + TIMER) and
            not hang(IDLE + TIMER + INIT) and
            not hang(INIT) and not hang(''))


def main():
    print('TAP version 13')
    print(f'1..{len(CASES)}')
    failed = 0
    for i, fn in enumerate(CASES, 1):
        try:
            ok = fn()
        except Exception as e:  # a crash in a case is that case's failure
            print(f'# {fn.__name__}: {e!r}')
            ok = False
        failed += not ok
        print(f'{"ok" if ok else "not ok"} {i} {fn.__name__}')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
