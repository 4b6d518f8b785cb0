#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Boot a test kernel in QEMU on an arch's topology and judge the run.

  tests          boot, run every kselftest in the initramfs and judge the run
                 (vmjudge.py): one result line per verdict
  run            boot, run /run-me, print its output, exit with its status
  judge-tap      judge a host test's TAP output
  judge-kunit    judge the console of a KUnit run booted by the tree's kunit.py
  compare-dumps  judge two kernels' group dumps: reserved_regions must match

Booting: vmboot.py; the guest's side of the protocol: protocol.py.
"""
import argparse
import glob
import json
import os
import shlex
import shutil
import sys

import vmboot
import vmjudge


def boot_config(args, mode, echo=False):
    """The BootConfig of a boot subcommand's arguments; exits on what cannot boot."""
    a = vmboot.ARCHES[args.arch]
    if not shutil.which(a.qemu):
        sys.exit(f'vmrun: error: {a.qemu} not found (run "make deps")')
    for p in (args.kernel, args.initrd):
        if not os.path.exists(p):
            sys.exit(f'vmrun: error: {p} does not exist (run "make build")')
    problem = vmboot.firmware_problem(a, args.firmware)
    if problem:
        sys.exit('vmrun: error: ' + problem)
    os.makedirs(args.logdir, exist_ok=True)
    accel = args.accel
    if accel == 'auto':
        accel = vmboot.probe_kvm(args.arch, args.kernel, args.initrd, args.logdir)
    return vmboot.BootConfig(arch=args.arch, kernel=args.kernel, initrd=args.initrd,
                             logbase=os.path.join(args.logdir, args.label or args.arch),
                             mode=mode, accel=accel, timeout=args.timeout,
                             begin_timeout=getattr(args, 'begin_timeout', 0),
                             extra=shlex.split(args.extra), firmware=args.firmware,
                             cmdline=args.cmdline,
                             topology_file=getattr(args, 'topology', None), echo=echo)


def cmd_run(args):
    res = vmboot.boot(boot_config(args, 'run', echo=True))
    print(f'vmrun: console log: {res.console_log}', file=sys.stderr)
    if res.timed_out:
        print(f'vmrun: error: timed out after {args.timeout} s', file=sys.stderr)
        return 124
    if res.channel.exit is None:
        print('vmrun: error: the guest ended without an exit status '
              f'(QEMU: {res.qemu_out.strip() or "rc " + str(res.rc)})', file=sys.stderr)
        return 125
    splat = vmjudge.first_splat(res.console)
    if splat:
        print(f'vmrun: warning: kernel splat in the console: {splat}', file=sys.stderr)
    if res.channel.exit:
        print(f'vmrun: the program exited with status {res.channel.exit}', file=sys.stderr)
    return res.channel.exit


def cmd_tests(args):
    label = args.label or args.arch
    retried, kept = [], None
    try:
        cfg = boot_config(args, 'tests')
        # No earlier run's hung boot may stand for this one's.
        for old in glob.glob(glob.escape(cfg.logbase) + '.hung.*'):
            os.unlink(old)
        res = vmboot.boot(cfg)
        if res.silent and cfg.accel in ('tcg', 'icount') and vmjudge.tcg_timer_hang(res.console):
            kept = keep_logs(cfg.logbase, 'hung', res.qemu_out)
            why = (f'the first boot hung before its tests (no @@BEGIN in {cfg.begin_timeout} s; '
                   f"RCU: a CPU's timer never fired, a TCG hang; console: {kept}): booted once more")
            print(f'vmrun: {label}: {why}')
            retried = [vmjudge.Verdict('skip', 'boot-retried', why)]
            res = vmboot.boot(cfg)
    except SystemExit as e:
        # A boot that cannot start (QEMU, kernel or firmware missing) is a
        # failed verdict in the results, not only a message.
        why = e.code if isinstance(e.code, str) else f'the boot could not start (status {e.code})'
        print(why, file=sys.stderr)
        return record(retried + [vmjudge.Verdict('fail', 'boot',
                                                 why.removeprefix('vmrun: error: '))],
                      label, args.results) or 1
    if res.qemu_out.strip():
        with open(cfg.logbase + '.qemu.log', 'w') as f:
            f.write(res.qemu_out)
    touched = None
    if args.kcsan_touched:
        with open(args.kcsan_touched) as f:
            touched = [l.strip() for l in f if l.strip()]
    verdicts = retried + vmjudge.judge(res, args.tests.split(), args.ktree or '',
                                       args.kunit_suites.split(), touched)
    if res.silent:
        if retried:
            again = f"twice; the first boot's console: {kept}"
        else:
            again = 'not the TCG timer hang, so not booted again'
        why = f'no @@BEGIN within {cfg.begin_timeout} s, {again}'
        verdicts = [v._replace(detail=f'{v.detail} ({why})')
                    if v.kind == 'fail' and v.name == 'boot' else v for v in verdicts]
    for path, when in ((args.dump, 'tests'), (args.boot_dump, 'boot')):
        if path:
            with open(path, 'w') as f:
                json.dump(vmjudge.group_dump(res.channel, when), f, indent=1, sort_keys=True)
    began = f', tests from {res.began:.0f} s' if res.began is not None else ''
    print(f'vmrun: {label}: booted and ran in {res.seconds:.0f} s ({cfg.accel.upper()}{began}); '
          f'console log: {res.console_log}')
    if res.qemu_out.strip() and any(v.kind == 'fail' for v in verdicts):
        print('vmrun: QEMU said: ' + res.qemu_out.strip().splitlines()[-1])
    return record(verdicts, label, args.results)


def keep_logs(logbase, tag, qemu_out):
    """Move a boot's console and output logs aside (LOGBASE.TAG.*.log),
    with what QEMU printed; the new console log's path."""
    for kind in ('console', 'out'):
        path = f'{logbase}.{kind}.log'
        if os.path.exists(path):
            os.replace(path, f'{logbase}.{tag}.{kind}.log')
    if qemu_out.strip():
        with open(f'{logbase}.{tag}.qemu.log', 'w') as f:
            f.write(qemu_out)
    return f'{logbase}.{tag}.console.log'


def cmd_judge_tap(args):
    with open(args.file, errors='replace') as f:
        text = f.read()
    return record(vmjudge.judge_tap('', text, args.exit_status), args.label, args.results)


def cmd_judge_kunit(args):
    return record(vmjudge.kunit_console_verdicts(args.console, args.ktree,
                                                 args.kunit_suites.split()),
                  args.label, args.results)


def cmd_compare_dumps(args):
    dumps = []
    for path in (args.mine, args.other):
        with open(path) as f:
            dumps.append(json.load(f))
    return record(vmjudge.compare_dumps(*dumps, at_boot=args.at_boot), args.label, args.results)


def record(verdicts, label, results):
    """Print and store one line per verdict; 1 if anything failed."""
    lines = [f'{v} {label}' + ('/' + n.lstrip('/') if n.strip('/') else '') +
             (f' # {d}' if d else '') for v, n, d in verdicts]
    # Failures and skips in full; passes only counted (all are in the results file).
    for l in lines:
        if not l.startswith('pass '):
            print('  ' + l)
    counts = {k: sum(v.kind == k for v in verdicts) for k in ('pass', 'fail', 'skip')}
    print(f'  {label}: {counts["pass"]} passed, {counts["fail"]} failed, '
          f'{counts["skip"]} skipped')
    if results:
        with open(results, 'a') as f:
            f.write('\n'.join(lines) + '\n')
    return 1 if counts['fail'] else 0


def parser():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest='command', required=True, metavar='COMMAND')

    out = argparse.ArgumentParser(add_help=False)
    out.add_argument('--label', default='', help='the prefix of the result lines')
    out.add_argument('--results', help='append the result lines here')

    booting = argparse.ArgumentParser(add_help=False)
    booting.add_argument('--arch', required=True, choices=sorted(vmboot.ARCHES))
    booting.add_argument('--kernel', required=True)
    booting.add_argument('--initrd', required=True)
    booting.add_argument('--logdir', required=True)
    booting.add_argument('--timeout', type=int, default=900)
    booting.add_argument('--extra', default='', help='extra QEMU arguments')
    booting.add_argument('--cmdline', default='',
                         help='extra kernel command line (KEY=value words reach the tests '
                              'as environment variables)')
    booting.add_argument('--firmware', default='dt', choices=vmboot.FIRMWARES,
                         help='hardware description the guest boots with (acpi: arm64, '
                              'via UEFI)')
    booting.add_argument('--accel', default='auto', choices=('auto', 'tcg', 'kvm', 'icount'),
                         help='icount: TCG on one thread with -icount shift=0, so that the '
                              "guest's clock counts the instructions it executes (1 ns each)")

    p = sub.add_parser('tests', parents=[booting, out], help='boot, run the tests, judge')
    p.add_argument('--tests', default='', help='names expected to run')
    p.add_argument('--begin-timeout', type=int, default=120,
                   help='seconds within which init must begin (@@BEGIN), 0: no limit; a '
                        'boot that has not is hung, and booted once more if it is the TCG '
                        'timer hang (vmjudge.tcg_timer_hang)')
    p.add_argument('--ktree', help='kernel tree (for the KUnit parser and KCSAN)')
    p.add_argument('--kunit-suites', default='',
                   help='KUnit suites that must report (built in or loaded as modules)')
    p.add_argument('--dump', metavar='FILE', help="write the guest's group dump as JSON")
    p.add_argument('--boot-dump', metavar='FILE',
                   help="write the guest's group dump from before the tests")
    p.add_argument('--kcsan-touched', metavar='FILE',
                   help='KCSAN kernel: the files (one per line, paths in --ktree) the '
                        'series adds or touches; a data race there fails, one elsewhere '
                        'is reported as a skip')
    p.set_defaults(fn=cmd_tests)

    p = sub.add_parser('run', parents=[booting], help='boot, run /run-me, exit with its status')
    p.add_argument('--label', default='')
    p.add_argument('--topology', metavar='FILE',
                   help="a topology file to boot instead of the arch's (topology/ARCH.qemu)")
    p.set_defaults(fn=cmd_run)

    p = sub.add_parser('judge-tap', parents=[out], help="judge a host test's TAP output")
    p.add_argument('file', metavar='FILE')
    p.add_argument('--exit-status', type=int, default=0, help="the test's exit status")
    p.set_defaults(fn=cmd_judge_tap)

    p = sub.add_parser('judge-kunit', parents=[out],
                       help='judge the console of a KUnit run booted by kunit.py')
    p.add_argument('console', metavar='CONSOLE')
    p.add_argument('--ktree', required=True, help='kernel tree (for the KUnit parser)')
    p.add_argument('--kunit-suites', default='', help='KUnit suites that must report')
    p.set_defaults(fn=cmd_judge_kunit)

    p = sub.add_parser('compare-dumps', parents=[out],
                       help='judge two dumps: reserved_regions must match per group')
    p.add_argument('mine', metavar='MINE')
    p.add_argument('other', metavar='OTHER')
    p.add_argument('--at-boot', action='store_true', help='the dumps are from before the tests')
    p.set_defaults(fn=cmd_compare_dumps)
    return ap


def main():
    args = parser().parse_args()
    sys.exit(args.fn(args))


if __name__ == '__main__':
    main()
